/* Grant tables v1. */
#include "xen/gnttab.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int gnttab_init(struct gnttab *gt, domid_t domid)
{
    /* gt arrives zeroed with its domain (the pin tables stay unfaulted). */
    gt->domid = domid;
    /* Fresh anonymous pages: zero, and faulted in only when used. */
    gt->own = mmap(NULL, GNTTAB_MAX_FRAMES * 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (gt->own == MAP_FAILED) {
        gt->own = NULL;
        return -ENOMEM;
    }
    for (unsigned i = 0; i < GNTTAB_MAX_FRAMES; i++) {
        gt->frame[i] = gt->own + i * 4096;
        gt->gfn[i] = ~0ull;
    }
    gt->nr_frames = 1;
    return 0;
}

void gnttab_fini(struct gnttab *gt)
{
    if (gt->own)
        munmap(gt->own, GNTTAB_MAX_FRAMES * 4096);
    gt->own = NULL;
}

uint64_t gnttab_frame_gfn(struct gnttab *gt, unsigned idx)
{
    return idx < GNTTAB_MAX_FRAMES ? gt->gfn[idx] : ~0ull;
}

int gnttab_place_frame(struct gnttab *gt, unsigned idx, uint64_t gfn, uint8_t *p)
{
    if (idx >= GNTTAB_MAX_FRAMES || !p)
        return -EINVAL;
    if (p != gt->frame[idx])
        memcpy(p, gt->frame[idx], 4096);   /* the entries move with the frame */
    gt->frame[idx] = p;
    gt->gfn[idx] = gfn;
    if (idx >= gt->nr_frames)
        gt->nr_frames = idx + 1;
    return 0;
}

static bool self(const struct gnttab *gt, domid_t d)
{
    return d == DOMID_SELF || d == gt->domid;
}

/* Status for a domid that is neither this domain nor the host. */
static int16_t other_domain(domid_t d)
{
    return d == 0 ? GNTST_permission_denied : GNTST_bad_domain;
}

static long setup_table(struct gnttab *gt, struct gnttab_setup_table *op)
{
    if (!self(gt, op->dom)) {
        op->status = other_domain(op->dom);
        return 0;
    }
    if (op->nr_frames > gnttab_max_frames(gt)) {
        op->status = GNTST_general_error;
        return 0;
    }
    if (op->nr_frames > gt->nr_frames)
        gt->nr_frames = op->nr_frames;
    op->status = GNTST_okay;
    return 0;
}

static long query_size(struct gnttab *gt, struct gnttab_query_size *op)
{
    if (!self(gt, op->dom)) {
        op->status = other_domain(op->dom);
        return 0;
    }
    op->nr_frames = gt->nr_frames;
    op->max_nr_frames = gnttab_max_frames(gt);
    op->status = GNTST_okay;
    return 0;
}

static long set_version(struct gnttab_set_version *op)
{
    /* Only v1 is offered: as a Xen with grant v2 disabled. */
    long rc = op->version == 1 ? 0 : op->version == 2 ? -ENOSYS : -EINVAL;
    op->version = 1;
    return rc;
}

static long get_version(struct gnttab *gt, struct gnttab_get_version *op)
{
    if (!self(gt, op->dom))
        return op->dom == 0 ? -EPERM : -ESRCH;
    op->version = 1;
    return 0;
}

unsigned gnttab_op_size(unsigned cmd)
{
    switch (cmd) {
    case GNTTABOP_setup_table: return sizeof(struct gnttab_setup_table);
    case GNTTABOP_query_size:  return sizeof(struct gnttab_query_size);
    case GNTTABOP_set_version: return sizeof(struct gnttab_set_version);
    case GNTTABOP_get_version: return sizeof(struct gnttab_get_version);
    case GNTTABOP_copy:        return sizeof(struct gnttab_copy);
    default:                   return 0;
    }
}

long gnttab_op(struct gnttab *gt, unsigned cmd, void *arg, unsigned count)
{
    switch (cmd) {
    case GNTTABOP_setup_table:
    case GNTTABOP_query_size:
        if (count != 1)
            return -EINVAL;
        break;
    case GNTTABOP_set_version:
    case GNTTABOP_get_version:
        break;    /* Xen ignores the count of these */
    case GNTTABOP_copy: {
        struct gnttab_copy *c = arg;
        for (unsigned i = 0; i < count; i++)
            gnttab_copy_one(gt, &c[i]);
        return 0;
    }
    default:
        /* map/unmap/transfer are for a domain that maps other domains'
         * grants; a domU here has none to map. */
        return -ENOSYS;
    }
    switch (cmd) {
    case GNTTABOP_setup_table: return setup_table(gt, arg);
    case GNTTABOP_query_size:  return query_size(gt, arg);
    case GNTTABOP_set_version: return set_version(arg);
    default:                   return get_version(gt, arg);
    }
}

static grant_entry_v1_t *entry(struct gnttab *gt, grant_ref_t ref)
{
    if (ref >= gt->nr_frames * GNTTAB_ENTRIES_PER_FRAME)
        return NULL;
    return (grant_entry_v1_t *)gt->frame[ref / GNTTAB_ENTRIES_PER_FRAME] +
           ref % GNTTAB_ENTRIES_PER_FRAME;
}

uint8_t *gnttab_host_map(struct gnttab *gt, grant_ref_t ref, bool readonly, int16_t *err)
{
    grant_entry_v1_t *e = entry(gt, ref);
    if (!e) {
        *err = GNTST_bad_gntref;
        return NULL;
    }
    /* flags and domid form one 32-bit word that the guest may change under us:
     * check and set the in-use bits with one compare-and-swap, as Xen does. */
    uint32_t *word = (uint32_t *)e;
    uint32_t old = __atomic_load_n(word, __ATOMIC_ACQUIRE);
    for (;;) {
        uint16_t flags = old & 0xffff, domid = old >> 16;
        if ((flags & GTF_type_mask) != GTF_permit_access || domid != 0) {
            *err = GNTST_permission_denied;
            return NULL;
        }
        if (!readonly && (flags & GTF_readonly)) {
            *err = GNTST_permission_denied;
            return NULL;
        }
        uint32_t nw = old | GTF_reading | (readonly ? 0 : GTF_writing);
        if (__atomic_compare_exchange_n(word, &old, nw, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            break;
    }
    /* While pinned, the entry's frame is the one read at the first pin: the
     * guest cannot redirect a live mapping by rewriting the entry. */
    bool pinned = gt->pin_ro[ref] || gt->pin_rw[ref];
    uint32_t frame = pinned ? gt->pin_frame[ref] : __atomic_load_n(&e->frame, __ATOMIC_ACQUIRE);
    uint8_t *p = gt->gfn_page(gt->opaque, frame);
    if (!p) {
        /* Nothing was pinned by this call: drop only the bits it set. */
        uint16_t clear = pinned ? 0 : (GTF_reading | GTF_writing);
        if (pinned && !gt->pin_rw[ref])
            clear = GTF_writing;
        __atomic_fetch_and(&e->flags, (uint16_t)~clear, __ATOMIC_RELEASE);
        *err = GNTST_bad_page;
        return NULL;
    }
    gt->pin_frame[ref] = frame;
    if (readonly)
        gt->pin_ro[ref]++;
    else
        gt->pin_rw[ref]++;
    *err = GNTST_okay;
    return p;
}

void gnttab_host_unmap(struct gnttab *gt, grant_ref_t ref, bool readonly)
{
    grant_entry_v1_t *e = entry(gt, ref);
    if (!e)
        return;
    uint16_t *pin = readonly ? &gt->pin_ro[ref] : &gt->pin_rw[ref];
    if (*pin)
        (*pin)--;
    uint16_t clear = 0;
    if (!gt->pin_rw[ref])
        clear |= GTF_writing;
    if (!gt->pin_rw[ref] && !gt->pin_ro[ref])
        clear |= GTF_reading;
    __atomic_fetch_and(&e->flags, (uint16_t)~clear, __ATOMIC_RELEASE);
}

void gnttab_reserve(struct gnttab *gt, grant_ref_t ref, uint64_t gfn)
{
    grant_entry_v1_t *e = entry(gt, ref);
    if (!e)
        return;
    e->frame = (uint32_t)gfn;
    e->domid = 0;
    __atomic_store_n(&e->flags, (uint16_t)GTF_permit_access, __ATOMIC_RELEASE);
}

/* One side of a copy: a page of this domain, by gmfn or through a grant it
 * made to itself. Returns the page or NULL with *st set. */
static uint8_t *copy_side(struct gnttab *gt, const void *side_ptr, bool gref, bool write,
                          int16_t *st)
{
    const struct { union { grant_ref_t ref; xen_pfn_t gmfn; } u; domid_t domid; uint16_t offset; }
        *side = side_ptr;
    /* A frame by number must be named with DOMID_SELF, even by the caller's
     * own id (Xen's rule); a grant names the domain that made it. */
    if (gref ? !self(gt, side->domid) : side->domid != DOMID_SELF) {
        *st = gref ? GNTST_bad_domain : GNTST_permission_denied;
        return NULL;
    }
    uint64_t gfn = side->u.gmfn;
    if (gref) {
        grant_entry_v1_t *e = entry(gt, side->u.ref);
        if (!e) {
            *st = GNTST_bad_gntref;
            return NULL;
        }
        uint16_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
        if ((flags & GTF_type_mask) != GTF_permit_access || e->domid != gt->domid ||
            (write && (flags & GTF_readonly))) {
            *st = GNTST_general_error;
            return NULL;
        }
        gfn = e->frame;
    }
    uint8_t *p = gt->gfn_page(gt->opaque, gfn);
    if (!p)
        *st = GNTST_bad_page;
    return p;
}

void gnttab_copy_one(struct gnttab *gt, struct gnttab_copy *c)
{
    if ((uint32_t)c->source.offset + c->len > 4096 || (uint32_t)c->dest.offset + c->len > 4096) {
        c->status = GNTST_bad_copy_arg;
        return;
    }
    int16_t st = GNTST_okay;
    uint8_t *src = copy_side(gt, &c->source, c->flags & GNTCOPY_source_gref, false, &st);
    uint8_t *dst = src ? copy_side(gt, &c->dest, c->flags & GNTCOPY_dest_gref, true, &st) : NULL;
    if (src && dst)
        memmove(dst + c->dest.offset, src + c->source.offset, c->len);
    c->status = st;
}
