/* net-harness: netback's throughput through the netfront harness on a real
 * tap, and the floor of the same frames on a bare tap fd, for
 * bench/net/run.sh.
 *   net-harness bench netback|tap|tap-ring|tap-guest tx|rx SIZE SECONDS
 * tap: the floor from (or into) one buffer; tap-ring: from as many buffers,
 * in turn, as packets the guest's ring holds (the memory netback goes
 * through); tap-guest: from (into) the pages of a guest's ring as the
 * harness's frontend lays a packet out in them, with the very iovecs
 * netback's tap writes (reads) have (the vnet header, and the headers
 * netback checks, from a private buffer; the rest from the pages, slots
 * next to each other in memory as one iovec): only netback's own work
 * (rings, grants, checks, wake-ups) is missing.
 * SIZE: frame bytes; above 1514 the frames are TCP/IPv4 GSO packets (MSS
 * 1448). tx: the guest (or a writer on the bare tap) sends; rx: frames are
 * injected into the tap through an AF_PACKET socket and the guest (or a
 * reader on the bare tap) receives. Prints "pps N MBps M". Needs root. */
#include "backend/netback_queue.h"
#include "harness/netfront.h"
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define VH sizeof(struct virtio_net_hdr)
#define MSS 1448
#define BATCH 32

static uint8_t frame[NET_MAX_PACKET];
static struct virtio_net_hdr fvh;
static size_t flen;
static volatile bool stop;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* An Ethernet frame to the guest's MAC; above 1514 bytes a TCP/IPv4 GSO
 * packet with a partial checksum (the pseudo-header sum left at 0: no one
 * checks it on these paths). */
static void make_frame(size_t len)
{
    static const uint8_t hdr[14] = { 0x00, 0x16, 0x3e, 0x12, 0x34, 0x56,
                                     0x00, 0x16, 0x3e, 0x65, 0x43, 0x21, 0x08, 0x00 };
    flen = len;
    for (size_t i = 0; i < len; i++)
        frame[i] = (uint8_t)(i * 7);
    memcpy(frame, hdr, 14);
    uint8_t *ip = frame + 14, *tcp = ip + 20;
    memset(ip, 0, 40);
    ip[0] = 0x45;
    put16(ip + 2, (unsigned)(len - 14));
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    put16(tcp, 40000);
    put16(tcp + 2, 5001);
    tcp[12] = 5 << 4;
    memset(&fvh, 0, sizeof(fvh));
    if (len > 1514)
        fvh = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
            .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .hdr_len = 54, .gso_size = MSS,
            .csum_start = 34, .csum_offset = 16 };
}

/* ---- rx injection: AF_PACKET into the tap, BATCH frames per sendmmsg ---- */

struct inject { int ifindex; uint64_t sent; };

static void *injector(void *arg)
{
    struct inject *in = arg;
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    int one = 1;
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                               .sll_ifindex = in->ifindex };
    if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0
        || setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0
        || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        perror("net-harness: AF_PACKET");
        exit(1);
    }
    struct iovec iov[BATCH][2];
    struct mmsghdr m[BATCH];
    memset(m, 0, sizeof(m));
    for (int i = 0; i < BATCH; i++) {
        iov[i][0] = (struct iovec){ &fvh, VH };
        iov[i][1] = (struct iovec){ frame, flen };
        m[i].msg_hdr.msg_iov = iov[i];
        m[i].msg_hdr.msg_iovlen = 2;
    }
    while (!stop) {
        int n = sendmmsg(fd, m, BATCH, 0);
        if (n > 0)
            in->sent += (uint64_t)n;
        else if (errno != ENOBUFS && errno != EAGAIN)
            break;
    }
    close(fd);
    return NULL;
}

/* ---- the bare tap floor ---- */

/* The guest's ring memory for the tap-guest floor: NET_TX_RING_SIZE
 * (NET_RX_RING_SIZE) pages of a memfd, as the harness's guest memory is,
 * each holding filler (tx) as the harness's do. */
static uint8_t *ring_pages(unsigned n)
{
    int fd = memfd_create("nx-ring", MFD_CLOEXEC);
    uint8_t *m = fd < 0 || ftruncate(fd, (off_t)n * NET_PAGE_SIZE) < 0 ? MAP_FAILED
               : mmap(NULL, (size_t)n * NET_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        perror("net-harness: memfd");
        exit(1);
    }
    close(fd);
    for (unsigned s = 0; s < n; s++)
        memcpy(m + (size_t)s * NET_PAGE_SIZE, frame + 54, NET_PAGE_SIZE);
    return m;
}

/* Appends len bytes at p to iov, merged with the last iovec when they follow
 * it in memory (as netback's build_iov and read_direct do). */
static void iov_add(struct iovec *iov, int *n, uint8_t *p, size_t len)
{
    struct iovec *last = &iov[*n - 1];
    if (*n > 1 && (uint8_t *)last->iov_base + last->iov_len == p)
        last->iov_len += len;
    else
        iov[(*n)++] = (struct iovec){ p, len };
}

/* The tap-guest floor: packets as netback writes them to the tap from the
 * guest's tx ring (the harness's frontend puts a packet's first slot at
 * ring index s, a GSO extra at s + 1, its other pages after), or reads them
 * into the rx ring's pages (data page 0 in slot 0, page j in slot j + 1, a
 * whole window of NET_RX_MAX_SLOTS slots offered to each read). */
static uint64_t guest_floor(int fd, bool tx, double secs)
{
    const unsigned ring = tx ? NET_TX_RING_SIZE : NET_RX_RING_SIZE;
    const bool gso = flen > 1514;
    uint8_t *m = ring_pages(ring);
    static uint8_t head[VH + 256];
    /* netback's private bytes: all of a packet up to 256 bytes, else those
     * it checked or rewrote (through the TCP header of a GSO packet; none
     * when no offload was asked for) */
    size_t priv = flen <= 256 ? flen : gso ? 54 : 0;
    memcpy(head, &fvh, VH);
    memcpy(head + VH, frame, priv);
    uint64_t n = 0;
    unsigned s = 0;
    for (double end = now() + secs; now() < end; ) {
        for (int b = 0; b < BATCH; b++) {
            struct iovec iov[NET_RX_MAX_SLOTS + 2];
            int nv = 1;
            size_t room = tx ? flen : NET_RX_BUF;
            iov[0] = (struct iovec){ head, tx ? VH + priv : VH };
            for (unsigned j = 0, off = tx ? (unsigned)priv : 0; off < room; j++) {
                unsigned slot = (s + (j && (gso || !tx) ? j + 1 : j)) % ring;
                size_t end = (size_t)(j + 1) * NET_PAGE_SIZE < room ? (j + 1) * NET_PAGE_SIZE : room;
                if (off < end) {
                    size_t in = off - (size_t)j * NET_PAGE_SIZE;
                    iov_add(iov, &nv, m + (size_t)slot * NET_PAGE_SIZE + in, end - off);
                    off = (unsigned)end;
                }
            }
            ssize_t got = tx ? writev(fd, iov, nv) : readv(fd, iov, nv);
            if (tx ? got != (ssize_t)(VH + flen) : got <= 0)
                break;
            n++;
            s += (unsigned)((flen + NET_PAGE_SIZE - 1) / NET_PAGE_SIZE) + gso;
        }
        if (!tx) {
            struct pollfd p = { .fd = fd, .events = POLLIN };
            poll(&p, 1, 10);
        }
    }
    munmap(m, (size_t)ring * NET_PAGE_SIZE);
    return n;
}

/* Packets the guest's ring holds at once (each frame's pages, plus a slot
 * for the GSO extra): netback reads (tx) or fills (rx) that many packets'
 * distinct guest pages in turn. */
static unsigned ring_packets(bool tx)
{
    unsigned slots = (unsigned)((flen + NET_PAGE_SIZE - 1) / NET_PAGE_SIZE) + (flen > 1514);
    return (tx ? NET_TX_RING_SIZE : NET_RX_RING_SIZE) / slots;
}

/* The floor: one thread writing the frames to (tx), or reading them from
 * (rx), a bare tap fd, from or into nbuf buffers in turn (1: the same buffer
 * each time, hot in the cache; ring_packets(): the memory a guest's ring
 * spreads them over), or (guest) as netback does from a guest's ring. */
static uint64_t tap_floor(bool tx, double secs, unsigned nbuf, bool guest)
{
    char name[16], err[256];
    int fd;
    nx_tap_name(name, sizeof(name));
    if (net_tap_open(name, 1, 0, NULL, &fd, err, sizeof(err)) < 0) {
        fprintf(stderr, "net-harness: %s\n", err);
        exit(1);
    }
    struct net_features all = { .rx_copy = true, .sg = true, .gso_tcpv4 = true, .gso_tcpv6 = true,
                                .csum = true, .ipv6_csum = true };
    net_tap_set_offload(fd, &all);
    const size_t room = VH + 70000;
    size_t stride = (VH + flen + NET_PAGE_SIZE - 1) / NET_PAGE_SIZE * NET_PAGE_SIZE;
    uint8_t *bufs = aligned_alloc(NET_PAGE_SIZE, (nbuf * stride + room + NET_PAGE_SIZE - 1)
                                                 / NET_PAGE_SIZE * NET_PAGE_SIZE);
    if (!bufs) {
        fprintf(stderr, "net-harness: out of memory\n");
        exit(1);
    }
    memset(bufs, 0, nbuf * stride + room);
    uint64_t n = 0;
    if (tx && guest) {
        n = guest_floor(fd, true, secs);
    } else if (tx) {
        for (unsigned k = 0; k < nbuf; k++) {
            memcpy(bufs + k * stride, &fvh, VH);
            memcpy(bufs + k * stride + VH, frame, flen);
        }
        for (double end = now() + secs; now() < end; )
            for (int i = 0; i < BATCH; i++)
                n += write(fd, bufs + (n % nbuf) * stride, VH + flen) == (ssize_t)(VH + flen);
    } else {
        struct inject in = { .ifindex = (int)if_nametoindex(name) };
        pthread_t t;
        pthread_create(&t, NULL, injector, &in);
        if (guest)
            n = guest_floor(fd, false, secs);
        for (double end = now() + secs; !guest && now() < end; ) {
            struct pollfd p = { .fd = fd, .events = POLLIN };
            if (poll(&p, 1, 10) > 0)
                while (read(fd, bufs + (n % nbuf) * stride, room) > 0)
                    n++;
        }
        stop = true;
        pthread_join(t, NULL);
    }
    net_tap_close(&fd, 1);
    free(bufs);
    return n;
}

/* ---- netback through the harness ---- */

/* Queues one packet of the prepared frame: headers into the first slot's
 * page (the rest of every page holds the same filler already). */
static bool post_tx(struct nx *h)
{
    struct nx_queue *q = &h->q[0];
    unsigned nslots = (unsigned)((flen + NET_PAGE_SIZE - 1) / NET_PAGE_SIZE);
    bool gso = flen > 1514;
    if (RING_FREE_REQUESTS(&q->tx) < nslots + gso)
        return false;
    RING_IDX i = q->tx.req_prod_pvt;
    memcpy(nx_frame(h, q->tx_frame0 + i % NET_TX_RING_SIZE), frame, 54);
    netif_tx_request_t *r = RING_GET_REQUEST(&q->tx, i);
    *r = (netif_tx_request_t){ .gref = q->tx_ref[i % NET_TX_RING_SIZE], .id = (uint16_t)i,
        .size = (uint16_t)flen, .flags = (uint16_t)((nslots > 1 ? NETTXF_more_data : 0)
            | (gso ? NETTXF_extra_info | NETTXF_csum_blank : 0)) };
    i++;
    if (gso) {
        netif_extra_info_t *x = (netif_extra_info_t *)RING_GET_REQUEST(&q->tx, i++);
        memset(x, 0, sizeof(netif_tx_request_t));
        x->type = XEN_NETIF_EXTRA_TYPE_GSO;
        x->u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
        x->u.gso.size = MSS;
    }
    size_t left = flen - (flen < NET_PAGE_SIZE ? flen : NET_PAGE_SIZE);
    for (unsigned k = 1; k < nslots; k++, i++) {
        size_t n = left < NET_PAGE_SIZE ? left : NET_PAGE_SIZE;
        r = RING_GET_REQUEST(&q->tx, i);
        *r = (netif_tx_request_t){ .gref = q->tx_ref[i % NET_TX_RING_SIZE], .id = (uint16_t)i,
            .size = (uint16_t)n, .flags = k + 1 < nslots ? NETTXF_more_data : 0 };
        left -= n;
    }
    q->tx.req_prod_pvt = i;
    return true;
}

static void wait_notify(struct nx *h, int fd)
{
    (void)h;
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, 10) > 0) {
        uint64_t v;
        if (read(fd, &v, sizeof(v)) < 0) { /* raced */ }
    }
}

static uint64_t netback_run(bool tx, double secs)
{
    static struct nx h;
    char name[16], err[256];
    nx_tap_name(name, sizeof(name));
    struct nx_config cfg = { .threaded = true, .tap = name, .mtu = 1500 };
    if (nx_open(&h, &cfg, err, sizeof(err))) {
        fprintf(stderr, "net-harness: %s\n", err);
        exit(1);
    }
    /* The harness's own AF_PACKET socket on the tap (for the tests' checks)
     * would take a clone of every frame netback sends, which the floor's tap
     * does not have to: the injector below uses a socket of its own. */
    close(h.pkt_fd);
    h.pkt_fd = -1;
    struct nx_queue *q = &h.q[0];
    for (unsigned s = 0; s < NET_TX_RING_SIZE; s++)
        memcpy(nx_frame(&h, q->tx_frame0 + s), frame + 54, NET_PAGE_SIZE);  /* filler */
    pthread_t t;
    struct inject in = { .ifindex = h.ifindex };
    if (!tx) {
        nx_rx_post(&h, 0, NET_RX_RING_SIZE);
        pthread_create(&t, NULL, injector, &in);
    }
    uint64_t before = tx ? h.nb.stats.tx_packets : h.nb.stats.rx_packets;
    for (double end = now() + secs; now() < end; ) {
        if (tx) {
            while (post_tx(&h))
                ;
            nx_tx_push(&h, 0);
            int more;
            q->tx.rsp_cons = q->tx.sring->rsp_prod;
            RING_FINAL_CHECK_FOR_RESPONSES(&q->tx, more);
            if (!more && RING_FREE_REQUESTS(&q->tx) < 18)
                wait_notify(&h, q->notify_fd[0]);
        } else {
            RING_IDX prod = q->rx.sring->rsp_prod;
            unsigned n = prod - q->rx.rsp_cons;
            q->rx.rsp_cons = prod;
            if (n)
                nx_rx_post(&h, 0, n);
            int more;
            RING_FINAL_CHECK_FOR_RESPONSES(&q->rx, more);
            if (!more)
                wait_notify(&h, q->notify_fd[1]);
        }
    }
    uint64_t n = (tx ? h.nb.stats.tx_packets : h.nb.stats.rx_packets) - before;
    if (!tx) {
        stop = true;
        pthread_join(t, NULL);
    }
    nx_close(&h);
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 6 || strcmp(argv[1], "bench")) {
        fprintf(stderr, "usage: net-harness bench netback|tap|tap-ring|tap-guest tx|rx SIZE SECONDS\n");
        return 2;
    }
    bool ring = !strcmp(argv[2], "tap-ring"), guest = !strcmp(argv[2], "tap-guest");
    bool bare = ring || guest || !strcmp(argv[2], "tap");
    bool tx = !strcmp(argv[3], "tx");
    size_t size = strtoul(argv[4], NULL, 0);
    double secs = strtod(argv[5], NULL);
    if (size < 60 || size > NET_MAX_PACKET || secs <= 0)
        return 2;
    make_frame(size);
    uint64_t n = bare ? tap_floor(tx, secs, ring ? ring_packets(tx) : 1, guest) : netback_run(tx, secs);
    printf("pps %.0f MBps %.1f\n", n / secs, n * (double)size / secs / 1e6);
    return 0;
}
