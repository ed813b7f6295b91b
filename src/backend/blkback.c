/* blkback device: per-queue worker threads around blkback_queue.c. */
#include "backend/blkback.h"
#include "common/log.h"
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void blkback_limits(const struct blk_disk *disk, struct blk_limits *lim)
{
    *lim = (struct blk_limits){
        .sectors = disk->sectors, .readonly = disk->readonly, .discard = disk->discard,
        .max_indirect = BLK_MAX_INDIRECT_SEGS,
    };
}

void blkback_init(struct blkback *b, struct blk_disk *disk, const struct gnt_env *env)
{
    memset(b, 0, sizeof(*b));
    b->disk = disk;
    b->env = *env;
    blkback_limits(disk, &b->lim);
    qw_init(&b->workers);
}

static void worker(void *arg, unsigned i)
{
    struct blkback *b = arg;
    struct blkq *q = &b->q[i];
    struct pollfd pfd[3] = {
        { .fd = b->workers.kick_fd[i], .events = POLLIN },
        { .fd = -1 },
        { .fd = b->workers.stop_fd, .events = POLLIN },
    };
    blkq_process(q);          /* requests queued before the first kick */
    for (;;) {
        /* the disk's completions: asked each time (an NBD socket's direction changes) */
        pfd[1].fd = blkq_poll_fd(q, &pfd[1].events);
        if (poll(pfd, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_err("blkback: queue %u: poll: %s", i, strerror(errno));
            break;
        }
        if (pfd[2].revents)
            break;
        if (pfd[1].revents)
            blkq_ready(q, pfd[1].revents);
        if (pfd[0].revents)
            qw_drain(pfd[0].fd);
        blkq_process(q);      /* new requests, or ones waiting for free slots */
    }
}

void blkback_kick(struct blkback *b, unsigned q)
{
    if (q < b->nr_queues)
        qw_kick(&b->workers, q);
}

int blkback_connect(struct blkback *b, unsigned nr_queues, const struct blkback_ring *rings,
                    bool threaded, char *err, size_t errlen)
{
    if (!nr_queues || nr_queues > BLK_MAX_QUEUES) {
        snprintf(err, errlen, "%u queues (1..%u)", nr_queues, BLK_MAX_QUEUES);
        return -EINVAL;
    }
    int rc = qw_open(&b->workers, nr_queues, err, errlen);
    unsigned done = 0;
    for (; done < nr_queues && !rc; done++) {
        rc = blkq_init(&b->q[done], done, &b->env, b->disk, &b->lim, rings[done].refs,
                       rings[done].nr_pages, rings[done].abi32, err, errlen);
        if (rc)
            break;
    }
    b->nr_queues = done;
    if (!rc && threaded)
        rc = qw_start(&b->workers, done, worker, b, err, errlen);
    if (rc)
        blkback_disconnect(b);
    return rc;
}

void blkback_pause(struct blkback *b)
{
    qw_halt(&b->workers);
    for (unsigned i = 0; i < b->nr_queues; i++)
        blkq_reap(&b->q[i], true);
}

int blkback_resume(struct blkback *b, char *err, size_t errlen)
{
    if (!b->nr_queues || b->workers.nr_threads)
        return 0;
    return qw_start(&b->workers, b->nr_queues, worker, b, err, errlen);
}

void blkback_disconnect(struct blkback *b)
{
    qw_stop(&b->workers);
    for (unsigned i = 0; i < BLK_MAX_QUEUES; i++) {
        if (b->q[i].env)
            blkq_fini(&b->q[i]);
        memset(&b->q[i], 0, sizeof(b->q[i]));
    }
    b->nr_queues = 0;
}
