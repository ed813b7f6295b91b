/* Pure pieces of netback: header parsing, checksums, offload translation
 * both ways, and the tx request checks on private copies. */
#include "net_util.h"
#include "backend/netback_queue.h"
#include <netinet/in.h>

static uint8_t f[70000];

TEST(parse_headers)
{
    struct net_l4 l4;
    net_ip(f, 200, false, false, IPPROTO_TCP, true, 1);
    CHECK_EQ(net_l4_parse(f, 200, &l4), 0);
    CHECK(!l4.ipv6);
    CHECK_EQ(l4.csum_start, 34);
    CHECK_EQ(l4.csum_offset, 16);
    CHECK_EQ(l4.hdr_len, 54);
    CHECK_EQ(l4.l4_len, 200 - 34);
    net_ip(f, 200, true, true, IPPROTO_TCP, true, 1);
    CHECK_EQ(net_l4_parse(f, 200, &l4), 0);
    CHECK(l4.ipv6);
    CHECK_EQ(l4.csum_start, 14 + 40 + 24);
    CHECK_EQ(l4.l4_len, 200 - 78);
    net_ip(f, 100, true, false, IPPROTO_UDP, true, 1);
    CHECK_EQ(net_l4_parse(f, 100, &l4), 0);
    CHECK_EQ(l4.csum_offset, 6);
    /* One VLAN tag. */
    net_ip(f + 4, 200, false, false, IPPROTO_UDP, true, 1);
    memmove(f, f + 4, 12);
    f[12] = 0x81; f[13] = 0; f[14] = 0; f[15] = 5;
    CHECK_EQ(net_l4_parse(f, 204, &l4), 0);
    CHECK_EQ(l4.csum_start, 38);
    CHECK_EQ(net_l3_family(f, 204), 4);
}

TEST(parse_rejects)
{
    struct net_l4 l4;
    net_ip(f, 200, false, false, IPPROTO_TCP, true, 1);
    CHECK_EQ(net_l4_parse(f, 13, &l4), -EPROTO);         /* no Ethernet header */
    CHECK_EQ(net_l4_parse(f, 40, &l4), -EPROTO);         /* IP total length beyond the frame */
    f[14] = 0x44;                                        /* IHL 4 */
    CHECK_EQ(net_l4_parse(f, 200, &l4), -EPROTO);
    net_ip(f, 200, false, false, IPPROTO_TCP, true, 1);
    f[20] = 0x00; f[21] = 0x10;                          /* fragment offset */
    CHECK_EQ(net_l4_parse(f, 200, &l4), -EPROTO);
    net_ip(f, 200, false, false, IPPROTO_TCP, true, 1);
    f[14 + 20 + 12] = 0xf0;                              /* TCP data offset 60 > segment */
    f[14 + 2] = 0; f[14 + 3] = 70;
    CHECK_EQ(net_l4_parse(f, 200, &l4), -EPROTO);
    net_ip(f, 200, false, false, IPPROTO_TCP, true, 1);
    f[14 + 9] = 1;                                       /* ICMP */
    CHECK_EQ(net_l4_parse(f, 200, &l4), -EPROTO);
    net_ip(f, 200, true, true, IPPROTO_TCP, true, 1);
    f[14 + 40 + 1] = 200;                                /* hop-by-hop runs off the end */
    CHECK_EQ(net_l4_parse(f, 200, &l4), -EPROTO);
    net_ip(f, 200, true, false, IPPROTO_UDP, true, 1);
    f[14 + 6] = IPPROTO_FRAGMENT;                        /* fragment header, offset != 0 */
    f[14 + 40] = IPPROTO_UDP;
    f[14 + 40 + 2] = 0; f[14 + 40 + 3] = 8;
    CHECK_EQ(net_l4_parse(f, 200, &l4), -EPROTO);
    f[14 + 40 + 3] = 0;                                  /* an atomic fragment is fine */
    CHECK_EQ(net_l4_parse(f, 200, &l4), 0);
    f[14 + 4] = 0; f[14 + 5] = 0;                        /* jumbogram payload length 0 */
    CHECK_EQ(net_l4_parse(f, 200, &l4), -EPROTO);
    net_eth(f, 100, net_peer_mac, net_guest_mac, 0x0806, 1);
    CHECK_EQ(net_l4_parse(f, 100, &l4), -EPROTO);
    CHECK_EQ(net_l3_family(f, 100), 3);
}

TEST(checksums)
{
    /* RFC 1071's example: 0001 f203 f4f5 f6f7 sums to ddf2. */
    static const uint8_t ex[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    CHECK_EQ(net_csum_fold(net_csum_add(0, ex, 8)), 0xddf2);
    for (size_t len = 60; len < 3000; len += 117) {
        net_ip(f, len, len & 1, len & 2, len & 4 ? IPPROTO_UDP : IPPROTO_TCP, false, (unsigned)len);
        CHECK(net_csum_ok(f, len));
        f[len - 1] ^= 0x40;
        CHECK(!net_csum_ok(f, len));
    }
    CHECK_EQ(net_csum_finish(f, 100, 90, 9), -EINVAL);
    CHECK_EQ(net_csum_finish(f, 100, 101, 0), -EINVAL);
    CHECK_EQ(net_csum_finish(f, 100, 98, 0), 0);
}

TEST(tx_offload)
{
    struct virtio_net_hdr vh;
    net_ip(f, 300, false, false, IPPROTO_TCP, true, 1);
    CHECK_EQ(net_tx_offload(f, 300, 0, NULL, &vh), 0);
    CHECK_EQ(vh.flags, 0);
    CHECK_EQ(net_tx_offload(f, 300, NETTXF_data_validated, NULL, &vh), 0);
    CHECK_EQ(vh.flags, VIRTIO_NET_HDR_F_DATA_VALID);
    CHECK_EQ(net_tx_offload(f, 300, NETTXF_csum_blank | NETTXF_data_validated, NULL, &vh), 0);
    CHECK_EQ(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    netif_extra_info_t gso = { .type = XEN_NETIF_EXTRA_TYPE_GSO,
                               .u.gso = { .size = 100, .type = XEN_NETIF_GSO_TYPE_TCPV4 } };
    CHECK_EQ(net_tx_offload(f, 300, NETTXF_csum_blank, &gso, &vh), 0);
    CHECK_EQ(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    CHECK_EQ(vh.gso_size, 100);
    CHECK_EQ(vh.hdr_len, 54);
    gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV6;
    CHECK_EQ(net_tx_offload(f, 300, NETTXF_csum_blank, &gso, &vh), -EPROTO);
    /* Of the first bytes, those read or written: what the tap must get from
     * the private copy (the rest may come from the guest's pages). */
    size_t used = 99;
    CHECK_EQ(net_tx_offload_head(f, 256, 300, 0, NULL, &vh, &used), 0);
    CHECK_EQ(used, 0);                                   /* nothing looked at */
    gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
    CHECK_EQ(net_tx_offload_head(f, 256, 300, 0, &gso, &vh, &used), 0);
    CHECK_EQ(used, 54);                                  /* through the TCP header */
    CHECK_EQ(used, vh.hdr_len);
    unsigned l4 = net_ip(f, 300, true, true, IPPROTO_UDP, true, 2);
    CHECK_EQ(net_tx_offload_head(f, 256, 300, NETTXF_csum_blank, NULL, &vh, &used), 0);
    CHECK_EQ(used, l4 + 8);                              /* through the UDP header */
    CHECK_EQ(net_tx_offload_head(f, l4 + 7, 300, NETTXF_csum_blank, NULL, &vh, &used), -ENODATA);
}

TEST(rx_offload)
{
    struct net_features all = { .rx_copy = true, .sg = true, .gso_tcpv4 = true, .gso_tcpv6 = true,
                                .csum = true, .ipv6_csum = true };
    struct net_features none = { .rx_copy = true };
    uint16_t flags;
    netif_extra_info_t gso;
    bool has;
    net_ip(f, 3000, false, false, IPPROTO_TCP, true, 1);
    struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
        .csum_offset = 16, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1000 };
    CHECK_EQ(net_rx_offload(f, 3000, &vh, &all, &flags, &gso, &has), 0);
    CHECK(has);
    CHECK_EQ(gso.u.gso.size, 1000);
    CHECK_EQ(flags, NETRXF_csum_blank | NETRXF_data_validated);
    CHECK_EQ(net_rx_offload(f, 3000, &vh, &none, &flags, &gso, &has), -EPROTO);
    struct net_features nosg = all;
    nosg.sg = false;
    CHECK_EQ(net_rx_offload(f, 3000, &vh, &nosg, &flags, &gso, &has), -EPROTO);
    vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;              /* family disagrees */
    CHECK_EQ(net_rx_offload(f, 3000, &vh, &all, &flags, &gso, &has), -EPROTO);
    vh.gso_type = 0;
    CHECK_EQ(net_rx_offload(f, 3000, &vh, &none, &flags, &gso, &has), 0);
    CHECK_EQ(flags, NETRXF_data_validated);              /* completed in software */
    CHECK(net_csum_ok(f, 3000));
    vh.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    CHECK_EQ(net_rx_offload(f, 3000, &vh, &none, &flags, &gso, &has), 0);
    CHECK_EQ(flags, NETRXF_data_validated);
    vh.flags = 0;
    CHECK_EQ(net_rx_offload(f, 3000, &vh, &none, &flags, &gso, &has), 0);
    CHECK_EQ(flags, 0);
}

static netif_tx_request_t tr(uint16_t size, uint16_t off, uint16_t flags)
{
    return (netif_tx_request_t){ .gref = 10, .offset = off, .flags = flags, .id = 1, .size = size };
}

TEST(tx_parse)
{
    struct net_tx_pkt p;
    netif_tx_request_t w[32];
    w[0] = tr(100, 0, 0);
    CHECK_EQ(net_tx_parse(w, 1, &p), 1);
    CHECK_EQ(p.status, NETIF_RSP_OKAY);
    CHECK_EQ(p.size[0], 100);
    CHECK_EQ(net_tx_parse(w, 0, &p), NET_TX_MORE);
    /* first + extra + 2 fragments */
    w[0] = tr(3000, 10, NETTXF_more_data | NETTXF_extra_info);
    netif_extra_info_t *x = (netif_extra_info_t *)&w[1];
    memset(x, 0, sizeof(w[1]));
    x->type = XEN_NETIF_EXTRA_TYPE_GSO;
    x->u.gso.size = 1400;
    x->u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
    w[2] = tr(1000, 0, NETTXF_more_data);
    w[3] = tr(500, 0, 0);
    CHECK_EQ(net_tx_parse(w, 4, &p), 4);
    CHECK_EQ(net_tx_parse(w, 3, &p), NET_TX_MORE);
    CHECK_EQ(net_tx_parse(w, 2, &p), NET_TX_MORE);
    CHECK_EQ(net_tx_parse(w, 4, &p), 4);
    CHECK(p.has_gso);
    CHECK_EQ(p.nr_extras, 1);
    CHECK_EQ(p.nr_data, 3);
    CHECK_EQ(p.size[0], 1500);
    CHECK_EQ(p.data_idx[1], 2);
    /* the first slot's data crossing its page is fatal */
    w[0] = tr(3000, 4000, NETTXF_more_data);
    w[1] = tr(1000, 0, 0);
    CHECK_EQ(net_tx_parse(w, 2, &p), NET_TX_FATAL);
    CHECK_EQ(p.consumed, 2);
    /* a fragment larger than what is left: dropped, all slots consumed */
    w[0] = tr(1000, 0, NETTXF_more_data);
    w[1] = tr(1001, 0, NETTXF_more_data);
    w[2] = tr(5, 0, 0);
    CHECK_EQ(net_tx_parse(w, 3, &p), 3);
    CHECK_EQ(p.status, NETIF_RSP_ERROR);
    /* slot counts: 1 + NET_MAX_FRAGS fine, up to 1 + NET_FATAL_FRAGS dropped, more fatal */
    for (unsigned frags = NET_MAX_FRAGS; frags <= NET_FATAL_FRAGS + 1; frags++) {
        w[0] = tr((uint16_t)(100 * (frags + 1)), 0, NETTXF_more_data);
        for (unsigned i = 1; i <= frags; i++)
            w[i] = tr(100, 0, i < frags ? NETTXF_more_data : 0);
        int rc = net_tx_parse(w, frags + 1, &p);
        if (frags <= NET_MAX_FRAGS)
            CHECK(rc == (int)frags + 1 && p.status == NETIF_RSP_OKAY);
        else if (frags <= NET_FATAL_FRAGS)
            CHECK(rc == (int)frags + 1 && p.status == NETIF_RSP_ERROR);
        else
            CHECK_EQ(rc, NET_TX_FATAL);
    }
}
