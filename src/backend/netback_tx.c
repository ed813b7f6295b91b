/* Guest transmit: tx requests -> the tap. Requests are copied out of the
 * shared ring once (the window) and checked there; granted pages are mapped
 * read-only while a packet is sent. A packet's first bytes are copied, where
 * the headers that are checked and rewritten live; the tap gets those bytes
 * from the copy and the rest straight from the guest's pages (the tap copies
 * them; the guest changing them meanwhile only changes its own payload). */
#include "backend/netback_offload.h"
#include "backend/netback_queue.h"
#include "common/log.h"
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define VH sizeof(struct virtio_net_hdr)
#define TX_PULL 256        /* bytes copied to check the headers: enough for common ones */

static int fatal(struct net_tx_pkt *p, unsigned pos, const char *why)
{
    p->consumed = pos;
    p->why = why;
    return NET_TX_FATAL;
}

/* The extra-info slots after the first request; pos is where they start. */
static int parse_extras(const netif_tx_request_t *win, unsigned avail, unsigned *pos,
                        struct net_tx_pkt *p)
{
    const netif_extra_info_t *x;
    do {
        if (p->nr_extras == NET_MAX_EXTRAS)
            return fatal(p, *pos, "too many extra-info slots");
        if (*pos >= avail)
            return NET_TX_MORE;
        x = (const netif_extra_info_t *)&win[(*pos)++];
        p->nr_extras++;
        if (!x->type || x->type >= XEN_NETIF_EXTRA_TYPE_MAX)
            return fatal(p, *pos, "unknown extra-info type");
        if (x->type == XEN_NETIF_EXTRA_TYPE_GSO) {
            if (!x->u.gso.size)
                return fatal(p, *pos, "GSO size 0");
            if (x->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 && x->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6)
                return fatal(p, *pos, "unknown GSO type");
            p->gso = *x;
            p->has_gso = true;
        } else if (x->type == XEN_NETIF_EXTRA_TYPE_MCAST_ADD || x->type == XEN_NETIF_EXTRA_TYPE_MCAST_DEL) {
            p->mcast = true;
        }
    } while (x->flags & XEN_NETIF_EXTRA_FLAG_MORE);
    return 1;
}

int net_tx_parse(const netif_tx_request_t *win, unsigned avail, struct net_tx_pkt *p)
{
    memset(p, 0, sizeof(*p));
    if (!avail)
        return NET_TX_MORE;
    const netif_tx_request_t *first = &win[0];
    p->flags = first->flags;
    p->total = first->size;
    p->status = NETIF_RSP_OKAY;
    p->nr_data = 1;
    unsigned pos = 1;
    if (first->flags & NETTXF_extra_info) {
        int rc = parse_extras(win, avail, &pos, p);
        if (rc <= 0)
            return rc;
    }
    uint32_t left = first->size;     /* the first slot's size counts the whole packet */
    unsigned frags = 0;
    const char *drop = NULL;
    for (bool more = first->flags & NETTXF_more_data; more; frags++) {
        if (frags >= NET_FATAL_FRAGS)
            return fatal(p, pos, "too many slots in one packet");
        if (pos >= avail)
            return NET_TX_MORE;
        const netif_tx_request_t *f = &win[pos++];
        more = f->flags & NETTXF_more_data;
        if (!drop && frags >= NET_MAX_FRAGS)
            drop = "too many slots in one packet";
        if (!drop && f->size > left)
            drop = "fragment larger than the packet";
        if ((uint32_t)f->offset + f->size > NET_PAGE_SIZE)
            return fatal(p, pos, "fragment crosses a page boundary");
        if (drop)
            continue;
        left -= f->size;
        p->data_idx[p->nr_data] = pos - 1;
        p->size[p->nr_data++] = f->size;
    }
    p->consumed = pos;
    if (!drop && left < NET_ETH_HLEN)
        drop = "first slot shorter than an Ethernet header";
    if (!drop && (uint32_t)first->offset + left > NET_PAGE_SIZE)
        return fatal(p, pos, "first slot crosses a page boundary");
    if (drop) {
        p->status = NETIF_RSP_ERROR;
        p->why = drop;
    }
    p->size[0] = (uint16_t)left;
    return (int)pos;
}

/* Responses for n slots of a packet starting at win[0]: first, extras
 * (NETIF_RSP_NULL), fragments, in ring order. */
static void respond(struct netq *q, const netif_tx_request_t *win, unsigned n, unsigned extras,
                    int16_t status)
{
    for (unsigned i = 0; i < n; i++) {
        netif_tx_response_t *r = RING_GET_RESPONSE(&q->tx, q->tx.rsp_prod_pvt);
        q->tx.rsp_prod_pvt++;
        bool extra = i >= 1 && i <= extras;
        r->id = extra ? 0 : win[i].id;
        r->status = extra ? NETIF_RSP_NULL : status;
    }
    q->tx_notify = true;
}

static bool tap_writev(struct netq *q, const struct iovec *iov, int n, size_t len)
{
    for (int tries = 0; tries < 2; tries++) {
        if (writev(q->tap_fd, iov, n) == (ssize_t)len)
            return true;
        if (errno != EAGAIN && errno != ENOBUFS && errno != EINTR)
            break;
        struct pollfd p = { .fd = q->tap_fd, .events = POLLOUT };
        poll(&p, 1, 10);
    }
    return false;
}

/* Copies bytes [from, from + n) of the packet out of its mapped slots. */
static void gather(uint8_t *dst, const netif_tx_request_t *win, const struct net_tx_pkt *p,
                   void *const *pages, size_t from, size_t n)
{
    size_t at = 0;
    for (unsigned i = 0; i < p->nr_data && n; i++) {
        size_t sz = p->size[i];
        if (from < at + sz) {
            size_t skip = from - at, take = sz - skip < n ? sz - skip : n;
            memcpy(dst, (const uint8_t *)pages[i] + win[p->data_idx[i]].offset + skip, take);
            dst += take;
            from += take;
            n -= take;
        }
        at += sz;
    }
}

/* The packet as [virtio_net_hdr + its first priv bytes (private)] + the rest
 * from the slots; returns the iovec count. Slots that follow each other in
 * memory (a guest's contiguous pages) go as one iovec: the tap's copy then
 * runs across them in one piece. */
static int build_iov(struct iovec *iov, uint8_t *head, size_t priv, const netif_tx_request_t *win,
                     const struct net_tx_pkt *p, void *const *pages)
{
    int n = 0;
    iov[n++] = (struct iovec){ head, VH + priv };
    size_t at = 0;
    for (unsigned i = 0; i < p->nr_data; i++) {
        size_t sz = p->size[i];
        if (priv < at + sz) {
            size_t skip = priv > at ? priv - at : 0;
            uint8_t *base = (uint8_t *)pages[i] + win[p->data_idx[i]].offset + skip;
            struct iovec *last = &iov[n - 1];
            if (n > 1 && (uint8_t *)last->iov_base + last->iov_len == base)
                last->iov_len += sz - skip;
            else
                iov[n++] = (struct iovec){ base, sz - skip };
        }
        at += sz;
    }
    return n;
}

/* Sends a checked packet from its granted pages to the tap. */
static int16_t send_packet(struct netq *q, const netif_tx_request_t *win, const struct net_tx_pkt *p)
{
    const struct gnt_env *env = &q->nb->env;
    grant_ref_t refs[NET_MAX_FRAGS + 1];
    void *pages[NET_MAX_FRAGS + 1];
    size_t len = 0;
    for (unsigned i = 0; i < p->nr_data; i++) {
        refs[i] = win[p->data_idx[i]].gref;
        len += p->size[i];
    }
    if (env->map(env->opaque, refs, p->nr_data, true, pages) != GNTST_okay)
        return NETIF_RSP_ERROR;
    int16_t st = NETIF_RSP_OKAY;
    uint8_t *pkt = q->txbuf + VH;
    struct virtio_net_hdr vh;
    size_t pull = len > TX_PULL ? TX_PULL : len, used = 0;
    gather(pkt, win, p, pages, 0, pull);
    int rc = p->mcast ? 0 : net_tx_offload_head(pkt, pull, len, p->flags,
                                                p->has_gso ? &p->gso : NULL, &vh, &used);
    if (rc == -ENODATA) {               /* headers beyond the first bytes: copy it all */
        gather(pkt + pull, win, p, pages, pull, len - pull);
        pull = len;
        rc = net_tx_offload(pkt, len, p->flags, p->has_gso ? &p->gso : NULL, &vh);
    }
    if (p->mcast) {
        /* a multicast filter update, nothing to send */
    } else if (rc) {
        st = NETIF_RSP_ERROR;
    } else {
        memcpy(q->txbuf, &vh, VH);
        /* Of a packet not copied whole, only the bytes that were checked or
         * rewritten go from the private copy: the tap's linear part
         * (hdr_len) is then exactly that, and its page fragments are filled
         * from the guest's pages alone. */
        size_t priv = pull == len ? len : used;
        struct iovec iov[NET_MAX_FRAGS + 2];
        int n = build_iov(iov, q->txbuf, priv, win, p, pages);
        struct net_stats *stats = &q->nb->stats;
        if (!tap_writev(q, iov, n, VH + len)) {
            stats->tx_errors++;         /* the host side dropped it: like a full wire */
        } else {
            stats->tx_packets++;
            stats->tx_bytes += len;
        }
    }
    env->unmap(env->opaque, refs, p->nr_data, true);
    return st;
}

/* Publishes the responses written so far; notifies if the frontend asked to
 * be (rsp_event). */
static void push_responses(struct netq *q)
{
    if (!q->tx_notify)
        return;
    q->tx_notify = false;
    int notify;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->tx, notify);
    if (notify)
        q->nb->env.notify(q->nb->env.opaque, 2 * q->idx);
}

/* Takes the packets of the current window; false once the queue is broken. */
static int take_window(struct netq *q, RING_IDX prod, int *moved)
{
    RING_IDX cons = q->tx.req_cons;
    unsigned avail = prod - cons;
    for (unsigned i = 0; i < avail; i++)
        RING_COPY_REQUEST(&q->tx, cons + i, &q->txwin[i]);
    unsigned pos = 0, pushed = 0;
    while (pos < avail && *moved < NET_BUDGET) {
        struct net_tx_pkt p;
        const netif_tx_request_t *w = q->txwin + pos;
        int n = net_tx_parse(w, avail - pos, &p);
        if (n == NET_TX_MORE)
            break;
        if (n == NET_TX_FATAL) {
            respond(q, w, p.consumed, p.nr_extras, NETIF_RSP_ERROR);
            q->tx.req_cons += pos + p.consumed;
            q->nb->stats.tx_errors++;
            netq_fatal(q, p.why);
            return -1;
        }
        int16_t st = p.status;
        if (st == NETIF_RSP_OKAY)
            st = send_packet(q, w, &p);
        else
            log_debug("netback: queue %u: tx packet dropped: %s", q->idx, p.why);
        if (st != NETIF_RSP_OKAY)
            q->nb->stats.tx_errors++;
        respond(q, w, (unsigned)n, p.nr_extras, st);
        pos += (unsigned)n;
        (*moved)++;
        /* Half the ring answered: let the frontend refill it while the rest
         * is sent, rather than after the whole window. Not more often: each
         * push may notify, and a notification wakes the guest, which on a
         * busy host takes this thread's CPU (two context switches). */
        if (pos - pushed >= NET_TX_PUSH_SLOTS) {
            pushed = pos;
            push_responses(q);
        }
    }
    q->tx.req_cons += pos;
    return 0;
}

int netq_tx(struct netq *q)
{
    int moved = 0;
    while (!q->broken) {
        RING_IDX prod = __atomic_load_n(&q->tx.sring->req_prod, __ATOMIC_ACQUIRE);
        if (RING_REQUEST_PROD_OVERFLOW(&q->tx, prod)) {
            netq_fatal(q, "tx req_prod beyond the ring");
            break;
        }
        if (take_window(q, prod, &moved) < 0 || moved >= NET_BUDGET)
            break;
        /* Ask for a kick at the next request published (past an incomplete
         * packet too), then look again in case it raced with us. */
        q->tx.sring->req_event = prod + 1;
        xen_mb();
        if (__atomic_load_n(&q->tx.sring->req_prod, __ATOMIC_ACQUIRE) == prod)
            break;
    }
    push_responses(q);
    return moved;
}
