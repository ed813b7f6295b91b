/* grant_table_op for a 32-bit caller (Xen's compat_grant_table_op):
 * setup_table's frame list holds 32-bit frame numbers and gnttab_copy names
 * frames with 32-bit numbers; the other sub-ops xenkvm offers have one layout
 * in both ABIs. */
#include "xen/compat.h"
#include <errno.h>
#include <string.h>

static long setup_table(struct hcall *h, unsigned count)
{
    if (count == 0)
        return 0;          /* Xen's compat loop does nothing */
    if (count > 1)
        return -EINVAL;
    struct compat_gnttab_setup_table c;
    if (guest_copy_from(&h->va, &c, h->arg[1], sizeof(c)))
        return -EFAULT;
    struct compat_xlat x;
    struct gnttab_setup_table *n = compat_xlat_begin(&x, h);
    xen_pfn_t *frames = (xen_pfn_t *)(n + 1);
    if (c.nr_frames > (COMPAT_XLAT_SIZE - sizeof(*n)) / sizeof(*frames)) {
        /* More than the window holds (and far more than the table has):
         * the native handler refuses it without writing the list. */
        frames = NULL;
    }
    n->dom = c.dom;
    n->nr_frames = c.nr_frames;
    n->frame_list.p = frames ? compat_xlat_ptr(&x, frames) : NULL;
    x.h.arg[1] = COMPAT_XLAT_VA;
    long rc = do_grant_table_op(&x.h);
    if (rc)
        return rc;
    c.nr_frames = n->nr_frames;
    c.status = n->status;
    /* Xen 4.17 truncates each frame number to 32 bits (an unplaced frame's
     * ~0 reads 0xffffffff); later releases answer GNTST_address_too_big. */
    for (uint32_t i = 0; n->status == GNTST_okay && i < c.nr_frames; i++) {
        compat_pfn_t f = (compat_pfn_t)frames[i];
        if (guest_copy_to(&h->va, c.frame_list + i * sizeof(f), &f, sizeof(f)))
            c.status = GNTST_bad_virt_addr;
    }
    return guest_copy_to(&h->va, h->arg[1], &c, sizeof(c)) ? -EFAULT : 0;
}

static void copy_ptr_in(struct gnttab_copy_ptr *n, const struct compat_gnttab_copy_ptr *c, bool gref)
{
    if (gref)
        n->u.ref = c->u.ref;
    else
        n->u.gmfn = c->u.gmfn;
    n->domid = c->domid;
    n->offset = c->offset;
}

/* An array done in batches as large as the window; each element's status is
 * written back into the caller's array. */
static long copy(struct hcall *h, unsigned count)
{
    struct compat_xlat x;
    struct gnttab_copy *n = compat_xlat_begin(&x, h);
    const unsigned limit = COMPAT_XLAT_SIZE / sizeof(*n);
    x.h.arg[1] = COMPAT_XLAT_VA;
    for (unsigned i = 0; i < count; ) {
        unsigned batch = count - i < limit ? count - i : limit;
        for (unsigned k = 0; k < batch; k++) {
            struct compat_gnttab_copy c;
            if (guest_copy_from(&h->va, &c, h->arg[1] + (uint64_t)(i + k) * sizeof(c), sizeof(c)))
                return -EFAULT;
            memset(&n[k], 0, sizeof(n[k]));
            copy_ptr_in(&n[k].source, &c.source, c.flags & GNTCOPY_source_gref);
            copy_ptr_in(&n[k].dest, &c.dest, c.flags & GNTCOPY_dest_gref);
            n[k].len = c.len;
            n[k].flags = c.flags;
            n[k].status = c.status;
        }
        x.h.arg[2] = batch;
        long rc = do_grant_table_op(&x.h);
        if (rc)
            return rc;
        for (unsigned k = 0; k < batch; k++) {
            uint64_t va = h->arg[1] + (uint64_t)(i + k) * sizeof(struct compat_gnttab_copy) +
                          offsetof(struct compat_gnttab_copy, status);
            if (guest_copy_to(&h->va, va, &n[k].status, sizeof(n[k].status)))
                return -EFAULT;
        }
        i += batch;
    }
    return 0;
}

long compat_grant_table_op(struct hcall *h)
{
    unsigned cmd = h->arg[0], count = h->arg[2];
    switch (cmd) {
    case GNTTABOP_setup_table:
    case GNTTABOP_copy:
        if ((int)count < 0)
            return -EINVAL;
        return cmd == GNTTABOP_setup_table ? setup_table(h, count) : copy(h, count);
    default:
        /* query_size, set/get_version, map/unmap (one layout), and what
         * Xen's HVM filter refuses. */
        return do_grant_table_op(h);
    }
}
