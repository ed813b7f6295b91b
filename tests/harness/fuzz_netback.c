/* libFuzzer target: a hostile frontend's tx and rx rings, and odd frames
 * from the host side, against the netback core through the netfront
 * harness (socketpairs, guard on: any access outside a mapped grant faults).
 * Input: [flags][ntx][nrx][ntx x 12-byte tx requests][nrx x 8-byte rx
 * requests][frames: u16 length, 10-byte virtio_net_hdr, data]... and what is
 * left fills the tx slots' pages. A gref with bit 31 clear is replaced by the
 * slot page ref it indexes (mostly valid); set, it is used as is.
 * flags: bit 0 lie about tx req_prod, bit 1 about rx req_prod, bit 2 indices
 * near 2^32, bit 3 no sg, bit 4 no checksum offload, bit 5 no GSO.
 * Invariants: every request taken is answered exactly once unless the queue
 * stopped, nothing answered from a lying ring, no mapping left, every rx
 * response stays inside its page. */
#include "backend/netback_queue.h"
#include "harness/netfront.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FRAMES 8

/* Both sides' indices at start, as if that many packets had gone by. */
static void set_start(struct nx *h, RING_IDX start)
{
    struct nx_queue *q = &h->q[0];
    struct netq *bq = h->nb.q[0];
    bq->tx.req_cons = bq->tx.rsp_prod_pvt = start;
    bq->rx.req_cons = bq->rx.rsp_prod_pvt = start;
    q->tx.sring->req_prod = q->tx.sring->rsp_prod = start;
    q->tx.sring->req_event = q->tx.sring->rsp_event = start + 1;
    q->tx.req_prod_pvt = q->tx.rsp_cons = start;
    q->rx.sring->req_prod = q->rx.sring->rsp_prod = start;
    q->rx.sring->req_event = q->rx.sring->rsp_event = start + 1;
    q->rx.req_prod_pvt = q->rx.rsp_cons = start;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint8_t flags = data[0];
    struct nx_config cfg = { .guard = true, .custom_feat = true,
        .feat = { .rx_copy = true, .rx_notify = true, .sg = !(flags & 8),
                  .csum = !(flags & 16), .ipv6_csum = !(flags & 16),
                  .gso_tcpv4 = !(flags & 32), .gso_tcpv6 = !(flags & 32) } };
    static struct nx h;
    char err[256];
    if (nx_open(&h, &cfg, err, sizeof(err))) {
        fprintf(stderr, "nx_open: %s\n", err);
        abort();
    }
    RING_IDX start = (flags & 4) ? 0xfffffff0u : 0;
    if (flags & 4)
        set_start(&h, start);
    struct nx_queue *q = &h.q[0];
    unsigned ntx = data[1] % (NET_TX_RING_SIZE + 1), nrx = data[2] % (NET_RX_RING_SIZE + 1);
    const uint8_t *p = data + 3;
    size_t left = size - 3;
    for (unsigned i = 0; i < ntx; i++) {
        netif_tx_request_t *r = nx_tx_req(&h, 0);
        size_t k = left < sizeof(*r) ? left : sizeof(*r);
        memcpy(r, p, k);
        p += k, left -= k;
        if (!(r->gref & 0x80000000u))
            r->gref = q->tx_ref[r->gref % NET_TX_RING_SIZE];
    }
    for (unsigned i = 0; i < nrx; i++) {
        netif_rx_request_t *r = nx_rx_req(&h, 0);
        size_t k = left < sizeof(*r) ? left : sizeof(*r);
        memcpy(r, p, k);
        p += k, left -= k;
        if (!(r->gref & 0x80000000u))
            r->gref = (r->gref & 0x40000000u) ? q->tx_ref[r->gref % NET_TX_RING_SIZE]
                                              : q->rx_ref[r->gref % NET_RX_RING_SIZE];
    }
    for (unsigned i = 0; i < MAX_FRAMES && left >= 12; i++) {
        size_t len = (size_t)(p[0] | p[1] << 8);
        if (len > left - 2)
            len = left - 2;
        if (len < 10)
            break;
        if (write(q->host_fd, p + 2, len) < 0) { /* full: fine */ }
        p += 2 + len, left -= 2 + len;
    }
    for (unsigned s = 0; s < NET_TX_RING_SIZE && left; s++) {
        size_t k = left < NET_PAGE_SIZE ? left : NET_PAGE_SIZE;
        memcpy(nx_frame(&h, q->tx_frame0 + s), p, k);
        p += k, left -= k;
    }
    if (flags & 1)
        q->tx.req_prod_pvt += NET_TX_RING_SIZE + 1 + (flags >> 6);
    if (flags & 2)
        q->rx.req_prod_pvt += NET_RX_RING_SIZE + 1 + (flags >> 6);
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->tx, notify);
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->rx, notify);
    (void)notify;
    int rc = netback_poll(&h.nb, 0);
    /* Between polls netback holds only the rx requests it took ahead (a
     * window of posted buffers, mapped once each): nothing else stays mapped. */
    struct netq *bq = h.nb.q[0];
    unsigned ahead = 0;
    for (unsigned i = 0; i < bq->rxw_n; i++)
        ahead += bq->rxw_page[i] != NULL;
    if (h.live_maps != ahead || bq->rxw_n > NET_RX_MAX_SLOTS)
        abort();
    RING_IDX tx_ans = q->tx.sring->rsp_prod - start, rx_ans = q->rx.sring->rsp_prod - start;
    if ((flags & 1) && tx_ans)
        abort();
    if ((flags & 2) && rx_ans)
        abort();
    if (rc >= 0 && (tx_ans > ntx || tx_ans != bq->tx.req_cons - start))
        abort();
    if (rx_ans > nrx || (rc >= 0 && rx_ans != bq->rx.req_cons - start))
        abort();
    for (RING_IDX i = 0; i < rx_ans; i++) {
        /* a GSO extra overlays one response: its "status" is its features, 0 */
        const netif_rx_response_t *r = RING_GET_RESPONSE(&q->rx, start + i);
        if (r->status > 0 && r->offset + r->status > (int)NET_PAGE_SIZE)
            abort();
    }
    nx_close(&h);
    if (h.live_maps || h.ring_maps)
        abort();
    return 0;
}
