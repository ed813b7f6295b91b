/* memory_op for a 32-bit caller (Xen's compat_memory_op and the x86 compat
 * memory_map): the memory map (and setting it), reservations with their extent lists of
 * 32-bit frame numbers, add_to_physmap(_batch). Lists longer than the
 * translation window are done in chunks, each by the native handler. */
#include "xen/compat.h"
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <xen/memory.h>

static long memory_map(struct hcall *h, unsigned cmd)
{
    struct compat_memory_map c;
    if (guest_copy_from(&h->va, &c, h->arg[1], sizeof(c)))
        return -EFAULT;
    struct compat_xlat x;
    struct xen_memory_map *n = compat_xlat_begin(&x, h);
    n->nr_entries = c.nr_entries;
    n->buffer.p = (void *)(uintptr_t)c.buffer;   /* e820 entries: one layout */
    x.h.arg[0] = cmd;
    x.h.arg[1] = COMPAT_XLAT_VA;
    long rc = do_memory_op(&x.h);
    if (rc < 0)
        return rc;
    c.nr_entries = n->nr_entries;
    return guest_copy_to(&h->va, h->arg[1], &c, sizeof(c)) ? -EFAULT : rc;
}

static long set_memory_map(struct hcall *h, unsigned cmd)
{
    struct compat_foreign_memory_map c;
    if (guest_copy_from(&h->va, &c, h->arg[1], sizeof(c)))
        return -EFAULT;
    struct compat_xlat x;
    struct xen_foreign_memory_map *n = compat_xlat_begin(&x, h);
    n->domid = c.domid;
    n->map.nr_entries = c.map.nr_entries;
    n->map.buffer.p = (void *)(uintptr_t)c.map.buffer;
    x.h.arg[0] = cmd;
    x.h.arg[1] = COMPAT_XLAT_VA;
    return do_memory_op(&x.h);
}

/* A 32-bit list of the guest's (frame numbers or indices), elements
 * [from, from + n) of the list at va, widened into out (xen_pfn_t and
 * xen_ulong_t are one type): in one copy, or where that faults element by
 * element up to the first that cannot be read. Returns how many were read. */
static unsigned long read_list32(struct hcall *h, compat_ptr_t va, unsigned long from,
                                 unsigned long n, xen_pfn_t *out)
{
    uint32_t v[COMPAT_XLAT_SIZE / sizeof(xen_pfn_t)];   /* n is at most a window's worth */
    if (!guest_copy_from(&h->va, v, va + from * sizeof(*v), n * sizeof(*v))) {
        for (unsigned long i = 0; i < n; i++)
            out[i] = v[i];
        return n;
    }
    for (unsigned long i = 0; i < n; i++) {
        if (guest_copy_from(&h->va, &v[0], va + (from + i) * sizeof(*v), sizeof(*v)))
            return i;
        out[i] = v[0];
    }
    return n;   /* another vCPU mapped the rest meanwhile */
}

/* Writes n frames back to the guest's list from element from on (narrowed to
 * 32 bits): how many could be written, in order. */
static unsigned long write_pfns(struct hcall *h, compat_ptr_t va, unsigned long from,
                                const xen_pfn_t *in, unsigned long n)
{
    compat_pfn_t pfn[COMPAT_XLAT_SIZE / sizeof(xen_pfn_t)];
    for (unsigned long i = 0; i < n; i++)
        pfn[i] = (compat_pfn_t)in[i];
    if (!guest_copy_to(&h->va, va + from * sizeof(*pfn), pfn, n * sizeof(*pfn)))
        return n;
    for (unsigned long i = 0; i < n; i++)
        if (guest_copy_to(&h->va, va + (from + i) * sizeof(*pfn), &pfn[i], sizeof(*pfn)))
            return i;
    return n;
}

/* increase/decrease_reservation, populate_physmap: returns the extents done,
 * as the native handler counts them, from the continuation's start extent
 * (the command's high bits); a fault on the argument itself does nothing and
 * returns that start, as on Xen. */
static long reservation(struct hcall *h, unsigned op)
{
    const unsigned long start = h->arg[0] >> MEMOP_EXTENT_SHIFT;
    struct compat_memory_reservation c;
    if (guest_copy_from(&h->va, &c, h->arg[1], sizeof(c)))
        return start;
    if (c.nr_extents > (UINT_MAX >> MEMOP_EXTENT_SHIFT) || start >= c.nr_extents)
        return start;    /* too large to encode a continuation, or nothing left */
    struct compat_xlat x;
    struct xen_memory_reservation *n = compat_xlat_begin(&x, h);
    xen_pfn_t *space = (xen_pfn_t *)(n + 1);
    const unsigned limit = (COMPAT_XLAT_SIZE - sizeof(*n)) / sizeof(*space);
    x.h.arg[0] = op;
    x.h.arg[1] = COMPAT_XLAT_VA;
    n->extent_order = c.extent_order;
    n->mem_flags = c.mem_flags;
    n->domid = c.domid;
    if (!c.extent_start) {
        /* A null list stays null: the native handler sees what a 64-bit
         * caller passing NULL would. */
        n->extent_start.p = NULL;
        n->nr_extents = c.nr_extents;
        x.h.arg[0] = op | start << MEMOP_EXTENT_SHIFT;
        return do_memory_op(&x.h);
    }
    /* Each chunk is a call of its own on the window's list (start 0 there). */
    unsigned long done = start;
    do {
        unsigned long end = c.nr_extents - done > limit ? done + limit : c.nr_extents;
        bool fault = false;
        /* increase_reservation's list is output only (Xen does not read it):
         * the native handler gets zeros there. */
        if (op == XENMEM_increase_reservation) {
            memset(space, 0, (end - done) * sizeof(*space));
        } else {
            unsigned long got = read_list32(h, c.extent_start, done, end - done, space);
            fault = got < end - done;     /* do what could be read, then stop */
            end = done + got;
        }
        n->extent_start.p = compat_xlat_ptr(&x, space);
        n->nr_extents = end - done;
        long rc = do_memory_op(&x.h);
        if (rc < 0)
            return done ? (long)done : rc;
        if (op != XENMEM_decrease_reservation) {
            unsigned long w = write_pfns(h, c.extent_start, done, space, (unsigned long)rc);
            if (w < (unsigned long)rc)
                return done + w;
        }
        done += rc;
        if (fault || (unsigned long)rc < n->nr_extents)
            break;    /* stopped at a bad extent */
    } while (done < c.nr_extents);
    return done;
}

static long add_to_physmap(struct hcall *h)
{
    struct compat_add_to_physmap c;
    if (guest_copy_from(&h->va, &c, h->arg[1], sizeof(c)))
        return -EFAULT;
    struct compat_xlat x;
    struct xen_add_to_physmap *n = compat_xlat_begin(&x, h);
    *n = (struct xen_add_to_physmap){ .domid = c.domid, .size = c.size, .space = c.space,
                                      .idx = c.idx, .gpfn = c.gpfn };
    x.h.arg[1] = COMPAT_XLAT_VA;
    return do_memory_op(&x.h);
}

static long add_to_physmap_batch(struct hcall *h)
{
    struct compat_add_to_physmap_batch c;
    if (guest_copy_from(&h->va, &c, h->arg[1], sizeof(c)))
        return -EFAULT;
    struct compat_xlat x;
    struct xen_add_to_physmap_batch *n = compat_xlat_begin(&x, h);
    const unsigned limit = (COMPAT_XLAT_SIZE - sizeof(*n)) / (sizeof(xen_ulong_t) + sizeof(xen_pfn_t));
    xen_ulong_t *idxs = (xen_ulong_t *)(n + 1);
    xen_pfn_t *gpfns = (xen_pfn_t *)(idxs + limit);
    x.h.arg[1] = COMPAT_XLAT_VA;
    unsigned start = 0;
    long rc;
    do {
        unsigned end = c.size - start > limit ? start + limit : c.size;
        /* A fault anywhere in the chunk's lists is -EFAULT before it is begun. */
        if (read_list32(h, c.idxs, start, end - start, idxs) < end - start ||
            read_list32(h, c.gpfns, start, end - start, gpfns) < end - start)
            return -EFAULT;
        *n = (struct xen_add_to_physmap_batch){
            .domid = c.domid, .space = c.space, .size = end - start,
            .u.foreign_domid = c.foreign_domid };
        n->idxs.p = compat_xlat_ptr(&x, idxs);
        n->gpfns.p = compat_xlat_ptr(&x, gpfns);
        n->errs.p = (int *)(uintptr_t)(c.errs + start * sizeof(int));   /* int[]: one layout */
        rc = do_memory_op(&x.h);
        if (rc < 0)
            return rc;
        start = end;
    } while (start < c.size);
    return rc;
}

long compat_memory_op(struct hcall *h)
{
    unsigned cmd = h->arg[0] & MEMOP_CMD_MASK;
    switch (cmd) {
    case XENMEM_memory_map:
        return memory_map(h, cmd);
    case XENMEM_set_memory_map:
        return set_memory_map(h, cmd);
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
        return reservation(h, cmd);
    case XENMEM_add_to_physmap:
        return add_to_physmap(h);
    case XENMEM_add_to_physmap_batch:
        return add_to_physmap_batch(h);
    default:
        /* maximum_ram_page, current/maximum_reservation (a domid_t) and
         * whatever the native handler refuses without reading (as Xen's HVM
         * filter refuses machine_memory_map before any translation). */
        return do_memory_op(h);
    }
}
