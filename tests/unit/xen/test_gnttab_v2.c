/* Grant tables v2: GNTTABOP_set_version both ways (when Xen refuses it, what
 * happens to the frames and the reserved entries), status frames placed with
 * XENMEM_add_to_physmap, the host's mappings with the in-use bits in the
 * status words, and GNTTABOP_copy through v2 full-page and sub-page grants.
 * Expectations follow Xen 4.17's xen/common/grant_table.c. */
#include "gnttab_fixture.h"

#define PER_V2 GNTTAB_V2_ENTRIES_PER_FRAME

static long set_version(struct gfx *g, unsigned v, unsigned *now)
{
    struct gnttab_set_version sv = { .version = v };
    long rc = gnttab_op(g->gt, GNTTABOP_set_version, &sv, 1);
    *now = sv.version;
    return rc;
}

static struct gfx *gfx_v2(void)
{
    struct gfx *g = gfx_new();
    unsigned now;
    CHECK_EQ(set_version(g, 2, &now), 0);
    CHECK_EQ(now, 2);
    return g;
}

static grant_entry_v2_t *ent2(struct gfx *g, grant_ref_t ref)
{
    return (grant_entry_v2_t *)g->gt->frame[ref / PER_V2] + ref % PER_V2;
}

static grant_status_t status(struct gfx *g, grant_ref_t ref)
{
    return ((grant_status_t *)g->gt->status[ref / GNTTAB_STATUS_PER_FRAME])[ref % GNTTAB_STATUS_PER_FRAME];
}

static void grant2(struct gfx *g, grant_ref_t ref, domid_t to, uint64_t gfn, uint16_t flags)
{
    grant_entry_v2_t *e = ent2(g, ref);
    e->full_page.frame = gfn;
    e->hdr.domid = to;
    e->hdr.flags = flags;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* ---- set_version ---- */

/* Switching clears every shared frame but carries the reserved entries (the
 * toolstack's console and xenstore grants) over in the new format; the v1
 * in-use bits go to the v2 status words. */
TEST(gnttab_v2_switch_keeps_reserved_entries_clears_the_rest)
{
    struct gfx *g = gfx_new();
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 3 };
    CHECK_EQ(gnttab_op(g->gt, GNTTABOP_setup_table, &st, 1), 0);
    gnttab_reserve(g->gt, 0, 0xfeff0);
    gnttab_reserve(g->gt, 1, 0xfeff1);
    ent(g, 1)->flags |= GTF_reading;
    grant(g, 8, 0, RAM_BASE_GFN, GTF_permit_access);
    grant(g, 600, 0, RAM_BASE_GFN, GTF_permit_access);      /* second frame */
    unsigned now;
    CHECK_EQ(set_version(g, 2, &now), 0);
    CHECK_EQ(now, 2);
    CHECK_EQ(g->gt->nr_frames, 3);
    CHECK_EQ(g->gt->nr_status, 1);                 /* 3 * 256 entries fit one status frame */
    CHECK_EQ(ent2(g, 0)->hdr.flags, GTF_permit_access);
    CHECK_EQ(ent2(g, 0)->hdr.domid, 0);
    CHECK_EQ(ent2(g, 0)->full_page.frame, 0xfeff0);
    CHECK_EQ(ent2(g, 1)->full_page.frame, 0xfeff1);
    CHECK_EQ(ent2(g, 1)->hdr.flags, GTF_permit_access);
    CHECK_EQ(status(g, 1), GTF_reading);
    CHECK_EQ(status(g, 0), 0);
    CHECK(all_zero((uint8_t *)ent2(g, 8), 4096 - 8 * 16));
    CHECK(all_zero(g->gt->frame[1], 4096) && all_zero(g->gt->frame[2], 4096));
    /* And back: v1 entries again, the status bits folded into the flags. */
    grant2(g, 9, 0, RAM_BASE_GFN, GTF_permit_access);
    CHECK_EQ(set_version(g, 1, &now), 0);
    CHECK_EQ(now, 1);
    CHECK_EQ(g->gt->nr_status, 0);
    CHECK_EQ(ent(g, 0)->frame, 0xfeff0);
    CHECK_EQ(ent(g, 1)->flags, GTF_permit_access | GTF_reading);
    CHECK(all_zero((uint8_t *)ent(g, 8), 4096 - 8 * 8));
    gfx_free(g);
}

TEST(gnttab_v2_same_version_is_a_no_op)
{
    struct gfx *g = gfx_v2();
    grant2(g, 20, 0, RAM_BASE_GFN, GTF_permit_access);
    unsigned now;
    CHECK_EQ(set_version(g, 2, &now), 0);
    CHECK_EQ(ent2(g, 20)->full_page.frame, RAM_BASE_GFN);   /* not cleared */
    gfx_free(g);
}

/* "some grant entries still in use": an entry beyond the reserved ones that
 * the host maps writable refuses the switch; read-only host mappings and the
 * reserved entries do not. */
TEST(gnttab_v2_switch_refused_while_mapped_writable)
{
    struct gfx *g = gfx_new();
    grant(g, 3, 0, RAM_BASE_GFN, GTF_permit_access);
    grant(g, 30, 0, RAM_BASE_GFN + 1, GTF_permit_access);
    grant(g, 31, 0, RAM_BASE_GFN + 2, GTF_permit_access);
    int16_t err;
    CHECK(gnttab_host_map(g->gt, 3, false, &err) != NULL);     /* reserved: allowed */
    CHECK(gnttab_host_map(g->gt, 31, true, &err) != NULL);     /* read-only: allowed */
    CHECK(gnttab_host_map(g->gt, 30, false, &err) != NULL);
    unsigned now;
    CHECK_EQ(set_version(g, 2, &now), -EBUSY);
    CHECK_EQ(now, 1);
    CHECK_EQ(ent(g, 30)->frame, RAM_BASE_GFN + 1);              /* nothing changed */
    gnttab_host_unmap(g->gt, 30, false);
    CHECK_EQ(set_version(g, 2, &now), 0);
    CHECK_EQ(now, 2);
    gfx_free(g);
}

/* Back to v1 with a reserved entry v1 cannot express: -ERANGE. */
TEST(gnttab_v2_to_v1_unrepresentable_reserved_entry_erange)
{
    struct gfx *g = gfx_v2();
    grant2(g, 2, 0, 0x100000000ull, GTF_permit_access);          /* frame above 32 bits */
    unsigned now;
    CHECK_EQ(set_version(g, 1, &now), -ERANGE);
    CHECK_EQ(now, 2);
    grant2(g, 2, 0, 0, GTF_transitive);
    CHECK_EQ(set_version(g, 1, &now), -ERANGE);
    grant2(g, 2, 0, 0, GTF_invalid);
    grant2(g, 40, 0, 0x100000000ull, GTF_permit_access);         /* not reserved: dropped */
    CHECK_EQ(set_version(g, 1, &now), 0);
    CHECK_EQ(now, 1);
    gfx_free(g);
}

/* ---- status frames ---- */

TEST(gnttab_v2_status_frame_needs_v2_and_a_valid_index)
{
    struct gfx *g = gfx_new();
    uint64_t st0 = XENMAPIDX_grant_table_status;
    CHECK(!gnttab_frame_idx_ok(g->gt, st0));
    CHECK_EQ(gnttab_place_frame(g->gt, st0, RAM_BASE_GFN, page(g, 0)), -EINVAL);
    unsigned now;
    CHECK_EQ(set_version(g, 2, &now), 0);
    CHECK(gnttab_frame_idx_ok(g->gt, st0));
    CHECK(gnttab_frame_idx_ok(g->gt, st0 | (GNTTAB_MAX_STATUS_FRAMES - 1)));
    CHECK(!gnttab_frame_idx_ok(g->gt, st0 | GNTTAB_MAX_STATUS_FRAMES));
    CHECK_EQ(gnttab_place_frame(g->gt, st0 | GNTTAB_MAX_STATUS_FRAMES, RAM_BASE_GFN, page(g, 0)),
             -EINVAL);
    gfx_free(g);
}

/* Mapping status frame 2 grows the table until it exists (24 shared frames);
 * the status words move with the frame. */
TEST(gnttab_v2_status_frame_placement_grows_the_table)
{
    struct gfx *g = gfx_v2();
    grant2(g, 5, 0, RAM_BASE_GFN, GTF_permit_access);
    int16_t err;
    CHECK(gnttab_host_map(g->gt, 5, false, &err) != NULL);
    CHECK_EQ(gnttab_place_frame(g->gt, XENMAPIDX_grant_table_status | 0, RAM_BASE_GFN + 3,
                                page(g, 3)), 0);
    CHECK_EQ(g->gt->status_gfn[0], RAM_BASE_GFN + 3);
    CHECK(g->gt->status[0] == page(g, 3));
    CHECK_EQ(((grant_status_t *)page(g, 3))[5], GTF_reading | GTF_writing);
    CHECK_EQ(gnttab_place_frame(g->gt, XENMAPIDX_grant_table_status | 2, RAM_BASE_GFN + 2,
                                page(g, 2)), 0);
    CHECK_EQ(g->gt->nr_status, 3);
    CHECK_EQ(g->gt->nr_frames, 3 * GNTTAB_STATUS_PER_FRAME / PER_V2);
    CHECK(all_zero(page(g, 2), 4096));
    gnttab_host_unmap(g->gt, 5, false);
    CHECK_EQ(((grant_status_t *)page(g, 3))[5], 0);
    /* Back to v1: the status frames leave the guest's physmap. */
    unsigned now;
    CHECK_EQ(set_version(g, 1, &now), 0);
    CHECK_EQ(g->gt->status_gfn[0], (long long)~0ull);
    CHECK(!gnttab_frame_idx_ok(g->gt, XENMAPIDX_grant_table_status));
    gfx_free(g);
}

/* Shared frames still hold 256 v2 entries each: growing with setup_table or a
 * frame placement adds the status frames that cover them. */
TEST(gnttab_v2_growth_adds_status_frames)
{
    struct gfx *g = gfx_v2();
    CHECK_EQ(g->gt->nr_status, 1);
    CHECK_EQ(gnttab_place_frame(g->gt, 20, RAM_BASE_GFN, page(g, 0)), 0);
    CHECK_EQ(g->gt->nr_frames, 21);
    CHECK_EQ(g->gt->nr_status, 3);
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = GNTTAB_MAX_FRAMES };
    CHECK_EQ(gnttab_op(g->gt, GNTTABOP_setup_table, &st, 1), 0);
    CHECK_EQ(g->gt->nr_status, GNTTAB_MAX_STATUS_FRAMES);
    gfx_free(g);
}

/* ---- the host's mappings ---- */

TEST(gnttab_v2_host_map_sets_status_not_flags)
{
    struct gfx *g = gfx_v2();
    grant2(g, 10, 0, RAM_BASE_GFN + 1, GTF_permit_access);
    int16_t err;
    CHECK(gnttab_host_map(g->gt, 10, false, &err) == page(g, 1));
    CHECK_EQ(err, GNTST_okay);
    CHECK_EQ(ent2(g, 10)->hdr.flags, GTF_permit_access);
    CHECK_EQ(status(g, 10), GTF_reading | GTF_writing);
    CHECK(gnttab_host_map(g->gt, 10, true, &err) == page(g, 1));
    gnttab_host_unmap(g->gt, 10, false);
    CHECK_EQ(status(g, 10), GTF_reading);
    gnttab_host_unmap(g->gt, 10, true);
    CHECK_EQ(status(g, 10), 0);
    gfx_free(g);
}

/* Xen's _set_status_v2 with mapflag: whole pages to dom 0 only, write only if
 * not read-only; a failed map leaves no bit behind. */
TEST(gnttab_v2_host_map_checks)
{
    struct gfx *g = gfx_v2();
    grant2(g, 11, 0, RAM_BASE_GFN, GTF_permit_access | GTF_readonly);
    grant2(g, 12, 3, RAM_BASE_GFN, GTF_permit_access);
    grant2(g, 13, 0, RAM_BASE_GFN, GTF_permit_access | GTF_sub_page);
    grant2(g, 14, 0, RAM_BASE_GFN, GTF_transitive);
    grant2(g, 15, 0, BAD_GFN, GTF_permit_access);
    int16_t err;
    CHECK(gnttab_host_map(g->gt, 11, false, &err) == NULL);
    CHECK_EQ(err, GNTST_permission_denied);
    CHECK(gnttab_host_map(g->gt, 11, true, &err) == page(g, 0));
    gnttab_host_unmap(g->gt, 11, true);
    for (grant_ref_t r = 12; r <= 14; r++) {
        CHECK(gnttab_host_map(g->gt, r, true, &err) == NULL);
        CHECK_EQ(err, GNTST_permission_denied);
        CHECK_EQ(status(g, r), 0);
    }
    CHECK(gnttab_host_map(g->gt, 15, true, &err) == NULL);
    CHECK_EQ(err, GNTST_bad_page);
    CHECK_EQ(status(g, 15), 0);
    CHECK(gnttab_host_map(g->gt, GNTTAB_MAX_FRAMES * PER_V2, true, &err) == NULL);
    CHECK_EQ(err, GNTST_bad_gntref);
    CHECK(gnttab_host_map(g->gt, PER_V2, true, &err) == NULL);   /* one frame: 256 entries */
    CHECK_EQ(err, GNTST_bad_gntref);
    gfx_free(g);
}

TEST(gnttab_v2_host_map_takes_a_64_bit_frame)
{
    struct gfx *g = gfx_v2();
    grant2(g, 16, 0, (1ull << 32) | RAM_BASE_GFN, GTF_permit_access);
    int16_t err;
    CHECK(gnttab_host_map(g->gt, 16, true, &err) == NULL);   /* not RAM: no truncation */
    CHECK_EQ(err, GNTST_bad_page);
    gfx_free(g);
}

/* ---- GNTTABOP_copy ---- */

static struct gnttab_copy gref_to_gmfn(grant_ref_t ref, uint16_t src_off, uint64_t dst_gfn,
                                       uint16_t dst_off, uint16_t len)
{
    struct gnttab_copy c = gmfn_copy(0, src_off, dst_gfn, dst_off, len);
    c.flags = GNTCOPY_source_gref;
    c.source.u.ref = ref;
    return c;
}

TEST(gnttab_v2_copy_through_full_page_grant)
{
    struct gfx *g = gfx_v2();
    grant2(g, 20, GT_DOMID, RAM_BASE_GFN + 2, GTF_permit_access | GTF_readonly);
    struct gnttab_copy c = gref_to_gmfn(20, 8, RAM_BASE_GFN, 16, 64);
    gnttab_copy_one(g->gt, &c);
    CHECK_EQ(c.status, GNTST_okay);
    CHECK(!memcmp(page(g, 0) + 16, page(g, 2) + 8, 64));
    /* read-only grant as the destination */
    c = gmfn_copy(RAM_BASE_GFN, 0, 0, 0, 8);
    c.flags = GNTCOPY_dest_gref;
    c.dest.u.ref = 20;
    gnttab_copy_one(g->gt, &c);
    CHECK_EQ(c.status, GNTST_general_error);
    gfx_free(g);
}

/* gnttab_copy_buf: a sub-page grant bounds the copy ("copy source out of
 * bounds" is GNTST_general_error); the page bounds come first. */
TEST(gnttab_v2_copy_respects_sub_page_bounds)
{
    struct gfx *g = gfx_v2();
    grant_entry_v2_t *e = ent2(g, 21);
    e->sub_page.frame = RAM_BASE_GFN + 1;
    e->sub_page.page_off = 100;
    e->sub_page.length = 50;
    e->hdr.domid = GT_DOMID;
    e->hdr.flags = GTF_permit_access | GTF_sub_page;
    struct gnttab_copy c = gref_to_gmfn(21, 100, RAM_BASE_GFN, 0, 50);
    gnttab_copy_one(g->gt, &c);
    CHECK_EQ(c.status, GNTST_okay);
    CHECK(!memcmp(page(g, 0), page(g, 1) + 100, 50));
    c = gref_to_gmfn(21, 99, RAM_BASE_GFN, 0, 10);
    gnttab_copy_one(g->gt, &c);
    CHECK_EQ(c.status, GNTST_general_error);
    c = gref_to_gmfn(21, 100, RAM_BASE_GFN, 0, 51);
    gnttab_copy_one(g->gt, &c);
    CHECK_EQ(c.status, GNTST_general_error);
    c = gref_to_gmfn(21, 4000, RAM_BASE_GFN, 0, 200);
    gnttab_copy_one(g->gt, &c);
    CHECK_EQ(c.status, GNTST_bad_copy_arg);
    gfx_free(g);
}

/* A transitive grant names another domain's grant: there is none here. */
TEST(gnttab_v2_copy_transitive_general_error)
{
    struct gfx *g = gfx_v2();
    grant_entry_v2_t *e = ent2(g, 22);
    e->transitive.trans_domid = GT_DOMID;
    e->transitive.gref = 20;
    e->hdr.domid = GT_DOMID;
    e->hdr.flags = GTF_transitive;
    struct gnttab_copy c = gref_to_gmfn(22, 0, RAM_BASE_GFN, 0, 8);
    gnttab_copy_one(g->gt, &c);
    CHECK_EQ(c.status, GNTST_general_error);
    c = gref_to_gmfn(PER_V2, 0, RAM_BASE_GFN, 0, 8);
    gnttab_copy_one(g->gt, &c);
    CHECK_EQ(c.status, GNTST_bad_gntref);
    gfx_free(g);
}

/* Xen claims both sides before the page-bounds check: a bad reference wins
 * over a copy that runs off the page. */
TEST(gnttab_copy_claims_before_page_bounds)
{
    struct gfx *g = gfx_new();
    struct gnttab_copy c = gref_to_gmfn(GNTTAB_MAX_ENTRIES, 4000, RAM_BASE_GFN, 0, 200);
    gnttab_copy_one(g->gt, &c);
    CHECK_EQ(c.status, GNTST_bad_gntref);
    gfx_free(g);
}
