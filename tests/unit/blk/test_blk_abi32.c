/* blkback with a 32-bit frontend (protocol x86_32-abi, as GRUB's i386 image
 * and 32-bit Linux speak): the harness writes the i386 request layout into
 * 108-byte ring slots and reads 12-byte responses. Reads, writes, indirect
 * requests (1 MiB), a full multi-page ring, discard, flush, an unknown
 * operation; and the request conversion on its own. */
#include "blk_util.h"
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define MIB (1024 * 1024ull)

TEST(abi32_read_write_indirect)
{
    struct hx h; struct hx_config c = { .guard = true, .abi32 = true }; char path[64];
    blk_open(&h, &c, path, sizeof(path), 8 * MIB);
    CHECK_EQ(RING_SIZE(&h.q[0].front32), 32);
    unsigned f = h.first_data_frame, ind = f + 600;
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_READ, 24, f, 3, 0)), BLKIF_RSP_OKAY);
    CHECK(frame_matches(&h, f, 24 * 512, 3 * 4096));
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_READ, 2048, f, 256, ind)), BLKIF_RSP_OKAY);
    CHECK(frame_matches(&h, f, 2048 * 512, MIB));
    for (unsigned i = 0; i < 11 * 4096; i++)
        hx_frame(&h, f)[i] = (uint8_t)(i * 29 + 3);
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_WRITE, 100, f, 11, 0)), BLKIF_RSP_OKAY);
    static uint8_t buf[11 * 4096];
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0 && pread(fd, buf, sizeof(buf), 100 * 512) == (ssize_t)sizeof(buf));
    close(fd);
    CHECK(!memcmp(buf, hx_frame(&h, f), sizeof(buf)));
    CHECK_EQ(h.live_maps, 0);
    blk_close(&h, path);
}

/* Every slot of a 4-page ring in use: the slot stride is the i386 one. */
TEST(abi32_multi_page_ring_full)
{
    struct hx h; struct hx_config c = { .guard = true, .abi32 = true, .ring_order = 2,
                                        .frames = 4096 };
    char path[64];
    blk_open(&h, &c, path, sizeof(path), 8 * MIB);
    unsigned size = RING_SIZE(&h.q[0].front32), f = h.first_data_frame;
    CHECK_EQ(size, 128);
    for (int round = 0; round < 3; round++) {
        for (unsigned i = 0; i < size; i++)
            hx_rw(&h, 0, BLKIF_OP_READ, (uint64_t)i * 8, f + i, 1, 0);
        hx_push(&h, 0);
        unsigned got = 0, bad = 0;
        blkif_response_t r;
        while (got < size && hx_rsp(&h, 0, &r, 5000) == 0) {
            got++;
            bad += r.status != BLKIF_RSP_OKAY;
        }
        CHECK_EQ(got, size);
        CHECK_EQ(bad, 0);
    }
    CHECK(frame_matches(&h, f + 127, 127 * 8 * 512, 4096));
    blk_close(&h, path);
}

TEST(abi32_discard_flush_and_unknown_op)
{
    struct hx h; struct hx_config c = { .guard = true, .abi32 = true }; char path[64];
    blk_open(&h, &c, path, sizeof(path), 4 * MIB);
    struct blkif_request_discard *d = (void *)hx_req(&h, 0);
    d->operation = BLKIF_OP_DISCARD;
    d->id = 0x1122334455ull;              /* ids are 64-bit: all of it comes back */
    d->sector_number = 8191;
    d->nr_sectors = 2;                    /* one sector beyond the disk */
    CHECK_EQ(blk_do(&h, 0, 0x1122334455ull), BLKIF_RSP_ERROR);
    blkif_request_t *r = hx_req(&h, 0);
    r->operation = BLKIF_OP_FLUSH_DISKCACHE;
    r->id = 0xabcdef0123ull;
    CHECK_EQ(blk_do(&h, 0, 0xabcdef0123ull), BLKIF_RSP_OKAY);
    r = hx_req(&h, 0);
    r->operation = 99;
    r->id = 0x7700000001ull;
    CHECK_EQ(blk_do(&h, 0, 0x7700000001ull), BLKIF_RSP_EOPNOTSUPP);
    blk_close(&h, path);
}

/* blkif_x86_32_get_req: fields moved to the native places; a segment count
 * beyond the direct maximum copies no more than the slot holds. */
TEST(abi32_request_conversion)
{
    struct blkif_x86_32_request s = { .operation = BLKIF_OP_WRITE, .nr_segments = 2,
                                      .handle = 51712, .id = 0x8000000000000001ull,
                                      .sector_number = 0x123456789ull };
    s.seg[0] = (struct blkif_request_segment){ 9, 1, 6 };
    s.seg[1] = (struct blkif_request_segment){ 10, 0, 7 };
    blkif_request_t n;
    blkif_x86_32_get_req(&n, &s);
    CHECK_EQ(n.operation, BLKIF_OP_WRITE);
    CHECK_EQ(n.nr_segments, 2);
    CHECK_EQ(n.handle, 51712);
    CHECK_EQ(n.id, (long long)0x8000000000000001ull);
    CHECK_EQ(n.sector_number, 0x123456789ull);
    CHECK(n.seg[1].gref == 10 && n.seg[1].last_sect == 7 && n.seg[2].gref == 0);
    s.nr_segments = 200;
    blkif_x86_32_get_req(&n, &s);
    CHECK_EQ(n.nr_segments, 200);          /* blk_parse refuses it later */
    struct blkif_x86_32_request_indirect si = { .operation = BLKIF_OP_INDIRECT,
        .indirect_op = BLKIF_OP_READ, .nr_segments = 300, .id = 5, .sector_number = 77,
        .handle = 3, .indirect_grefs = { 11, 12, 13 } };
    memcpy(&s, &si, sizeof(si));
    blkif_x86_32_get_req(&n, &s);
    const struct blkif_request_indirect *ni = (const void *)&n;
    CHECK(ni->indirect_op == BLKIF_OP_READ && ni->nr_segments == 300 && ni->id == 5 &&
          ni->sector_number == 77 && ni->handle == 3 && ni->indirect_grefs[2] == 13);
}
