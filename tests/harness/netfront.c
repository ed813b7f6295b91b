/* Netfront harness: guest memory, tx/rx rings, packets both ways, and the
 * host side (a tap with an AF_PACKET socket, or socketpairs). */
#include "harness/netfront.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PG NET_PAGE_SIZE
#define VH sizeof(struct virtio_net_hdr)

void nx_env_init(struct nx *h);

static const uint8_t host_mac[6] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };

uint8_t *nx_frame(struct nx *h, unsigned frame)
{
    return h->mem + (size_t)frame * PG;
}

grant_ref_t nx_grant(struct nx *h, unsigned frame, bool readonly)
{
    pthread_mutex_lock(&h->lock);
    grant_ref_t ref = h->next_ref;
    unsigned n = 0;
    for (; n < NX_MAX_GRANTS && h->gnt[ref].used; n++)
        ref = ref + 1 < NX_MAX_GRANTS ? ref + 1 : NX_FIRST_REF;
    if (n == NX_MAX_GRANTS || frame >= h->frames) {
        pthread_mutex_unlock(&h->lock);
        return NX_REF_INVALID;
    }
    h->gnt[ref] = (struct nx_grant){ .frame = frame, .used = true, .ro = readonly };
    h->next_ref = ref + 1 < NX_MAX_GRANTS ? ref + 1 : NX_FIRST_REF;
    pthread_mutex_unlock(&h->lock);
    return ref;
}

void nx_ungrant(struct nx *h, grant_ref_t ref)
{
    pthread_mutex_lock(&h->lock);
    if (ref < NX_MAX_GRANTS)
        h->gnt[ref].used = false;
    pthread_mutex_unlock(&h->lock);
}

void nx_tap_name(char *buf, size_t len)
{
    static unsigned n;
    snprintf(buf, len, "xkt%dn%u", (int)getpid(), __atomic_fetch_add(&n, 1, __ATOMIC_RELAXED));
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- set-up ---- */

static int map_memory(struct nx *h, char *err, size_t errlen)
{
    size_t len = (size_t)h->frames * PG;
    h->memfd = memfd_create("nx-guest", MFD_CLOEXEC);
    if (h->memfd < 0 || ftruncate(h->memfd, len) < 0) {
        snprintf(err, errlen, "memfd: %s", strerror(errno));
        return -errno;
    }
    h->mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, h->memfd, 0);
    h->bview = h->cfg.guard ? mmap(NULL, len, PROT_NONE, MAP_SHARED, h->memfd, 0) : h->mem;
    if (h->mem == MAP_FAILED || h->bview == MAP_FAILED) {
        snprintf(err, errlen, "mmap: %s", strerror(errno));
        return -errno;
    }
    h->map_ro = calloc(h->frames, sizeof(*h->map_ro));
    h->map_rw = calloc(h->frames, sizeof(*h->map_rw));
    return h->map_ro && h->map_rw ? 0 : -ENOMEM;
}

static void setup_queue(struct nx *h, unsigned i)
{
    struct nx_queue *q = &h->q[i];
    unsigned base = i * NX_QUEUE_FRAMES;
    q->tx_ring_ref = nx_grant(h, base, false);
    q->rx_ring_ref = nx_grant(h, base + 1, false);
    netif_tx_sring_t *txs = (netif_tx_sring_t *)nx_frame(h, base);
    netif_rx_sring_t *rxs = (netif_rx_sring_t *)nx_frame(h, base + 1);
    SHARED_RING_INIT(txs);
    SHARED_RING_INIT(rxs);
    FRONT_RING_INIT(&q->tx, txs, PG);
    FRONT_RING_INIT(&q->rx, rxs, PG);
    q->tx_frame0 = base + 2;
    q->rx_frame0 = base + 2 + NET_TX_RING_SIZE;
    for (unsigned s = 0; s < NET_TX_RING_SIZE; s++)
        q->tx_ref[s] = nx_grant(h, q->tx_frame0 + s, true);
    for (unsigned s = 0; s < NET_RX_RING_SIZE; s++)
        q->rx_ref[s] = nx_grant(h, q->rx_frame0 + s, false);
}

static void big_buffers(int fd)
{
    int sz = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
}

static int open_host_side(struct nx *h, char *err, size_t errlen)
{
    unsigned n = h->cfg.nr_queues;
    if (!h->cfg.tap) {
        for (unsigned i = 0; i < n; i++) {
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                snprintf(err, errlen, "socketpair: %s", strerror(errno));
                return -errno;
            }
            fcntl(sv[0], F_SETFL, O_NONBLOCK);
            big_buffers(sv[0]);
            big_buffers(sv[1]);
            h->q[i].be_fd = sv[0];
            h->q[i].host_fd = sv[1];
        }
        return 0;
    }
    if (net_tap_open(h->cfg.tap, n, h->cfg.mtu, h->cfg.bridge, h->tap_fd, err, errlen) < 0)
        return -EIO;
    for (unsigned i = 0; i < n; i++)
        h->q[i].be_fd = h->tap_fd[i];
    /* None of the kernel's own chatter (MLD reports, router solicitations)
     * on the tap: net_tap_open brought the link up, so IPv6 goes off now and
     * whatever it sent meanwhile is drained before the backend reads, or a
     * test that expects no frame could get one. */
    char path[128];
    snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", h->cfg.tap);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (write(fd, "1", 1) < 0) { /* no IPv6 here: no chatter either */ }
        close(fd);
    }
    /* What the kernel sent between bringing the tap up and IPv6 going off (an
     * MLD report) is already queued on it: dropped, so that a test sees only
     * its own frames (frames still in the tap's qdisc land in its queues
     * first). */
    usleep(20000);
    static uint8_t junk[65536 + 64];
    for (unsigned i = 0; i < n; i++)
        while (read(h->tap_fd[i], junk, sizeof(junk)) > 0) { }
    h->ifindex = (int)if_nametoindex(h->cfg.tap);
    h->pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    int one = 1;
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                               .sll_ifindex = h->ifindex };
    if (h->pkt_fd < 0 || !h->ifindex
        || setsockopt(h->pkt_fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0
        || setsockopt(h->pkt_fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0
        || bind(h->pkt_fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        snprintf(err, errlen, "AF_PACKET socket on %s: %s", h->cfg.tap, strerror(errno));
        return -errno;
    }
    big_buffers(h->pkt_fd);
    return 0;
}

int nx_open(struct nx *h, const struct nx_config *cfg, char *err, size_t errlen)
{
    memset(h, 0, sizeof(*h));
    h->cfg = *cfg;
    if (!h->cfg.nr_queues)
        h->cfg.nr_queues = 1;
    if (!h->cfg.custom_feat)
        h->cfg.feat = (struct net_features){ .rx_copy = true, .rx_notify = true, .sg = true,
            .gso_tcpv4 = true, .gso_tcpv6 = true, .csum = true, .ipv6_csum = true };
    cfg = &h->cfg;
    h->memfd = h->pkt_fd = -1;
    h->mem = h->bview = MAP_FAILED;
    h->next_ref = NX_FIRST_REF;
    pthread_mutex_init(&h->lock, NULL);
    for (unsigned i = 0; i < NET_MAX_QUEUES; i++) {
        h->tap_fd[i] = -1;
        h->q[i].notify_fd[0] = h->q[i].notify_fd[1] = h->q[i].host_fd = h->q[i].be_fd = -1;
    }
    if (cfg->nr_queues > NET_MAX_QUEUES) {
        snprintf(err, errlen, "%u queues", cfg->nr_queues);
        return -EINVAL;
    }
    h->frames = cfg->nr_queues * NX_QUEUE_FRAMES + NX_SCRATCH_FRAMES;
    h->scratch0 = cfg->nr_queues * NX_QUEUE_FRAMES;
    int rc = map_memory(h, err, errlen);
    if (rc)
        goto fail;
    struct netback_queue_refs refs[NET_MAX_QUEUES];
    int fds[NET_MAX_QUEUES];
    for (unsigned i = 0; i < cfg->nr_queues; i++) {
        setup_queue(h, i);
        struct nx_queue *q = &h->q[i];
        q->notify_fd[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        q->notify_fd[1] = cfg->split ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : q->notify_fd[0];
        refs[i] = (struct netback_queue_refs){ q->tx_ring_ref, q->rx_ring_ref };
    }
    if ((rc = open_host_side(h, err, errlen)))
        goto fail;
    for (unsigned i = 0; i < cfg->nr_queues; i++)
        fds[i] = h->q[i].be_fd;
    nx_env_init(h);
    netback_init(&h->nb, &h->env);
    rc = netback_connect(&h->nb, cfg->nr_queues, refs, fds, &cfg->feat, cfg->threaded, err, errlen);
    if (rc)
        goto fail;
    h->connected = true;
    return 0;
fail:
    nx_close(h);
    return rc;
}

void nx_disconnect(struct nx *h)
{
    if (h->connected)
        netback_disconnect(&h->nb);
    h->connected = false;
}

void nx_close(struct nx *h)
{
    nx_disconnect(h);
    for (unsigned i = 0; i < NET_MAX_QUEUES; i++) {
        struct nx_queue *q = &h->q[i];
        if (q->notify_fd[1] >= 0 && q->notify_fd[1] != q->notify_fd[0])
            close(q->notify_fd[1]);
        if (q->notify_fd[0] >= 0)
            close(q->notify_fd[0]);
        if (q->host_fd >= 0)
            close(q->host_fd);
        if (!h->cfg.tap && q->be_fd >= 0)
            close(q->be_fd);
        q->notify_fd[0] = q->notify_fd[1] = q->host_fd = q->be_fd = -1;
    }
    net_tap_close(h->tap_fd, NET_MAX_QUEUES);
    if (h->pkt_fd >= 0)
        close(h->pkt_fd);
    h->pkt_fd = -1;
    size_t len = (size_t)h->frames * PG;
    if (h->bview != MAP_FAILED && h->bview != h->mem)
        munmap(h->bview, len);
    if (h->mem != MAP_FAILED)
        munmap(h->mem, len);
    h->mem = h->bview = MAP_FAILED;
    if (h->memfd >= 0)
        close(h->memfd);
    h->memfd = -1;
    free(h->map_ro);
    free(h->map_rw);
    h->map_ro = h->map_rw = NULL;
    pthread_mutex_destroy(&h->lock);
}

/* ---- waiting ---- */

/* Waits for a notification on fd or runs the unthreaded backend; false once
 * the deadline has passed. */
static bool wait_step(struct nx *h, unsigned q, int fd, double deadline)
{
    double left = deadline - now_ms();
    if (left <= 0)
        return false;
    if (!h->cfg.threaded && h->connected)
        netback_poll(&h->nb, q);
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int slice = h->cfg.threaded ? 10 : 1;
    if (poll(&p, 1, left < slice ? (int)left + 1 : slice) > 0) {
        uint64_t v;
        if (read(fd, &v, sizeof(v)) < 0) { /* raced: recheck */ }
    }
    return true;
}

/* ---- tx ---- */

netif_tx_request_t *nx_tx_req(struct nx *h, unsigned q)
{
    struct nx_queue *hq = &h->q[q];
    netif_tx_request_t *r = RING_GET_REQUEST(&hq->tx, hq->tx.req_prod_pvt);
    hq->tx.req_prod_pvt++;
    memset(r, 0, sizeof(*r));
    return r;
}

/* The request at ring index i; its data goes on that slot's own page. */
static netif_tx_request_t *tx_slot(struct nx_queue *q, RING_IDX i, grant_ref_t *ref)
{
    *ref = q->tx_ref[i % NET_TX_RING_SIZE];
    return RING_GET_REQUEST(&q->tx, i);
}

int nx_send(struct nx *h, unsigned q, const void *frame, size_t len, const struct nx_txopt *opt)
{
    static const struct nx_txopt none;
    struct nx_queue *hq = &h->q[q];
    const uint8_t *src = frame;
    if (!opt)
        opt = &none;
    unsigned slot = opt->slot_size && opt->slot_size < PG ? opt->slot_size : PG;
    size_t first = len;
    if (first > slot)
        first = slot;
    if (first > PG - opt->offset)
        first = PG - opt->offset;
    unsigned nslots = 1 + (unsigned)((len - first + slot - 1) / slot);
    unsigned need = nslots + (opt->gso_type ? 1 : 0);
    if (RING_FREE_REQUESTS(&hq->tx) < need || len > NET_MAX_PACKET)
        return -1;
    RING_IDX i = hq->tx.req_prod_pvt;
    grant_ref_t ref;
    netif_tx_request_t *r = tx_slot(hq, i, &ref);
    int id = (int)(i % NET_TX_RING_SIZE);
    *r = (netif_tx_request_t){ .gref = ref, .offset = (uint16_t)opt->offset, .id = (uint16_t)id,
        .size = (uint16_t)len,
        .flags = (uint16_t)(opt->flags | (nslots > 1 ? NETTXF_more_data : 0)
                            | (opt->gso_type ? NETTXF_extra_info : 0)) };
    memcpy(nx_frame(h, hq->tx_frame0 + i % NET_TX_RING_SIZE) + opt->offset, src, first);
    i++;
    if (opt->gso_type) {
        netif_extra_info_t *x = (netif_extra_info_t *)RING_GET_REQUEST(&hq->tx, i);
        memset(x, 0, sizeof(netif_tx_request_t));
        x->type = XEN_NETIF_EXTRA_TYPE_GSO;
        x->u.gso.type = opt->gso_type;
        x->u.gso.size = opt->gso_size;
        i++;
    }
    size_t off = first;
    for (unsigned k = 1; k < nslots; k++, i++) {
        size_t n = len - off < slot ? len - off : slot;
        r = tx_slot(hq, i, &ref);
        *r = (netif_tx_request_t){ .gref = ref, .id = (uint16_t)(i % NET_TX_RING_SIZE),
            .size = (uint16_t)n, .flags = k + 1 < nslots ? NETTXF_more_data : 0 };
        memcpy(nx_frame(h, hq->tx_frame0 + i % NET_TX_RING_SIZE), src + off, n);
        off += n;
    }
    hq->tx.req_prod_pvt = i;
    return id;
}

void nx_tx_push(struct nx *h, unsigned q)
{
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&h->q[q].tx, notify);
    if (!h->connected)
        return;
    if (!h->cfg.threaded)
        netback_poll(&h->nb, q);
    else if (notify)
        netback_kick(&h->nb, q);
}

int nx_tx_rsp(struct nx *h, unsigned q, netif_tx_response_t *out, int timeout_ms)
{
    struct nx_queue *hq = &h->q[q];
    double deadline = now_ms() + timeout_ms;
    for (;;) {
        int more;
        RING_FINAL_CHECK_FOR_RESPONSES(&hq->tx, more);
        if (more) {
            RING_COPY_RESPONSE(&hq->tx, hq->tx.rsp_cons, out);
            hq->tx.rsp_cons++;
            return 0;
        }
        if (!wait_step(h, q, hq->notify_fd[0], deadline))
            return -ETIMEDOUT;
    }
}

int16_t nx_xmit(struct nx *h, unsigned q, const void *frame, size_t len, const struct nx_txopt *opt)
{
    RING_IDX before = h->q[q].tx.req_prod_pvt;
    int id = nx_send(h, q, frame, len, opt);
    if (id < 0)
        return 98;
    unsigned n = h->q[q].tx.req_prod_pvt - before;
    nx_tx_push(h, q);
    int16_t st = 99;
    for (unsigned i = 0; i < n; i++) {
        netif_tx_response_t r;
        if (nx_tx_rsp(h, q, &r, 5000) < 0)
            return 99;
        if (i == 0)
            st = r.id == id ? r.status : 97;
    }
    return st;
}

/* ---- rx ---- */

netif_rx_request_t *nx_rx_req(struct nx *h, unsigned q)
{
    struct nx_queue *hq = &h->q[q];
    netif_rx_request_t *r = RING_GET_REQUEST(&hq->rx, hq->rx.req_prod_pvt);
    hq->rx.req_prod_pvt++;
    memset(r, 0, sizeof(*r));
    return r;
}

void nx_rx_push(struct nx *h, unsigned q)
{
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&h->q[q].rx, notify);
    if (!h->connected)
        return;
    if (!h->cfg.threaded)
        netback_poll(&h->nb, q);
    else if (notify)
        netback_kick(&h->nb, q);
}

void nx_rx_post(struct nx *h, unsigned q, unsigned n)
{
    struct nx_queue *hq = &h->q[q];
    for (unsigned k = 0; k < n; k++) {
        RING_IDX i = hq->rx.req_prod_pvt++;
        netif_rx_request_t *r = RING_GET_REQUEST(&hq->rx, i);
        r->id = (uint16_t)(i % NET_RX_RING_SIZE);
        r->pad = 0;
        r->gref = hq->rx_ref[i % NET_RX_RING_SIZE];
    }
    nx_rx_push(h, q);
}

int nx_rx_rsp(struct nx *h, unsigned q, netif_rx_response_t *out, int timeout_ms)
{
    struct nx_queue *hq = &h->q[q];
    double deadline = now_ms() + timeout_ms;
    for (;;) {
        int more;
        RING_FINAL_CHECK_FOR_RESPONSES(&hq->rx, more);
        if (more) {
            RING_COPY_RESPONSE(&hq->rx, hq->rx.rsp_cons, out);
            hq->rx.rsp_cons++;
            return 0;
        }
        if (!wait_step(h, q, hq->notify_fd[1], deadline))
            return -ETIMEDOUT;
    }
}

/* Appends the data of the response at ring index i. */
static void rx_append(struct nx *h, struct nx_queue *hq, struct nx_pkt *p, RING_IDX i,
                      const netif_rx_response_t *r)
{
    if (r->status < 0) {
        if (p->status == NETIF_RSP_OKAY)
            p->status = r->status;
        return;
    }
    if (r->offset + (size_t)r->status > PG || p->len + (size_t)r->status > sizeof(p->data)) {
        p->status = -98;
        return;
    }
    memcpy(p->data + p->len, nx_frame(h, hq->rx_frame0 + i % NET_RX_RING_SIZE) + r->offset,
           (size_t)r->status);
    p->len += (size_t)r->status;
}

static int rx_one(struct nx *h, unsigned q, struct nx_pkt *p, int timeout_ms)
{
    struct nx_queue *hq = &h->q[q];
    netif_rx_response_t r;
    p->len = 0;
    p->status = NETIF_RSP_OKAY;
    p->has_gso = false;
    p->slots = 0;
    RING_IDX i = hq->rx.rsp_cons;
    if (nx_rx_rsp(h, q, &r, timeout_ms) < 0)
        return -ETIMEDOUT;
    p->slots = 1;
    p->flags = r.flags;
    rx_append(h, hq, p, i, &r);
    if (r.flags & NETRXF_extra_info) {
        netif_extra_info_t x;
        do {
            netif_rx_response_t raw;
            if (nx_rx_rsp(h, q, &raw, 1000) < 0)
                return -ETIMEDOUT;
            p->slots++;
            memcpy(&x, &raw, sizeof(x));
            if (x.type == XEN_NETIF_EXTRA_TYPE_GSO) {
                p->gso = x;
                p->has_gso = true;
            }
        } while (x.flags & XEN_NETIF_EXTRA_FLAG_MORE);
    }
    bool more = r.flags & NETRXF_more_data;
    while (more) {
        i = hq->rx.rsp_cons;
        if (nx_rx_rsp(h, q, &r, 1000) < 0)
            return -ETIMEDOUT;
        p->slots++;
        rx_append(h, hq, p, i, &r);
        more = r.flags & NETRXF_more_data;
    }
    return 0;
}

int nx_rx_recv(struct nx *h, unsigned q, struct nx_pkt *p, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    for (;;) {
        int left = (int)(deadline - now_ms());
        int rc = rx_one(h, q, p, left > 0 ? left : 0);
        if (rc)
            return rc;
        if (!h->cfg.no_refill)
            nx_rx_post(h, q, p->slots);
        if (h->cfg.tap && p->len >= 12 && !memcmp(p->data + 6, host_mac, 6))
            continue;         /* the kernel's own frame out of the tap */
        return 0;
    }
}

/* ---- host side ---- */

int nx_host_send(struct nx *h, unsigned q, const struct virtio_net_hdr *vh, const void *frame,
                 size_t len)
{
    struct virtio_net_hdr zero = { 0 };
    struct iovec iov[2] = { { (void *)(vh ? vh : &zero), VH }, { (void *)frame, len } };
    int fd = h->cfg.tap ? h->pkt_fd : h->q[q].host_fd;
    ssize_t n = writev(fd, iov, 2);
    return n == (ssize_t)(VH + len) ? 0 : n < 0 ? -errno : -EIO;
}

ssize_t nx_host_recv(struct nx *h, unsigned q, struct virtio_net_hdr *vh, void *buf, size_t cap,
                     int timeout_ms)
{
    int fd = h->cfg.tap ? h->pkt_fd : h->q[q].host_fd;
    double deadline = now_ms() + timeout_ms;
    for (;;) {
        double left = deadline - now_ms();
        if (!h->cfg.threaded && h->connected)
            for (unsigned i = 0; i < h->cfg.nr_queues; i++)
                netback_poll(&h->nb, i);
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int slice = h->cfg.threaded ? (left > 0 ? (int)left + 1 : 0) : 1;
        if (poll(&p, 1, slice) > 0) {
            struct virtio_net_hdr tmp;
            struct iovec iov[2] = { { vh ? vh : &tmp, VH }, { buf, cap } };
            ssize_t n = readv(fd, iov, 2);
            if (n < (ssize_t)VH)
                return n < 0 ? -errno : -EIO;
            if (h->cfg.tap && n >= (ssize_t)(VH + 12) && !memcmp((uint8_t *)buf + 6, host_mac, 6))
                continue;
            return n - (ssize_t)VH;
        }
        if (left <= 0)
            return -ETIMEDOUT;
    }
}
