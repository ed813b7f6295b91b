/* Path rewriting between a restored guest's domain id and its real one
 * (xenstore_domid.h). */
#include "backend/xenstore_domid.h"
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <xen/io/xs_wire.h>

/* The length of the prefix of path naming id in either form ("/local/domain/ID"
 * or "/local/domain/0/backend/TYPE/ID", followed by '/' or the end); 0 if
 * none. *head gets the length of the part before the id. */
static size_t id_prefix(const char *path, size_t len, unsigned id, size_t *head)
{
    static const char dom[] = "/local/domain/", be[] = "/local/domain/0/backend/";
    char num[16];
    int nl = snprintf(num, sizeof(num), "%u", id);
    size_t h = 0;
    if (len > sizeof(be) - 1 && !memcmp(path, be, sizeof(be) - 1)) {
        const char *slash = memchr(path + sizeof(be) - 1, '/', len - (sizeof(be) - 1));
        if (slash)
            h = (size_t)(slash - path) + 1;
    }
    if (!h && len >= sizeof(dom) - 1 && !memcmp(path, dom, sizeof(dom) - 1))
        h = sizeof(dom) - 1;
    if (!h || len < h + nl || memcmp(path + h, num, nl) || (len > h + nl && path[h + nl] != '/'))
        return 0;
    *head = h;
    return h + nl;
}

size_t xsdomid_path(const char *path, size_t len, unsigned from, unsigned to, char *out,
                    size_t cap)
{
    size_t head, n = from == to ? 0 : id_prefix(path, len, from, &head);
    if (!n) {
        if (len > cap)
            return 0;
        memcpy(out, path, len);
        return len;
    }
    char num[16];
    int nl = snprintf(num, sizeof(num), "%u", to);
    if (head + nl + (len - n) > cap)
        return 0;
    memcpy(out, path, head);
    memcpy(out + head, num, nl);
    memcpy(out + head + nl, path + n, len - n);
    return head + nl + (len - n);
}

static bool names_path(uint32_t type)
{
    switch (type) {
    case XS_DIRECTORY: case XS_READ: case XS_GET_PERMS: case XS_WATCH: case XS_UNWATCH:
    case XS_WRITE: case XS_MKDIR: case XS_RM: case XS_SET_PERMS: case XS_DIRECTORY_PART:
        return true;
    default:
        return false;
    }
}

/* Copies msg with its body's first string (up to the first NUL, or all of it)
 * put through xsdomid_path. */
static size_t rewrite_first(const uint8_t *msg, unsigned from, unsigned to, uint8_t *out,
                            size_t cap)
{
    struct xsd_sockmsg h;
    memcpy(&h, msg, sizeof(h));
    const char *body = (const char *)msg + sizeof(h);
    const char *nul = memchr(body, 0, h.len);
    size_t plen = nul ? (size_t)(nul - body) : h.len;
    size_t n = xsdomid_path(body, plen, from, to, (char *)out + sizeof(h), cap - sizeof(h));
    if (!n || sizeof(h) + n + (h.len - plen) > cap || n + (h.len - plen) > XENSTORE_PAYLOAD_MAX) {
        memcpy(out, msg, sizeof(h) + h.len);    /* cannot grow: left as it is */
        return sizeof(h) + h.len;
    }
    memcpy(out + sizeof(h) + n, body + plen, h.len - plen);
    h.len = (uint32_t)(n + (h.len - plen));
    memcpy(out, &h, sizeof(h));
    return sizeof(h) + h.len;
}

/* XS_SET_PERMS after its path: "<r|w|b|n><domid>\0" each; the guest's own
 * id as it sees it becomes the real one. out holds the rewritten message up
 * to the permissions (n bytes); the new size. */
static size_t rewrite_perms(const uint8_t *msg, unsigned vis, unsigned real, uint8_t *out,
                            size_t n, size_t cap)
{
    struct xsd_sockmsg h;
    memcpy(&h, msg, sizeof(h));
    const char *body = (const char *)msg + sizeof(h);
    const char *p = memchr(body, 0, h.len);
    if (!p)
        return n;
    p++;
    char vnum[16], rnum[16];
    snprintf(vnum, sizeof(vnum), "%u", vis);
    int rl = snprintf(rnum, sizeof(rnum), "%u", real);
    size_t o = n - (h.len - (size_t)(p - body));   /* where the perms start in out */
    const char *end = body + h.len;
    while (p < end) {
        const char *z = memchr(p, 0, (size_t)(end - p));
        size_t len = z ? (size_t)(z - p) + 1 : (size_t)(end - p);
        bool mine = len >= 2 && z && !strcmp(p + 1, vnum);
        size_t want = mine ? 1 + (size_t)rl + 1 : len;
        if (o + want > cap || o + want - sizeof(h) > XENSTORE_PAYLOAD_MAX)
            return n;                          /* no room: left as the path rewrite made it */
        if (mine) {
            out[o] = (uint8_t)p[0];
            memcpy(out + o + 1, rnum, (size_t)rl + 1);
        } else {
            memcpy(out + o, p, len);
        }
        o += want;
        p += len;
    }
    h.len = (uint32_t)(o - sizeof(h));
    memcpy(out, &h, sizeof(h));
    return o;
}

size_t xsdomid_request(const uint8_t *msg, unsigned vis, unsigned real, uint8_t *out, size_t cap)
{
    struct xsd_sockmsg h;
    memcpy(&h, msg, sizeof(h));
    if (vis == real || !names_path(h.type)) {
        memcpy(out, msg, sizeof(h) + h.len);
        return sizeof(h) + h.len;
    }
    size_t n = rewrite_first(msg, vis, real, out, cap);
    if (h.type == XS_SET_PERMS)
        n = rewrite_perms(msg, vis, real, out, n, cap);
    return n;
}

size_t xsdomid_event(const uint8_t *msg, const uint8_t *watches, size_t wlen, unsigned vis,
                     unsigned real, uint8_t *out, size_t cap)
{
    struct xsd_sockmsg h;
    memcpy(&h, msg, sizeof(h));
    const char *body = (const char *)msg + sizeof(h);
    const char *nul = h.type == XS_WATCH_EVENT ? memchr(body, 0, h.len) : NULL;
    if (vis == real || !nul) {
        memcpy(out, msg, sizeof(h) + h.len);
        return sizeof(h) + h.len;
    }
    const char *token = nul + 1;
    size_t tlen = h.len - (size_t)(token - body);
    /* the guest's watch with this token, if it was registered rewritten */
    for (size_t off = 0; off + sizeof(h) <= wlen; ) {
        struct xsd_sockmsg wh;
        memcpy(&wh, watches + off, sizeof(wh));
        const char *wpath = (const char *)watches + off + sizeof(wh);
        off += sizeof(wh) + wh.len;
        const char *wnul = memchr(wpath, 0, wh.len);
        if (!wnul || off > wlen)
            break;
        const char *wtok = wnul + 1;
        size_t wtlen = wh.len - (size_t)(wtok - wpath);
        /* the event's token is "token\0"; the watch's "token\0" too */
        if (wtlen != tlen || memcmp(wtok, token, tlen))
            continue;
        char daemon_form[XENSTORE_ABS_PATH_MAX + 64];
        size_t wl = (size_t)(wnul - wpath);
        size_t dl = xsdomid_path(wpath, wl, vis, real, daemon_form, sizeof(daemon_form));
        size_t elen = (size_t)(nul - body);
        if (!dl || (dl == wl && !memcmp(daemon_form, wpath, wl)) || elen < dl ||
            memcmp(body, daemon_form, dl))
            continue;
        return rewrite_first(msg, real, vis, out, cap);
    }
    memcpy(out, msg, sizeof(h) + h.len);
    return sizeof(h) + h.len;
}
