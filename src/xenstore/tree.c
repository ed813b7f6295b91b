#include "xenstore/tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "xenstore/wire.h"

#include "xenstore/path.h"
#include "xenstore/util.h"

/* ---- hash table of nodes by path ---- */

static uint64_t hash_path(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static struct xs_node *tab_find(const struct xs_nodetab *t, const char *path)
{
    if (!t->nb)
        return NULL;
    for (struct xs_node *n = t->b[hash_path(path) & (t->nb - 1)]; n; n = n->hnext)
        if (!strcmp(n->path, path))
            return n;
    return NULL;
}

static void tab_insert(struct xs_nodetab *t, struct xs_node *n)
{
    if (t->count + 1 > t->nb / 2) {
        size_t nb = t->nb ? t->nb * 2 : 64;
        struct xs_node **b = xs_xcalloc(nb, sizeof(*b));
        for (size_t i = 0; i < t->nb; i++)
            for (struct xs_node *m = t->b[i], *next; m; m = next) {
                next = m->hnext;
                size_t k = hash_path(m->path) & (nb - 1);
                m->hnext = b[k];
                b[k] = m;
            }
        free(t->b);
        t->b = b;
        t->nb = nb;
    }
    size_t k = hash_path(n->path) & (t->nb - 1);
    n->hnext = t->b[k];
    t->b[k] = n;
    t->count++;
}

static void tab_remove(struct xs_nodetab *t, struct xs_node *n)
{
    struct xs_node **pp = &t->b[hash_path(n->path) & (t->nb - 1)];
    while (*pp != n)
        pp = &(*pp)->hnext;
    *pp = n->hnext;
    t->count--;
}

static void node_clear(struct xs_node *n)
{
    free(n->value);
    free(n->children);
    xs_perms_free(&n->perms);
    n->value = NULL;
    n->children = NULL;
    n->vlen = n->clen = 0;
}

static void node_free(struct xs_node *n)
{
    node_clear(n);
    free(n->path);
    free(n);
}

static struct xs_node *node_new(const char *path)
{
    struct xs_node *n = xs_xcalloc(1, sizeof(*n));
    n->path = xs_xstrdup(path);
    return n;
}

static void node_copy_contents(struct xs_node *dst, const struct xs_node *src)
{
    dst->value = xs_xmemdup(src->value, src->vlen);
    dst->vlen = src->vlen;
    dst->children = xs_xmemdup(src->children, src->clen);
    dst->clen = src->clen;
    if (xs_perms_copy(&dst->perms, &src->perms))
        dst->perms.n = 0;
}

static void tab_free(struct xs_nodetab *t)
{
    for (size_t i = 0; i < t->nb; i++)
        for (struct xs_node *m = t->b[i], *next; m; m = next) {
            next = m->hnext;
            node_free(m);
        }
    free(t->b);
    memset(t, 0, sizeof(*t));
}

/* ---- nodes owned per domain ---- */

static int *count_slot(struct xs_counts *c, unsigned domid)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].domid == domid)
            return &c->e[i].n;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->e = xs_xrealloc(c->e, c->cap * sizeof(*c->e));
    }
    c->e[c->n].domid = (uint16_t)domid;
    c->e[c->n].n = 0;
    return &c->e[c->n++].n;
}

static int count_get(const struct xs_counts *c, unsigned domid)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].domid == domid)
            return c->e[i].n;
    return 0;
}

/* ---- the store ---- */

struct xs_node *xs_store_lookup(struct xs_store *st, const char *path)
{
    return tab_find(&st->tab, path);
}

int xs_store_owned(struct xs_store *st, unsigned domid)
{
    return count_get(&st->owned, domid);
}

static void store_add(struct xs_store *st, struct xs_node *n)
{
    n->kind = XS_NODE_LIVE;
    n->gen = ++st->gen;
    tab_insert(&st->tab, n);
    (*count_slot(&st->owned, n->perms.p[0].domid))++;
}

int xs_store_init(struct xs_store *st)
{
    /* The skeleton, and dom0's own entries as Xen's xen-init-dom0 writes them
     * (the host plays dom0 here). */
    static const struct { const char *path, *value; } init[] = {
        { "/", NULL }, { "/local", NULL }, { "/local/domain", NULL },
        { "/local/domain/0", NULL }, { "/local/domain/0/name", "Domain-0" },
        { "/local/domain/0/domid", "0" }, { "/tool", NULL }, { "/tool/xenstored", NULL },
    };
    memset(st, 0, sizeof(*st));
    for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++) {
        struct xs_node *n = node_new(init[i].path);
        if (init[i].value) {
            n->vlen = strlen(init[i].value);
            n->value = xs_xmemdup(init[i].value, n->vlen);
        }
        n->perms.n = 1;
        n->perms.p = xs_xcalloc(1, sizeof(*n->perms.p));   /* n0: dom0's, nobody else's */
        if (i) {
            struct xs_node *parent = NULL;
            char buf[32];
            size_t pl = xs_path_parent_len(init[i].path);
            memcpy(buf, init[i].path, pl);
            buf[pl] = 0;
            parent = tab_find(&st->tab, buf);
            const char *leaf = xs_path_basename(init[i].path);
            size_t ll = strlen(leaf) + 1;
            parent->children = xs_xrealloc(parent->children, parent->clen + ll);
            memcpy(parent->children + parent->clen, leaf, ll);
            parent->clen += ll;
        }
        store_add(st, n);
    }
    return 0;
}

void xs_store_free(struct xs_store *st)
{
    tab_free(&st->tab);
    free(st->owned.e);
    memset(st, 0, sizeof(*st));
}

void xs_store_revoke(struct xs_store *st, unsigned domid)
{
    for (size_t i = 0; i < st->tab.nb; i++)
        for (struct xs_node *n = st->tab.b[i]; n; n = n->hnext) {
            struct xs_perms *p = &n->perms;
            bool changed = false;
            if (p->p[0].domid == domid) {
                p->p[0].domid = 0;
                (*count_slot(&st->owned, domid))--;
                (*count_slot(&st->owned, 0))++;
                changed = true;
            }
            for (unsigned k = 1; k < p->n;) {
                if (p->p[k].domid == domid) {
                    memmove(&p->p[k], &p->p[k + 1], (p->n - k - 1) * sizeof(p->p[0]));
                    p->n--;
                    changed = true;
                } else {
                    k++;
                }
            }
            if (changed)
                n->gen = ++st->gen;
        }
}

/* ---- views ---- */

/* Looks a node up without recording anything. */
static struct xs_node *view_peek(struct xs_view *v, const char *path)
{
    if (v->ov) {
        struct xs_node *e = tab_find(&v->ov->tab, path);
        if (e)
            return e->kind == XS_NODE_LIVE ? e : e->kind == XS_NODE_DELETED ? NULL
                                                 : tab_find(&v->st->tab, path);
    }
    return tab_find(&v->st->tab, path);
}

/* Looks a node up; in a transaction, remembers its generation for the
 * conflict check at commit. */
static struct xs_node *view_get(struct xs_view *v, const char *path)
{
    if (v->ov && !tab_find(&v->ov->tab, path)) {
        struct xs_node *m = tab_find(&v->st->tab, path);
        struct xs_node *e = node_new(path);
        e->kind = XS_NODE_READ;
        e->base_gen = m ? m->gen : 0;
        tab_insert(&v->ov->tab, e);
    }
    return view_peek(v, path);
}

/* The writable node at path (which exists, and was view_get'ed). */
static struct xs_node *view_mut(struct xs_view *v, const char *path)
{
    if (!v->ov)
        return tab_find(&v->st->tab, path);
    struct xs_node *e = tab_find(&v->ov->tab, path);
    if (e->kind == XS_NODE_READ) {
        node_copy_contents(e, tab_find(&v->st->tab, path));
        e->kind = XS_NODE_LIVE;
    }
    return e;
}

static void view_touch(struct xs_view *v, struct xs_node *n)
{
    n->gen = ++v->st->gen;
}

static struct xs_counts *view_counts(struct xs_view *v)
{
    return v->ov ? &v->ov->delta : &v->st->owned;
}

static int view_owned(struct xs_view *v, unsigned domid)
{
    return count_get(&v->st->owned, domid) + (v->ov ? count_get(&v->ov->delta, domid) : 0);
}

/* Creates an empty node at path (absent, already view_get'ed). */
static struct xs_node *view_create(struct xs_view *v, const char *path, struct xs_perms *perms)
{
    struct xs_node *n;
    if (v->ov) {
        n = tab_find(&v->ov->tab, path);
        node_clear(n);
        n->kind = XS_NODE_LIVE;
    } else {
        n = node_new(path);
        tab_insert(&v->st->tab, n);
    }
    n->perms = *perms;
    (*count_slot(view_counts(v), perms->p[0].domid))++;
    view_touch(v, n);
    return n;
}

static void view_delete(struct xs_view *v, struct xs_node *n)
{
    (*count_slot(view_counts(v), n->perms.p[0].domid))--;
    if (v->ov) {
        struct xs_node *e = tab_find(&v->ov->tab, n->path);
        node_clear(e);
        e->kind = XS_NODE_DELETED;
    } else {
        tab_remove(&v->st->tab, n);
        node_free(n);
    }
}

/* A transaction may touch at most q->txn_nodes nodes (unprivileged callers). */
static int view_room(struct xs_view *v, size_t more)
{
    if (v->ov && v->limited && v->ov->tab.count + more > v->q->txn_nodes)
        return ENOSPC;
    return 0;
}

static void children_add(struct xs_node *n, const char *leaf)
{
    size_t ll = strlen(leaf) + 1;
    n->children = xs_xrealloc(n->children, n->clen + ll);
    memcpy(n->children + n->clen, leaf, ll);
    n->clen += ll;
}

static void children_remove(struct xs_node *n, const char *leaf)
{
    size_t ll = strlen(leaf) + 1;
    for (size_t off = 0; off < n->clen;) {
        size_t l = strlen(n->children + off) + 1;
        if (l == ll && !memcmp(n->children + off, leaf, ll)) {
            memmove(n->children + off, n->children + off + l, n->clen - off - l);
            n->clen -= l;
            return;
        }
        off += l;
    }
}

/* For a missing node: ENOENT, or EACCES if the caller may not even see that
 * (its nearest existing ancestor is unreadable to it). */
static int missing(struct xs_view *v, const struct xs_who *who, const char *path)
{
    if (who->privileged || path[0] != '/')
        return ENOENT;
    char buf[XENSTORE_ABS_PATH_MAX + 1];
    size_t l = strlen(path);
    if (l > XENSTORE_ABS_PATH_MAX)
        return ENOENT;
    memcpy(buf, path, l + 1);
    while (l > 1) {
        l = xs_path_parent_len(buf);
        buf[l] = 0;
        struct xs_node *n = view_peek(v, buf);
        if (n)
            return (xs_perm_for(&n->perms, who) & XS_PERM_READ) ? ENOENT : EACCES;
    }
    return ENOENT;
}

int xs_tree_read(struct xs_view *v, const struct xs_who *who, const char *path,
                 const struct xs_node **out)
{
    int rc = view_room(v, 1);
    if (rc)
        return rc;
    struct xs_node *n = view_get(v, path);
    if (!n)
        return missing(v, who, path);
    if (!(xs_perm_for(&n->perms, who) & XS_PERM_READ))
        return EACCES;
    *out = n;
    return 0;
}

static size_t node_size(const struct xs_node *n)
{
    return n->vlen + n->clen;
}

int xs_tree_write(struct xs_view *v, const struct xs_who *who, const char *path,
                  const void *value, size_t vlen, bool mkdir)
{
    char buf[XENSTORE_ABS_PATH_MAX + 1];
    size_t len = strlen(path);
    if (len > XENSTORE_ABS_PATH_MAX || path[0] != '/')
        return EINVAL;
    int rc = view_room(v, 2);
    if (rc)
        return rc;
    struct xs_node *n = view_get(v, path);
    if (n) {
        if (!(xs_perm_for(&n->perms, who) & XS_PERM_WRITE))
            return EACCES;
        if (mkdir)
            return 0;
        if (v->limited && vlen + n->clen > v->q->node_size)
            return ENOSPC;
        n = view_mut(v, path);
        free(n->value);
        n->value = xs_xmemdup(value, vlen);
        n->vlen = vlen;
        view_touch(v, n);
        return 0;
    }

    /* Find the nearest existing ancestor; everything below it is created. */
    memcpy(buf, path, len + 1);
    size_t missing_n = 1, alen;
    struct xs_node *anc;
    for (;;) {
        alen = xs_path_parent_len(buf);
        buf[alen] = 0;
        if ((anc = view_peek(v, buf)))
            break;
        missing_n++;
    }
    if ((rc = view_room(v, missing_n + 1)))
        return rc;
    anc = view_get(v, buf);
    if (!(xs_perm_for(&anc->perms, who) & XS_PERM_WRITE))
        return EACCES;
    size_t end = alen == 1 ? 1 : alen + 1;   /* where the first new component starts */
    if (v->limited) {
        size_t first_len = strcspn(path + end, "/") + 1;
        if (view_owned(v, who->domid) + (int)missing_n > (int)v->q->nodes ||
            node_size(anc) + first_len > v->q->node_size || (!mkdir && vlen > v->q->node_size))
            return ENOSPC;
    }

    /* Create top-down: each new node inherits its parent's permissions, but an
     * unprivileged creator owns what it creates. */
    struct xs_node *parent = view_mut(v, buf);
    memcpy(buf, path, len + 1);
    for (;;) {
        while (buf[end] && buf[end] != '/')
            end++;
        char c = buf[end];
        buf[end] = 0;
        struct xs_perms perms;
        if (xs_perms_copy(&perms, &parent->perms))
            return ENOMEM;
        if (!who->privileged)
            perms.p[0].domid = (uint16_t)who->domid;
        view_get(v, buf);
        struct xs_node *child = view_create(v, buf, &perms);
        children_add(parent, xs_path_basename(buf));
        view_touch(v, parent);
        parent = child;
        if (!c)
            break;
        buf[end] = c;
        end++;
    }
    if (!mkdir) {
        parent->value = xs_xmemdup(value, vlen);
        parent->vlen = vlen;
    }
    return 0;
}

static size_t subtree_count(struct xs_view *v, const char *path, size_t cap)
{
    struct xs_node *n = view_peek(v, path);
    if (!n)
        return 0;
    size_t total = 1;
    char *buf = xs_xmalloc(strlen(path) + XENSTORE_ABS_PATH_MAX + 2);
    for (size_t off = 0; off < n->clen && total <= cap; off += strlen(n->children + off) + 1) {
        strcpy(buf, path);
        if (strcmp(path, "/"))
            strcat(buf, "/");
        strcat(buf, n->children + off);
        total += subtree_count(v, buf, cap);
    }
    free(buf);
    return total;
}

static void delete_subtree(struct xs_view *v, const char *path)
{
    struct xs_node *n = view_get(v, path);
    if (!n)
        return;
    if (v->ov)
        n = view_mut(v, path);   /* never shorten the store's own child list */
    size_t plen = strlen(path);
    while (n->clen) {
        /* Take the last child: deleting it shrinks n->children (when it is
         * ours) or not at all (in the store the parent is freed below). */
        size_t off = 0, last = 0;
        for (; off < n->clen; off += strlen(n->children + off) + 1)
            last = off;
        const char *leaf = n->children + last;
        char *child = xs_xmalloc(plen + strlen(leaf) + 2);
        strcpy(child, path);
        strcat(child, "/");
        strcat(child, leaf);
        delete_subtree(v, child);
        free(child);
        n->clen = last;   /* children are rebuilt nowhere: n itself goes next */
    }
    view_delete(v, n);
}

int xs_tree_rm(struct xs_view *v, const struct xs_who *who, const char *path)
{
    if (!strcmp(path, "/") || path[0] != '/' || strlen(path) > XENSTORE_ABS_PATH_MAX)
        return EINVAL;
    char parent_path[XENSTORE_ABS_PATH_MAX + 1];
    size_t pl = xs_path_parent_len(path);
    memcpy(parent_path, path, pl);
    parent_path[pl] = 0;

    int rc = view_room(v, 2);
    if (rc)
        return rc;
    struct xs_node *n = view_get(v, path);
    if (!n) {
        struct xs_node *p = view_get(v, parent_path);
        if (!p)
            return missing(v, who, parent_path);
        return 0;
    }
    if (!(xs_perm_for(&n->perms, who) & XS_PERM_WRITE))
        return EACCES;
    if (v->ov && v->limited && (rc = view_room(v, subtree_count(v, path, v->q->txn_nodes) + 1)))
        return rc;
    view_get(v, parent_path);
    delete_subtree(v, path);
    struct xs_node *p = view_mut(v, parent_path);
    children_remove(p, xs_path_basename(path));
    view_touch(v, p);
    return 0;
}

int xs_tree_set_perms(struct xs_view *v, const struct xs_who *who, const char *path,
                      const struct xs_perms *perms)
{
    int rc = view_room(v, 1);
    if (rc)
        return rc;
    struct xs_node *n = view_get(v, path);
    if (!n)
        return missing(v, who, path);
    unsigned a = xs_perm_for(&n->perms, who);
    if (!(a & XS_PERM_WRITE) || !(a & XS_PERM_OWNER))
        return EACCES;
    if (!who->privileged && perms->p[0].domid != n->perms.p[0].domid)
        return EPERM;
    if (v->limited && perms->n > v->q->perms)
        return ENOSPC;
    n = view_mut(v, path);
    struct xs_counts *c = view_counts(v);
    (*count_slot(c, n->perms.p[0].domid))--;
    (*count_slot(c, perms->p[0].domid))++;
    xs_perms_free(&n->perms);
    if (xs_perms_copy(&n->perms, perms))
        return ENOMEM;
    view_touch(v, n);
    return 0;
}

/* ---- transactions' overlays ---- */

void xs_overlay_free(struct xs_overlay *ov)
{
    tab_free(&ov->tab);
    free(ov->delta.e);
    memset(ov, 0, sizeof(*ov));
}

int xs_overlay_check(struct xs_store *st, struct xs_overlay *ov)
{
    for (size_t i = 0; i < ov->tab.nb; i++)
        for (struct xs_node *e = ov->tab.b[i]; e; e = e->hnext) {
            struct xs_node *m = tab_find(&st->tab, e->path);
            if ((m ? m->gen : 0) != e->base_gen)
                return EAGAIN;
        }
    return 0;
}

void xs_overlay_apply(struct xs_store *st, struct xs_overlay *ov)
{
    for (size_t i = 0; i < ov->tab.nb; i++)
        for (struct xs_node **pp = &ov->tab.b[i]; *pp;) {
            struct xs_node *e = *pp;
            struct xs_node *m = tab_find(&st->tab, e->path);
            if (e->kind == XS_NODE_READ) {
                pp = &e->hnext;
                continue;
            }
            if (m) {
                (*count_slot(&st->owned, m->perms.p[0].domid))--;
                tab_remove(&st->tab, m);
                node_free(m);
            }
            if (e->kind == XS_NODE_LIVE) {
                *pp = e->hnext;          /* move it from the overlay to the store */
                ov->tab.count--;
                store_add(st, e);
            } else {
                pp = &e->hnext;
            }
        }
}
