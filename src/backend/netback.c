/* netback device: per-queue worker threads around netback_queue.c. */
#include "backend/netback_queue.h"
#include "common/log.h"
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    qw_init(&nb->workers);
    for (unsigned i = 0; i < NET_MAX_QUEUES; i++)
        nb->tap_fd[i] = -1;
}

static void worker(void *arg, unsigned qi)
{
    struct netback *nb = arg;
    struct netq *q = nb->q[qi];
    bool busy = true;
    for (;;) {
        int n = 0;
        if (!q->broken)
            n = netq_poll(q);
        /* A pass that moved packets may have stopped at its budget: look
         * again after a non-blocking check of the fds. */
        busy = n > 0;
        struct pollfd pfd[3] = {
            { .fd = nb->workers.stop_fd, .events = POLLIN },
            { .fd = nb->workers.kick_fd[qi], .events = POLLIN },
            { .fd = q->tap_fd, .events = POLLIN },
        };
        bool tap = !q->broken && !q->rx_pending && !q->tap_eof && !q->tap_error;
        int timeout = busy ? 0 : (q->rx_pending && !nb->feat.rx_notify) ? RX_RETRY_MS
                    : q->tap_error ? TAP_RETRY_MS : -1;
        q->tap_error = false;
        if (poll(pfd, tap ? 3 : 2, timeout) < 0 && errno != EINTR) {
            log_err("netback: queue %u: poll: %s", qi, strerror(errno));
            break;
        }
        if (pfd[0].revents)
            break;
        if (pfd[1].revents)
            qw_drain(pfd[1].fd);
    }
}

void netback_kick(struct netback *nb, unsigned q)
{
    if (q < nb->nr_queues)
        qw_kick(&nb->workers, q);
}

int netback_poll(struct netback *nb, unsigned q)
{
    if (q >= nb->nr_queues)
        return -EINVAL;
    qw_drain(nb->workers.kick_fd[q]);
    return netq_poll(nb->q[q]);
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
    int rc = qw_open(&nb->workers, nr_queues, err, errlen);
    for (unsigned i = 0; i < nr_queues && !rc; i++) {
        nb->q[i] = calloc(1, sizeof(struct netq));
        if (!nb->q[i]) {
            rc = -ENOMEM;
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
        rc = qw_start(&nb->workers, nb->nr_queues, worker, nb, err, errlen);
    if (rc)
        netback_disconnect(nb);
    return rc;
}

void netback_pause(struct netback *nb)
{
    qw_halt(&nb->workers);
    for (unsigned i = 0; i < nb->nr_queues; i++)
        netq_rx_release(nb->q[i]);
}

size_t netback_pending_rx(struct netback *nb, uint8_t **out)
{
    size_t len = 0;
    *out = NULL;
    for (unsigned i = 0; i < nb->nr_queues; i++)
        if (nb->q[i]->rx_pending)
            len += 8 + sizeof(struct virtio_net_hdr) + nb->q[i]->rx_len;
    if (!len || !(*out = malloc(len)))
        return 0;
    uint8_t *p = *out;
    for (unsigned i = 0; i < nb->nr_queues; i++) {
        const struct netq *q = nb->q[i];
        if (!q->rx_pending)
            continue;
        uint32_t head[2] = { i, (uint32_t)(sizeof(struct virtio_net_hdr) + q->rx_len) };
        memcpy(p, head, 8);
        memcpy(p + 8, q->rxbuf, head[1]);
        p += 8 + head[1];
    }
    return len;
}

int netback_set_pending_rx(struct netback *nb, const uint8_t *p, size_t len, char *err,
                           size_t errlen)
{
    const size_t vh = sizeof(struct virtio_net_hdr);
    for (size_t at = 0; at < len; ) {
        uint32_t head[2];
        if (len - at < 8)
            goto bad;
        memcpy(head, p + at, 8);
        at += 8;
        if (head[0] >= nb->nr_queues || nb->q[head[0]]->rx_pending || head[1] < vh ||
            head[1] - vh >= NET_RX_BUF || len - at < head[1])
            goto bad;
        struct netq *q = nb->q[head[0]];
        memcpy(q->rxbuf, p + at, head[1]);
        q->rx_len = head[1] - vh;
        q->rx_pending = true;
        at += head[1];
    }
    return 0;
bad:
    snprintf(err, errlen, "corrupt: the saved packets waiting for the guest");
    return -EINVAL;
}

int netback_resume(struct netback *nb, char *err, size_t errlen)
{
    if (!nb->nr_queues || nb->workers.nr_threads)
        return 0;
    return qw_start(&nb->workers, nb->nr_queues, worker, nb, err, errlen);
}

void netback_disconnect(struct netback *nb)
{
    qw_stop(&nb->workers);
    for (unsigned i = 0; i < NET_MAX_QUEUES; i++) {
        if (nb->q[i]) {
            netq_fini(nb->q[i]);
            free(nb->q[i]);
            nb->q[i] = NULL;
        }
        nb->tap_fd[i] = -1;
    }
    nb->nr_queues = 0;
}
