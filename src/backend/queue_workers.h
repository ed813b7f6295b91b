/* The threads of a multi-queue backend device (blkback, netback): one worker
 * per queue, woken through that queue's kick eventfd, all told to stop
 * through one stop eventfd that each worker polls with its own fds. */
#pragma once
#include <pthread.h>
#include <stddef.h>

#define QW_MAX_QUEUES 16

struct queue_workers {
    int kick_fd[QW_MAX_QUEUES];   /* eventfds: the frontend kicked queue q */
    int stop_fd;
    pthread_t thread[QW_MAX_QUEUES];
    unsigned nr_threads;          /* started */
};

/* Every fd -1, no thread. */
void qw_init(struct queue_workers *w);
/* Opens the stop fd and n kick fds. 0, or -errno with err set (qw_stop cleans up). */
int qw_open(struct queue_workers *w, unsigned n, char *err, size_t errlen);
/* Runs fn(arg, q) on a thread of its own for each q < n. 0, or -errno with err
 * set (the threads started so far keep running until qw_stop). */
int qw_start(struct queue_workers *w, unsigned n, void (*fn)(void *arg, unsigned q), void *arg,
             char *err, size_t errlen);
/* Wakes queue q's worker (any thread, any lock held). */
void qw_kick(struct queue_workers *w, unsigned q);
/* Clears a kick fd's count (the worker, before it looks at its rings). */
void qw_drain(int fd);
/* Tells every worker to stop and joins them; the fds stay open, so qw_start
 * may run the workers again (a save's drain, docs/save-restore.md). */
void qw_halt(struct queue_workers *w);
/* Tells every worker to stop, joins them and closes the fds. */
void qw_stop(struct queue_workers *w);
