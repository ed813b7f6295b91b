/* A hostile frontend (and a hostile host side) against netback: every bad
 * request is answered with an error, and the queue stays usable where
 * Linux's netback keeps it usable; protocol breaks stop only that queue. */
#include "net_util.h"
#include "backend/netback_queue.h"
#include <netinet/in.h>
#include <stdlib.h>

static struct nx h;
static struct nx_pkt pkt;
static uint8_t frame[NX_MAX_PKT], got[NX_MAX_PKT];

static bool open_sp(unsigned queues)
{
    struct nx_config cfg = { .nr_queues = queues };
    return net_open(&h, &cfg);
}

/* A good packet still goes through queue q. */
static void still_works(unsigned q)
{
    net_eth(frame, 100, net_peer_mac, net_guest_mac, 0x88b5, 99);
    CHECK_EQ(nx_xmit(&h, q, frame, 100, NULL), NETIF_RSP_OKAY);
    struct virtio_net_hdr vh;
    CHECK_EQ(net_host_recv(&h, q, &vh, got, sizeof(got)), 100);
    CHECK(!memcmp(got, frame, 100));
}

/* Pushes what was written and collects n responses' statuses. */
static void answers(unsigned q, unsigned n, int16_t *st)
{
    nx_tx_push(&h, q);
    for (unsigned i = 0; i < n; i++) {
        netif_tx_response_t r;
        st[i] = 99;
        if (nx_tx_rsp(&h, q, &r, 2000) == 0)
            st[i] = r.status;
        else
            unit_fail(__FILE__, __LINE__, "response %u of %u missing", i, n);
    }
    netif_tx_response_t r;
    CHECK_EQ(nx_tx_rsp(&h, q, &r, 0), -ETIMEDOUT);   /* and no more */
}

static netif_tx_request_t *req(unsigned q, uint16_t size, uint16_t off, uint16_t flags)
{
    RING_IDX i = h.q[q].tx.req_prod_pvt;
    netif_tx_request_t *r = nx_tx_req(&h, q);
    r->gref = h.q[q].tx_ref[i % NET_TX_RING_SIZE];
    r->id = (uint16_t)(i % NET_TX_RING_SIZE);
    r->size = size;
    r->offset = off;
    r->flags = flags;
    return r;
}

static void check_broken(unsigned q)
{
    CHECK_EQ(netback_poll(&h.nb, q), -EPROTO);
    CHECK(h.nb.q[q]->broken);
}

TEST(tx_bad_gref)
{
    if (!open_sp(1))
        return;
    int16_t st[2];
    req(0, 100, 0, 0)->gref = 7777;                  /* never granted */
    req(0, 100, 0, 0)->gref = 3;                     /* a toolstack ref */
    answers(0, 2, st);
    CHECK_EQ(st[0], NETIF_RSP_ERROR);
    CHECK_EQ(st[1], NETIF_RSP_ERROR);
    /* A bad ref in the third slot of a packet fails the whole packet. */
    req(0, 3000, 0, NETTXF_more_data);
    req(0, 1000, 0, NETTXF_more_data)->gref = NX_MAX_GRANTS + 5;
    req(0, 1000, 0, 0);
    int16_t s3[3];
    answers(0, 3, s3);
    CHECK_EQ(s3[0], NETIF_RSP_ERROR);
    CHECK_EQ(s3[2], NETIF_RSP_ERROR);
    CHECK_EQ(h.nb.stats.tx_errors, 3);
    CHECK_EQ(h.live_maps, 0);
    still_works(0);
    net_close(&h);
}

TEST(tx_bad_sizes)
{
    if (!open_sp(1))
        return;
    int16_t st[8];
    req(0, 0, 0, 0);                                 /* empty */
    req(0, 13, 0, 0);                                /* shorter than an Ethernet header */
    req(0, 100, 0, NETTXF_more_data);                /* first slot smaller than the rest */
    req(0, 200, 0, 0);
    req(0, 1000, 0, NETTXF_more_data);               /* first slot holds only 10 bytes */
    req(0, 990, 0, 0);
    answers(0, 6, st);
    for (unsigned i = 0; i < 6; i++)
        CHECK_EQ(st[i], NETIF_RSP_ERROR);
    still_works(0);
    net_close(&h);
}

TEST(tx_too_many_slots)
{
    if (!open_sp(2))
        return;
    /* 1 + NET_MAX_FRAGS + 1 slots: dropped with errors, queue usable. */
    unsigned n = NET_MAX_FRAGS + 2;
    req(0, (uint16_t)(100 * n), 0, NETTXF_more_data);
    for (unsigned i = 1; i < n; i++)
        req(0, 100, 0, i + 1 < n ? NETTXF_more_data : 0);
    int16_t st[64];
    answers(0, n, st);
    for (unsigned i = 0; i < n; i++)
        CHECK_EQ(st[i], NETIF_RSP_ERROR);
    still_works(0);
    /* More than 1 + NET_FATAL_FRAGS: a malicious frontend, the queue stops. */
    n = NET_FATAL_FRAGS + 2;
    req(0, (uint16_t)(100 * n), 0, NETTXF_more_data);
    for (unsigned i = 1; i < n; i++)
        req(0, 100, 0, i + 1 < n ? NETTXF_more_data : 0);
    nx_tx_push(&h, 0);
    check_broken(0);
    net_eth(frame, 100, net_peer_mac, net_guest_mac, 0x88b5, 1);
    CHECK(nx_send(&h, 0, frame, 100, NULL) >= 0);
    nx_tx_push(&h, 0);
    struct virtio_net_hdr vh;
    CHECK_EQ(nx_host_recv(&h, 0, &vh, got, sizeof(got), 100), -ETIMEDOUT);
    still_works(1);                                  /* the other queue carries on */
    net_close(&h);
}

TEST(tx_crosses_page)
{
    if (!open_sp(1))
        return;
    req(0, 200, 4000, 0);                            /* 4000 + 200 > 4096 */
    nx_tx_push(&h, 0);
    check_broken(0);
    netif_tx_response_t r;
    CHECK_EQ(nx_tx_rsp(&h, 0, &r, 100), 0);          /* answered before the queue stopped */
    CHECK_EQ(r.status, NETIF_RSP_ERROR);
    net_close(&h);
    /* A fragment crossing its page, too. */
    if (!open_sp(1))
        return;
    req(0, 300, 0, NETTXF_more_data);
    req(0, 200, 3990, 0);
    nx_tx_push(&h, 0);
    check_broken(0);
    net_close(&h);
}

static netif_extra_info_t *extra(unsigned q, uint8_t type, uint8_t flags)
{
    netif_extra_info_t *x = (netif_extra_info_t *)nx_tx_req(&h, q);
    x->type = type;
    x->flags = flags;
    return x;
}

TEST(tx_bad_extras)
{
    static const struct { uint8_t type, gso_type; uint16_t gso_size; } bad[] = {
        { 0, 0, 0 },                                  /* XEN_NETIF_EXTRA_TYPE_NONE */
        { XEN_NETIF_EXTRA_TYPE_MAX, 0, 0 },
        { 200, 0, 0 },
        { XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_GSO_TYPE_TCPV4, 0 },   /* size 0 */
        { XEN_NETIF_EXTRA_TYPE_GSO, 7, 1400 },                      /* unknown GSO type */
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (!open_sp(1))
            return;
        req(0, 100, 0, NETTXF_extra_info);
        netif_extra_info_t *x = extra(0, bad[i].type, 0);
        x->u.gso.type = bad[i].gso_type;
        x->u.gso.size = bad[i].gso_size;
        nx_tx_push(&h, 0);
        check_broken(0);
        net_close(&h);
    }
    /* An endless chain of extras. */
    if (!open_sp(1))
        return;
    req(0, 100, 0, NETTXF_extra_info);
    for (unsigned i = 0; i < 10; i++)
        extra(0, XEN_NETIF_EXTRA_TYPE_HASH, XEN_NETIF_EXTRA_FLAG_MORE);
    nx_tx_push(&h, 0);
    check_broken(0);
    net_close(&h);
}

TEST(tx_harmless_extras)
{
    if (!open_sp(1))
        return;
    /* A multicast filter update: answered OKAY, nothing sent. */
    req(0, 60, 0, NETTXF_extra_info);
    netif_extra_info_t *x = extra(0, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, 0);
    memcpy(x->u.mcast.addr, "\x01\x00\x5e\x00\x00\x01", 6);
    int16_t st[2];
    answers(0, 2, st);
    CHECK_EQ(st[0], NETIF_RSP_OKAY);
    CHECK_EQ(st[1], NETIF_RSP_NULL);
    struct virtio_net_hdr vh;
    CHECK_EQ(nx_host_recv(&h, 0, &vh, got, sizeof(got), 50), -ETIMEDOUT);
    /* A hash extra then data: sent. */
    net_eth(nx_frame(&h, h.q[0].tx_frame0 + h.q[0].tx.req_prod_pvt % NET_TX_RING_SIZE), 80,
            net_peer_mac, net_guest_mac, 0x88b5, 3);
    req(0, 80, 0, NETTXF_extra_info);
    extra(0, XEN_NETIF_EXTRA_TYPE_HASH, 0);
    answers(0, 2, st);
    CHECK_EQ(st[0], NETIF_RSP_OKAY);
    CHECK_EQ(net_host_recv(&h, 0, &vh, got, sizeof(got)), 80);
    still_works(0);
    net_close(&h);
}

TEST(tx_bad_offload)
{
    if (!open_sp(1))
        return;
    /* csum_blank on something that is not TCP/UDP over IP. */
    net_eth(frame, 100, net_peer_mac, net_guest_mac, 0x0806, 1);
    struct nx_txopt o = { .flags = NETTXF_csum_blank };
    CHECK_EQ(nx_xmit(&h, 0, frame, 100, &o), NETIF_RSP_ERROR);
    /* An IPv4 fragment with csum_blank. */
    net_ip(frame, 300, false, false, IPPROTO_UDP, true, 2);
    frame[14 + 6] = 0x20;                            /* MF */
    CHECK_EQ(nx_xmit(&h, 0, frame, 300, &o), NETIF_RSP_ERROR);
    /* GSO TCPv6 on an IPv4 packet; GSO on UDP. */
    struct nx_txopt g = { .flags = NETTXF_csum_blank, .gso_type = XEN_NETIF_GSO_TYPE_TCPV6,
                          .gso_size = 1000 };
    net_ip(frame, 5000, false, false, IPPROTO_TCP, true, 3);
    CHECK_EQ(nx_xmit(&h, 0, frame, 5000, &g), NETIF_RSP_ERROR);
    g.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
    net_ip(frame, 5000, false, false, IPPROTO_UDP, true, 4);
    CHECK_EQ(nx_xmit(&h, 0, frame, 5000, &g), NETIF_RSP_ERROR);
    /* An IPv4 header claiming more than the frame. */
    net_ip(frame, 300, false, false, IPPROTO_TCP, true, 5);
    frame[16] = 0x10;
    CHECK_EQ(nx_xmit(&h, 0, frame, 300, &o), NETIF_RSP_ERROR);
    CHECK_EQ(h.nb.stats.tx_errors, 5);
    still_works(0);
    net_close(&h);
}

/* A packet whose later slots are not published yet waits for them. */
TEST(tx_incomplete_packet)
{
    if (!open_sp(1))
        return;
    net_eth(frame, 3000, net_peer_mac, net_guest_mac, 0x88b5, 6);
    struct nx_txopt o = { .slot_size = 1000 };
    CHECK(nx_send(&h, 0, frame, 3000, &o) >= 0);
    struct nx_queue *q = &h.q[0];
    RING_IDX full = q->tx.req_prod_pvt;
    q->tx.req_prod_pvt = full - 1;                    /* publish 2 of 3 slots */
    nx_tx_push(&h, 0);
    netif_tx_response_t r;
    CHECK_EQ(nx_tx_rsp(&h, 0, &r, 50), -ETIMEDOUT);
    CHECK(!h.nb.q[0]->broken);
    q->tx.req_prod_pvt = full;
    nx_tx_push(&h, 0);
    for (unsigned i = 0; i < 3; i++) {
        CHECK_EQ(nx_tx_rsp(&h, 0, &r, 1000), 0);
        CHECK_EQ(r.status, NETIF_RSP_OKAY);
    }
    struct virtio_net_hdr vh;
    CHECK_EQ(net_host_recv(&h, 0, &vh, got, sizeof(got)), 3000);
    CHECK(!memcmp(got, frame, 3000));
    net_close(&h);
}

/* req_prod beyond what the ring can hold: that queue stops, nothing is
 * answered from it, the other queue carries on (threaded too). */
static void lying_prod(bool rx, bool threaded)
{
    struct nx_config cfg = { .nr_queues = 2, .threaded = threaded };
    if (!net_open(&h, &cfg))
        return;
    if (rx) {
        h.q[0].rx.sring->req_prod += NET_RX_RING_SIZE + 1;
        net_eth(frame, 100, net_guest_mac, net_peer_mac, 0x88b5, 7);
        CHECK_EQ(nx_host_send(&h, 0, NULL, frame, 100), 0);
        netback_kick(&h.nb, 0);
    } else {
        h.q[0].tx.sring->req_prod += NET_TX_RING_SIZE + 1;
        netback_kick(&h.nb, 0);
    }
    if (threaded) {
        for (int i = 0; i < 200 && !h.nb.q[0]->broken; i++)
            usleep(5000);
        CHECK(h.nb.q[0]->broken);
    } else {
        check_broken(0);
    }
    CHECK_EQ(h.q[0].tx.sring->rsp_prod, 0);
    CHECK_EQ(h.q[0].rx.sring->rsp_prod, 0);
    still_works(1);
    nx_rx_post(&h, 1, 8);
    net_eth(frame, 100, net_guest_mac, net_peer_mac, 0x88b5, 8);
    CHECK_EQ(nx_host_send(&h, 1, NULL, frame, 100), 0);
    CHECK_EQ(nx_rx_recv(&h, 1, &pkt, 2000), 0);
    CHECK(pkt.len == 100 && !memcmp(pkt.data, frame, 100));
    net_close(&h);
}

TEST(tx_lying_req_prod) { lying_prod(false, false); }
TEST(rx_lying_req_prod) { lying_prod(true, false); }
TEST(lying_req_prod_threaded) { lying_prod(false, true); lying_prod(true, true); }

/* Indices near 2^32 wrap as they must. */
TEST(wrapped_indices)
{
    if (!open_sp(1))
        return;
    RING_IDX start = 0xfffffff0u;
    struct nx_queue *q = &h.q[0];
    struct netq *bq = h.nb.q[0];
    q->tx.sring->req_prod = q->tx.sring->rsp_prod = start;
    q->tx.sring->req_event = q->tx.sring->rsp_event = start + 1;
    q->tx.req_prod_pvt = q->tx.rsp_cons = start;
    bq->tx.req_cons = bq->tx.rsp_prod_pvt = start;
    q->rx.sring->req_prod = q->rx.sring->rsp_prod = start;
    q->rx.sring->req_event = q->rx.sring->rsp_event = start + 1;
    q->rx.req_prod_pvt = q->rx.rsp_cons = start;
    bq->rx.req_cons = bq->rx.rsp_prod_pvt = start;
    nx_rx_post(&h, 0, 32);
    for (unsigned i = 0; i < 40; i++) {
        struct nx_txopt o = { .slot_size = 2000 };
        net_eth(frame, 5000, net_peer_mac, net_guest_mac, 0x88b5, i);
        CHECK_EQ(nx_xmit(&h, 0, frame, 5000, &o), NETIF_RSP_OKAY);
        struct virtio_net_hdr vh;
        CHECK_EQ(net_host_recv(&h, 0, &vh, got, sizeof(got)), 5000);
        CHECK(!memcmp(got, frame, 5000));
        CHECK_EQ(nx_host_send(&h, 0, NULL, frame, 5000), 0);
        CHECK_EQ(nx_rx_recv(&h, 0, &pkt, 2000), 0);
        CHECK(pkt.len == 5000 && !memcmp(pkt.data, frame, 5000));
    }
    CHECK((int32_t)(q->tx.rsp_cons - start) > 0 && q->tx.rsp_cons < start);
    CHECK(!bq->broken);
    net_close(&h);
}

TEST(rx_bad_grefs)
{
    if (!open_sp(1))
        return;
    struct nx_queue *q = &h.q[0];
    /* A bad ref, a read-only grant, then good ones. */
    netif_rx_request_t *r = nx_rx_req(&h, 0);
    r->id = 1;
    r->gref = 9999;
    r = nx_rx_req(&h, 0);
    r->id = 2;
    r->gref = q->tx_ref[0];                          /* read-only */
    nx_rx_push(&h, 0);
    net_eth(frame, 100, net_guest_mac, net_peer_mac, 0x88b5, 9);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(nx_host_send(&h, 0, NULL, frame, 100), 0);
    netif_rx_response_t rsp;
    CHECK_EQ(nx_rx_rsp(&h, 0, &rsp, 1000), 0);
    CHECK_EQ(rsp.id, 1);
    CHECK_EQ(rsp.status, NETIF_RSP_ERROR);
    CHECK_EQ(nx_rx_rsp(&h, 0, &rsp, 1000), 0);
    CHECK_EQ(rsp.id, 2);
    CHECK_EQ(rsp.status, NETIF_RSP_ERROR);
    CHECK_EQ(h.nb.stats.rx_dropped, 2);
    CHECK_EQ(h.live_maps, 0);
    nx_rx_post(&h, 0, 8);
    CHECK_EQ(nx_host_send(&h, 0, NULL, frame, 100), 0);
    CHECK_EQ(nx_rx_recv(&h, 0, &pkt, 2000), 0);
    CHECK(pkt.len == 100 && !memcmp(pkt.data, frame, 100));
    net_close(&h);
}

/* What a hostile (or merely odd) host side hands us is dropped, never
 * trusted: short frames, checksum offsets outside the frame, GSO the
 * frontend did not ask for, multi-page frames without feature-sg. */
TEST(rx_bad_host_frames)
{
    struct nx_config cfg = { .custom_feat = true,
        .feat = { .rx_copy = true, .rx_notify = true, .csum = true } };
    if (!net_open(&h, &cfg))
        return;
    nx_rx_post(&h, 0, 32);
    net_ip(frame, 1000, false, false, IPPROTO_TCP, true, 1);
    struct virtio_net_hdr bad[] = {
        { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 999, .csum_offset = 16 },
        { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 65000 },
        { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16,
          .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 500 },
        { .gso_type = VIRTIO_NET_HDR_GSO_UDP, .gso_size = 500 },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ(nx_host_send(&h, 0, &bad[i], frame, 1000), 0);
    CHECK_EQ(nx_host_send(&h, 0, NULL, frame, 10), 0);          /* short */
    CHECK_EQ(write(h.q[0].host_fd, "abc", 3), 3);               /* not even a header */
    CHECK_EQ(nx_host_send(&h, 0, NULL, frame, 5000), 0);        /* needs sg */
    net_eth(frame, 1514, net_guest_mac, net_peer_mac, 0x88b5, 2);
    CHECK_EQ(nx_host_send(&h, 0, NULL, frame, 1514), 0);
    CHECK_EQ(nx_rx_recv(&h, 0, &pkt, 2000), 0);
    CHECK(pkt.len == 1514 && !memcmp(pkt.data, frame, 1514));
    CHECK_EQ(h.nb.stats.rx_dropped, 7);
    CHECK_EQ(h.nb.stats.rx_packets, 1);
    net_close(&h);
}

/* Random requests and extras from a frontend that knows the layout: the
 * backend answers each slot it takes exactly once or stops the queue, and
 * leaves no mapping behind. */
TEST(tx_random_requests)
{
    srand(11);
    for (unsigned round = 0; round < 200 && !unit_failed_checks; round++) {
        if (!open_sp(1))
            return;
        unsigned n = 1 + (unsigned)rand() % 40;
        for (unsigned i = 0; i < n; i++) {
            netif_tx_request_t *r = req(0, (uint16_t)(rand() % 3 ? rand() % 5000 : rand()),
                                        (uint16_t)(rand() % 5 ? rand() % 4096 : rand()),
                                        (uint16_t)(rand() % 16));
            if (rand() % 8 == 0)
                r->gref = (grant_ref_t)rand() % (NX_MAX_GRANTS + 10);
            if (rand() % 16 == 0)
                memset(r, rand(), sizeof(*r));
        }
        nx_tx_push(&h, 0);
        int rc = netback_poll(&h.nb, 0);
        struct netq *bq = h.nb.q[0];
        RING_IDX answered = h.q[0].tx.sring->rsp_prod;
        if (rc >= 0) {
            /* Everything taken was answered; only an incomplete tail remains. */
            CHECK_EQ(answered, bq->tx.req_cons);
            CHECK(bq->tx.req_cons <= n);
        } else {
            CHECK(answered <= n);
        }
        CHECK_EQ(h.live_maps, 0);
        struct virtio_net_hdr vh;
        while (nx_host_recv(&h, 0, &vh, got, sizeof(got), 0) >= 0)
            ;
        net_close(&h);
    }
}

/* A save's drain (netback_pause): rx requests netback took ahead and mapped
 * are let go, unmapped and not consumed; the packet waiting for them is
 * delivered once the frontend posts enough. */
TEST(pause_lets_go_of_rx_requests_taken_ahead)
{
    if (!open_sp(1))
        return;
    struct netq *bq = h.nb.q[0];
    RING_IDX cons0 = bq->rx.req_cons;
    nx_rx_post(&h, 0, 1);                    /* one buffer: the frame needs two */
    net_eth(frame, 6000, net_guest_mac, net_peer_mac, 0x88b5, 5);
    CHECK_EQ(nx_host_send(&h, 0, NULL, frame, 6000), 0);
    netback_poll(&h.nb, 0);
    CHECK_EQ(bq->rxw_n, 1);
    CHECK_EQ(h.live_maps, 1);
    netback_pause(&h.nb);
    CHECK_EQ(bq->rxw_n, 0);
    CHECK_EQ(h.live_maps, 0);
    CHECK_EQ(bq->rx.req_cons, cons0);
    CHECK_EQ(bq->rx.rsp_prod_pvt, cons0);
    nx_rx_post(&h, 0, 1);
    CHECK_EQ(nx_rx_recv(&h, 0, &pkt, 2000), 0);
    CHECK(pkt.len == 6000 && !memcmp(pkt.data, frame, 6000));
    net_close(&h);
}
