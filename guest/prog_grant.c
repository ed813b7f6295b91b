/* grant: the grant table as an HVM/PVH guest uses it, with v1 entries and
 * then v2 ones (status frames, sub-page grants, switching back). Expectations
 * follow Xen 4.17 common/grant_table.c (gnttab_query_size, gnttab_setup_table,
 * gnttab_set_version, gnttab_get_version, gnttab_copy) and the HVM filter
 * grant_table_op_is_allowed() in arch/x86/hvm/hypercall.c (only query_size,
 * setup_table, set/get_version, copy, map/unmap and swap_grant_ref; the rest
 * -ENOSYS). The frames are reached with XENMEM_add_to_physmap
 * (XENMAPSPACE_grant_table), as Linux's PVH gnttab code does. */
#include "xtest.h"
#include "events.h"
#include "hypercall.h"
#include "report.h"

#define FRAMES 4

static uint8_t gnt_pages[FRAMES + 1][4096] ALIGNED(4096);
static uint8_t src_page[4096] ALIGNED(4096), dst_page[4096] ALIGNED(4096);

static long map_frame(unsigned idx, void *where)
{
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table, .idx = idx,
        .gpfn = (uintptr_t)where >> 12,
    };
    return HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
}

static int16_t copy(struct gnttab_copy *c)
{
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_copy, c, 1);
    return rc ? (int16_t)-1000 : c->status;
}

static long set_version(unsigned v, unsigned *now)
{
    struct gnttab_set_version sv = { .version = v };
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_set_version, &sv, 1);
    *now = sv.version;
    return rc;
}

/* Version 2, on the table whose frame 0 is mapped at v1 (its entries were
 * written as v1 ones): the switch clears all but the reserved entries, which
 * come back as v2 ones; status frames are mapped with add_to_physmap. */
static void grant_v2(void *frame0)
{
    static uint8_t status_page[4096] ALIGNED(4096);
    grant_entry_v1_t *g1 = frame0;
    grant_entry_v2_t *g2 = frame0;
    uint32_t console = g1[GNTTAB_RESERVED_CONSOLE].frame;
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table,
        .idx = XENMAPIDX_grant_table_status, .gpfn = (uintptr_t)status_page >> 12,
    };
    check_rc("status frame in v1 -> -EINVAL", HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp),
             -XEN_EINVAL);
    g1[8].frame = 0x1234;
    g1[8].domid = 0;
    g1[8].flags = GTF_permit_access;
    unsigned now;
    long rc = set_version(2, &now);
    check(rc == 0 && now == 2, "GNTTABOP_set_version 2", "rc %s version %u", errname(rc), now);
    struct gnttab_get_version gv = { .dom = DOMID_SELF };
    HYPERVISOR_grant_table_op(GNTTABOP_get_version, &gv, 1);
    check(gv.version == 2, "GNTTABOP_get_version is 2", "version %u", gv.version);
    check(g2[GNTTAB_RESERVED_CONSOLE].full_page.frame == console &&
              g2[GNTTAB_RESERVED_CONSOLE].hdr.flags == GTF_permit_access &&
              g2[GNTTAB_RESERVED_CONSOLE].hdr.domid == 0 && g2[8].hdr.flags == 0 &&
              g2[8].full_page.frame == 0,
          "v2: reserved entries carried over, the rest cleared",
          "console frame 0x%x flags 0x%x, entry 8 flags 0x%x",
          (unsigned)g2[GNTTAB_RESERVED_CONSOLE].full_page.frame,
          g2[GNTTAB_RESERVED_CONSOLE].hdr.flags, g2[8].hdr.flags);
    memset(status_page, 0xee, sizeof(status_page));
    rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
    const grant_status_t *status = (const grant_status_t *)status_page;
    check(rc == 0 && status[GNTTAB_RESERVED_CONSOLE] == 0 && status[100] == 0,
          "v2 status frame 0 mapped with add_to_physmap", "rc %s status word 0x%x", errname(rc),
          status[GNTTAB_RESERVED_CONSOLE]);
    xatp.idx = XENMAPIDX_grant_table_status | 8;
    check_rc("status frame 8 (beyond 64 frames) -> -EINVAL",
             HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), -XEN_EINVAL);
    struct gnttab_get_status_frames gsf = { .nr_frames = 1, .dom = DOMID_SELF };
    check_rc("GNTTABOP_get_status_frames from HVM -> -ENOSYS",
             HYPERVISOR_grant_table_op(GNTTABOP_get_status_frames, &gsf, 1), -XEN_ENOSYS);

    /* Copy through v2 grants to ourselves: a full page, and a sub-page that
     * bounds the copy. */
    domid_t self = own_domid();
    for (unsigned i = 0; i < 64; i++)
        src_page[300 + i] = (uint8_t)(i * 5 + 1);
    g2[9].full_page.frame = (uintptr_t)src_page >> 12;
    g2[9].hdr.domid = self;
    __atomic_store_n(&g2[9].hdr.flags, (uint16_t)GTF_permit_access, __ATOMIC_RELEASE);
    g2[10].sub_page.frame = (uintptr_t)src_page >> 12;
    g2[10].sub_page.page_off = 300;
    g2[10].sub_page.length = 32;
    g2[10].hdr.domid = self;
    __atomic_store_n(&g2[10].hdr.flags, (uint16_t)(GTF_permit_access | GTF_sub_page), __ATOMIC_RELEASE);
    memset(dst_page, 0, sizeof(dst_page));
    struct gnttab_copy c = {
        .source = { .u.ref = 9, .domid = DOMID_SELF, .offset = 300 },
        .dest = { .u.gmfn = (uintptr_t)dst_page >> 12, .domid = DOMID_SELF },
        .len = 64, .flags = GNTCOPY_source_gref,
    };
    int16_t s = copy(&c);
    check(s == GNTST_okay && !memcmp(dst_page, src_page + 300, 64),
          "GNTTABOP_copy through a v2 grant", "status %d", s);
    c.source.u.ref = 10;
    c.len = 32;
    s = copy(&c);
    check(s == GNTST_okay, "GNTTABOP_copy inside a v2 sub-page grant", "status %d", s);
    c.len = 33;
    s = copy(&c);
    check(s == GNTST_general_error, "copy beyond a v2 sub-page grant -> GNTST_general_error",
          "status %d", s);
    c.source.u.ref = 256 * 64;
    s = copy(&c);
    check(s == GNTST_bad_gntref, "v2 ref beyond the table -> GNTST_bad_gntref", "status %d", s);

    rc = set_version(1, &now);
    check(rc == 0 && now == 1 && g1[GNTTAB_RESERVED_CONSOLE].frame == console &&
              g1[GNTTAB_RESERVED_CONSOLE].flags == GTF_permit_access && g1[9].flags == 0,
          "back to v1: reserved entries carried, the rest cleared", "rc %s version %u",
          errname(rc), now);
    xatp.idx = XENMAPIDX_grant_table_status;
    check_rc("status frame after going back to v1 -> -EINVAL",
             HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), -XEN_EINVAL);
}

void prog_grant(int argc, char **argv)
{
    (void)argc, (void)argv;
    long rc;

    struct gnttab_query_size qs = { .dom = DOMID_SELF };
    rc = HYPERVISOR_grant_table_op(GNTTABOP_query_size, &qs, 1);
    printf("  query_size: nr_frames %u max_nr_frames %u status %d\n", qs.nr_frames,
           qs.max_nr_frames, qs.status);
    check(rc == 0 && qs.status == GNTST_okay && qs.nr_frames >= 1 && qs.max_nr_frames >= qs.nr_frames,
          "GNTTABOP_query_size", "rc %s status %d nr %u max %u", errname(rc), qs.status,
          qs.nr_frames, qs.max_nr_frames);
    unsigned max = qs.max_nr_frames;

    /* Versions: a domain starts at 1; 1 and 2 are offered (v2 below);
     * anything else is -EINVAL. */
    struct gnttab_get_version gv = { .dom = DOMID_SELF };
    rc = HYPERVISOR_grant_table_op(GNTTABOP_get_version, &gv, 1);
    check(rc == 0 && gv.version == 1, "GNTTABOP_get_version is 1", "rc %s version %u",
          errname(rc), gv.version);
    struct gnttab_set_version sv = { .version = 1 };
    rc = HYPERVISOR_grant_table_op(GNTTABOP_set_version, &sv, 1);
    check(rc == 0 && sv.version == 1, "GNTTABOP_set_version 1", "rc %s version %u", errname(rc),
          sv.version);
    sv.version = 3;
    check_rc("GNTTABOP_set_version 3 -> -EINVAL",
             HYPERVISOR_grant_table_op(GNTTABOP_set_version, &sv, 1), -XEN_EINVAL);
    gv.version = 0;
    HYPERVISOR_grant_table_op(GNTTABOP_get_version, &gv, 1);
    check(gv.version == 1, "version still 1", "version %u", gv.version);

    /* setup_table: grows the table; for a translated guest the frame list
     * carries no usable addresses, the frames are mapped with add_to_physmap. */
    xen_pfn_t frames[FRAMES];
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1 };
    set_xen_guest_handle(st.frame_list, frames);
    rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1);
    check(rc == 0 && st.status == GNTST_okay, "GNTTABOP_setup_table 1 frame", "rc %s status %d",
          errname(rc), st.status);
    unsigned want = max < FRAMES ? max : FRAMES;
    st.nr_frames = want;
    rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1);
    check(rc == 0 && st.status == GNTST_okay, "GNTTABOP_setup_table grows the table",
          "%u frames: rc %s status %d", want, errname(rc), st.status);
    qs.nr_frames = 0;
    HYPERVISOR_grant_table_op(GNTTABOP_query_size, &qs, 1);
    check(qs.nr_frames >= want, "query_size sees the grown table", "nr_frames %u < %u",
          qs.nr_frames, want);
    /* nr_frames above the domain's maximum: status GNTST_general_error. */
    st.nr_frames = max + 1;
    st.status = 0;
    rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1);
    check(rc == 0 && st.status == GNTST_general_error, "setup_table beyond max -> GNTST_general_error",
          "rc %s status %d", errname(rc), st.status);
    /* gnttab_setup_table: count != 1 -> -EINVAL. */
    st.nr_frames = 1;
    check_rc("setup_table with count 2 -> -EINVAL",
             HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 2), -XEN_EINVAL);
    struct gnttab_query_size bad = { .dom = 0x7fef };
    rc = HYPERVISOR_grant_table_op(GNTTABOP_query_size, &bad, 1);
    check(rc == 0 && bad.status == GNTST_bad_domain, "query_size of a missing domain -> GNTST_bad_domain",
          "rc %s status %d", errname(rc), bad.status);
    struct gnttab_setup_table bst = { .dom = 0x7fef, .nr_frames = 1 };
    set_xen_guest_handle(bst.frame_list, frames);
    rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &bst, 1);
    check(rc == 0 && bst.status == GNTST_bad_domain, "setup_table of a missing domain -> GNTST_bad_domain",
          "rc %s status %d", errname(rc), bst.status);

    /* Map the frames into our physical address space. */
    bool mapped = true;
    for (unsigned i = 0; i < want; i++) {
        rc = map_frame(i, gnt_pages[i]);
        if (rc) {
            fail("map grant frame", "idx %u: %s", i, errname(rc));
            mapped = false;
        }
    }
    if (mapped)
        ok("XENMEM_add_to_physmap grant frames 0..%u", want - 1);
    /* gnttab_map_frame: idx beyond max_grant_frames -> -EINVAL. */
    check_rc("map grant frame idx max -> -EINVAL", map_frame(max, gnt_pages[FRAMES]), -XEN_EINVAL);

    grant_entry_v1_t *gt = (grant_entry_v1_t *)gnt_pages[0];
    if (mapped) {
        printf("  reserved entries: console frame 0x%x dom %u flags 0x%x, xenstore frame 0x%x dom %u flags 0x%x\n",
               gt[GNTTAB_RESERVED_CONSOLE].frame, gt[GNTTAB_RESERVED_CONSOLE].domid,
               gt[GNTTAB_RESERVED_CONSOLE].flags, gt[GNTTAB_RESERVED_XENSTORE].frame,
               gt[GNTTAB_RESERVED_XENSTORE].domid, gt[GNTTAB_RESERVED_XENSTORE].flags);
        /* A grant entry: written by us, kept by the hypervisor's frame. */
        domid_t self = own_domid();
        gt[8].frame = (uint32_t)((uintptr_t)src_page >> 12);
        gt[8].domid = self;
        __atomic_store_n(&gt[8].flags, (uint16_t)(GTF_permit_access | GTF_readonly), __ATOMIC_RELEASE);
        /* Remapping the frame elsewhere shows the same entry (the old gpfn is
         * left unmapped, as Xen does, and is not touched again). */
        rc = map_frame(0, gnt_pages[FRAMES]);
        grant_entry_v1_t *gt2 = (grant_entry_v1_t *)gnt_pages[FRAMES];
        check(rc == 0 && gt2[8].frame == gt[8].frame && gt2[8].domid == self &&
                  gt2[8].flags == (GTF_permit_access | GTF_readonly),
              "grant entry written and seen through a remapped frame",
              "rc %s entry frame 0x%x dom %u flags 0x%x", errname(rc), gt2[8].frame,
              gt2[8].domid, gt2[8].flags);
        gt = gt2;

        /* GNTTABOP_copy through that grant (source_gref) into a local frame. */
        for (unsigned i = 0; i < 64; i++)
            src_page[100 + i] = (uint8_t)(i * 7 + 3);
        memset(dst_page, 0, sizeof(dst_page));
        struct gnttab_copy c = {
            .source = { .u.ref = 8, .domid = DOMID_SELF, .offset = 100 },
            .dest = { .u.gmfn = (uintptr_t)dst_page >> 12, .domid = DOMID_SELF, .offset = 200 },
            .len = 64, .flags = GNTCOPY_source_gref,
        };
        int16_t s = copy(&c);
        check(s == GNTST_okay && !memcmp(dst_page + 200, src_page + 100, 64),
              "GNTTABOP_copy from a granted frame", "status %d", s);
        check(!(gt[8].flags & (GTF_reading | GTF_writing)), "copy leaves the entry idle",
              "flags 0x%x", gt[8].flags);
        /* Copying into a read-only grant: GNTST_general_error. Xen's
         * acquire_grant_for_copy refuses write access to a GTF_readonly entry. */
        c = (struct gnttab_copy){
            .source = { .u.gmfn = (uintptr_t)dst_page >> 12, .domid = DOMID_SELF },
            .dest = { .u.ref = 8, .domid = DOMID_SELF }, .len = 8, .flags = GNTCOPY_dest_gref,
        };
        s = copy(&c);
        check(s == GNTST_general_error, "copy into a read-only grant refused", "status %d", s);
        /* A revoked entry cannot be used. */
        __atomic_store_n(&gt[8].flags, (uint16_t)0, __ATOMIC_RELEASE);
        c = (struct gnttab_copy){
            .source = { .u.ref = 8, .domid = DOMID_SELF },
            .dest = { .u.gmfn = (uintptr_t)dst_page >> 12, .domid = DOMID_SELF }, .len = 8,
            .flags = GNTCOPY_source_gref,
        };
        s = copy(&c);
        check(s == GNTST_general_error, "copy through a revoked grant refused", "status %d", s);
    }

    /* Frame-to-frame copy within the domain (gmfn on both sides). */
    memset(dst_page, 0, sizeof(dst_page));
    struct gnttab_copy c = {
        .source = { .u.gmfn = (uintptr_t)src_page >> 12, .domid = DOMID_SELF, .offset = 100 },
        .dest = { .u.gmfn = (uintptr_t)dst_page >> 12, .domid = DOMID_SELF, .offset = 0 },
        .len = 64,
    };
    int16_t s = copy(&c);
    check(s == GNTST_okay && !memcmp(dst_page, src_page + 100, 64), "GNTTABOP_copy gmfn to gmfn",
          "status %d", s);
    /* offset + len beyond the page: GNTST_bad_copy_arg. */
    c.dest.offset = 4090;
    s = copy(&c);
    check(s == GNTST_bad_copy_arg, "copy crossing a page -> GNTST_bad_copy_arg", "status %d", s);

    if (mapped)
        grant_v2(gt);

    /* Sub-ops an HVM guest may not use. */
    check_rc("GNTTABOP_transfer from HVM -> -ENOSYS",
             HYPERVISOR_grant_table_op(GNTTABOP_transfer, &c, 1), -XEN_ENOSYS);
    check_rc("GNTTABOP_dump_table from HVM -> -ENOSYS",
             HYPERVISOR_grant_table_op(GNTTABOP_dump_table, &c, 1), -XEN_ENOSYS);
    check_rc("unknown GNTTABOP 99 -> -ENOSYS", HYPERVISOR_grant_table_op(99, &c, 1), -XEN_ENOSYS);
}
