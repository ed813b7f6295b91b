/* libFuzzer target: a hostile frontend's ring contents against the blkback
 * core, through the harness with its guard on (any access outside a mapped
 * grant faults). Input: [flags][count][requests: count x 112 bytes][rest:
 * the first data pages, where indirect segment lists are read from].
 * flags: bits 0-1 ring page order (0..2), bit 2 lie about req_prod, bit 3
 * read-only disk, bit 4 indices near 2^32, bits 5-6 how much to lie, bit 7 a
 * 32-bit frontend (x86_32-abi: requests are 108-byte slots). Every request
 * taken must be answered exactly once and every grant mapping undone. */
#include "harness/blkfront.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA_PAGES 64

static const char *disk_path(void)
{
    static char path[64];
    if (!path[0]) {
        snprintf(path, sizeof(path), "/tmp/fuzz-blk.%d", (int)getpid());
        FILE *f = fopen(path, "w");
        if (!f || ftruncate(fileno(f), 1 << 20))
            abort();
        fclose(f);
    }
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t flags = data[0];
    unsigned order = flags & 3;
    if (order > 2)
        order = 2;
    struct hx_config cfg = { .disk = disk_path(), .ring_order = order, .readonly = flags & 8,
                             .frames = (1u << order) + DATA_PAGES, .guard = true,
                             .abi32 = flags & 128 };
    static struct hx h;
    char err[256];
    if (hx_open(&h, &cfg, err, sizeof(err))) {
        fprintf(stderr, "hx_open: %s\n", err);
        abort();
    }
    unsigned f0 = h.first_data_frame;
    for (unsigned i = 0; i < DATA_PAGES; i++)      /* refs 8.. in a fixed order */
        hx_frame_ref(&h, f0 + i, i & 1);
    struct hx_queue *q = &h.q[0];
    if (flags & 16) {
        RING_IDX start = 0xffffffe0u;
        q->front.sring->req_prod = q->front.sring->rsp_prod = start;
        q->front.sring->req_event = q->front.sring->rsp_event = start + 1;
        q->front.req_prod_pvt = q->front.rsp_cons = start;
        h.be.q[0].ring.req_cons = h.be.q[0].ring.rsp_prod_pvt = start;
    }
    unsigned ring = RING_SIZE(&q->front);
    unsigned n = data[1] % (ring + 1);
    const uint8_t *p = data + 2;
    size_t left = size - 2;
    for (unsigned i = 0; i < n; i++) {
        size_t len;
        uint8_t *slot = hx_slot(&h, 0, &len);
        size_t k = left < len ? left : len;
        memset(slot, 0, len);
        memcpy(slot, p, k);
        p += k;
        left -= k;
    }
    size_t k = left < DATA_PAGES * BLK_PAGE_SIZE ? left : DATA_PAGES * BLK_PAGE_SIZE;
    memcpy(hx_frame(&h, f0), p, k);
    if (flags & 4)
        q->front.req_prod_pvt += ring + 1 + ((flags >> 5) & 3);
    hx_push(&h, 0);
    unsigned got = 0;
    blkif_response_t rsp;
    while (hx_rsp(&h, 0, &rsp, 0) == 0)
        got++;
    if (h.live_maps != 0)
        abort();
    if (!h.be.q[0].broken && got != n)
        abort();
    if ((flags & 4) && got != 0)
        abort();
    hx_close(&h);
    if (h.live_maps || h.ring_maps)
        abort();
    return 0;
}
