/* blkback through the frontend harness: reads, writes, indirect requests,
 * multi-page rings, queues, flush, barrier, discard, read-only disks. */
#include "blk_util.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIB (1024 * 1024ull)

static void file_read(const char *path, uint64_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0 && pread(fd, buf, len, off) == (ssize_t)len);
    close(fd);
}

TEST(read_one_page)
{
    struct hx h; struct hx_config c = { .guard = true }; char path[64];
    blk_open(&h, &c, path, sizeof(path), 4 * MIB);
    unsigned f = h.first_data_frame;
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_READ, 24, f, 1, 0)), BLKIF_RSP_OKAY);
    CHECK(frame_matches(&h, f, 24 * 512, 4096));
    CHECK_EQ(h.live_maps, 0);
    blk_close(&h, path);
}

TEST(write_then_read_back)
{
    struct hx h; struct hx_config c = { .guard = true }; char path[64];
    blk_open(&h, &c, path, sizeof(path), 4 * MIB);
    unsigned f = h.first_data_frame;
    for (unsigned i = 0; i < 11 * 4096; i++)
        hx_frame(&h, f)[i] = (uint8_t)(i * 13 + 5);
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_WRITE, 800, f, 11, 0)), BLKIF_RSP_OKAY);
    static uint8_t buf[11 * 4096];
    file_read(path, 800 * 512, buf, sizeof(buf));
    CHECK(memcmp(buf, hx_frame(&h, f), sizeof(buf)) == 0);
    memset(hx_frame(&h, f + 20), 0, 11 * 4096);
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_READ, 800, f + 20, 11, 0)), BLKIF_RSP_OKAY);
    CHECK(memcmp(hx_frame(&h, f + 20), buf, sizeof(buf)) == 0);
    blk_close(&h, path);
}

/* Sectors 2..5 of a page: only those bytes move, at their page offset. */
TEST(partial_segment)
{
    struct hx h; struct hx_config c = { .guard = true }; char path[64];
    blk_open(&h, &c, path, sizeof(path), 1 * MIB);
    unsigned f = h.first_data_frame;
    memset(hx_frame(&h, f), 0xee, 4096);
    blkif_request_t *r = hx_req(&h, 0);
    r->operation = BLKIF_OP_READ;
    r->nr_segments = 2;
    r->id = 77;
    r->sector_number = 100;
    r->seg[0] = (struct blkif_request_segment){ hx_frame_ref(&h, f, false), 2, 5 };
    r->seg[1] = (struct blkif_request_segment){ hx_frame_ref(&h, f + 1, false), 7, 7 };
    CHECK_EQ(blk_do(&h, 0, 77), BLKIF_RSP_OKAY);
    const uint8_t *p = hx_frame(&h, f);
    CHECK(p[1023] == 0xee && p[3072] == 0xee);
    for (unsigned i = 0; i < 2048; i++)
        CHECK(p[1024 + i] == blk_pat(100 * 512 + i));
    for (unsigned i = 0; i < 512; i++)
        CHECK(hx_frame(&h, f + 1)[3584 + i] == blk_pat(104 * 512 + i));
    blk_close(&h, path);
}

TEST(indirect_one_mib)
{
    struct hx h; struct hx_config c = { .guard = true }; char path[64];
    blk_open(&h, &c, path, sizeof(path), 8 * MIB);
    unsigned f = h.first_data_frame, ind = f + 600;
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_READ, 2048, f, 256, ind)), BLKIF_RSP_OKAY);
    CHECK(frame_matches(&h, f, 2048 * 512, MIB));
    for (unsigned i = 0; i < MIB; i++)
        hx_frame(&h, f)[i] = (uint8_t)(i ^ (i >> 9));
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_WRITE, 4096, f, 256, ind)), BLKIF_RSP_OKAY);
    uint8_t *buf = malloc(MIB);
    file_read(path, 4096 * 512ull, buf, MIB);
    CHECK(memcmp(buf, hx_frame(&h, f), MIB) == 0);
    free(buf);
    CHECK_EQ(h.live_maps, 0);
    blk_close(&h, path);
}

/* A 16-page ring on scattered frames: fill it completely, several times. */
TEST(multi_page_ring_full)
{
    struct hx h; struct hx_config c = { .guard = true, .ring_order = 4, .scatter_ring = true,
                                        .frames = 4096 };
    char path[64];
    blk_open(&h, &c, path, sizeof(path), 8 * MIB);
    unsigned size = RING_SIZE(&h.q[0].front);
    CHECK_EQ(size, 512);
    unsigned f = h.first_data_frame;
    for (int round = 0; round < 3; round++) {
        for (unsigned i = 0; i < size; i++)
            hx_rw(&h, 0, BLKIF_OP_READ, (uint64_t)i * 8, f + i % 2000, 1, 0);
        hx_push(&h, 0);
        unsigned got = 0, bad = 0;
        blkif_response_t r;
        while (hx_rsp(&h, 0, &r, 5000) == 0) {
            got++;
            bad += r.status != BLKIF_RSP_OKAY;
            if (got == size)
                break;
        }
        CHECK_EQ(got, size);
        CHECK_EQ(bad, 0);
    }
    CHECK(frame_matches(&h, f + 511, 511 * 8 * 512, 4096));
    blk_close(&h, path);
}

/* Four queues, each with its own worker, all busy at once. */
TEST(multi_queue_threaded)
{
    struct hx h; struct hx_config c = { .guard = true, .nr_queues = 4, .ring_order = 1,
                                        .threaded = true, .frames = 4096 };
    char path[64];
    blk_open(&h, &c, path, sizeof(path), 16 * MIB);
    unsigned f = h.first_data_frame, per = 40;
    for (unsigned q = 0; q < 4; q++) {
        for (unsigned i = 0; i < per; i++)
            hx_rw(&h, q, BLKIF_OP_READ, (q * per + i) * 8ull, f + q * per + i, 1, 0);
        hx_push(&h, q);
    }
    for (unsigned q = 0; q < 4; q++) {
        unsigned got = 0;
        blkif_response_t r;
        while (got < per && hx_rsp(&h, q, &r, 5000) == 0) {
            CHECK_EQ(r.status, BLKIF_RSP_OKAY);
            got++;
        }
        CHECK_EQ(got, per);
    }
    for (unsigned i = 0; i < 4 * per; i++)
        CHECK(frame_matches(&h, f + i, i * 4096ull, 4096));
    blk_close(&h, path);
}

TEST(flush_and_fua_write)
{
    struct hx h; struct hx_config c = { .guard = true }; char path[64];
    blk_open(&h, &c, path, sizeof(path), 1 * MIB);
    blkif_request_t *r = hx_req(&h, 0);
    r->operation = BLKIF_OP_FLUSH_DISKCACHE;
    r->id = 5;
    r->sector_number = ~0ull;        /* ignored without segments */
    CHECK_EQ(blk_do(&h, 0, 5), BLKIF_RSP_OKAY);
    /* FLUSH with data: written, then synced. */
    unsigned f = h.first_data_frame;
    memset(hx_frame(&h, f), 0x5a, 4096);
    r = hx_req(&h, 0);
    r->operation = BLKIF_OP_FLUSH_DISKCACHE;
    r->id = 6;
    r->nr_segments = 1;
    r->sector_number = 8;
    r->seg[0] = (struct blkif_request_segment){ hx_frame_ref(&h, f, true), 0, 7 };
    CHECK_EQ(blk_do(&h, 0, 6), BLKIF_RSP_OKAY);
    uint8_t buf[4096];
    file_read(path, 4096, buf, sizeof(buf));
    CHECK(buf[0] == 0x5a && buf[4095] == 0x5a);
    blk_close(&h, path);
}

TEST(barrier_write)
{
    struct hx h; struct hx_config c = { .guard = true }; char path[64];
    blk_open(&h, &c, path, sizeof(path), 1 * MIB);
    unsigned f = h.first_data_frame;
    memset(hx_frame(&h, f), 0x77, 4096);
    hx_rw(&h, 0, BLKIF_OP_READ, 0, f + 1, 1, 0);
    uint64_t id = hx_rw(&h, 0, BLKIF_OP_WRITE_BARRIER, 16, f, 1, 0);
    hx_push(&h, 0);
    blkif_response_t r1, r2;
    CHECK(hx_rsp(&h, 0, &r1, 5000) == 0 && hx_rsp(&h, 0, &r2, 5000) == 0);
    CHECK_EQ(r2.id, id);
    CHECK_EQ(r2.operation, BLKIF_OP_WRITE_BARRIER);
    CHECK_EQ(r2.status, BLKIF_RSP_OKAY);
    uint8_t buf[4096];
    file_read(path, 16 * 512, buf, sizeof(buf));
    CHECK(buf[100] == 0x77);
    blk_close(&h, path);
}

static long allocated_blocks(const char *path)
{
    struct stat st;
    stat(path, &st);
    return st.st_blocks;
}

TEST(discard_punches_a_hole)
{
    struct hx h; struct hx_config c = { .guard = true }; char path[64];
    blk_open(&h, &c, path, sizeof(path), 4 * MIB);
    long before = allocated_blocks(path);
    struct blkif_request_discard *d = (void *)hx_req(&h, 0);
    d->operation = BLKIF_OP_DISCARD;
    d->id = 9;
    d->sector_number = 2048;
    d->nr_sectors = 2048;
    int16_t st = blk_do(&h, 0, 9);
    CHECK(st == BLKIF_RSP_OKAY || st == BLKIF_RSP_EOPNOTSUPP);
    if (st == BLKIF_RSP_OKAY) {
        uint8_t buf[512];
        file_read(path, 2048 * 512 + 4096, buf, sizeof(buf));
        CHECK(buf[0] == 0 && buf[511] == 0);
        CHECK(allocated_blocks(path) < before);
        struct stat s;
        stat(path, &s);
        CHECK_EQ(s.st_size, 4 * MIB);           /* KEEP_SIZE */
    }
    /* beyond the end */
    d = (void *)hx_req(&h, 0);
    d->operation = BLKIF_OP_DISCARD;
    d->id = 10;
    d->sector_number = 8191;
    d->nr_sectors = 2;
    CHECK_EQ(blk_do(&h, 0, 10), BLKIF_RSP_ERROR);
    blk_close(&h, path);
}

TEST(read_only_disk)
{
    struct hx h; struct hx_config c = { .guard = true, .readonly = true }; char path[64];
    blk_open(&h, &c, path, sizeof(path), 1 * MIB);
    unsigned f = h.first_data_frame;
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_WRITE, 0, f, 1, 0)), BLKIF_RSP_ERROR);
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_WRITE, 0, f, 20, f + 100)), BLKIF_RSP_ERROR);
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_WRITE_BARRIER, 0, f, 1, 0)), BLKIF_RSP_ERROR);
    struct blkif_request_discard *d = (void *)hx_req(&h, 0);
    d->operation = BLKIF_OP_DISCARD;
    d->id = 3;
    d->nr_sectors = 8;
    CHECK(blk_do(&h, 0, 3) != BLKIF_RSP_OKAY);
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_READ, 8, f, 1, 0)), BLKIF_RSP_OKAY);
    CHECK(frame_matches(&h, f, 8 * 512, 4096));
    blkif_request_t *r = hx_req(&h, 0);
    r->operation = BLKIF_OP_FLUSH_DISKCACHE;
    r->id = 4;
    CHECK_EQ(blk_do(&h, 0, 4), BLKIF_RSP_OKAY);
    uint8_t buf[4096];
    file_read(path, 0, buf, sizeof(buf));
    CHECK(buf[0] == blk_pat(0));
    blk_close(&h, path);
}

/* A buffer that is not O_DIRECT-aligned (one sector into a page) and an
 * aligned one give the same bytes. */
TEST(direct_and_buffered_agree)
{
    struct hx h; struct hx_config c = { .guard = true }; char path[64];
    blk_open(&h, &c, path, sizeof(path), 1 * MIB);
    unsigned f = h.first_data_frame;
    blkif_request_t *r = hx_req(&h, 0);
    r->operation = BLKIF_OP_WRITE;
    r->nr_segments = 1;
    r->id = 1;
    r->sector_number = 3;
    memset(hx_frame(&h, f), 0x42, 4096);
    r->seg[0] = (struct blkif_request_segment){ hx_frame_ref(&h, f, true), 1, 1 };
    CHECK_EQ(blk_do(&h, 0, 1), BLKIF_RSP_OKAY);
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_READ, 0, f + 1, 1, 0)), BLKIF_RSP_OKAY);
    const uint8_t *p = hx_frame(&h, f + 1);
    CHECK(p[3 * 512 - 1] == blk_pat(3 * 512 - 1));
    CHECK(p[3 * 512] == 0x42 && p[4 * 512 - 1] == 0x42);
    CHECK(p[4 * 512] == blk_pat(4 * 512));
    blk_close(&h, path);
}

/* A save's drain (blkback_pause): requests taken and in flight on io_uring
 * are all answered, once each, and pushed; no per-request grant stays
 * mapped; the ring's private indices meet the shared rsp_prod. */
TEST(pause_answers_everything_in_flight)
{
    struct hx h; struct hx_config c = { .guard = true }; char path[64];
    blk_open(&h, &c, path, sizeof(path), 4 * MIB);
    unsigned f = h.first_data_frame;
    enum { N = 8 };
    for (unsigned i = 0; i < N; i++) {
        memset(hx_frame(&h, f + i), 0x40 + i, 4096);
        blkif_request_t *r = hx_req(&h, 0);
        *r = (blkif_request_t){ .operation = BLKIF_OP_WRITE, .nr_segments = 1, .id = 100 + i,
                                .sector_number = 64 + 8 * i };
        r->seg[0] = (struct blkif_request_segment){ .gref = hx_grant(&h, f + i, true),
                                                    .last_sect = 7 };
    }
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&h.q[0].front, notify);
    (void)notify;
    struct blkq *q = &h.be.q[0];
    blkq_process(q);                       /* taken and submitted, not reaped */
    CHECK_EQ(q->ring.req_cons, N);
    CHECK(q->inflight > 0);
    blkback_pause(&h.be);
    CHECK_EQ(q->inflight, 0);
    CHECK_EQ(q->ring.rsp_prod_pvt, N);
    CHECK_EQ(q->ring.sring->rsp_prod, N);
    CHECK_EQ(h.live_maps, 0);
    bool seen[N] = { false };
    blkif_response_t rsp;
    for (unsigned i = 0; i < N; i++) {
        CHECK_EQ(hx_rsp(&h, 0, &rsp, 0), 0);
        bool ok = rsp.id >= 100 && rsp.id < 100 + N && !seen[rsp.id - 100];
        CHECK(ok);
        if (!ok)
            break;
        seen[rsp.id - 100] = true;
        CHECK_EQ(rsp.status, BLKIF_RSP_OKAY);
    }
    CHECK_EQ(hx_rsp(&h, 0, &rsp, 0), -ETIMEDOUT);
    static uint8_t buf[4096];
    file_read(path, (64 + 8 * 5) * 512, buf, sizeof(buf));
    CHECK_EQ(buf[0], 0x45);
    blk_close(&h, path);
}
