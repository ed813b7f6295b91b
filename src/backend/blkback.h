/* A blkback device: one disk, up to BLK_MAX_QUEUES rings, one worker thread
 * per ring. Knows nothing of KVM or xenstore: the env supplies grant mapping
 * and notification; the caller says when the frontend kicked a queue. */
#pragma once
#include "backend/blkback_queue.h"
#include "backend/queue_workers.h"

_Static_assert(BLK_MAX_QUEUES <= QW_MAX_QUEUES, "one worker per queue");

struct blkback_ring {
    unsigned nr_pages;                        /* 1 << ring-page-order */
    grant_ref_t refs[BLK_MAX_RING_PAGES];
    bool abi32;                               /* protocol x86_32-abi */
};

struct blkback {
    struct blk_disk *disk;
    struct gnt_env env;
    struct blk_limits lim;
    unsigned nr_queues;                       /* connected queues, 0 when idle */
    struct blkq q[BLK_MAX_QUEUES];
    struct queue_workers workers;
};

/* The limits this backend offers for disk. */
void blkback_limits(const struct blk_disk *disk, struct blk_limits *lim);
void blkback_init(struct blkback *b, struct blk_disk *disk, const struct gnt_env *env);
/* Maps the rings and, if threaded, starts one worker per queue. Without
 * threads the caller drives b->q[i] with blkq_process/blkq_reap.
 * Returns 0 or -errno with err set (nothing left connected). */
int blkback_connect(struct blkback *b, unsigned nr_queues, const struct blkback_ring *rings,
                    bool threaded, char *err, size_t errlen);
/* The frontend kicked queue q (safe from any thread, with any lock held). */
void blkback_kick(struct blkback *b, unsigned q);
/* A save's drain: stops the workers and answers every request in flight
 * (responses pushed, the frontend notified); the rings stay mapped and the
 * private indices then equal the shared rsp_prod. */
void blkback_pause(struct blkback *b);
/* Starts the workers (after blkback_pause, or a connect without threads).
 * 0 or -errno with err set. */
int blkback_resume(struct blkback *b, char *err, size_t errlen);
/* Stops the workers, waits for in-flight I/O, unmaps everything. */
void blkback_disconnect(struct blkback *b);
