/* The store: nodes in a hash table by absolute path, each with a value,
 * permissions, its children's names and a generation count that changes on
 * every modification. A view is the store seen directly or through a
 * transaction's overlay (copies of the nodes the transaction touched). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenstore/perms.h"
#include "xenstore/quota.h"

enum xs_node_kind {
    XS_NODE_LIVE,     /* a node (in the store, or a transaction's own copy) */
    XS_NODE_READ,     /* overlay only: seen, not changed; the store's node is used */
    XS_NODE_DELETED,  /* overlay only: absent in this transaction */
};

struct xs_node {
    char *path;
    uint8_t *value;
    size_t vlen;
    char *children;       /* leaf names, each NUL-terminated, in creation order */
    size_t clen;
    struct xs_perms perms;
    uint64_t gen;
    uint64_t base_gen;    /* overlay: store's gen at first access, 0 = absent */
    uint8_t kind;
    struct xs_node *hnext;
};

struct xs_nodetab {
    struct xs_node **b;
    size_t nb, count;
};

struct xs_counts {        /* nodes owned, per domain */
    struct { uint16_t domid; int n; } *e;
    size_t n, cap;
};

struct xs_store {
    struct xs_nodetab tab;
    uint64_t gen;
    struct xs_counts owned;
};

struct xs_overlay {
    struct xs_nodetab tab;
    struct xs_counts delta;
};

struct xs_view {
    struct xs_store *st;
    struct xs_overlay *ov;       /* NULL: the store itself */
    const struct xs_quota *q;
    bool limited;                /* quotas apply (unprivileged caller) */
};

int xs_store_init(struct xs_store *st);   /* "/", "/local", "/local/domain", "/tool" */
void xs_store_free(struct xs_store *st);
struct xs_node *xs_store_lookup(struct xs_store *st, const char *path);
int xs_store_owned(struct xs_store *st, unsigned domid);

void xs_overlay_free(struct xs_overlay *ov);
/* Fails with EAGAIN if a node the overlay saw has changed in the store since. */
int xs_overlay_check(struct xs_store *st, struct xs_overlay *ov);
/* Moves the overlay's changes into the store (after xs_overlay_check). */
void xs_overlay_apply(struct xs_store *st, struct xs_overlay *ov);

/* Operations; errors are errno values (ENOENT, EACCES, EEXIST, EINVAL, ENOSPC
 * for quotas, ENOMEM, EAGAIN). */
int xs_tree_read(struct xs_view *v, const struct xs_who *who, const char *path,
                 const struct xs_node **out);
/* mkdir: create if missing, leave an existing value alone. */
int xs_tree_write(struct xs_view *v, const struct xs_who *who, const char *path,
                  const void *value, size_t vlen, bool mkdir);
int xs_tree_rm(struct xs_view *v, const struct xs_who *who, const char *path);
int xs_tree_set_perms(struct xs_view *v, const struct xs_who *who, const char *path,
                      const struct xs_perms *perms);

/* A removed domain loses its rights: nodes it owned pass to dom0 and entries
 * naming it are dropped, so a later domain with the same id inherits nothing. */
void xs_store_revoke(struct xs_store *st, unsigned domid);
