/* x86_32-abi blkif requests into native ones (see blkif_abi32.h). */
#include "backend/blkif_abi32.h"
#include <string.h>

void blkif_x86_32_get_req(blkif_request_t *dst, const struct blkif_x86_32_request *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->operation = src->operation;
    switch (src->operation) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
    case BLKIF_OP_WRITE_BARRIER:
    case BLKIF_OP_FLUSH_DISKCACHE: {
        dst->nr_segments = src->nr_segments;
        dst->handle = src->handle;
        dst->id = src->id;
        dst->sector_number = src->sector_number;
        unsigned n = src->nr_segments < BLKIF_MAX_SEGMENTS_PER_REQUEST
                     ? src->nr_segments : BLKIF_MAX_SEGMENTS_PER_REQUEST;
        memcpy(dst->seg, src->seg, n * sizeof(dst->seg[0]));
        break;
    }
    case BLKIF_OP_DISCARD: {
        struct blkif_x86_32_request_discard s;
        struct blkif_request_discard d = { 0 };
        memcpy(&s, src, sizeof(s));
        d.operation = s.operation;
        d.flag = s.flag;
        d.handle = s.handle;
        d.id = s.id;
        d.sector_number = s.sector_number;
        d.nr_sectors = s.nr_sectors;
        memcpy(dst, &d, sizeof(d));
        break;
    }
    case BLKIF_OP_INDIRECT: {
        struct blkif_x86_32_request_indirect s;
        struct blkif_request_indirect d = { 0 };
        memcpy(&s, src, sizeof(s));
        d.operation = s.operation;
        d.indirect_op = s.indirect_op;
        d.nr_segments = s.nr_segments;
        d.id = s.id;
        d.sector_number = s.sector_number;
        d.handle = s.handle;
        memcpy(d.indirect_grefs, s.indirect_grefs, sizeof(d.indirect_grefs));
        memcpy(dst, &d, sizeof(d));
        break;
    }
    default:
        dst->id = src->id;
        break;
    }
}
