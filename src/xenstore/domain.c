/* The domain registry: INTRODUCE/RELEASE/SET_TARGET and relay bindings. */
#include "xenstore/server.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "xenstore/path.h"
#include "xenstore/util.h"

struct xs_domain *xs_domain_find(struct xs_server *s, unsigned domid)
{
    for (struct xs_domain *d = s->domains; d; d = d->next)
        if (d->domid == domid)
            return d;
    return NULL;
}

static struct xs_domain *domain_get(struct xs_server *s, unsigned domid)
{
    struct xs_domain *d = xs_domain_find(s, domid);
    if (!d) {
        d = xs_xcalloc(1, sizeof(*d));
        d->domid = domid;
        d->target = ~0u;
        d->next = s->domains;
        s->domains = d;
    }
    return d;
}

struct xs_perms *xs_special_perms(struct xs_server *s, const char *name)
{
    if (!strcmp(name, "@introduceDomain"))
        return &s->special_perms[0];
    if (!strcmp(name, "@releaseDomain"))
        return &s->special_perms[1];
    return NULL;
}

int xs_domain_introduce(struct xs_server *s, unsigned domid, uint64_t mfn, unsigned port)
{
    if (domid == 0 || domid > XS_DOMID_MAX)
        return EINVAL;
    struct xs_domain *d = domain_get(s, domid);
    d->mfn = mfn;
    d->port = port;
    if (d->introduced)
        return 0;   /* again (resume, restore): nothing new to announce */
    d->introduced = true;
    log_info("domain %u introduced", domid);
    xs_watch_fire(s, "@introduceDomain", false, &s->special_perms[0]);
    return 0;
}

/* Forgets d: closes its relay, revokes its rights, fires @releaseDomain if it
 * was introduced. */
static void forget(struct xs_server *s, struct xs_domain *d)
{
    unsigned domid = d->domid;
    bool introduced = d->introduced;
    if (d->conn) {
        xs_conn_kill(d->conn);   /* the domain process sees the relay close */
        d->conn = NULL;
    }
    /* The domain is gone: so are its rights and anyone's targeting of it. */
    xs_store_revoke(&s->st, domid);
    for (struct xs_domain *o = s->domains; o; o = o->next)
        if (o->target == domid)
            o->target = ~0u;
    for (struct xs_domain **pp = &s->domains; *pp; pp = &(*pp)->next)
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    free(d);
    if (!introduced)
        return;
    log_info("domain %u released", domid);
    xs_watch_fire(s, "@releaseDomain", false, &s->special_perms[1]);
}

int xs_domain_release(struct xs_server *s, unsigned domid)
{
    if (domid == 0 || domid > XS_DOMID_MAX)
        return EINVAL;
    struct xs_domain *d = xs_domain_find(s, domid);
    if (!d || (!d->introduced && !d->conn))
        return ENOENT;
    forget(s, d);
    return 0;
}

/* Whether the relay's domain process is gone (its end closed) though the
 * daemon has not read the end of file yet. */
static bool relay_gone(const struct xs_conn *c)
{
    if (c->dead)
        return true;
    if (c->fd < 0)
        return false;                /* in-memory (tests): alive */
    struct pollfd p = { .fd = c->fd, .events = POLLRDHUP };
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Removes path and everything below it as dom0, telling the watchers. */
static void rm_node(struct xs_server *s, const char *path)
{
    struct xs_view v = { .st = &s->st, .q = &s->q };
    struct xs_who root = { .privileged = true };
    const struct xs_node *n;
    struct xs_perms before = { 0 };
    if (xs_tree_read(&v, &root, path, &n) || xs_perms_copy(&before, &n->perms))
        return;
    if (!xs_tree_rm(&v, &root, path))
        xs_watch_fire(s, path, true, &before);
    xs_perms_free(&before);
}

static void rm_if_empty(struct xs_server *s, const char *path)
{
    struct xs_view v = { .st = &s->st, .q = &s->q };
    struct xs_who root = { .privileged = true };
    const struct xs_node *n;
    if (!xs_tree_read(&v, &root, path, &n) && !n->vlen && !n->clen)
        rm_node(s, path);
}

int xs_domain_scrub(struct xs_server *s, unsigned domid)
{
    if (domid == 0 || domid > XS_DOMID_MAX)
        return EINVAL;
    struct xs_domain *d = xs_domain_find(s, domid);
    if (d && d->conn && !relay_gone(d->conn))
        return EBUSY;
    if (d)
        forget(s, d);
    char path[96];
    const struct xs_node *n;
    struct xs_view v = { .st = &s->st, .q = &s->q };
    struct xs_who root = { .privileged = true };
    /* its /vm entry, as its home names it */
    snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
    if (!xs_tree_read(&v, &root, path, &n) && n->vlen > 4 && n->vlen < 80 &&
        !memcmp(n->value, "/vm/", 4) && !memchr(n->value, 0, n->vlen)) {
        char vm[80], canon[96];
        memcpy(vm, n->value, n->vlen);
        vm[n->vlen] = 0;
        if (!strchr(vm + 4, '/') && !xs_path_canon(vm, 0, true, 0, false, canon, sizeof(canon)))
            rm_node(s, canon);
    }
    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    rm_node(s, path);
    /* dom0's backend directories for it: backend/<kind>/<domid> */
    if (xs_tree_read(&v, &root, "/local/domain/0/backend", &n))
        return 0;
    size_t clen = n->clen;
    char *kinds = clen ? malloc(clen) : NULL;
    if (clen && !kinds)
        return ENOMEM;
    memcpy(kinds, n->children, clen);
    for (size_t off = 0; off < clen; off += strlen(kinds + off) + 1) {
        if (snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u", kinds + off, domid) >=
            (int)sizeof(path))
            continue;
        rm_node(s, path);
        path[strlen(path) - strlen(xs_path_basename(path)) - 1] = 0;
        rm_if_empty(s, path);            /* backend/<kind>, as libxl leaves it */
    }
    free(kinds);
    rm_if_empty(s, "/local/domain/0/backend");
    log_info("domain %u: whatever a dead domain left is gone", domid);
    return 0;
}

int xs_domain_set_target(struct xs_server *s, unsigned domid, unsigned target)
{
    if (domid == 0 || domid > XS_DOMID_MAX || target > XS_DOMID_MAX)
        return EINVAL;
    struct xs_domain *d = xs_domain_find(s, domid);
    if (!d || !d->introduced)
        return ENOENT;
    if (target && !xs_domain_find(s, target))
        return ENOENT;
    d->target = target;
    return 0;
}

int xs_domain_bind_relay(struct xs_conn *c, unsigned domid)
{
    struct xs_server *s = c->srv;
    if (domid == 0 || domid > XS_DOMID_MAX)
        return EINVAL;
    if (c->relay || c->nreq || c->watches || c->txns)
        return EISCONN;   /* only a fresh socket can become a domain's connection */
    struct xs_domain *d = xs_domain_find(s, domid);
    if (d && d->conn)
        return EBUSY;     /* one ring, one relay */
    /* Not introduced here: the toolstack does it once the domain's tree is
     * written, so that @introduceDomain watchers find the tree. */
    d = domain_get(s, domid);
    d->conn = c;
    c->relay = true;
    c->privileged = false;
    c->domid = domid;
    log_info("relay connection bound to domain %u", domid);
    return 0;
}

void xs_domain_conn_gone(struct xs_conn *c)
{
    if (!c->relay)
        return;
    struct xs_domain *d = xs_domain_find(c->srv, c->domid);
    if (d && d->conn == c)
        d->conn = NULL;
}

void xs_domain_free_all(struct xs_server *s)
{
    while (s->domains) {
        struct xs_domain *d = s->domains;
        s->domains = d->next;
        free(d);
    }
}
