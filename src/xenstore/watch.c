/* Watches: registration, and matching changes against them. */
#include "xenstore/server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xenstore/path.h"
#include "xenstore/util.h"

int xs_watch_add(struct xs_conn *c, const char *abs, const char *token, bool relative)
{
    for (struct xs_watch *w = c->watches; w; w = w->next)
        if (!strcmp(w->path, abs) && !strcmp(w->token, token))
            return EEXIST;
    if (!c->privileged && c->nwatches >= c->srv->q.watches)
        return E2BIG;
    struct xs_watch *w = xs_xcalloc(1, sizeof(*w));
    w->path = xs_xstrdup(abs);
    w->token = xs_xstrdup(token);
    w->relative = relative;
    /* Appended: events for one change go out in registration order. */
    struct xs_watch **pp = &c->watches;
    while (*pp)
        pp = &(*pp)->next;
    *pp = w;
    c->nwatches++;
    return 0;
}

static void watch_free(struct xs_watch *w)
{
    free(w->path);
    free(w->token);
    free(w);
}

int xs_watch_remove(struct xs_conn *c, const char *abs, const char *token)
{
    for (struct xs_watch **pp = &c->watches; *pp; pp = &(*pp)->next) {
        struct xs_watch *w = *pp;
        if (!strcmp(w->path, abs) && !strcmp(w->token, token)) {
            *pp = w->next;
            watch_free(w);
            c->nwatches--;
            return 0;
        }
    }
    return ENOENT;
}

void xs_watch_clear(struct xs_conn *c)
{
    while (c->watches) {
        struct xs_watch *w = c->watches;
        c->watches = w->next;
        watch_free(w);
    }
    c->nwatches = 0;
}

static void send(struct xs_conn *c, const struct xs_watch *w, const char *path)
{
    xs_conn_send_event(c, w->relative ? xs_path_relative(path, c->domid) : path, w->token);
}

void xs_watch_fire_initial(struct xs_conn *c, const struct xs_watch *w)
{
    send(c, w, w->path);
}

void xs_watch_fire(struct xs_server *s, const char *path, bool rm, const struct xs_perms *perms)
{
    for (struct xs_conn *c = s->conns; c; c = c->next) {
        if (c->dead || !c->watches)
            continue;
        if (!c->privileged && perms) {
            struct xs_who who = xs_conn_who(c);
            if (!(xs_perm_for(perms, &who) & XS_PERM_READ))
                continue;
        }
        for (struct xs_watch *w = c->watches; w; w = w->next) {
            if (xs_path_is_child(path, w->path))
                send(c, w, path);
            else if (rm && path[0] == '/' && xs_path_is_child(w->path, path))
                send(c, w, w->path);   /* a parent of the watched node went away */
        }
    }
}
