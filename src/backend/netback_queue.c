/* A netback queue's set-up and tear-down, and one polling pass. */
#include "backend/netback_queue.h"
#include "common/log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VH sizeof(struct virtio_net_hdr)

int netq_init(struct netq *q, struct netback *nb, unsigned idx, const struct netback_queue_refs *refs,
              int tap_fd, char *err, size_t errlen)
{
    memset(q, 0, sizeof(*q));
    q->idx = idx;
    q->nb = nb;
    q->tap_fd = tap_fd;
    q->txbuf = malloc(VH + NET_MAX_PACKET);
    q->rxbuf = malloc(VH + NET_RX_BUF);
    if (!q->txbuf || !q->rxbuf) {
        snprintf(err, errlen, "queue %u: out of memory", idx);
        netq_fini(q);
        return -ENOMEM;
    }
    const struct gnt_env *env = &nb->env;
    int16_t gst = GNTST_okay;
    void *tx = env->map_ring(env->opaque, &refs->tx_ref, 1, &gst);
    if (tx) {
        q->tx_ref = refs->tx_ref;
        BACK_RING_INIT(&q->tx, (netif_tx_sring_t *)tx, NET_PAGE_SIZE);
    }
    void *rx = tx ? env->map_ring(env->opaque, &refs->rx_ref, 1, &gst) : NULL;
    if (rx) {
        q->rx_ref = refs->rx_ref;
        BACK_RING_INIT(&q->rx, (netif_rx_sring_t *)rx, NET_PAGE_SIZE);
    }
    if (!rx) {
        snprintf(err, errlen, "queue %u: cannot map the %s ring (grant status %d)", idx,
                 tx ? "rx" : "tx", gst);
        netq_fini(q);
        return -EFAULT;
    }
    return 0;
}

void netq_fini(struct netq *q)
{
    const struct gnt_env *env = q->nb ? &q->nb->env : NULL;
    if (q->rx.sring)
        netq_rx_fini(q);
    if (q->tx.sring)
        env->unmap_ring(env->opaque, q->tx.sring, &q->tx_ref, 1);
    if (q->rx.sring)
        env->unmap_ring(env->opaque, q->rx.sring, &q->rx_ref, 1);
    q->tx.sring = NULL;
    q->rx.sring = NULL;
    free(q->txbuf);
    free(q->rxbuf);
    q->txbuf = q->rxbuf = NULL;
}

void netq_fatal(struct netq *q, const char *what)
{
    if (!q->broken)
        log_warn("netback: queue %u: frontend broke the protocol (%s); queue stopped", q->idx, what);
    q->broken = true;
}

int netq_poll(struct netq *q)
{
    int total = 0, n;
    do {
        n = netq_tx(q);
        n += netq_rx(q);
        total += n;
    } while (n && !q->broken);
    return q->broken ? -EPROTO : total;
}
