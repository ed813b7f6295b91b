/* Using grant entries: the host's map/unmap for backends, GNTTABOP_copy
 * through the guest's own grants, the toolstack's reserved entries and
 * set_version's carrying of them; for v1 and v2 entries alike. */
#include "xen/gnttab.h"
#include "xen/gnttab_entry.h"
#include <errno.h>
#include <string.h>

/* ---- reserved entries ---- */

void gnttab_reserve(struct gnttab *gt, grant_ref_t ref, uint64_t gfn)
{
    if (ref >= gnttab_nr_entries(gt))
        return;
    if (gt->version == 2) {
        grant_entry_v2_t *e = gnttab_v2(gt, ref);
        e->full_page.frame = gfn;
        e->hdr.domid = 0;
        __atomic_store_n(&e->hdr.flags, (uint16_t)GTF_permit_access, __ATOMIC_RELEASE);
        return;
    }
    grant_entry_v1_t *e = gnttab_v1(gt, ref);
    e->frame = (uint32_t)gfn;
    e->domid = 0;
    __atomic_store_n(&e->flags, (uint16_t)GTF_permit_access, __ATOMIC_RELEASE);
}

int gnttab_save_reserved(struct gnttab *gt, grant_entry_v1_t keep[GNTTAB_NR_RESERVED])
{
    unsigned n = gnttab_nr_entries(gt) < GNTTAB_NR_RESERVED ? gnttab_nr_entries(gt) : GNTTAB_NR_RESERVED;
    memset(keep, 0, GNTTAB_NR_RESERVED * sizeof(*keep));
    if (gt->version == 1) {
        memcpy(keep, gnttab_v1(gt, 0), n * sizeof(*keep));
        return 0;
    }
    for (unsigned i = 0; i < n; i++) {
        const grant_entry_v2_t *e = gnttab_v2(gt, i);
        uint16_t type = e->hdr.flags & GTF_type_mask;
        if ((type == GTF_permit_access && (e->full_page.frame >> 32)) || type == GTF_transitive)
            return -ERANGE;
    }
    for (unsigned i = 0; i < n; i++) {
        const grant_entry_v2_t *e = gnttab_v2(gt, i);
        if ((e->hdr.flags & GTF_type_mask) != GTF_permit_access)
            continue;               /* anything else does not survive */
        keep[i].flags = e->hdr.flags | *gnttab_status(gt, i);
        keep[i].domid = e->hdr.domid;
        keep[i].frame = (uint32_t)e->full_page.frame;
    }
    return 0;
}

void gnttab_restore_reserved(struct gnttab *gt, const grant_entry_v1_t keep[GNTTAB_NR_RESERVED])
{
    unsigned n = gnttab_nr_entries(gt) < GNTTAB_NR_RESERVED ? gnttab_nr_entries(gt) : GNTTAB_NR_RESERVED;
    if (gt->version == 1) {
        memcpy(gnttab_v1(gt, 0), keep, n * sizeof(*keep));
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        grant_entry_v2_t *e = gnttab_v2(gt, i);
        *gnttab_status(gt, i) = keep[i].flags & (GTF_reading | GTF_writing);
        e->hdr.flags = keep[i].flags & ~(GTF_reading | GTF_writing);
        e->hdr.domid = keep[i].domid;
        e->full_page.frame = keep[i].frame;
    }
}

/* ---- the host's mappings ---- */

/* The in-use bits the pins of ref need. */
static uint16_t pinned_bits(const struct gnttab *gt, grant_ref_t ref)
{
    return (gt->pin_ro[ref] || gt->pin_rw[ref] ? GTF_reading : 0) | (gt->pin_rw[ref] ? GTF_writing : 0);
}

/* Does header word (flags | domid << 16) grant dom 0 a full-page mapping? */
static bool maps_to_dom0(uint32_t hdr, bool readonly, uint16_t type_mask)
{
    uint16_t flags = hdr & 0xffff, domid = hdr >> 16;
    return (flags & type_mask) == GTF_permit_access && domid == 0 &&
           (readonly || !(flags & GTF_readonly));
}

/* v1: flags and domid form one 32-bit word that the guest may change under
 * us: check it and set the in-use bits with one compare-and-swap, as Xen
 * does. v2: the bits go to the status word first, then the header is read
 * again (Xen's _set_status_v2). Returns the entry's frame, or sets *err. */
static bool acquire(struct gnttab *gt, grant_ref_t ref, bool readonly, uint64_t *frame, int16_t *err)
{
    uint16_t set = GTF_reading | (readonly ? 0 : GTF_writing);
    if (gt->version == 1) {
        grant_entry_v1_t *e = gnttab_v1(gt, ref);
        uint32_t *word = (uint32_t *)e;
        uint32_t old = __atomic_load_n(word, __ATOMIC_ACQUIRE);
        do {
            if (!maps_to_dom0(old, readonly, GTF_type_mask)) {
                *err = GNTST_permission_denied;
                return false;
            }
        } while (!__atomic_compare_exchange_n(word, &old, old | set, false, __ATOMIC_ACQ_REL,
                                              __ATOMIC_ACQUIRE));
        *frame = __atomic_load_n(&e->frame, __ATOMIC_ACQUIRE);
        return true;
    }
    grant_entry_v2_t *e = gnttab_v2(gt, ref);
    uint32_t *hdr = (uint32_t *)&e->hdr;
    const uint16_t mask = GTF_type_mask | GTF_sub_page;   /* a mapping takes whole pages */
    if (!maps_to_dom0(__atomic_load_n(hdr, __ATOMIC_ACQUIRE), readonly, mask)) {
        *err = GNTST_permission_denied;
        return false;
    }
    __atomic_fetch_or(gnttab_status(gt, ref), set, __ATOMIC_SEQ_CST);
    if (!maps_to_dom0(__atomic_load_n(hdr, __ATOMIC_SEQ_CST), readonly, mask)) {
        __atomic_fetch_and(gnttab_status(gt, ref), (uint16_t)~(set & ~pinned_bits(gt, ref)),
                           __ATOMIC_RELEASE);
        *err = GNTST_permission_denied;
        return false;
    }
    *frame = __atomic_load_n(&e->full_page.frame, __ATOMIC_ACQUIRE);
    return true;
}

/* Drops the in-use bits that ref's pins no longer need. */
static void release_bits(struct gnttab *gt, grant_ref_t ref)
{
    uint16_t clear = (GTF_reading | GTF_writing) & ~pinned_bits(gt, ref);
    uint16_t *bits = gt->version == 2 ? gnttab_status(gt, ref) : &gnttab_v1(gt, ref)->flags;
    __atomic_fetch_and(bits, (uint16_t)~clear, __ATOMIC_RELEASE);
}

uint8_t *gnttab_host_map(struct gnttab *gt, grant_ref_t ref, bool readonly, int16_t *err)
{
    if (ref >= gnttab_nr_entries(gt)) {
        *err = GNTST_bad_gntref;
        return NULL;
    }
    uint64_t frame;
    if (!acquire(gt, ref, readonly, &frame, err))
        return NULL;
    /* While pinned, the entry's frame is the one read at the first pin: the
     * guest cannot redirect a live mapping by rewriting the entry. */
    if (gt->pin_ro[ref] || gt->pin_rw[ref])
        frame = gt->pin_frame[ref];
    uint8_t *p = gt->gfn_page(gt->opaque, frame);
    if (!p) {
        release_bits(gt, ref);        /* nothing was pinned by this call */
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
    if (ref >= gnttab_nr_entries(gt))
        return;
    uint16_t *pin = readonly ? &gt->pin_ro[ref] : &gt->pin_rw[ref];
    if (*pin)
        (*pin)--;
    /* A backend wrote the page while it was mapped (a disk read landing in
     * it): looked up again, so a migration's dirty log takes it. */
    if (!readonly)
        gt->gfn_page(gt->opaque, gt->pin_frame[ref]);
    release_bits(gt, ref);
}

/* ---- GNTTABOP_copy ---- */

struct copy_buf {
    uint8_t *page;
    unsigned off, len;             /* the part of the page the grant covers */
};

static bool self(const struct gnttab *gt, domid_t d)
{
    return d == DOMID_SELF || d == gt->domid;
}

/* A grant this domain made to itself, for copying: v1 or v2 full page, or a
 * v2 sub-page (whose bounds the copy must respect). Returns a GNTST_*. */
static int16_t copy_grant(struct gnttab *gt, grant_ref_t ref, bool write, uint64_t *frame,
                          struct copy_buf *b)
{
    if (ref >= gnttab_nr_entries(gt))
        return GNTST_bad_gntref;
    b->off = 0;
    b->len = 4096;
    uint16_t flags, domid;
    if (gt->version == 1) {
        const grant_entry_v1_t *e = gnttab_v1(gt, ref);
        flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
        domid = e->domid;
        *frame = e->frame;
    } else {
        const grant_entry_v2_t *e = gnttab_v2(gt, ref);
        flags = __atomic_load_n(&e->hdr.flags, __ATOMIC_ACQUIRE);
        domid = e->hdr.domid;
        if (flags & GTF_sub_page) {
            b->off = e->sub_page.page_off;
            b->len = e->sub_page.length;
            *frame = e->sub_page.frame;
        } else {
            *frame = e->full_page.frame;
        }
    }
    /* Transitive grants would name another domain's grant: none here. */
    if ((flags & GTF_type_mask) != GTF_permit_access || domid != gt->domid ||
        (write && (flags & GTF_readonly)))
        return GNTST_general_error;
    return GNTST_okay;
}

/* One side of a copy: a page of this domain, by gmfn or through a grant it
 * made to itself. Returns a GNTST_*. */
static int16_t copy_side(struct gnttab *gt, const struct gnttab_copy_ptr *side, bool gref,
                         bool write, struct copy_buf *b)
{
    /* A frame by number must be named with DOMID_SELF, even by the caller's
     * own id (Xen's rule); a grant names the domain that made it. */
    if (gref ? !self(gt, side->domid) : side->domid != DOMID_SELF)
        return gref ? GNTST_bad_domain : GNTST_permission_denied;
    uint64_t frame = side->u.gmfn;
    b->off = 0;
    b->len = 4096;
    if (gref) {
        int16_t st = copy_grant(gt, side->u.ref, write, &frame, b);
        if (st != GNTST_okay)
            return st;
    }
    b->page = gt->gfn_page(gt->opaque, frame);
    return b->page ? GNTST_okay : GNTST_bad_page;
}

/* Xen's gnttab_copy_buf order: both sides claimed, then the page bounds,
 * then each grant's own bounds. */
void gnttab_copy_one(struct gnttab *gt, struct gnttab_copy *c)
{
    struct copy_buf src, dst;
    int16_t st = copy_side(gt, &c->source, c->flags & GNTCOPY_source_gref, false, &src);
    if (st == GNTST_okay)
        st = copy_side(gt, &c->dest, c->flags & GNTCOPY_dest_gref, true, &dst);
    if (st == GNTST_okay &&
        ((uint32_t)c->source.offset + c->len > 4096 || (uint32_t)c->dest.offset + c->len > 4096))
        st = GNTST_bad_copy_arg;
    if (st == GNTST_okay &&
        (c->source.offset < src.off || (uint32_t)c->source.offset + c->len > src.off + src.len ||
         c->dest.offset < dst.off || (uint32_t)c->dest.offset + c->len > dst.off + dst.len))
        st = GNTST_general_error;
    if (st == GNTST_okay)
        memmove(dst.page + c->dest.offset, src.page + c->source.offset, c->len);
    c->status = st;
}
