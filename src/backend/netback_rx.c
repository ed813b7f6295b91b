/* Guest receive: one packet at a time from the tap, copied into the pages
 * the frontend posted (rx-copy). A packet waits in rxbuf until enough rx
 * requests are there for all its slots; the tap is not read meanwhile. */
#include "backend/netback_offload.h"
#include "backend/netback_queue.h"
#include "common/log.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

#define VH sizeof(struct virtio_net_hdr)

/* True if n rx requests are available; if not, asks for a kick when more come. */
static bool slots_available(struct netq *q, unsigned n)
{
    for (int pass = 0; pass < 2; pass++) {
        RING_IDX prod = __atomic_load_n(&q->rx.sring->req_prod, __ATOMIC_ACQUIRE);
        if (RING_REQUEST_PROD_OVERFLOW(&q->rx, prod)) {
            netq_fatal(q, "rx req_prod beyond the ring");
            return false;
        }
        if (prod - q->rx.req_cons >= n)
            return true;
        if (pass == 0) {
            q->rx.sring->req_event = prod + 1;
            xen_mb();
        }
    }
    return false;
}

/* Writes the responses of one packet into the slots its requests came from:
 * data slot 0, the GSO extra (if any) in slot 1, the other data slots after. */
static void respond(struct netq *q, const netif_rx_request_t *req, unsigned nslots, size_t len,
                    uint16_t flags, const netif_extra_info_t *gso, bool ok)
{
    unsigned nd = nslots - (gso != NULL);
    for (unsigned s = 0; s < nslots; s++) {
        netif_rx_response_t *r = RING_GET_RESPONSE(&q->rx, q->rx.rsp_prod_pvt + s);
        if (gso && s == 1) {
            memcpy(r, gso, sizeof(*gso));
            continue;
        }
        unsigned j = s ? s - (gso != NULL) : 0;
        size_t chunk = len - (size_t)j * NET_PAGE_SIZE;
        if (chunk > NET_PAGE_SIZE)
            chunk = NET_PAGE_SIZE;
        r->id = req[s].id;
        r->offset = 0;
        r->flags = (j == 0 ? flags | (gso ? NETRXF_extra_info : 0) : 0)
                 | (j + 1 < nd ? NETRXF_more_data : 0);
        r->status = ok ? (int16_t)chunk : NETIF_RSP_ERROR;
    }
    q->rx.rsp_prod_pvt += nslots;
    q->rx_notify = true;
}

/* Delivers (or drops) the pending packet; false while it waits for slots. */
static bool deliver(struct netq *q)
{
    struct net_stats *st = &q->nb->stats;
    const struct gnt_env *env = &q->nb->env;
    struct virtio_net_hdr vh;
    memcpy(&vh, q->rxbuf, VH);
    uint8_t *pkt = q->rxbuf + VH;
    size_t len = q->rx_len;
    uint16_t flags;
    netif_extra_info_t gso;
    bool has_gso;
    unsigned nd = (unsigned)((len + NET_PAGE_SIZE - 1) / NET_PAGE_SIZE);
    if (len < NET_ETH_HLEN || (nd > 1 && !q->nb->feat.sg)
        || net_rx_offload(pkt, len, &vh, &q->nb->feat, &flags, &gso, &has_gso)) {
        st->rx_dropped++;
        q->rx_pending = false;
        return true;
    }
    unsigned nslots = nd + has_gso;
    if (!slots_available(q, nslots))
        return false;
    netif_rx_request_t req[NET_RX_MAX_SLOTS];
    for (unsigned s = 0; s < nslots; s++)
        RING_COPY_REQUEST(&q->rx, q->rx.req_cons + s, &req[s]);
    q->rx.req_cons += nslots;
    grant_ref_t refs[NET_RX_MAX_SLOTS];
    void *pages[NET_RX_MAX_SLOTS];
    for (unsigned j = 0; j < nd; j++)
        refs[j] = req[j ? j + has_gso : 0].gref;
    bool ok = env->map(env->opaque, refs, nd, false, pages) == GNTST_okay;
    if (ok) {
        for (unsigned j = 0; j < nd; j++) {
            size_t off = (size_t)j * NET_PAGE_SIZE;
            size_t chunk = len - off < NET_PAGE_SIZE ? len - off : NET_PAGE_SIZE;
            memcpy(pages[j], pkt + off, chunk);
        }
        env->unmap(env->opaque, refs, nd, false);
        st->rx_packets++;
        st->rx_bytes += len;
    } else {
        st->rx_dropped++;
    }
    respond(q, req, nslots, len, flags, has_gso ? &gso : NULL, ok);
    q->rx_pending = false;
    return true;
}

/* Reads the next packet from the tap into rxbuf; false when there is none. */
static bool read_packet(struct netq *q)
{
    for (;;) {
        ssize_t n = read(q->tap_fd, q->rxbuf, VH + NET_RX_BUF);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN) {
                log_debug("netback: queue %u: tap read: %s", q->idx, strerror(errno));
                q->tap_error = true;
            }
            return false;
        }
        if (n == 0) {
            q->tap_eof = true;
            return false;
        }
        if ((size_t)n < VH || (size_t)n >= VH + NET_RX_BUF) {   /* short, or maybe truncated */
            q->nb->stats.rx_dropped++;
            continue;
        }
        q->rx_len = (size_t)n - VH;
        q->rx_pending = true;
        return true;
    }
}

int netq_rx(struct netq *q)
{
    int moved = 0;
    while (!q->broken && moved < NET_BUDGET) {
        if (!q->rx_pending && (q->tap_eof || !read_packet(q)))
            break;
        if (!deliver(q))
            break;
        moved++;
    }
    if (q->rx_notify) {
        q->rx_notify = false;
        int notify;
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->rx, notify);
        if (notify)
            q->nb->env.notify(q->nb->env.opaque, 2 * q->idx + 1);
    }
    return moved;
}
