/* blkback device: per-queue worker threads around blkback_queue.c. */
#include "backend/blkback.h"
#include "common/log.h"
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
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
    b->stop_fd = -1;
    for (unsigned i = 0; i < BLK_MAX_QUEUES; i++)
        b->kick_fd[i] = -1;
}

struct worker_arg { struct blkback *b; unsigned q; };

static void drain_fd(int fd)
{
    uint64_t v;
    if (read(fd, &v, sizeof(v)) < 0) { /* not signalled */ }
}

static void *worker(void *arg)
{
    struct worker_arg a = *(struct worker_arg *)arg;
    free(arg);
    struct blkback *b = a.b;
    unsigned i = a.q;
    struct blkq *q = &b->q[i];
    struct pollfd pfd[3] = {
        { .fd = b->kick_fd[i], .events = POLLIN },
        { .fd = q->cq_fd, .events = POLLIN },
        { .fd = b->stop_fd, .events = POLLIN },
    };
    blkq_process(q);          /* requests queued before the first kick */
    for (;;) {
        if (poll(pfd, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_err("blkback: queue %u: poll: %s", i, strerror(errno));
            break;
        }
        if (pfd[2].revents)
            break;
        if (pfd[1].revents)
            blkq_reap(q, false);
        if (pfd[0].revents)
            drain_fd(b->kick_fd[i]);
        blkq_process(q);      /* new requests, or ones waiting for free slots */
    }
    return NULL;
}

void blkback_kick(struct blkback *b, unsigned q)
{
    uint64_t one = 1;
    if (q < b->nr_queues && write(b->kick_fd[q], &one, sizeof(one)) < 0) {
        /* counter saturated: the worker is already due to run */
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

int blkback_connect(struct blkback *b, unsigned nr_queues, const struct blkback_ring *rings,
                    bool threaded, char *err, size_t errlen)
{
    if (!nr_queues || nr_queues > BLK_MAX_QUEUES) {
        snprintf(err, errlen, "%u queues (1..%u)", nr_queues, BLK_MAX_QUEUES);
        return -EINVAL;
    }
    int rc = 0;
    unsigned done = 0;
    b->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (b->stop_fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "eventfd: %s", strerror(-rc));
        return rc;
    }
    for (; done < nr_queues; done++) {
        b->kick_fd[done] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (b->kick_fd[done] < 0) {
            rc = -errno;
            snprintf(err, errlen, "eventfd: %s", strerror(-rc));
            break;
        }
        rc = blkq_init(&b->q[done], done, &b->env, b->disk, &b->lim, rings[done].refs,
                       rings[done].nr_pages, err, errlen);
        if (rc) {
            close_fd(&b->kick_fd[done]);
            break;
        }
    }
    b->nr_queues = done;
    for (unsigned i = 0; i < done && !rc && threaded; i++) {
        struct worker_arg *a = malloc(sizeof(*a));
        if (a)
            *a = (struct worker_arg){ b, i };
        rc = a ? -pthread_create(&b->worker[i], NULL, worker, a) : -ENOMEM;
        if (rc) {
            free(a);
            snprintf(err, errlen, "cannot start a worker: %s", strerror(-rc));
            break;
        }
        b->nr_workers++;
    }
    if (rc)
        blkback_disconnect(b);
    return rc;
}

void blkback_disconnect(struct blkback *b)
{
    if (b->nr_workers) {
        uint64_t one = 1;
        if (write(b->stop_fd, &one, sizeof(one)) < 0) { /* cannot fail on a fresh eventfd */ }
        for (unsigned i = 0; i < b->nr_workers; i++)
            pthread_join(b->worker[i], NULL);
        b->nr_workers = 0;
    }
    for (unsigned i = 0; i < BLK_MAX_QUEUES; i++) {
        if (b->q[i].env)
            blkq_fini(&b->q[i]);
        memset(&b->q[i], 0, sizeof(b->q[i]));
        close_fd(&b->kick_fd[i]);
    }
    b->nr_queues = 0;
    close_fd(&b->stop_fd);
}
