/* Per-domain limits. They bind unprivileged (guest) connections only, as in
 * Xen; dom0 sockets are trusted. Defaults are Xen's. */
#pragma once
#include <stdbool.h>

struct xs_quota {
    unsigned nodes;        /* nodes a domain may own (1000) */
    unsigned watches;      /* watches per connection (128) */
    unsigned txns;         /* open transactions per connection (10) */
    unsigned node_size;    /* bytes of value plus child names in one node (2048) */
    unsigned outstanding;  /* replies queued but not yet taken by the client (20) */
    unsigned path_len;     /* path length below /local/domain/N/ (2048) */
    unsigned txn_nodes;    /* nodes one transaction may touch (1024) */
    unsigned perms;        /* permission entries per node (5) */
};

void xs_quota_defaults(struct xs_quota *q);

/* Sets one limit from "name=value" (names as the fields above, with '-' or
 * '_'). Returns false on an unknown name or a bad number. */
bool xs_quota_set(struct xs_quota *q, const char *assignment);

/* One line per limit, for --help and logs. */
const char *xs_quota_names(void);
