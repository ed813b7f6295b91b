/* Transactions: optimistic, on an overlay of the nodes they touch; a commit
 * fails with EAGAIN if any of those changed in the store meanwhile. */
#include "xenstore/server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xenstore/util.h"

int xs_txn_open(struct xs_conn *c, uint32_t *id)
{
    struct xs_server *s = c->srv;
    if (!c->privileged && c->ntxns >= s->q.txns)
        return ENOSPC;
    struct xs_txn *t = xs_xcalloc(1, sizeof(*t));
    do {
        t->id = ++s->next_txid;
    } while (!t->id || xs_txn_find(c, t->id));
    t->events_tail = &t->events;
    t->next = c->txns;
    c->txns = t;
    c->ntxns++;
    *id = t->id;
    return 0;
}

struct xs_txn *xs_txn_find(struct xs_conn *c, uint32_t id)
{
    for (struct xs_txn *t = c->txns; t; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

void xs_txn_note(struct xs_txn *t, const char *path, bool rm, const struct xs_perms *perms)
{
    struct xs_event *e = xs_xcalloc(1, sizeof(*e));
    e->path = xs_xstrdup(path);
    e->rm = rm;
    if (perms && xs_perms_copy(&e->perms, perms))
        e->perms.n = 0;
    *t->events_tail = e;
    t->events_tail = &e->next;
}

static void txn_free(struct xs_txn *t)
{
    xs_overlay_free(&t->ov);
    while (t->events) {
        struct xs_event *e = t->events;
        t->events = e->next;
        free(e->path);
        xs_perms_free(&e->perms);
        free(e);
    }
    free(t);
}

static void unlink_txn(struct xs_conn *c, struct xs_txn *t)
{
    for (struct xs_txn **pp = &c->txns; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            c->ntxns--;
            return;
        }
}

int xs_txn_close(struct xs_conn *c, struct xs_txn *t, bool commit)
{
    struct xs_server *s = c->srv;
    unlink_txn(c, t);
    int rc = 0;
    if (commit) {
        rc = xs_overlay_check(&s->st, &t->ov);
        if (!rc) {
            xs_overlay_apply(&s->st, &t->ov);
            for (struct xs_event *e = t->events; e; e = e->next) {
                const struct xs_perms *p = e->perms.n ? &e->perms : NULL;
                if (!e->rm) {   /* announce with the perms the node ended up with */
                    struct xs_node *n = xs_store_lookup(&s->st, e->path);
                    if (n)
                        p = &n->perms;
                }
                xs_watch_fire(s, e->path, e->rm, p);
            }
        }
    }
    txn_free(t);
    return rc;
}

void xs_txn_clear(struct xs_conn *c)
{
    while (c->txns) {
        struct xs_txn *t = c->txns;
        c->txns = t->next;
        txn_free(t);
    }
    c->ntxns = 0;
}
