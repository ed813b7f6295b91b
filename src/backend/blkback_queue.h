/* One blkif ring of a disk: consumes requests, hands them to the disk's I/O
 * (blkif_disk.h: io_uring straight into the granted pages, or NBD), answers.
 * Not thread-safe: one thread drives a queue (the device's worker, or a test
 * calling blkq_process/blkq_reap itself). */
#pragma once
#include "backend/blkif_disk.h"
#include "backend/grant_env.h"
#include "backend/blkif_req.h"
#include "backend/blkif_abi32.h"
#include <stdatomic.h>
#include <sys/uio.h>

struct blk_slot;

/* Written by the queue's thread, read by anyone (relaxed atomics). */
struct blkq_stats {
    _Atomic uint64_t requests, errors, bytes;
    _Atomic uint64_t rd_reqs, wr_reqs, rd_sect, wr_sect, flush_reqs;
};

struct blkq {
    unsigned idx;
    const struct gnt_env *env;
    struct blk_disk *disk;
    struct blk_limits lim;
    /* The ring's indices are the same in both protocols; its slots are
     * reached through ring32 when the frontend speaks x86_32-abi. */
    union {
        blkif_back_ring_t ring;
        blkif_x86_32_back_ring_t ring32;
    };
    bool abi32;
    void *sring;
    grant_ref_t ring_refs[BLK_MAX_RING_PAGES];
    unsigned nr_ring_pages;
    struct blk_ioq *io;          /* the disk's I/O context for this queue */
    struct blk_slot *slots, *free;
    unsigned inflight;           /* requests taken from the ring, not yet answered */
    bool broken;                 /* the frontend wrote impossible indices */
    bool notify_pending;
    struct blkq_stats stats;
};

/* Maps the ring (nr_pages grant refs, a power of two <= BLK_MAX_RING_PAGES)
 * and opens the disk's I/O context; abi32: the frontend's protocol is
 * x86_32-abi. Returns 0 or -errno with err set. */
int blkq_init(struct blkq *q, unsigned idx, const struct gnt_env *env, struct blk_disk *disk,
              const struct blk_limits *lim, const grant_ref_t *refs, unsigned nr_pages,
              bool abi32, char *err, size_t errlen);
/* Takes new requests off the ring and submits them; answers bad ones at once. */
void blkq_process(struct blkq *q);
/* Answers completed requests; with wait, until none is in flight. */
void blkq_reap(struct blkq *q, bool wait);
/* What the queue's thread polls for completions (fd -1: nothing), and
 * answering the completions that revents made ready. */
int blkq_poll_fd(struct blkq *q, short *events);
void blkq_ready(struct blkq *q, short revents);
/* Waits for in-flight requests, then unmaps the ring and closes the I/O context. */
void blkq_fini(struct blkq *q);
