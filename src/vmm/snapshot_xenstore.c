/* The guest's xenstore subtree and relay state in the save file
 * (snapshot_xenstore.h). Payload: u32 relay_len, relay state (see
 * xs_relay_state), then nodes: u32 path_len, path relative to the domain's
 * home ("" for the home itself), u32 value_len, value, u32 nperms, then
 * nperms of (u16 domid, u8 access, u8 0). */
#include "vmm/snapshot_xenstore.h"
#include "backend/xenstore_relay.h"
#include "xenstore/client.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put32(struct buf *b, uint32_t v)
{
    put(b, &v, 4);
}

/* One node and, depth first, its children. */
static int walk(struct xs_client *xs, const char *home, const char *rel, struct buf *b,
                int depth)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s%s%s", home, rel[0] ? "/" : "", rel);
    char *value = NULL;
    size_t vlen = 0;
    struct xs_perm *perms = NULL;
    unsigned np = 0;
    int rc = xs_read(xs, 0, path, &value, &vlen);
    if (!rc)
        rc = xs_get_perms(xs, 0, path, &perms, &np);
    if (rc == -ENOENT) {           /* gone meanwhile (the guest is stopped, but
                                    * the toolstack is not) */
        free(value);
        return 0;
    }
    if (rc) {
        free(value);
        return rc;
    }
    put32(b, strlen(rel));
    put(b, rel, strlen(rel));
    put32(b, vlen);
    put(b, value, vlen);
    put32(b, np);
    for (unsigned i = 0; i < np; i++) {
        uint8_t e[4] = { perms[i].domid & 0xff, perms[i].domid >> 8, perms[i].access, 0 };
        put(b, e, 4);
    }
    free(value);
    free(perms);
    char **names = NULL;
    unsigned n = 0;
    if (depth > 64 || xs_directory(xs, 0, path, &names, &n) < 0)
        return 0;
    for (unsigned i = 0; i < n && !rc; i++) {
        char child[4096];
        snprintf(child, sizeof(child), "%s%s%s", rel, rel[0] ? "/" : "", names[i]);
        rc = walk(xs, home, child, b, depth + 1);
    }
    free(names);
    return rc;
}

uint8_t *snapxs_collect(const char *socket, unsigned domid, struct xs_relay *relay,
                        size_t *len, char *err, size_t errlen)
{
    struct buf b = { 0 };
    uint8_t *rs = NULL;
    size_t rlen = xs_relay_state(relay, &rs);
    if (!rlen) {
        snprintf(err, errlen, "xenstore relay state: out of memory");
        return NULL;
    }
    put32(&b, rlen);
    put(&b, rs, rlen);
    free(rs);
    struct xs_client *xs = xs_open(socket);
    if (!xs) {
        snprintf(err, errlen, "xenstore %s: %s", socket, strerror(errno));
        free(b.p);
        return NULL;
    }
    char home[64];
    snprintf(home, sizeof(home), "/local/domain/%u", domid);
    int rc = walk(xs, home, "", &b, 0);
    xs_close(xs);
    if (rc || b.oom) {
        snprintf(err, errlen, "xenstore %s: %s", home, b.oom ? "out of memory" : strerror(-rc));
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

static bool get32(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
    if (end - *p < 4)
        return false;
    memcpy(v, *p, 4);
    *p += 4;
    return true;
}

int snapxs_restore_tree(const char *socket, unsigned old_domid, unsigned new_domid,
                        const uint8_t *p, size_t len, const uint8_t **relay_state,
                        size_t *relay_len, char *err, size_t errlen)
{
    const uint8_t *end = p + len;
    uint32_t rlen;
    if (!get32(&p, end, &rlen) || rlen > (size_t)(end - p))
        goto corrupt;
    *relay_state = p;
    *relay_len = rlen;
    p += rlen;
    struct xs_client *xs = xs_open(socket);
    if (!xs) {
        snprintf(err, errlen, "xenstore %s: %s", socket, strerror(errno));
        return -1;
    }
    int rc = 0;
    while (p < end && !rc) {
        uint32_t plen, vlen, np;
        if (!get32(&p, end, &plen) || plen > 2048 || plen > (size_t)(end - p))
            goto corrupt_xs;
        char path[2200];
        int hl = snprintf(path, sizeof(path), "/local/domain/%u%s", new_domid, plen ? "/" : "");
        memcpy(path + hl, p, plen);
        path[hl + plen] = 0;
        p += plen;
        if (!get32(&p, end, &vlen) || vlen > (size_t)(end - p))
            goto corrupt_xs;
        const uint8_t *value = p;
        p += vlen;
        if (!get32(&p, end, &np) || np == 0 || np > 256 || (size_t)np * 4 > (size_t)(end - p))
            goto corrupt_xs;
        struct xs_perm perms[256];
        for (uint32_t i = 0; i < np; i++, p += 4) {
            unsigned id = p[0] | p[1] << 8;
            perms[i] = (struct xs_perm){ id == old_domid ? new_domid : id, p[2] };
        }
        /* What the toolstack wrote for the new domain stands. */
        char *cur = NULL;
        if (xs_read(xs, 0, path, &cur, NULL) == 0) {
            free(cur);
            continue;
        }
        rc = xs_write(xs, 0, path, value, vlen);
        if (!rc)
            rc = xs_set_perms(xs, 0, path, perms, np);
        if (rc)
            snprintf(err, errlen, "xenstore %s: %s", path, strerror(-rc));
    }
    xs_close(xs);
    return rc ? -1 : 0;
corrupt_xs:
    xs_close(xs);
corrupt:
    snprintf(err, errlen, "corrupt: the XENSTORE record does not parse");
    return -1;
}
