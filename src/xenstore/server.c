#include "xenstore/server.h"

#include <string.h>

#include "xenstore/util.h"

int xs_server_init(struct xs_server *s, const struct xs_quota *q)
{
    memset(s, 0, sizeof(*s));
    if (q)
        s->q = *q;
    else
        xs_quota_defaults(&s->q);
    xs_store_init(&s->st);
    for (int i = 0; i < 2; i++) {   /* special nodes: dom0's, nobody else's */
        s->special_perms[i].n = 1;
        s->special_perms[i].p = xs_xcalloc(1, sizeof(struct xs_perm));
    }
    return 0;
}

void xs_server_free(struct xs_server *s)
{
    while (s->conns)
        xs_conn_free(s->conns);
    xs_domain_free_all(s);
    for (int i = 0; i < 2; i++)
        xs_perms_free(&s->special_perms[i]);
    xs_store_free(&s->st);
}
