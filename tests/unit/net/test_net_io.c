/* netback's data paths through the netfront harness: tx and rx, one and
 * many slots, checksum offload, GSO, queues, event channels. Built twice:
 * over socketpairs (test_net) and over real taps (netback-tap-cases). */
#include "net_util.h"
#include <netinet/in.h>
#include <stdlib.h>

static struct nx h;
static struct nx_pkt pkt;
static uint8_t frame[NX_MAX_PKT], got[NX_MAX_PKT];

static void tx_and_check(unsigned q, size_t len, const struct nx_txopt *opt, struct virtio_net_hdr *vh)
{
    CHECK_EQ(nx_xmit(&h, q, frame, len, opt), NETIF_RSP_OKAY);
    ssize_t n = net_host_recv(&h, q, vh, got, sizeof(got));
    CHECK_EQ(n, len);
    CHECK(n == (ssize_t)len && !memcmp(got, frame, len));
}

TEST(tx_single_slot)
{
    struct nx_config cfg = { 0 };
    if (!net_open(&h, &cfg))
        return;
    struct virtio_net_hdr vh;
    net_eth(frame, 60, net_peer_mac, net_guest_mac, 0x88b5, 1);
    tx_and_check(0, 60, NULL, &vh);
    CHECK_EQ(vh.flags, 0);
    CHECK_EQ(vh.gso_type, 0);
    net_eth(frame, 1514, net_peer_mac, net_guest_mac, 0x88b5, 2);
    struct nx_txopt o = { .offset = 2000 };          /* data at an offset in its page */
    tx_and_check(0, 1514, &o, &vh);
    CHECK_EQ(h.nb.stats.tx_packets, 2);
    CHECK_EQ(h.nb.stats.tx_bytes, 60 + 1514);
    CHECK_EQ(h.nb.stats.tx_errors, 0);
    net_close(&h);
}

TEST(tx_multi_slot)
{
    struct nx_config cfg = { 0 };
    if (!net_open(&h, &cfg))
        return;
    struct virtio_net_hdr vh;
    net_eth(frame, 9000, net_peer_mac, net_guest_mac, 0x88b5, 3);
    tx_and_check(0, 9000, NULL, &vh);                 /* 3 slots */
    struct nx_txopt o = { .slot_size = 1000, .offset = 3500 };
    tx_and_check(0, 9000, &o, &vh);                   /* 596 bytes, then 9 x 1000 */
    /* The most slots a packet may use: 1 + NET_MAX_FRAGS. */
    struct nx_txopt m = { .slot_size = 100 };
    net_eth(frame, 100 * (NET_MAX_FRAGS + 1), net_peer_mac, net_guest_mac, 0x88b5, 4);
    tx_and_check(0, 100 * (NET_MAX_FRAGS + 1), &m, &vh);
    /* The largest packet. */
    net_eth(frame, NET_MAX_PACKET, net_peer_mac, net_guest_mac, 0x88b5, 5);
    tx_and_check(0, NET_MAX_PACKET, NULL, &vh);
    CHECK_EQ(h.nb.stats.tx_packets, 4);
    net_close(&h);
}

TEST(tx_csum_blank)
{
    struct nx_config cfg = { 0 };
    if (!net_open(&h, &cfg))
        return;
    struct virtio_net_hdr vh;
    struct nx_txopt o = { .flags = NETTXF_csum_blank };
    net_ip(frame, 600, false, false, IPPROTO_TCP, true, 1);
    tx_and_check(0, 600, &o, &vh);
    CHECK_EQ(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    CHECK_EQ(vh.csum_start, 34);
    CHECK_EQ(vh.csum_offset, 16);
    net_csum_finish(got, 600, vh.csum_start, vh.csum_offset);
    CHECK(net_csum_ok(got, 600));
    /* UDP over IPv6 behind hop-by-hop and destination options, two slots. */
    o.slot_size = 300;
    unsigned l4 = net_ip(frame, 900, true, true, IPPROTO_UDP, true, 2);
    CHECK_EQ(l4, 14 + 40 + 24);
    tx_and_check(0, 900, &o, &vh);
    CHECK_EQ(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    CHECK_EQ(vh.csum_start, l4);
    CHECK_EQ(vh.csum_offset, 6);
    net_csum_finish(got, 900, vh.csum_start, vh.csum_offset);
    CHECK(net_csum_ok(got, 900));
    /* data_validated: the checksum is known good. */
    struct nx_txopt v = { .flags = NETTXF_data_validated };
    net_ip(frame, 200, false, false, IPPROTO_UDP, false, 3);
    tx_and_check(0, 200, &v, &vh);
#ifndef NX_TAP
    CHECK_EQ(vh.flags, VIRTIO_NET_HDR_F_DATA_VALID);   /* a tap does not pass it on */
#endif
    net_close(&h);
}

static void tx_gso(bool v6)
{
    struct nx_config cfg = { 0 };
    if (!net_open(&h, &cfg))
        return;
    struct virtio_net_hdr vh;
    size_t len = 20000;
    unsigned l4 = net_ip(frame, len, v6, false, IPPROTO_TCP, true, 4);
    struct nx_txopt o = { .flags = NETTXF_csum_blank, .gso_size = 1448,
                          .gso_type = v6 ? XEN_NETIF_GSO_TYPE_TCPV6 : XEN_NETIF_GSO_TYPE_TCPV4 };
    tx_and_check(0, len, &o, &vh);
    CHECK_EQ(vh.gso_type, v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4);
    CHECK_EQ(vh.gso_size, 1448);
    CHECK_EQ(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    CHECK_EQ(vh.csum_start, l4);
#ifndef NX_TAP
    CHECK_EQ(vh.hdr_len, l4 + 20);   /* the kernel reports its own linear length */
#endif
    /* Without csum_blank a GSO packet still goes partial: the backend puts
     * the pseudo-header sum in the checksum field, as Linux netback does. */
    net_ip(frame, len, v6, false, IPPROTO_TCP, false, 5);
    o.flags = 0;
    CHECK_EQ(nx_xmit(&h, 0, frame, len, &o), NETIF_RSP_OKAY);
    ssize_t n = net_host_recv(&h, 0, &vh, got, sizeof(got));
    CHECK_EQ(n, len);
    CHECK_EQ(vh.gso_type, v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4);
    net_csum_finish(got, len, vh.csum_start, vh.csum_offset);
    CHECK(!memcmp(got, frame, len));                 /* the same full checksum */
    net_close(&h);
}

TEST(tx_gso_tcpv4) { tx_gso(false); }
TEST(tx_gso_tcpv6) { tx_gso(true); }

static void rx_and_check(unsigned q, const struct virtio_net_hdr *vh, size_t len)
{
    CHECK_EQ(nx_host_send(&h, q, vh, frame, len), 0);
    CHECK_EQ(nx_rx_recv(&h, q, &pkt, 5000), 0);
    CHECK_EQ(pkt.status, NETIF_RSP_OKAY);
    CHECK_EQ(pkt.len, len);
}

TEST(rx_single_slot)
{
    struct nx_config cfg = { 0 };
    if (!net_open(&h, &cfg))
        return;
    nx_rx_post(&h, 0, 64);
    net_eth(frame, 60, net_guest_mac, net_peer_mac, 0x88b5, 6);
    rx_and_check(0, NULL, 60);
    CHECK(!memcmp(pkt.data, frame, 60));
    CHECK_EQ(pkt.slots, 1);
    CHECK_EQ(pkt.flags & (NETRXF_more_data | NETRXF_extra_info), 0);
    net_eth(frame, 1514, net_guest_mac, net_peer_mac, 0x88b5, 7);
    rx_and_check(0, NULL, 1514);
    CHECK(!memcmp(pkt.data, frame, 1514));
    CHECK_EQ(h.nb.stats.rx_packets, 2);
    CHECK_EQ(h.nb.stats.rx_bytes, 60 + 1514);
    net_close(&h);
}

TEST(rx_multi_slot)
{
    struct nx_config cfg = { .mtu = 9000 };
    if (!net_open(&h, &cfg))
        return;
    nx_rx_post(&h, 0, 64);
    for (unsigned i = 0; i < 20; i++) {   /* 20 x 3 slots: the ring wraps its 64 posted */
        net_eth(frame, 9000, net_guest_mac, net_peer_mac, 0x88b5, 8 + i);
        rx_and_check(0, NULL, 9000);
        CHECK(!memcmp(pkt.data, frame, 9000));
        CHECK_EQ(pkt.slots, 3);
    }
    net_close(&h);
}

TEST(rx_csum_blank)
{
    struct nx_config cfg = { 0 };
    if (!net_open(&h, &cfg))
        return;
    nx_rx_post(&h, 0, 64);
    struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
                                 .csum_offset = 16 };
    net_ip(frame, 1000, false, false, IPPROTO_TCP, true, 9);
    rx_and_check(0, &vh, 1000);
    CHECK_EQ(pkt.flags & (NETRXF_csum_blank | NETRXF_data_validated),
             NETRXF_csum_blank | NETRXF_data_validated);
    CHECK(!memcmp(pkt.data, frame, 1000));          /* left partial for the guest */
    net_close(&h);
}

/* A frontend without checksum offload gets complete checksums. */
TEST(rx_csum_software)
{
    struct nx_config cfg = { .custom_feat = true,
        .feat = { .rx_copy = true, .rx_notify = true, .sg = true, .csum = true } };
    if (!net_open(&h, &cfg))
        return;
    nx_rx_post(&h, 0, 64);
    /* IPv6: this frontend takes blank checksums for IPv4 only. */
    unsigned l4 = net_ip(frame, 700, true, true, IPPROTO_UDP, true, 10);
    struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = (uint16_t)l4,
                                 .csum_offset = 6 };
    rx_and_check(0, &vh, 700);
    CHECK_EQ(pkt.flags & NETRXF_csum_blank, 0);
    CHECK(net_csum_ok(pkt.data, pkt.len));
    /* IPv4 still goes blank. */
    net_ip(frame, 700, false, false, IPPROTO_TCP, true, 11);
    vh.csum_start = 34;
    vh.csum_offset = 16;
    rx_and_check(0, &vh, 700);
    CHECK(pkt.flags & NETRXF_csum_blank);
    CHECK(!memcmp(pkt.data, frame, 700));
    net_close(&h);
}

/* The same for a packet over several pages: read straight into the guest's
 * pages, then (its checksum needing every byte) gathered and completed. */
TEST(rx_csum_software_multipage)
{
    struct nx_config cfg = { .mtu = 9000, .custom_feat = true,
        .feat = { .rx_copy = true, .rx_notify = true, .sg = true, .csum = true } };
    if (!net_open(&h, &cfg))
        return;
    nx_rx_post(&h, 0, 64);
    for (unsigned i = 0; i < 3; i++) {
        size_t len = 8000 + i * 500;
        unsigned l4 = net_ip(frame, len, true, true, IPPROTO_UDP, true, 20 + i);
        struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
                                     .csum_start = (uint16_t)l4, .csum_offset = 6 };
        rx_and_check(0, &vh, len);
        CHECK_EQ(pkt.slots, 2 + (len > 8192));
        CHECK_EQ(pkt.flags & NETRXF_csum_blank, 0);
        CHECK(net_csum_ok(pkt.data, pkt.len));
        /* everything but the checksum field as sent */
        CHECK(!memcmp(pkt.data, frame, l4 + 6));
        CHECK(!memcmp(pkt.data + l4 + 8, frame + l4 + 8, len - l4 - 8));
    }
    net_close(&h);
}

static void rx_gso(bool v6)
{
    struct nx_config cfg = { 0 };
    if (!net_open(&h, &cfg))
        return;
    nx_rx_post(&h, 0, 128);
    size_t len = 30000;
    unsigned l4 = net_ip(frame, len, v6, false, IPPROTO_TCP, true, 12);
    struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = (uint16_t)l4,
        .csum_offset = 16, .hdr_len = (uint16_t)(l4 + 20), .gso_size = 1400,
        .gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4 };
    rx_and_check(0, &vh, len);
    CHECK(!memcmp(pkt.data, frame, len));
    CHECK(pkt.has_gso);
    CHECK_EQ(pkt.gso.u.gso.size, 1400);
    CHECK_EQ(pkt.gso.u.gso.type, v6 ? XEN_NETIF_GSO_TYPE_TCPV6 : XEN_NETIF_GSO_TYPE_TCPV4);
    CHECK_EQ(pkt.slots, 8 + 1);                    /* 30000 bytes in 8 pages + the extra */
    CHECK(pkt.flags & NETRXF_csum_blank);
    net_close(&h);
}

TEST(rx_gso_tcpv4) { rx_gso(false); }
TEST(rx_gso_tcpv6) { rx_gso(true); }

/* A packet arriving before any rx request waits for one. */
TEST(rx_waits_for_requests)
{
    struct nx_config cfg = { .threaded = true, .mtu = 9000 };
    if (!net_open(&h, &cfg))
        return;
    net_eth(frame, 6000, net_guest_mac, net_peer_mac, 0x88b5, 13);
    CHECK_EQ(nx_host_send(&h, 0, NULL, frame, 6000), 0);
    netif_rx_response_t r;
    CHECK_EQ(nx_rx_rsp(&h, 0, &r, 200), -ETIMEDOUT);
    nx_rx_post(&h, 0, 1);                           /* one slot: not enough */
    CHECK_EQ(nx_rx_rsp(&h, 0, &r, 200), -ETIMEDOUT);
    nx_rx_post(&h, 0, 1);
    struct nx_pkt *p = &pkt;
    do
        CHECK_EQ(nx_rx_recv(&h, 0, p, 5000), 0);
    while (p->len != 6000 && !unit_failed_checks);
    CHECK(!memcmp(p->data, frame, 6000));
    net_close(&h);
}

/* Four threaded queues: each moves its own traffic both ways. */
TEST(multi_queue)
{
    struct nx_config cfg = { .nr_queues = 4, .threaded = true };
    if (!net_open(&h, &cfg))
        return;
    for (unsigned q = 0; q < 4; q++)
        nx_rx_post(&h, q, 128);
    for (unsigned q = 0; q < 4; q++) {
        struct virtio_net_hdr vh;
        net_eth(frame, 1000 + q, net_peer_mac, net_guest_mac, 0x88b5, 20 + q);
        tx_and_check(q, 1000 + q, NULL, &vh);
    }
#ifdef NX_TAP
    /* The kernel picks the queue by flow: send flows until every queue got some. */
    unsigned seen[4] = { 0 }, nq = 0;
    for (unsigned i = 0; i < 64 && nq < 4; i++) {
        net_ip(frame, 200, false, false, IPPROTO_UDP, false, i);
        CHECK_EQ(nx_host_send(&h, 0, NULL, frame, 200), 0);
        bool found = false;
        for (unsigned t = 0; t < 50 && !found; t++)
            for (unsigned q = 0; q < 4 && !found; q++)
                if (nx_rx_recv(&h, q, &pkt, 2) == 0 && pkt.len == 200 && !memcmp(pkt.data, frame, 200)) {
                    found = true;
                    nq += !seen[q]++;
                }
        CHECK(found);
    }
    CHECK(nq >= 2);
#else
    for (unsigned q = 0; q < 4; q++) {
        net_eth(frame, 2000 + q, net_guest_mac, net_peer_mac, 0x88b5, 30 + q);
        rx_and_check(q, NULL, 2000 + q);
        CHECK(!memcmp(pkt.data, frame, 2000 + q));
    }
#endif
    CHECK_EQ(h.nb.stats.tx_packets, 4);
    net_close(&h);
}

/* Split event channels: tx answers raise 2q, rx deliveries 2q+1. */
TEST(split_event_channels)
{
    struct nx_config cfg = { .nr_queues = 2, .split = true };
    if (!net_open(&h, &cfg))
        return;
    struct virtio_net_hdr vh;
    net_eth(frame, 100, net_peer_mac, net_guest_mac, 0x88b5, 40);
    tx_and_check(1, 100, NULL, &vh);
    CHECK_EQ(h.q[1].notifies[0], 1);
    CHECK_EQ(h.q[1].notifies[1], 0);
    CHECK_EQ(h.q[0].notifies[0] + h.q[0].notifies[1], 0);
    nx_rx_post(&h, 1, 16);
    nx_rx_post(&h, 0, 16);
#ifndef NX_TAP
    rx_and_check(1, NULL, 100);
    CHECK(h.q[1].notifies[1] >= 1);
    CHECK_EQ(h.q[1].notifies[0], 1);
    CHECK_EQ(h.q[0].notifies[1], 0);
#else
    CHECK_EQ(nx_host_send(&h, 0, NULL, frame, 100), 0);
    bool found = false;
    for (unsigned t = 0; t < 500 && !found; t++)
        for (unsigned q = 0; q < 2 && !found; q++)
            found = nx_rx_recv(&h, q, &pkt, 2) == 0 && pkt.len == 100;
    CHECK(found);
    CHECK(h.q[0].notifies[1] + h.q[1].notifies[1] >= 1);
    CHECK_EQ(h.q[1].notifies[0], 1);
    CHECK_EQ(h.q[0].notifies[0], 0);
#endif
    net_close(&h);
}

/* A stream both ways through a threaded queue: sizes from 14 bytes to 9000
 * with random slot splits; every byte compared. */
TEST(threaded_stream)
{
    struct nx_config cfg = { .threaded = true, .mtu = 9000 };
    if (!net_open(&h, &cfg))
        return;
    nx_rx_post(&h, 0, 200);
    srand(7);
    for (unsigned i = 0; i < 300 && !unit_failed_checks; i++) {
        size_t len = 60 + (size_t)rand() % 8900;
        struct nx_txopt o = { .slot_size = 512 + (unsigned)rand() % 4096, .offset = (unsigned)rand() % 4000 };
        struct virtio_net_hdr vh;
        net_eth(frame, len, net_peer_mac, net_guest_mac, 0x88b5, i);
        tx_and_check(0, len, &o, &vh);
        net_eth(frame, len, net_guest_mac, net_peer_mac, 0x88b5, i + 1000);
        rx_and_check(0, NULL, len);
        CHECK(!memcmp(pkt.data, frame, len));
    }
    CHECK_EQ(h.nb.stats.tx_packets, 300);
    CHECK_EQ(h.nb.stats.rx_packets, 300);
    net_close(&h);
}
