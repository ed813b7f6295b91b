/* Per-queue worker threads and their eventfds (see queue_workers.h). */
#include "backend/queue_workers.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

void qw_init(struct queue_workers *w)
{
    memset(w, 0, sizeof(*w));
    w->stop_fd = -1;
    for (unsigned i = 0; i < QW_MAX_QUEUES; i++)
        w->kick_fd[i] = -1;
}

static int new_eventfd(int *fd, char *err, size_t errlen)
{
    *fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (*fd >= 0)
        return 0;
    int rc = -errno;
    snprintf(err, errlen, "eventfd: %s", strerror(-rc));
    return rc;
}

int qw_open(struct queue_workers *w, unsigned n, char *err, size_t errlen)
{
    if (n > QW_MAX_QUEUES) {
        snprintf(err, errlen, "%u queues (at most %u)", n, QW_MAX_QUEUES);
        return -EINVAL;
    }
    int rc = new_eventfd(&w->stop_fd, err, errlen);
    for (unsigned i = 0; i < n && !rc; i++)
        rc = new_eventfd(&w->kick_fd[i], err, errlen);
    return rc;
}

struct start_arg {
    void (*fn)(void *arg, unsigned q);
    void *arg;
    unsigned q;
};

static void *run(void *p)
{
    struct start_arg a = *(struct start_arg *)p;
    free(p);
    a.fn(a.arg, a.q);
    return NULL;
}

int qw_start(struct queue_workers *w, unsigned n, void (*fn)(void *arg, unsigned q), void *arg,
             char *err, size_t errlen)
{
    for (unsigned q = 0; q < n; q++) {
        struct start_arg *a = malloc(sizeof(*a));
        if (a)
            *a = (struct start_arg){ fn, arg, q };
        int rc = a ? -pthread_create(&w->thread[q], NULL, run, a) : -ENOMEM;
        if (rc) {
            free(a);
            snprintf(err, errlen, "cannot start a worker: %s", strerror(-rc));
            return rc;
        }
        w->nr_threads++;
    }
    return 0;
}

void qw_kick(struct queue_workers *w, unsigned q)
{
    uint64_t one = 1;
    if (q < QW_MAX_QUEUES && w->kick_fd[q] >= 0 && write(w->kick_fd[q], &one, sizeof(one)) < 0) {
        /* counter saturated: the worker is already due to run */
    }
}

void qw_drain(int fd)
{
    uint64_t v;
    if (read(fd, &v, sizeof(v)) < 0) { /* not signalled */ }
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void qw_halt(struct queue_workers *w)
{
    if (w->nr_threads) {
        uint64_t one = 1;
        if (write(w->stop_fd, &one, sizeof(one)) < 0) { /* cannot fail on a fresh eventfd */ }
        for (unsigned i = 0; i < w->nr_threads; i++)
            pthread_join(w->thread[i], NULL);
        w->nr_threads = 0;
        qw_drain(w->stop_fd);     /* ready for the next qw_start */
    }
}

void qw_stop(struct queue_workers *w)
{
    qw_halt(w);
    for (unsigned i = 0; i < QW_MAX_QUEUES; i++)
        close_fd(&w->kick_fd[i]);
    close_fd(&w->stop_fd);
}
