/* Request handlers: check the payload, do the operation, reply. Every payload
 * is hostile: counts of strings, NUL-termination and paths are checked here
 * before anything is looked up. */
#include "xenstore/server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "xenstore/path.h"

#define RELAY_MAGIC "xenkvm-relay"
#define SCRUB_CMD "xenkvm-scrub"

struct req {
    struct xs_conn *c;
    const struct xsd_sockmsg *hdr;
    const char *p;          /* payload, NUL-guarded at p[len] */
    size_t len;
    unsigned nstr;          /* NUL-terminated strings in it */
    struct xs_who who;
};

static void reply(struct req *r, const void *data, size_t len)
{
    xs_conn_send(r->c, r->hdr->type, r->hdr->req_id, r->hdr->tx_id, data, len);
}

static void reply_str(struct req *r, const char *s)
{
    reply(r, s, strlen(s) + 1);
}

/* The i-th string of the payload (the caller checked nstr). */
static const char *arg(struct req *r, unsigned i)
{
    const char *s = r->p;
    while (i--)
        s += strlen(s) + 1;
    return s;
}

static int canon(struct req *r, const char *in, bool special, char *out)
{
    return xs_path_canon(in, r->c->domid, r->c->privileged, r->c->srv->q.path_len, special,
                         out, XENSTORE_ABS_PATH_MAX + 1);
}

/* The view the request works on: the store, or its transaction's overlay. */
static int view_of(struct req *r, struct xs_view *v, struct xs_txn **t)
{
    *v = (struct xs_view){ .st = &r->c->srv->st, .q = &r->c->srv->q, .limited = !r->c->privileged };
    *t = NULL;
    if (r->hdr->tx_id) {
        *t = xs_txn_find(r->c, r->hdr->tx_id);
        if (!*t)
            return ENOENT;
        v->ov = &(*t)->ov;
    }
    return 0;
}

/* A committed change (or one noted for its transaction's commit). */
static void changed(struct req *r, struct xs_txn *t, const char *path, bool rm,
                    const struct xs_perms *perms)
{
    if (t)
        xs_txn_note(t, path, rm, perms);
    else
        xs_watch_fire(r->c->srv, path, rm, perms);
}

static int do_read(struct req *r)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    struct xs_view v;
    struct xs_txn *t;
    const struct xs_node *n;
    int rc;
    if (r->nstr != 1 || r->p[r->len - 1])
        return EINVAL;
    if ((rc = canon(r, r->p, false, path)) || (rc = view_of(r, &v, &t)) ||
        (rc = xs_tree_read(&v, &r->who, path, &n)))
        return rc;
    if (r->hdr->type == XS_READ)
        reply(r, n->value, n->vlen);
    else
        reply(r, n->children, n->clen);   /* DIRECTORY: E2BIG if too long */
    return 0;
}

static int do_directory_part(struct req *r)
{
    char path[XENSTORE_ABS_PATH_MAX + 1], buf[XENSTORE_PAYLOAD_MAX];
    struct xs_view v;
    struct xs_txn *t;
    const struct xs_node *n;
    unsigned long off;
    char *end;
    int rc;
    if (r->nstr != 2 || r->p[r->len - 1])
        return EINVAL;
    const char *offs = arg(r, 1);
    off = strtoul(offs, &end, 10);
    if (!*offs || *end || *offs == '-')
        return EINVAL;
    if ((rc = canon(r, r->p, false, path)) || (rc = view_of(r, &v, &t)) ||
        (rc = xs_tree_read(&v, &r->who, path, &n)))
        return rc;
    size_t gl = (size_t)snprintf(buf, sizeof(buf), "%" PRIu64, n->gen) + 1;
    /* Whole names from off on, as many as fit; an extra NUL marks the end. */
    size_t len = 0;
    if (off < n->clen && (off == 0 || n->children[off - 1] == 0)) {
        size_t max = sizeof(buf) - gl - 1;
        while (off + len < n->clen) {
            size_t l = strlen(n->children + off + len) + 1;
            if (len + l > max)
                break;
            len += l;
        }
        if (!len)
            return E2BIG;
        memcpy(buf + gl, n->children + off, len);
    } else if (off < n->clen) {
        return EINVAL;   /* not the start of a name */
    }
    if (off + len >= n->clen)
        buf[gl + len++] = 0;
    reply(r, buf, gl + len);
    return 0;
}

static int do_write(struct req *r)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    struct xs_view v;
    struct xs_txn *t;
    int rc;
    bool mkdir = r->hdr->type == XS_MKDIR;
    if (!r->nstr || (mkdir && (r->nstr != 1 || r->p[r->len - 1])))
        return EINVAL;
    size_t pl = strlen(r->p) + 1;
    if ((rc = canon(r, r->p, false, path)) || (rc = view_of(r, &v, &t)))
        return rc;
    const struct xs_node *n;
    struct xs_who root = { .privileged = true };
    bool existed = mkdir && !xs_tree_read(&v, &root, path, &n);
    if ((rc = xs_tree_write(&v, &r->who, path, r->p + pl, mkdir ? 0 : r->len - pl, mkdir)))
        return rc;
    if (!existed && !xs_tree_read(&v, &root, path, &n))   /* mkdir of an existing node: no event */
        changed(r, t, path, false, &n->perms);
    reply_str(r, "OK");
    return 0;
}

static int do_rm(struct req *r)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    struct xs_view v;
    struct xs_txn *t;
    int rc;
    if (r->nstr != 1 || r->p[r->len - 1])
        return EINVAL;
    if ((rc = canon(r, r->p, false, path)) || (rc = view_of(r, &v, &t)))
        return rc;
    const struct xs_node *n;
    struct xs_who root = { .privileged = true };
    struct xs_perms before = { 0 };
    bool existed = !xs_tree_read(&v, &root, path, &n);
    if (existed && xs_perms_copy(&before, &n->perms))
        return ENOMEM;
    rc = xs_tree_rm(&v, &r->who, path);
    if (!rc && existed)
        changed(r, t, path, true, &before);
    xs_perms_free(&before);
    if (rc)
        return rc;
    reply_str(r, "OK");
    return 0;
}

static int do_get_perms(struct req *r)
{
    char path[XENSTORE_ABS_PATH_MAX + 1], buf[XENSTORE_PAYLOAD_MAX];
    struct xs_view v;
    struct xs_txn *t;
    const struct xs_node *n;
    const struct xs_perms *perms;
    int rc;
    if (r->nstr != 1 || r->p[r->len - 1])
        return EINVAL;
    if ((rc = canon(r, r->p, true, path)))
        return rc;
    if (path[0] == '@') {
        if (!(perms = xs_special_perms(r->c->srv, path)))
            return ENOENT;
        if (!(xs_perm_for(perms, &r->who) & XS_PERM_READ))
            return EACCES;
    } else {
        if ((rc = view_of(r, &v, &t)) || (rc = xs_tree_read(&v, &r->who, path, &n)))
            return rc;
        perms = &n->perms;
    }
    size_t len = xs_perms_format(perms, buf, sizeof(buf));
    if (len > sizeof(buf))
        return E2BIG;
    reply(r, buf, len);
    return 0;
}

static int do_set_perms(struct req *r)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    struct xs_view v;
    struct xs_txn *t;
    struct xs_perms perms;
    int rc;
    if (r->nstr < 2 || r->p[r->len - 1])
        return EINVAL;
    size_t pl = strlen(r->p) + 1;
    if ((rc = canon(r, r->p, true, path)))
        return rc;
    if ((rc = xs_perms_parse(r->p + pl, r->len - pl, &perms)))
        return rc;
    if (path[0] == '@') {
        struct xs_perms *sp = xs_special_perms(r->c->srv, path);
        if (!sp)
            rc = ENOENT;
        else if (!r->c->privileged)
            rc = EACCES;
        else {
            xs_perms_free(sp);
            *sp = perms;
            reply_str(r, "OK");
            return 0;
        }
    } else if (!(rc = view_of(r, &v, &t)) && !(rc = xs_tree_set_perms(&v, &r->who, path, &perms))) {
        changed(r, t, path, false, &perms);
        reply_str(r, "OK");
    }
    xs_perms_free(&perms);
    return rc;
}

static int do_watch(struct req *r)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    int rc;
    /* <path>|<token>|, possibly followed by reserved strings */
    if (r->nstr < 2)
        return EINVAL;
    const char *token = arg(r, 1);
    if ((rc = canon(r, r->p, true, path)))
        return rc;
    bool relative = r->p[0] != '/' && r->p[0] != '@';
    if (r->hdr->type == XS_UNWATCH)
        rc = xs_watch_remove(r->c, path, token);
    else
        rc = xs_watch_add(r->c, path, token, relative);
    if (rc)
        return rc;
    reply_str(r, "OK");
    if (r->hdr->type == XS_WATCH) {
        struct xs_watch *w = r->c->watches;
        while (w->next)
            w = w->next;
        xs_watch_fire_initial(r->c, w);
    }
    return 0;
}

static int do_txn_start(struct req *r)
{
    uint32_t id;
    char buf[16];
    int rc;
    if (r->hdr->tx_id)
        return EBUSY;
    if ((rc = xs_txn_open(r->c, &id)))
        return rc;
    snprintf(buf, sizeof(buf), "%u", id);
    reply_str(r, buf);
    return 0;
}

static int do_txn_end(struct req *r)
{
    if (r->nstr != 1 || r->p[r->len - 1])
        return EINVAL;
    struct xs_txn *t = xs_txn_find(r->c, r->hdr->tx_id);
    if (!t)
        return ENOENT;
    bool commit;
    if (!strcmp(r->p, "T"))
        commit = true;
    else if (!strcmp(r->p, "F"))
        commit = false;
    else
        return EINVAL;
    int rc = xs_txn_close(r->c, t, commit);
    if (rc)
        return rc;
    reply_str(r, "OK");
    return 0;
}

static int domid_arg(struct req *r, unsigned i, unsigned *domid)
{
    if (r->nstr <= i || !xs_parse_domid(arg(r, i), domid))
        return EINVAL;
    return 0;
}

static int do_domain(struct req *r)
{
    struct xs_server *s = r->c->srv;
    unsigned domid, other;
    int rc;
    uint32_t type = r->hdr->type;
    if (type != XS_GET_DOMAIN_PATH && type != XS_IS_DOMAIN_INTRODUCED && !r->c->privileged)
        return EACCES;
    if ((rc = domid_arg(r, 0, &domid)))
        return rc;
    switch (type) {
    case XS_INTRODUCE: {
        if (r->nstr < 3)
            return EINVAL;
        char *end;
        const char *mfn = arg(r, 1), *port = arg(r, 2);
        long long m = strtoll(mfn, &end, 10);
        if (!*mfn || *end)
            return EINVAL;
        unsigned long p = strtoul(port, &end, 10);
        if (!*port || *end || p > UINT32_MAX)
            return EINVAL;
        rc = xs_domain_introduce(s, domid, (uint64_t)m, (unsigned)p);
        break;
    }
    case XS_RELEASE:
        rc = xs_domain_release(s, domid);
        break;
    case XS_RESUME: {
        struct xs_domain *d = xs_domain_find(s, domid);
        rc = d && d->introduced ? 0 : ENOENT;
        break;
    }
    case XS_SET_TARGET:
        if ((rc = domid_arg(r, 1, &other)))
            return rc;
        rc = xs_domain_set_target(s, domid, other);
        break;
    case XS_IS_DOMAIN_INTRODUCED: {
        struct xs_domain *d = xs_domain_find(s, domid);
        reply_str(r, domid == 0 || (d && d->introduced) ? "T" : "F");
        return 0;
    }
    case XS_GET_DOMAIN_PATH: {
        char buf[32];
        snprintf(buf, sizeof(buf), "/local/domain/%u", domid);
        reply_str(r, buf);
        return 0;
    }
    }
    if (rc)
        return rc;
    reply_str(r, "OK");
    return 0;
}

static int do_control(struct req *r)
{
    if (r->nstr >= 2 && !strcmp(r->p, RELAY_MAGIC) && !r->c->relay) {
        unsigned domid;
        int rc;
        if (r->nstr != 2 || r->p[r->len - 1] || !xs_parse_domid(arg(r, 1), &domid))
            return EINVAL;
        if (!r->c->privileged)
            return EACCES;
        if ((rc = xs_domain_bind_relay(r->c, domid)))
            return rc;
        reply_str(r, "OK");
        return 0;
    }
    if (!r->c->privileged)
        return EACCES;
    if (r->nstr < 1)
        return EINVAL;
    if (!strcmp(r->p, SCRUB_CMD)) {
        unsigned domid;
        int rc;
        if (r->nstr != 2 || r->p[r->len - 1] || !xs_parse_domid(arg(r, 1), &domid))
            return EINVAL;
        if ((rc = xs_domain_scrub(r->c->srv, domid)))
            return rc;
        reply_str(r, "OK");
        return 0;
    }
    if (!strcmp(r->p, "help")) {
        static const char help[] = "help\nprint <string>\n" RELAY_MAGIC " <domid>\n"
                                   SCRUB_CMD " <domid>\n";
        reply(r, help, sizeof(help));
        return 0;
    }
    if (!strcmp(r->p, "print") && r->nstr >= 2) {
        log_msg("info", "control print: %s", arg(r, 1));
        reply_str(r, "OK");
        return 0;
    }
    return EINVAL;
}

void xs_dispatch(struct xs_conn *c, const struct xsd_sockmsg *hdr, const char *payload)
{
    struct req r = { .c = c, .hdr = hdr, .p = payload, .len = hdr->len,
                     .nstr = xs_count_strings(payload, hdr->len), .who = xs_conn_who(c) };
    int rc;
    log_debug("domain %u: %s (%u bytes, tx %u)", c->domid, xs_type_name(hdr->type), hdr->len,
              hdr->tx_id);
    switch (hdr->type) {
    case XS_READ:
    case XS_DIRECTORY:           rc = do_read(&r); break;
    case XS_DIRECTORY_PART:      rc = do_directory_part(&r); break;
    case XS_WRITE:
    case XS_MKDIR:               rc = do_write(&r); break;
    case XS_RM:                  rc = do_rm(&r); break;
    case XS_GET_PERMS:           rc = do_get_perms(&r); break;
    case XS_SET_PERMS:           rc = do_set_perms(&r); break;
    case XS_WATCH:
    case XS_UNWATCH:             rc = do_watch(&r); break;
    case XS_TRANSACTION_START:   rc = do_txn_start(&r); break;
    case XS_TRANSACTION_END:     rc = do_txn_end(&r); break;
    case XS_INTRODUCE:
    case XS_RELEASE:
    case XS_RESUME:
    case XS_SET_TARGET:
    case XS_IS_DOMAIN_INTRODUCED:
    case XS_GET_DOMAIN_PATH:     rc = do_domain(&r); break;
    case XS_RESET_WATCHES:
        xs_watch_clear(c);
        xs_txn_clear(c);
        reply_str(&r, "OK");
        rc = 0;
        break;
    case XS_CONTROL:             rc = do_control(&r); break;
    default:                     rc = EINVAL; break;   /* WATCH_EVENT, ERROR, unknown */
    }
    if (rc)
        xs_conn_send_error(c, hdr, rc);
}
