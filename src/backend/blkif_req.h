/* Checking one blkif request (already copied out of the shared ring) against
 * the disk and the advertised limits, and turning it into an I/O plan.
 * Pure: no memory is mapped and no I/O is done here. */
#pragma once
#include "backend/blkif_ring.h"
#include <stdbool.h>

struct blk_limits {
    uint64_t sectors;          /* disk size, 512-byte sectors */
    bool readonly;
    bool discard;              /* feature-discard offered */
    unsigned max_indirect;     /* feature-max-indirect-segments */
};

struct blk_plan {
    uint64_t id;
    uint8_t rsp_op;            /* operation echoed in the response */
    bool read;                 /* disk -> guest pages */
    bool write;                /* guest pages -> disk */
    bool flush;                /* fdatasync after the data (if any) */
    bool drain;                /* after every earlier request (barrier) */
    bool discard;
    uint64_t sector;           /* first sector */
    uint64_t nr_sectors;       /* discard length (data: sum of segments) */
    unsigned nr_segs;
    unsigned nr_indirect;      /* indirect pages holding the segments, 0 if direct */
    grant_ref_t indirect[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];   /* direct */
};

/* Returns BLKIF_RSP_OKAY and fills p, or the status to answer at once
 * (p->id and p->rsp_op are always set). Segments of an indirect request are
 * checked later with blk_check_segs once fetched. */
int16_t blk_parse(const blkif_request_t *req, const struct blk_limits *lim, struct blk_plan *p);

/* Checks n segments (sector bounds inside a page) and that the transfer fits
 * the disk; sets p->nr_sectors. Returns BLKIF_RSP_OKAY or BLKIF_RSP_ERROR. */
int16_t blk_check_segs(struct blk_plan *p, const struct blkif_request_segment *seg, unsigned n,
                       const struct blk_limits *lim);
