/* Shared helpers of the blk unit tests: scratch disk images with a known
 * pattern and a harness opened over them. */
#pragma once
#include "harness/blkfront.h"
#include "unit.h"

/* The byte the pattern disk holds at offset off. */
static inline uint8_t blk_pat(uint64_t off)
{
    return (uint8_t)((off >> 9) * 31 + (off & 511) * 7 + 1);
}

/* Does frame hold the pattern disk's bytes from disk_off on? */
static inline bool frame_matches(struct hx *h, unsigned frame, uint64_t disk_off, size_t len)
{
    const uint8_t *p = hx_frame(h, frame);
    for (size_t i = 0; i < len; i++)
        if (p[i] != blk_pat(disk_off + i))
            return false;
    return true;
}

/* A temporary image of bytes bytes filled with blk_pat; path in buf. */
void blk_mkdisk(char *buf, size_t len, uint64_t bytes);
/* Opens a harness on a fresh pattern disk; cfg fields left 0 get defaults
 * (1 queue, order 0, 2048 frames, guard on). */
void blk_open(struct hx *h, struct hx_config *cfg, char *path, size_t pathlen, uint64_t bytes);
void blk_close(struct hx *h, const char *path);
/* One response with its status, pushing first; CHECKs the id. */
int16_t blk_do(struct hx *h, unsigned q, uint64_t id);
