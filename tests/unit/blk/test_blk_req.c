/* blk_parse / blk_check_segs on their own. */
#include "backend/blkif_req.h"
#include "unit.h"

static const struct blk_limits lim = { .sectors = 1000, .discard = true, .max_indirect = 256 };

static blkif_request_t req(uint8_t op, uint8_t nseg, uint64_t sector)
{
    blkif_request_t r = { .operation = op, .nr_segments = nseg, .id = 42, .sector_number = sector };
    for (unsigned i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
        r.seg[i] = (struct blkif_request_segment){ 8 + i, 0, 7 };
    return r;
}

TEST(parse_read)
{
    struct blk_plan p;
    blkif_request_t r = req(BLKIF_OP_READ, 3, 10);
    r.seg[1].first_sect = 2;
    CHECK_EQ(blk_parse(&r, &lim, &p), BLKIF_RSP_OKAY);
    CHECK(p.read && !p.write && !p.flush);
    CHECK_EQ(p.nr_sectors, 8 + 6 + 8);
    CHECK_EQ(p.id, 42);
}

TEST(parse_last_page_and_one_past)
{
    struct blk_plan p;
    blkif_request_t r = req(BLKIF_OP_WRITE, 1, 992);
    CHECK_EQ(blk_parse(&r, &lim, &p), BLKIF_RSP_OKAY);
    r.sector_number = 993;
    CHECK_EQ(blk_parse(&r, &lim, &p), BLKIF_RSP_ERROR);
}

TEST(parse_flush_and_barrier)
{
    struct blk_plan p;
    blkif_request_t r = req(BLKIF_OP_FLUSH_DISKCACHE, 0, ~0ull);
    CHECK_EQ(blk_parse(&r, &lim, &p), BLKIF_RSP_OKAY);
    CHECK(p.flush && !p.write && !p.drain);
    r = req(BLKIF_OP_WRITE_BARRIER, 2, 0);
    CHECK_EQ(blk_parse(&r, &lim, &p), BLKIF_RSP_OKAY);
    CHECK(p.flush && p.write && p.drain);
}

TEST(parse_read_only)
{
    struct blk_limits ro = lim;
    ro.readonly = true;
    struct blk_plan p;
    blkif_request_t r = req(BLKIF_OP_WRITE, 1, 0);
    CHECK_EQ(blk_parse(&r, &ro, &p), BLKIF_RSP_ERROR);
    r = req(BLKIF_OP_FLUSH_DISKCACHE, 1, 0);
    CHECK_EQ(blk_parse(&r, &ro, &p), BLKIF_RSP_ERROR);
    r = req(BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
    CHECK_EQ(blk_parse(&r, &ro, &p), BLKIF_RSP_OKAY);
    r = req(BLKIF_OP_READ, 1, 0);
    CHECK_EQ(blk_parse(&r, &ro, &p), BLKIF_RSP_OKAY);
}

TEST(parse_discard)
{
    struct blk_plan p;
    blkif_request_t r = { 0 };
    struct blkif_request_discard *d = (void *)&r;
    d->operation = BLKIF_OP_DISCARD;
    d->id = 7;
    d->sector_number = 10;
    d->nr_sectors = 990;
    CHECK_EQ(blk_parse(&r, &lim, &p), BLKIF_RSP_OKAY);
    CHECK(p.discard);
    d->nr_sectors = 991;
    CHECK_EQ(blk_parse(&r, &lim, &p), BLKIF_RSP_ERROR);
    d->sector_number = ~0ull;
    d->nr_sectors = 2;
    CHECK_EQ(blk_parse(&r, &lim, &p), BLKIF_RSP_ERROR);
    struct blk_limits nod = lim;
    nod.discard = false;
    CHECK_EQ(blk_parse(&r, &nod, &p), BLKIF_RSP_EOPNOTSUPP);
}

TEST(parse_indirect)
{
    struct blk_plan p;
    blkif_request_t r = { 0 };
    struct blkif_request_indirect *ind = (void *)&r;
    ind->operation = BLKIF_OP_INDIRECT;
    ind->indirect_op = BLKIF_OP_WRITE;
    ind->nr_segments = 256;
    ind->id = 3;
    CHECK_EQ(blk_parse(&r, &lim, &p), BLKIF_RSP_OKAY);
    CHECK_EQ(p.nr_indirect, 1);
    CHECK_EQ(p.rsp_op, BLKIF_OP_WRITE);
    CHECK_EQ(p.id, 3);
    ind->nr_segments = 257;
    CHECK_EQ(blk_parse(&r, &lim, &p), BLKIF_RSP_ERROR);
    struct blk_limits big = lim;
    big.max_indirect = 4096;
    ind->nr_segments = 4096;
    CHECK_EQ(blk_parse(&r, &big, &p), BLKIF_RSP_OKAY);
    CHECK_EQ(p.nr_indirect, 8);
}

TEST(parse_unknown)
{
    struct blk_plan p;
    for (unsigned op = 0; op < 256; op++) {
        blkif_request_t r = req(op, 1, 0);
        int16_t st = blk_parse(&r, &lim, &p);
        CHECK_EQ(p.rsp_op, op == BLKIF_OP_INDIRECT ? 1 : op);   /* indirect_op is byte 1 */
        if (op == BLKIF_OP_RESERVED_1 || op > BLKIF_OP_INDIRECT)
            CHECK_EQ(st, BLKIF_RSP_EOPNOTSUPP);
    }
}

TEST(check_segs_bounds)
{
    struct blk_plan p = { .sector = 0 };
    struct blkif_request_segment s[2] = { { 8, 0, 7 }, { 9, 7, 7 } };
    CHECK_EQ(blk_check_segs(&p, s, 2, &lim), BLKIF_RSP_OKAY);
    CHECK_EQ(p.nr_sectors, 9);
    s[1].last_sect = 6;
    CHECK_EQ(blk_check_segs(&p, s, 2, &lim), BLKIF_RSP_ERROR);
    s[1] = (struct blkif_request_segment){ 9, 0, 8 };
    CHECK_EQ(blk_check_segs(&p, s, 2, &lim), BLKIF_RSP_ERROR);
}
