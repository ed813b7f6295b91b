/* balloon: XENMEM_decrease_reservation / populate_physmap / increase_reservation
 * and current_reservation as Xen 4.17's common/memory.c answers them (cited
 * per check): each returns the number of extents done, stopping at the first
 * that cannot be (a frame already handed back, a present frame to populate at
 * the domain's maximum); a bad argument means 0 done, never an error code. */
#include "xtest.h"
#include "balloon.h"
#include "hypercall.h"
#include "report.h"

static long reservation(domid_t dom)
{
    return HYPERVISOR_memory_op(XENMEM_current_reservation, &dom);
}

static long op(unsigned cmd, const xen_pfn_t *gfns, unsigned nr, unsigned order)
{
    return balloon_op(cmd, gfns, nr, order, DOMID_SELF);
}

void prog_balloon(int argc, char **argv)
{
    (void)argc, (void)argv;
    if (!check(balloon_init() == 0 && balloon_pool_pages() >= 64, "a pool of frames to balloon",
               "%lu pages", balloon_pool_pages()))
        return;
    domid_t self = DOMID_SELF;
    long max = HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self);
    long cur0 = reservation(DOMID_SELF);
    check(cur0 > 0 && cur0 == max, "current_reservation is the maximum at start", "%ld of %ld",
          cur0, max);

    /* Frames p[0..] counting down from the top of RAM; p[0..15] go out first. */
    xen_pfn_t p[32];
    for (unsigned i = 0; i < 32; i++)
        p[i] = balloon_gfn(i);
    volatile uint32_t *w = (volatile uint32_t *)(uintptr_t)(p[0] << 12);
    *w = 0xdeadbeef;

    long rc = op(XENMEM_decrease_reservation, p, 16, 0);
    check(rc == 16 && reservation(DOMID_SELF) == cur0 - 16,
          "decrease_reservation of 16 frames: 16 done, current_reservation down by 16",
          "%ld done, current %ld", rc, reservation(DOMID_SELF));

    /* guest_remove_page: an absent frame is -ENOENT, which ends the batch
     * with the extents before it done. */
    xen_pfn_t mix[4] = { p[16], p[17], p[3], p[18] };
    rc = op(XENMEM_decrease_reservation, mix, 4, 0);
    check(rc == 2 && reservation(DOMID_SELF) == cur0 - 18,
          "decrease stops at a frame already handed back (2 of 4 done)", "%ld done, current %ld",
          rc, reservation(DOMID_SELF));
    check_rc("decrease of frames already handed back: 0 done",
             op(XENMEM_decrease_reservation, p, 4, 0), 0);

    /* A hypercall's buffer on a frame that is gone: copy_to_guest fails. */
    check_rc("XENVER_extraversion into a handed-back frame -> -EFAULT",
             HYPERVISOR_xen_version(XENVER_extraversion, (void *)(uintptr_t)(p[1] << 12)),
             -XEN_EFAULT);
    /* The guest's own access does not crash the domain (Xen reads ~0 there;
     * xenkvm keeps the frame mapped: zeros, see docs/hypercalls.md). */
    check(*w == 0, "a handed-back frame reads zeros", "0x%x", *w);

    /* Linux puts its grant frames on ballooned gfns: the frame is placed
     * there (and read through it), and does not count as the guest's memory. */
    struct xen_add_to_physmap xatp = { .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table,
                                       .idx = 0, .gpfn = p[2] };
    rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
    const grant_entry_v1_t *ge = (const grant_entry_v1_t *)(uintptr_t)(p[2] << 12);
    uint64_t store_pfn = 0;
    hvm_get_param(HVM_PARAM_STORE_PFN, &store_pfn);
    check(rc == 0 && ge[GNTTAB_RESERVED_XENSTORE].frame == store_pfn &&
              reservation(DOMID_SELF) == cur0 - 18,
          "grant frame 0 placed on a handed-back gfn, readable there, not counted",
          "%s, entry 1 frame 0x%x (store 0x%lx), current %ld", errname(rc),
          ge[GNTTAB_RESERVED_XENSTORE].frame, (unsigned long)store_pfn, reservation(DOMID_SELF));

    /* populate_physmap brings frames back, zeroed. */
    /* (p[2] holds the grant frame now: the others come back.) */
    xen_pfn_t back[15] = { p[0], p[1] };
    for (unsigned i = 3; i < 16; i++)
        back[i - 1] = p[i];
    rc = op(XENMEM_populate_physmap, back, 15, 0);
    check(rc == 15 && reservation(DOMID_SELF) == cur0 - 3,
          "populate_physmap of 15 frames: 15 done, current_reservation up by 15",
          "%ld done, current %ld", rc, reservation(DOMID_SELF));
    check(*w == 0, "a repopulated frame reads zeros", "0x%x", *w);
    *w = 0x12345678;
    check(*w == 0x12345678, "a repopulated frame keeps what is written", "0x%x", *w);
    /* A present frame: Xen, at the domain's maximum, cannot allocate a page. */
    xen_pfn_t mix2[3] = { p[16], p[17], p[0] };
    rc = op(XENMEM_populate_physmap, mix2, 3, 0);
    check(rc == 2 && reservation(DOMID_SELF) == cur0 - 1,
          "populate stops at a present frame (2 of 3 done)", "%ld done, current %ld", rc,
          reservation(DOMID_SELF));
    check_rc("populate of a present frame: 0 done", op(XENMEM_populate_physmap, p, 1, 0), 0);
    /* The grant frame's gfn back as RAM (the frame stays in Xen's table). */
    check_rc("populate of the grant frame's gfn", op(XENMEM_populate_physmap, &p[2], 1, 0), 1);

    /* Order-1 extents (2 frames each, the extent's first gfn listed). */
    xen_pfn_t two[2] = { p[21], p[23] };   /* frames p[21..20] and p[23..22] */
    rc = op(XENMEM_decrease_reservation, two, 2, 1);
    check(rc == 2 && reservation(DOMID_SELF) == cur0 - 4, "order-1 decrease: 2 extents, 4 frames",
          "%ld done, current %ld", rc, reservation(DOMID_SELF));
    rc = op(XENMEM_populate_physmap, two, 2, 1);
    check(rc == 2 && reservation(DOMID_SELF) == cur0, "order-1 populate: 2 extents back",
          "%ld done, current %ld", rc, reservation(DOMID_SELF));

    /* Bad arguments: 0 done, nothing changed. */
    check_rc("extent order 10 (over the domU maximum 9): 0 done",
             op(XENMEM_decrease_reservation, p, 1, 10), 0);
    check_rc("decrease in dom 0: 0 done", balloon_op(XENMEM_decrease_reservation, p, 1, 0, 0), 0);
    check_rc("decrease in dom 77: 0 done", balloon_op(XENMEM_decrease_reservation, p, 1, 0, 77), 0);
    check_rc("an extent list at a non-canonical address: 0 done",
             op(XENMEM_decrease_reservation, (xen_pfn_t *)0x8000000000000000ul, 1, 0), 0);
    check_rc("nr_extents over UINT_MAX >> 6: 0 done",
             op(XENMEM_decrease_reservation, p, 0x4000000, 0), 0);
    xen_pfn_t special = 0xfeff0;   /* the console ring page: no RAM frame */
    check_rc("decrease of a gfn that is no RAM: 0 done",
             op(XENMEM_decrease_reservation, &special, 1, 0), 0);
    xen_pfn_t far = 1ul << 45;
    check_rc("decrease of a gfn far beyond RAM: 0 done", op(XENMEM_decrease_reservation, &far, 1, 0), 0);
    check(reservation(DOMID_SELF) == cur0, "nothing changed by the bad calls", "current %ld",
          reservation(DOMID_SELF));
    check_rc("current_reservation of dom 0 -> -EPERM", reservation(0), -XEN_EPERM);

    /* A continuation's start extent in the command's high bits: only the
     * extents from there on are done, and the result counts from 0. */
    xen_pfn_t four[4] = { p[24], p[25], p[26], p[27] };
    rc = op(XENMEM_decrease_reservation | (2u << 6), four, 4, 0);
    check(rc == 4 && reservation(DOMID_SELF) == cur0 - 2,
          "decrease from start extent 2 of 4: returns 4, 2 frames out", "%ld, current %ld", rc,
          reservation(DOMID_SELF));
    op(XENMEM_populate_physmap | (2u << 6), four, 4, 0);

    /* increase_reservation: a translated guest gets pages with no gfn (its
     * list is not read); they count against the maximum. */
    check_rc("increase_reservation at the maximum: 0 done",
             op(XENMEM_increase_reservation, NULL, 1, 0), 0);
    op(XENMEM_decrease_reservation, p, 4, 0);
    rc = op(XENMEM_increase_reservation, NULL, 8, 0);
    check(rc == 4 && reservation(DOMID_SELF) == cur0,
          "increase_reservation up to the maximum: 4 of 8, counted", "%ld done, current %ld", rc,
          reservation(DOMID_SELF));
    check_rc("populate with the maximum taken by increase's pages: 0 done",
             op(XENMEM_populate_physmap, p, 4, 0), 0);
}
