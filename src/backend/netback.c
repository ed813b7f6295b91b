/* netback device: per-queue worker threads around netback_queue.c. */
#include "backend/netback_queue.h"
#include "common/log.h"
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Without feature-rx-notify the frontend never kicks for new rx requests:
 * a packet waiting for slots is retried this often. */
#define RX_RETRY_MS 10
/* A tap queue that fails reads (detached with TUNSETQUEUE: it polls as an
 * error) is retried this often instead of spinning on it. */
#define TAP_RETRY_MS 100

void netback_init(struct netback *nb, const struct gnt_env *env)
{
    memset(nb, 0, sizeof(*nb));
    nb->env = *env;
    nb->stop_fd = -1;
    for (unsigned i = 0; i < NET_MAX_QUEUES; i++)
        nb->tap_fd[i] = nb->kick_fd[i] = -1;
}

struct worker_arg { struct netback *nb; unsigned q; };

static void drain_fd(int fd)
{
    uint64_t v;
    if (read(fd, &v, sizeof(v)) < 0) { /* not signalled */ }
}

static void *worker(void *arg)
{
    struct worker_arg a = *(struct worker_arg *)arg;
    free(arg);
    struct netback *nb = a.nb;
    struct netq *q = nb->q[a.q];
    bool busy = true;
    for (;;) {
        int n = 0;
        if (!q->broken)
            n = netq_poll(q);
        /* A pass that moved packets may have stopped at its budget: look
         * again after a non-blocking check of the fds. */
        busy = n > 0;
        struct pollfd pfd[3] = {
            { .fd = nb->stop_fd, .events = POLLIN },
            { .fd = nb->kick_fd[a.q], .events = POLLIN },
            { .fd = q->tap_fd, .events = POLLIN },
        };
        bool tap = !q->broken && !q->rx_pending && !q->tap_eof && !q->tap_error;
        int timeout = busy ? 0 : (q->rx_pending && !nb->feat.rx_notify) ? RX_RETRY_MS
                    : q->tap_error ? TAP_RETRY_MS : -1;
        q->tap_error = false;
        if (poll(pfd, tap ? 3 : 2, timeout) < 0 && errno != EINTR) {
            log_err("netback: queue %u: poll: %s", a.q, strerror(errno));
            break;
        }
        if (pfd[0].revents)
            break;
        if (pfd[1].revents)
            drain_fd(nb->kick_fd[a.q]);
    }
    return NULL;
}

void netback_kick(struct netback *nb, unsigned q)
{
    uint64_t one = 1;
    if (q < nb->nr_queues && write(nb->kick_fd[q], &one, sizeof(one)) < 0) {
        /* counter saturated: the worker is already due to run */
    }
}

int netback_poll(struct netback *nb, unsigned q)
{
    if (q >= nb->nr_queues)
        return -EINVAL;
    drain_fd(nb->kick_fd[q]);
    return netq_poll(nb->q[q]);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static int start_workers(struct netback *nb, char *err, size_t errlen)
{
    for (unsigned i = 0; i < nb->nr_queues; i++) {
        struct worker_arg *a = malloc(sizeof(*a));
        if (a)
            *a = (struct worker_arg){ nb, i };
        int rc = a ? -pthread_create(&nb->worker[i], NULL, worker, a) : -ENOMEM;
        if (rc) {
            free(a);
            snprintf(err, errlen, "cannot start a worker: %s", strerror(-rc));
            return rc;
        }
        nb->nr_workers++;
    }
    return 0;
}

int netback_connect(struct netback *nb, unsigned nr_queues, const struct netback_queue_refs *refs,
                    const int *tap_fd, const struct net_features *feat, bool threaded,
                    char *err, size_t errlen)
{
    if (!nr_queues || nr_queues > NET_MAX_QUEUES) {
        snprintf(err, errlen, "%u queues (1..%u)", nr_queues, NET_MAX_QUEUES);
        return -EINVAL;
    }
    if (!feat->rx_copy) {
        snprintf(err, errlen, "the frontend does not request rx-copy (the only rx mode)");
        return -EOPNOTSUPP;
    }
    nb->feat = *feat;
    nb->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (nb->stop_fd < 0) {
        int rc = -errno;
        snprintf(err, errlen, "eventfd: %s", strerror(-rc));
        return rc;
    }
    int rc = 0;
    for (unsigned i = 0; i < nr_queues && !rc; i++) {
        nb->kick_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        nb->q[i] = calloc(1, sizeof(struct netq));
        if (nb->kick_fd[i] < 0 || !nb->q[i]) {
            rc = nb->kick_fd[i] < 0 ? -errno : -ENOMEM;
            snprintf(err, errlen, "queue %u: %s", i, strerror(-rc));
            break;
        }
        nb->nr_queues = i + 1;
        nb->tap_fd[i] = tap_fd[i];
        rc = netq_init(nb->q[i], nb, i, &refs[i], tap_fd[i], err, errlen);
    }
    if (!rc) {
        /* The kernel then hands over only what the frontend can take; a
         * socket standing in for a tap (tests) has no offloads to set. */
        int orc = net_tap_set_offload(tap_fd[0], feat);
        if (orc && orc != -ENOTTY && orc != -EBADFD && orc != -EINVAL)
            log_warn("netback: cannot set the tap's offloads: %s", strerror(-orc));
    }
    if (!rc && threaded)
        rc = start_workers(nb, err, errlen);
    if (rc)
        netback_disconnect(nb);
    return rc;
}

void netback_disconnect(struct netback *nb)
{
    if (nb->nr_workers) {
        uint64_t one = 1;
        if (write(nb->stop_fd, &one, sizeof(one)) < 0) { /* cannot fail on a fresh eventfd */ }
        for (unsigned i = 0; i < nb->nr_workers; i++)
            pthread_join(nb->worker[i], NULL);
        nb->nr_workers = 0;
    }
    for (unsigned i = 0; i < NET_MAX_QUEUES; i++) {
        if (nb->q[i]) {
            netq_fini(nb->q[i]);
            free(nb->q[i]);
            nb->q[i] = NULL;
        }
        close_fd(&nb->kick_fd[i]);
        nb->tap_fd[i] = -1;
    }
    nb->nr_queues = 0;
    close_fd(&nb->stop_fd);
}
