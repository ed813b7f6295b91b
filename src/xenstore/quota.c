#include "xenstore/quota.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "xenstore/wire.h"

void xs_quota_defaults(struct xs_quota *q)
{
    q->nodes = 1000;
    q->watches = 128;
    q->txns = 10;
    q->node_size = 2048;
    q->outstanding = 20;
    q->path_len = XENSTORE_REL_PATH_MAX;
    q->txn_nodes = 1024;
    q->perms = 5;
}

static const struct { const char *name; size_t off; } fields[] = {
    { "nodes", offsetof(struct xs_quota, nodes) },
    { "watches", offsetof(struct xs_quota, watches) },
    { "transactions", offsetof(struct xs_quota, txns) },
    { "node-size", offsetof(struct xs_quota, node_size) },
    { "outstanding", offsetof(struct xs_quota, outstanding) },
    { "path-length", offsetof(struct xs_quota, path_len) },
    { "transaction-nodes", offsetof(struct xs_quota, txn_nodes) },
    { "perms", offsetof(struct xs_quota, perms) },
};

const char *xs_quota_names(void)
{
    return "nodes, watches, transactions, node-size, outstanding, path-length, "
           "transaction-nodes, perms";
}

bool xs_quota_set(struct xs_quota *q, const char *a)
{
    const char *eq = strchr(a, '=');
    if (!eq)
        return false;
    size_t n = (size_t)(eq - a);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const char *f = fields[i].name;
        if (strlen(f) != n)
            continue;
        bool same = true;
        for (size_t k = 0; k < n; k++)
            if (!(a[k] == f[k] || (a[k] == '_' && f[k] == '-')))
                same = false;
        if (!same)
            continue;
        char *end;
        unsigned long v = strtoul(eq + 1, &end, 10);
        if (!eq[1] || *end || v == 0 || v > 1000000000ul)
            return false;
        if (fields[i].off == offsetof(struct xs_quota, path_len) && v > XENSTORE_ABS_PATH_MAX)
            return false;
        *(unsigned *)((char *)q + fields[i].off) = (unsigned)v;
        return true;
    }
    return false;
}
