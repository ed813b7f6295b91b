/* The domain registry: INTRODUCE/RELEASE/SET_TARGET and relay bindings. */
#include "xenstore/server.h"

#include <errno.h>
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

int xs_domain_release(struct xs_server *s, unsigned domid)
{
    if (domid == 0 || domid > XS_DOMID_MAX)
        return EINVAL;
    struct xs_domain *d = xs_domain_find(s, domid);
    if (!d || !d->introduced)
        return ENOENT;
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
    log_info("domain %u released", domid);
    xs_watch_fire(s, "@releaseDomain", false, &s->special_perms[1]);
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
    if (!d || !d->introduced) {
        int rc = xs_domain_introduce(s, domid, 0, 0);
        if (rc)
            return rc;
        d = xs_domain_find(s, domid);
    }
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
