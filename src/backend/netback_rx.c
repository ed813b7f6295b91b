/* Guest receive: packets from the tap into the pages the frontend posted
 * (rx-copy). The next posted requests are copied out of the ring and their
 * pages mapped ahead (the window), so that, when enough are posted for any
 * packet, the tap is read straight into those pages: one copy, by the
 * kernel. Otherwise a packet is read into rxbuf and waits there until enough
 * requests are posted for its slots (the tap is not read meanwhile), then is
 * copied into their pages. */
#include "backend/netback_offload.h"
#include "backend/netback_queue.h"
#include "common/log.h"
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define VH sizeof(struct virtio_net_hdr)

/* ---- the window of posted requests, from rx.req_cons on ---- */

/* Copies and maps posted requests into the window, up to NET_RX_MAX_SLOTS.
 * A request whose grant cannot be mapped keeps a NULL page: the packet that
 * gets it is answered with an error. */
static void window_fill(struct netq *q, RING_IDX prod)
{
    const struct gnt_env *env = &q->nb->env;
    unsigned avail = prod - q->rx.req_cons, first = q->rxw_n;
    if (avail > NET_RX_MAX_SLOTS)
        avail = NET_RX_MAX_SLOTS;
    if (avail <= first)
        return;
    grant_ref_t refs[NET_RX_MAX_SLOTS];
    for (unsigned i = first; i < avail; i++) {
        RING_COPY_REQUEST(&q->rx, q->rx.req_cons + i, &q->rxw_req[i]);
        refs[i] = q->rxw_req[i].gref;
    }
    if (env->map(env->opaque, refs + first, avail - first, false, q->rxw_page + first) != GNTST_okay)
        for (unsigned i = first; i < avail; i++)      /* find the bad ones */
            if (env->map(env->opaque, &refs[i], 1, false, &q->rxw_page[i]) != GNTST_okay)
                q->rxw_page[i] = NULL;
    q->rxw_n = avail;
}

/* The first n requests of the window are answered: unmap them, move on. */
static void window_consume(struct netq *q, unsigned n)
{
    const struct gnt_env *env = &q->nb->env;
    grant_ref_t refs[NET_RX_MAX_SLOTS];
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        if (q->rxw_page[i])
            refs[k++] = q->rxw_req[i].gref;
    if (k)
        env->unmap(env->opaque, refs, k, false);
    memmove(q->rxw_req, q->rxw_req + n, (q->rxw_n - n) * sizeof(q->rxw_req[0]));
    memmove(q->rxw_page, q->rxw_page + n, (q->rxw_n - n) * sizeof(q->rxw_page[0]));
    q->rxw_n -= n;
    q->rx.req_cons += n;
}

void netq_rx_fini(struct netq *q)
{
    if (q->rxw_n)
        window_consume(q, q->rxw_n);
}

void netq_rx_release(struct netq *q)
{
    RING_IDX cons = q->rx.req_cons;
    if (q->rxw_n)
        window_consume(q, q->rxw_n);
    q->rx.req_cons = cons;
}

/* True if n requests are in the window; if not, asks for a kick when more come. */
static bool slots_available(struct netq *q, unsigned n)
{
    for (int pass = 0; pass < 2; pass++) {
        RING_IDX prod = __atomic_load_n(&q->rx.sring->req_prod, __ATOMIC_ACQUIRE);
        if (RING_REQUEST_PROD_OVERFLOW(&q->rx, prod)) {
            netq_fatal(q, "rx req_prod beyond the ring");
            return false;
        }
        window_fill(q, prod);
        if (q->rxw_n >= n)
            return true;
        if (pass == 0) {
            q->rx.sring->req_event = prod + 1;
            xen_mb();
        }
    }
    return false;
}

/* ---- delivery ---- */

/* Writes the responses of one packet into the slots its requests came from:
 * data slot 0, the GSO extra (if any) in slot 1, the other data slots after. */
static void respond(struct netq *q, unsigned nslots, size_t len, uint16_t flags,
                    const netif_extra_info_t *gso, bool ok)
{
    const netif_rx_request_t *req = q->rxw_req;
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
    struct net_stats *st = &q->nb->stats;
    if (ok) {
        st->rx_packets++;
        st->rx_bytes += len;
    } else {
        st->rx_dropped++;
    }
    window_consume(q, nslots);
}

/* The window slot of data page j of a packet (slot 1 holds the GSO extra). */
static unsigned data_slot(unsigned j, bool has_gso)
{
    return j ? j + has_gso : 0;
}

/* Delivers (or drops) the packet in rxbuf; false while it waits for slots. */
static bool deliver(struct netq *q)
{
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
        q->nb->stats.rx_dropped++;
        q->rx_pending = false;
        return true;
    }
    unsigned nslots = nd + has_gso;
    if (!slots_available(q, nslots))
        return false;
    bool ok = true;
    for (unsigned j = 0; j < nd; j++)
        ok = ok && q->rxw_page[data_slot(j, has_gso)];
    for (unsigned j = 0; ok && j < nd; j++) {
        size_t off = (size_t)j * NET_PAGE_SIZE;
        size_t chunk = len - off < NET_PAGE_SIZE ? len - off : NET_PAGE_SIZE;
        memcpy(q->rxw_page[data_slot(j, has_gso)], pkt + off, chunk);
    }
    respond(q, nslots, len, flags, has_gso ? &gso : NULL, ok);
    q->rx_pending = false;
    return true;
}

/* One tap read (into iov) of a whole packet. Returns its length past the
 * virtio_net_hdr, 0 when there is none, or -1 after dropping a bad one. */
static ssize_t tap_read(struct netq *q, const struct iovec *iov, int n)
{
    for (;;) {
        ssize_t got = readv(q->tap_fd, iov, n);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN) {
                log_debug("netback: queue %u: tap read: %s", q->idx, strerror(errno));
                q->tap_error = true;
            }
            return 0;
        }
        if (got == 0) {
            q->tap_eof = true;
            return 0;
        }
        if ((size_t)got < VH || (size_t)got >= VH + NET_RX_BUF) {   /* short, or maybe truncated */
            q->nb->stats.rx_dropped++;
            return -1;
        }
        return got - (ssize_t)VH;
    }
}

/* Reads the next packet from the tap into rxbuf; false when there is none. */
static bool read_packet(struct netq *q)
{
    struct iovec iov = { q->rxbuf, VH + NET_RX_BUF };
    ssize_t len;
    while ((len = tap_read(q, &iov, 1)) < 0)
        ;
    if (!len)
        return false;
    q->rx_len = (size_t)len;
    q->rx_pending = true;
    return true;
}

/* Reads the next packet straight into the window's pages, laid out as a GSO
 * packet's (data page j >= 1 in slot j + 1), and answers it. Returns 1 (a
 * packet was taken), 0 (none there) or -1 (not now: too few requests posted,
 * or the frontend cannot take several slots: read_packet instead). */
static int read_direct(struct netq *q)
{
    if (!q->nb->feat.sg || !slots_available(q, NET_RX_MAX_SLOTS))
        return -1;
    struct virtio_net_hdr vh;
    uint8_t *dst[NET_RX_MAX_SLOTS];      /* where data page j is read to */
    struct iovec iov[NET_RX_MAX_SLOTS];
    int n = 0;
    iov[n++] = (struct iovec){ &vh, VH };
    size_t room = NET_RX_BUF;
    for (unsigned j = 0; room; j++) {
        void *page = q->rxw_page[data_slot(j, true)];
        size_t chunk = room < NET_PAGE_SIZE ? room : NET_PAGE_SIZE;
        dst[j] = page ? page : q->rxbuf + VH + (size_t)j * NET_PAGE_SIZE;
        /* Pages that follow each other in memory take one iovec: the tap's
         * copy runs across them in one piece. */
        struct iovec *last = &iov[n - 1];
        if (n > 1 && (uint8_t *)last->iov_base + last->iov_len == dst[j])
            last->iov_len += chunk;
        else
            iov[n++] = (struct iovec){ dst[j], chunk };
        room -= chunk;
    }
    ssize_t got;
    while ((got = tap_read(q, iov, n)) < 0)
        ;
    if (!got)
        return 0;
    size_t len = (size_t)got;
    unsigned nd = (unsigned)((len + NET_PAGE_SIZE - 1) / NET_PAGE_SIZE);
    uint16_t flags;
    netif_extra_info_t gso;
    bool has_gso, mapped = true;
    for (unsigned s = 0; s <= nd; s++)   /* the data's slots either way it turns out */
        mapped = mapped && q->rxw_page[s];
    int rc = len < NET_ETH_HLEN ? -EPROTO
           : net_rx_offload_head(dst[0], len < NET_PAGE_SIZE ? len : NET_PAGE_SIZE, len,
                                 &vh, &q->nb->feat, &flags, &gso, &has_gso);
    if (rc == -EPROTO) {
        q->nb->stats.rx_dropped++;
        return 1;
    }
    if (rc == -ENODATA || !mapped) {
        /* A checksum to complete in software, or a page that could not be
         * mapped: the packet goes the copying way, from rxbuf. */
        memcpy(q->rxbuf, &vh, VH);
        for (unsigned j = 0; j < nd; j++) {
            size_t off = (size_t)j * NET_PAGE_SIZE;
            size_t chunk = len - off < NET_PAGE_SIZE ? len - off : NET_PAGE_SIZE;
            if (dst[j] != q->rxbuf + VH + off)
                memcpy(q->rxbuf + VH + off, dst[j], chunk);
        }
        q->rx_len = len;
        q->rx_pending = true;
        return deliver(q) ? 1 : 0;
    }
    if (!has_gso)        /* not GSO after all: data page j belongs in slot j */
        for (unsigned j = 1; j < nd; j++) {
            size_t chunk = len - (size_t)j * NET_PAGE_SIZE;
            memmove(q->rxw_page[j], q->rxw_page[j + 1], chunk < NET_PAGE_SIZE ? chunk : NET_PAGE_SIZE);
        }
    respond(q, nd + has_gso, len, flags, has_gso ? &gso : NULL, true);
    return 1;
}

/* Publishes the responses written so far; notifies if the frontend asked to
 * be (rsp_event). */
static void push_responses(struct netq *q)
{
    if (!q->rx_notify)
        return;
    q->rx_notify = false;
    int notify;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->rx, notify);
    if (notify)
        q->nb->env.notify(q->nb->env.opaque, 2 * q->idx + 1);
}

int netq_rx(struct netq *q)
{
    int moved = 0;
    RING_IDX pushed = q->rx.rsp_prod_pvt;
    while (!q->broken && moved < NET_BUDGET) {
        /* Half the ring answered: the frontend re-posts those requests
         * while the rest are filled, instead of after we ran out. */
        if (q->rx.rsp_prod_pvt - pushed >= NET_RX_PUSH_SLOTS) {
            pushed = q->rx.rsp_prod_pvt;
            push_responses(q);
        }
        if (!q->rx_pending) {
            if (q->tap_eof)
                break;
            int r = read_direct(q);
            if (r > 0) {
                moved++;
                continue;
            }
            if (r == 0 || q->broken || !read_packet(q))
                break;
        }
        if (!deliver(q))
            break;
        moved++;
    }
    push_responses(q);
    return moved;
}
