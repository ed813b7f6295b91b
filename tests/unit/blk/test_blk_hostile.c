/* A hostile frontend: every guest-controlled value wrong in turn. Each bad
 * request gets an error for itself only; a ring with impossible indices is
 * stopped; nothing outside granted pages is touched (the harness's guard
 * makes that a fault) and every mapping is undone. */
#include "blk_util.h"
#include <errno.h>
#include <stdlib.h>

#define MIB (1024 * 1024ull)

static void open_default(struct hx *h, char *path, bool threaded)
{
    struct hx_config c = { .guard = true, .threaded = threaded };
    blk_open(h, &c, path, 64, 1 * MIB);
}

static blkif_request_t *rw(struct hx *h, uint8_t op, uint64_t id, uint64_t sector, unsigned nseg)
{
    blkif_request_t *r = hx_req(h, 0);
    r->operation = op;
    r->id = id;
    r->sector_number = sector;
    r->nr_segments = nseg;
    for (unsigned i = 0; i < nseg && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
        r->seg[i] = (struct blkif_request_segment){
            hx_frame_ref(h, h->first_data_frame + i, op == BLKIF_OP_WRITE), 0, 7 };
    return r;
}

/* Pushes, then expects one response for each id 1..n (in any order: blkif
 * answers out of order), with status want[id - 1]. */
static void expect_from(struct hx *h, uint64_t first, unsigned n, const int16_t *want)
{
    hx_push(h, 0);
    bool seen[64] = { false };
    for (unsigned i = 0; i < n; i++) {
        blkif_response_t r;
        if (hx_rsp(h, 0, &r, 5000) < 0) {
            unit_fail(__FILE__, __LINE__, "response %u missing", i);
            return;
        }
        uint64_t k = r.id - first;
        if (k >= n || seen[k]) {
            unit_fail(__FILE__, __LINE__, "unexpected response id %llu", (unsigned long long)r.id);
            continue;
        }
        seen[k] = true;
        if (r.status != want[k])
            unit_fail(__FILE__, __LINE__, "id %llu: status %d, expected %d",
                      (unsigned long long)r.id, r.status, want[k]);
    }
    blkif_response_t extra;
    CHECK_EQ(hx_rsp(h, 0, &extra, 0), -ETIMEDOUT);
    CHECK_EQ(h->live_maps, 0);
}

static void expect(struct hx *h, unsigned n, const int16_t *want)
{
    expect_from(h, 1, n, want);
}

TEST(bad_segment_counts)
{
    struct hx h; char path[64];
    open_default(&h, path, false);
    rw(&h, BLKIF_OP_READ, 1, 0, 0);
    rw(&h, BLKIF_OP_READ, 2, 0, 12);
    rw(&h, BLKIF_OP_WRITE, 3, 0, 255);
    rw(&h, BLKIF_OP_READ, 4, 0, 11);
    expect(&h, 4, (int16_t[]){ BLKIF_RSP_ERROR, BLKIF_RSP_ERROR, BLKIF_RSP_ERROR, BLKIF_RSP_OKAY });
    blk_close(&h, path);
}

TEST(bad_sector_bounds)
{
    struct hx h; char path[64];
    open_default(&h, path, false);
    rw(&h, BLKIF_OP_READ, 1, 0, 1)->seg[0].first_sect = 5;   /* last 7 >= first: ok */
    blkif_request_t *r = rw(&h, BLKIF_OP_READ, 2, 0, 1);
    r->seg[0].first_sect = 4; r->seg[0].last_sect = 3;
    r = rw(&h, BLKIF_OP_READ, 3, 0, 1);
    r->seg[0].last_sect = 8;
    r = rw(&h, BLKIF_OP_READ, 4, 0, 1);
    r->seg[0].first_sect = 200; r->seg[0].last_sect = 255;
    expect(&h, 4, (int16_t[]){ BLKIF_RSP_OKAY, BLKIF_RSP_ERROR, BLKIF_RSP_ERROR, BLKIF_RSP_ERROR });
    blk_close(&h, path);
}

TEST(beyond_disk_end)
{
    struct hx h; char path[64];
    open_default(&h, path, false);
    uint64_t sectors = MIB / 512;
    rw(&h, BLKIF_OP_READ, 1, sectors - 8, 1);            /* the last page: ok */
    rw(&h, BLKIF_OP_READ, 2, sectors - 7, 1);
    rw(&h, BLKIF_OP_WRITE, 3, sectors, 1);
    rw(&h, BLKIF_OP_READ, 4, ~0ull - 3, 1);               /* wraps 64 bits */
    rw(&h, BLKIF_OP_READ, 5, 1ull << 55, 11);
    expect(&h, 5, (int16_t[]){ BLKIF_RSP_OKAY, BLKIF_RSP_ERROR, BLKIF_RSP_ERROR, BLKIF_RSP_ERROR,
                              BLKIF_RSP_ERROR });
    blk_close(&h, path);
}

TEST(bad_grant_refs)
{
    struct hx h; char path[64];
    open_default(&h, path, false);
    rw(&h, BLKIF_OP_READ, 1, 0, 3)->seg[2].gref = 5000;          /* never granted */
    rw(&h, BLKIF_OP_READ, 2, 0, 2)->seg[1].gref = 0xffffffff;
    rw(&h, BLKIF_OP_READ, 3, 0, 1)->seg[0].gref = h.q[0].ring_refs[0] + 100000;
    /* a read-only grant for a read (the backend must write the page) */
    rw(&h, BLKIF_OP_READ, 4, 0, 1)->seg[0].gref = hx_frame_ref(&h, h.first_data_frame + 40, true);
    rw(&h, BLKIF_OP_READ, 5, 0, 2);
    expect(&h, 5, (int16_t[]){ BLKIF_RSP_ERROR, BLKIF_RSP_ERROR, BLKIF_RSP_ERROR, BLKIF_RSP_ERROR,
                              BLKIF_RSP_OKAY });
    /* a grant revoked after use */
    grant_ref_t ref = hx_frame_ref(&h, h.first_data_frame + 50, false);
    hx_ungrant(&h, ref);
    rw(&h, BLKIF_OP_READ, 6, 0, 1)->seg[0].gref = ref;
    expect_from(&h, 6, 1, (int16_t[]){ BLKIF_RSP_ERROR });
    blk_close(&h, path);
}

static struct blkif_request_indirect *ind_req(struct hx *h, uint64_t id, uint16_t nseg)
{
    struct blkif_request_indirect *r = (void *)hx_req(h, 0);
    r->operation = BLKIF_OP_INDIRECT;
    r->indirect_op = BLKIF_OP_READ;
    r->id = id;
    r->nr_segments = nseg;
    unsigned f = h->first_data_frame;
    r->indirect_grefs[0] = hx_frame_ref(h, f + 500, true);
    struct blkif_request_segment *seg = (void *)hx_frame(h, f + 500);
    for (unsigned i = 0; i < 512; i++)
        seg[i] = (struct blkif_request_segment){ hx_frame_ref(h, f + i % 400, false), 0, 7 };
    return r;
}

TEST(bad_indirect_requests)
{
    struct hx h; char path[64];
    open_default(&h, path, false);
    ind_req(&h, 1, 0);
    ind_req(&h, 2, BLK_MAX_INDIRECT_SEGS + 1);
    ind_req(&h, 3, 4096);
    ind_req(&h, 4, 20)->indirect_op = BLKIF_OP_INDIRECT;          /* nested */
    ind_req(&h, 5, 20)->indirect_op = BLKIF_OP_DISCARD;
    ind_req(&h, 6, 20)->indirect_grefs[0] = 7777;                 /* bad indirect page */
    ind_req(&h, 7, 20);
    expect(&h, 7, (int16_t[]){ BLKIF_RSP_ERROR, BLKIF_RSP_ERROR, BLKIF_RSP_ERROR, BLKIF_RSP_ERROR,
                              BLKIF_RSP_ERROR, BLKIF_RSP_ERROR, BLKIF_RSP_OKAY });
    /* a bad segment inside the indirect page, and a bad data grant */
    ind_req(&h, 8, 20);
    ((struct blkif_request_segment *)hx_frame(&h, h.first_data_frame + 500))[13].last_sect = 9;
    expect_from(&h, 8, 1, (int16_t[]){ BLKIF_RSP_ERROR });
    ind_req(&h, 9, 20);
    ((struct blkif_request_segment *)hx_frame(&h, h.first_data_frame + 500))[19].gref = 9999;
    expect_from(&h, 9, 1, (int16_t[]){ BLKIF_RSP_ERROR });
    blk_close(&h, path);
}

TEST(unknown_operations)
{
    struct hx h; char path[64];
    open_default(&h, path, false);
    uint8_t ops[] = { BLKIF_OP_RESERVED_1, 7, 100, 255 };
    for (unsigned i = 0; i < 4; i++)
        rw(&h, ops[i], i, 0, 1);
    hx_push(&h, 0);
    for (unsigned i = 0; i < 4; i++) {
        blkif_response_t r;
        CHECK(hx_rsp(&h, 0, &r, 5000) == 0);
        CHECK_EQ(r.id, i);
        CHECK_EQ(r.operation, ops[i]);
        CHECK_EQ(r.status, BLKIF_RSP_EOPNOTSUPP);
    }
    blk_close(&h, path);
}

/* req_prod claims more requests than the ring holds: the ring is stopped,
 * no request is taken, and later kicks do nothing. */
static void lying_ring(bool threaded)
{
    struct hx h; char path[64];
    open_default(&h, path, threaded);
    struct hx_queue *q = &h.q[0];
    rw(&h, BLKIF_OP_READ, 1, 0, 1);
    q->front.req_prod_pvt += 40;             /* 41 > 32 slots */
    hx_push(&h, 0);
    blkif_response_t r;
    CHECK_EQ(hx_rsp(&h, 0, &r, threaded ? 300 : 0), -ETIMEDOUT);
    CHECK(h.be.q[0].broken);
    q->front.req_prod_pvt -= 40;
    q->front.sring->req_prod = q->front.req_prod_pvt;
    hx_push(&h, 0);
    CHECK_EQ(hx_rsp(&h, 0, &r, threaded ? 200 : 0), -ETIMEDOUT);
    CHECK_EQ(h.live_maps, 0);
    blk_close(&h, path);
}

TEST(ring_lies_about_req_prod) { lying_ring(false); }
TEST(ring_lies_about_req_prod_threaded) { lying_ring(true); }

/* Indices near 2^32: requests across the wrap are taken in order. */
TEST(wrapped_indices)
{
    struct hx h; char path[64];
    open_default(&h, path, false);
    RING_IDX start = 0xfffffff0u;
    struct hx_queue *q = &h.q[0];
    q->front.sring->req_prod = q->front.sring->rsp_prod = start;
    q->front.sring->req_event = q->front.sring->rsp_event = start + 1;
    q->front.req_prod_pvt = q->front.rsp_cons = start;
    h.be.q[0].ring.req_cons = h.be.q[0].ring.rsp_prod_pvt = start;
    for (int round = 0; round < 4; round++) {
        int16_t ok[20] = { 0 };
        for (unsigned i = 0; i < 20; i++)
            rw(&h, BLKIF_OP_READ, round * 100 + i, i * 8, 1);
        expect_from(&h, round * 100, 20, ok);
    }
    CHECK(q->front.rsp_cons < 100);        /* wrapped */
    blk_close(&h, path);
}

/* Random bytes in every request slot, many rounds: each gets one answer. */
TEST(garbage_requests)
{
    struct hx h; char path[64];
    open_default(&h, path, false);
    srand(12345);
    for (int round = 0; round < 200; round++) {
        unsigned n = 1 + rand() % 32;
        for (unsigned i = 0; i < n; i++) {
            blkif_request_t *r = hx_req(&h, 0);
            uint8_t *b = (uint8_t *)r;
            for (unsigned k = 0; k < sizeof(*r); k++)
                b[k] = rand();
            if (rand() % 2) {       /* sometimes plausible: small op, real refs */
                r->operation = rand() % 8;
                r->nr_segments = rand() % 13;
                r->sector_number = rand() % 4096;
                for (unsigned s = 0; s < BLKIF_MAX_SEGMENTS_PER_REQUEST; s++)
                    r->seg[s].gref = HX_FIRST_REF + rand() % 64;
            }
            r->id = i;
        }
        hx_push(&h, 0);
        for (unsigned i = 0; i < n; i++) {
            blkif_response_t r;
            if (hx_rsp(&h, 0, &r, 5000) < 0) {
                unit_fail(__FILE__, __LINE__, "round %d: response %u missing", round, i);
                break;
            }
        }
        CHECK_EQ(h.live_maps, 0);
    }
    blk_close(&h, path);
}

/* The guest rewrites a request after kicking: the backend works on its copy. */
TEST(request_changed_after_push)
{
    struct hx h; char path[64];
    open_default(&h, path, false);
    blkif_request_t *r = rw(&h, BLKIF_OP_READ, 1, 0, 1);
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&h.q[0].front, notify);
    (void)notify;
    blkq_process(&h.be.q[0]);         /* taken and submitted */
    r->nr_segments = 200;
    r->seg[0].gref = 4444;
    blkq_reap(&h.be.q[0], true);
    blkif_response_t rsp;
    CHECK(hx_rsp(&h, 0, &rsp, 1000) == 0);
    CHECK_EQ(rsp.status, BLKIF_RSP_OKAY);
    blk_close(&h, path);
}
