/* Checksum and GSO translation between netif and virtio_net_hdr. Every
 * offset is checked against the frame's length before it is read. */
#include "backend/netback_offload.h"
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#define ETHT_IPV4 0x0800
#define ETHT_IPV6 0x86dd
#define ETHT_VLAN 0x8100
#define ETHT_QINQ 0x88a8
#define IPV6_HDR 40u
#define IPV6_MAX_EXT 256u   /* extension headers parsed at most, as Linux */

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Bytes [0, n) must be in the frame (else -EPROTO) and in the copy at hand
 * (else -ENODATA: a longer copy would do). */
#define NEED(n) do {                                  \
        size_t need_ = (n);                           \
        if (need_ > len) return -EPROTO;              \
        if (need_ > cap) return -ENODATA;             \
    } while (0)

/* The ethertype after at most one VLAN tag, and where the L3 header starts. */
static int l3_start(const uint8_t *pkt, size_t cap, size_t len, uint16_t *type, size_t *off)
{
    NEED(NET_ETH_HLEN);
    *type = be16(pkt + 12);
    *off = NET_ETH_HLEN;
    if (*type == ETHT_VLAN || *type == ETHT_QINQ) {
        NEED(NET_ETH_HLEN + 4);
        *type = be16(pkt + 16);
        *off += 4;
    }
    return 0;
}

int net_l3_family(const uint8_t *pkt, size_t len)
{
    uint16_t type;
    size_t off;
    if (l3_start(pkt, len, len, &type, &off))
        return 3;
    return type == ETHT_IPV4 ? 4 : type == ETHT_IPV6 ? 6 : 3;
}

static int parse_ipv4(const uint8_t *pkt, size_t cap, size_t len, size_t off, struct net_l4 *l4)
{
    NEED(off + 20);
    if (pkt[off] >> 4 != 4)
        return -EPROTO;
    size_t ihl = (size_t)(pkt[off] & 15) * 4;
    size_t tot = be16(pkt + off + 2);
    if (ihl < 20 || tot < ihl || tot > len - off)
        return -EPROTO;
    if (be16(pkt + off + 6) & 0x3fff)   /* MF or a fragment offset */
        return -EPROTO;
    l4->proto = pkt[off + 9];
    l4->csum_start = (uint16_t)(off + ihl);
    l4->l4_len = (uint16_t)(tot - ihl);
    return 0;
}

static int parse_ipv6(const uint8_t *pkt, size_t cap, size_t len, size_t off, struct net_l4 *l4)
{
    NEED(off + IPV6_HDR);
    if (pkt[off] >> 4 != 6)
        return -EPROTO;
    size_t end = off + IPV6_HDR + be16(pkt + off + 4);   /* a jumbogram (0) fails below */
    if (end > len)
        return -EPROTO;
    uint8_t next = pkt[off + 6];
    size_t p = off + IPV6_HDR;
    while (next != IPPROTO_TCP && next != IPPROTO_UDP) {
        size_t hl;
        if (p + 8 > end || p - off - IPV6_HDR > IPV6_MAX_EXT)
            return -EPROTO;
        NEED(p + 8);
        switch (next) {
        case IPPROTO_HOPOPTS: case IPPROTO_ROUTING: case IPPROTO_DSTOPTS:
            hl = ((size_t)pkt[p + 1] + 1) * 8;
            break;
        case IPPROTO_FRAGMENT:
            if (be16(pkt + p + 2) & 0xfff9)   /* offset or M: a fragment */
                return -EPROTO;
            hl = 8;
            break;
        case IPPROTO_AH:
            hl = ((size_t)pkt[p + 1] + 2) * 4;
            break;
        default:
            return -EPROTO;
        }
        next = pkt[p];
        p += hl;
    }
    if (p > end)
        return -EPROTO;
    l4->proto = next;
    l4->csum_start = (uint16_t)p;
    l4->l4_len = (uint16_t)(end - p);
    return 0;
}

int net_l4_parse_head(const uint8_t *pkt, size_t cap, size_t len, struct net_l4 *out)
{
    struct net_l4 l4 = { 0 };
    uint16_t type;
    size_t off;
    if (len > NET_MAX_PACKET || cap > len)
        return -EPROTO;
    int rc = l3_start(pkt, cap, len, &type, &off);
    if (rc)
        return rc;
    l4.l3_off = (uint16_t)off;
    rc = type == ETHT_IPV4 ? parse_ipv4(pkt, cap, len, off, &l4)
       : type == ETHT_IPV6 ? (l4.ipv6 = true, parse_ipv6(pkt, cap, len, off, &l4)) : -EPROTO;
    if (rc)
        return rc;
    if (l4.proto == IPPROTO_TCP) {
        if (l4.l4_len < 20)
            return -EPROTO;
        NEED((size_t)l4.csum_start + 20);
        unsigned doff = (unsigned)(pkt[l4.csum_start + 12] >> 4) * 4;
        if (doff < 20 || doff > l4.l4_len)
            return -EPROTO;
        l4.csum_offset = 16;
        l4.hdr_len = (uint16_t)(l4.csum_start + doff);
        NEED(l4.hdr_len);
    } else if (l4.proto == IPPROTO_UDP) {
        if (l4.l4_len < 8)
            return -EPROTO;
        l4.csum_offset = 6;
        NEED((size_t)l4.csum_start + 8);
    } else {
        return -EPROTO;
    }
    *out = l4;
    return 0;
}

int net_l4_parse(const uint8_t *pkt, size_t len, struct net_l4 *out)
{
    return net_l4_parse_head(pkt, len, len, out);
}

uint64_t net_csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
    size_t i = 0;
    for (; i + 1 < len; i += 2)
        sum += be16(p + i);
    if (i < len)
        sum += (uint64_t)p[i] << 8;
    return sum;
}

uint16_t net_csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }

void net_csum_set_pseudo(uint8_t *pkt, const struct net_l4 *l4)
{
    uint64_t s;
    if (l4->ipv6)
        s = net_csum_add(0, pkt + l4->l3_off + 8, 32);    /* source, destination */
    else
        s = net_csum_add(0, pkt + l4->l3_off + 12, 8);
    s += l4->l4_len + l4->proto;
    put16(pkt + l4->csum_start + l4->csum_offset, net_csum_fold(s));
}

int net_csum_finish(uint8_t *pkt, size_t len, unsigned start, unsigned off)
{
    if (start > len || off > len - start || len - start - off < 2)
        return -EINVAL;
    uint16_t c = (uint16_t)~net_csum_fold(net_csum_add(0, pkt + start, len - start));
    put16(pkt + start + off, c ? c : 0xffff);   /* as Linux: 0 is sent as 0xffff */
    return 0;
}

int net_tx_offload_head(uint8_t *pkt, size_t caplen, size_t len, uint16_t flags,
                        const netif_extra_info_t *gso, struct virtio_net_hdr *vh, size_t *used)
{
    memset(vh, 0, sizeof(*vh));
    *used = 0;
    if (!gso && !(flags & NETTXF_csum_blank)) {
        if (flags & NETTXF_data_validated)
            vh->flags = VIRTIO_NET_HDR_F_DATA_VALID;
        return 0;
    }
    struct net_l4 l4;
    int rc = net_l4_parse_head(pkt, caplen, len, &l4);
    if (rc)
        return rc == -ENODATA ? rc : -EPROTO;
    /* net_l4_parse_head read nothing past the TCP header or the UDP header;
     * the pseudo-header sum below goes into the TCP header. */
    *used = l4.proto == IPPROTO_TCP ? l4.hdr_len : (size_t)l4.csum_start + 8;
    vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vh->csum_start = l4.csum_start;
    vh->csum_offset = l4.csum_offset;
    if (!gso)
        return 0;
    bool v6 = gso->u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6;
    if (l4.proto != IPPROTO_TCP || l4.ipv6 != v6)
        return -EPROTO;
    if (!(flags & NETTXF_csum_blank))
        net_csum_set_pseudo(pkt, &l4);   /* a GSO packet is always partial */
    vh->gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
    vh->gso_size = gso->u.gso.size;
    vh->hdr_len = l4.hdr_len;
    return 0;
}

int net_tx_offload(uint8_t *pkt, size_t len, uint16_t flags, const netif_extra_info_t *gso,
                   struct virtio_net_hdr *vh)
{
    size_t used;
    return net_tx_offload_head(pkt, len, len, flags, gso, vh, &used);
}

int net_rx_offload_head(uint8_t *pkt, size_t caplen, size_t len, const struct virtio_net_hdr *vh,
                        const struct net_features *feat, uint16_t *flags, netif_extra_info_t *gso,
                        bool *has_gso)
{
    *flags = 0;
    *has_gso = false;
    int fam = net_l3_family(pkt, caplen < len ? caplen : len);
    bool blank_ok = (fam == 4 && feat->csum) || (fam == 6 && feat->ipv6_csum);
    uint8_t gtype = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
    if (gtype != VIRTIO_NET_HDR_GSO_NONE) {
        bool v6 = gtype == VIRTIO_NET_HDR_GSO_TCPV6;
        if ((gtype != VIRTIO_NET_HDR_GSO_TCPV4 && !v6) || !feat->sg || !blank_ok
            || !(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || !vh->gso_size
            || fam != (v6 ? 6 : 4) || !(v6 ? feat->gso_tcpv6 : feat->gso_tcpv4))
            return -EPROTO;
        memset(gso, 0, sizeof(*gso));
        gso->type = XEN_NETIF_EXTRA_TYPE_GSO;
        gso->u.gso.size = vh->gso_size;
        gso->u.gso.type = v6 ? XEN_NETIF_GSO_TYPE_TCPV6 : XEN_NETIF_GSO_TYPE_TCPV4;
        *has_gso = true;
    }
    if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if (vh->csum_start > len || vh->csum_offset > len - vh->csum_start
            || len - vh->csum_start - vh->csum_offset < 2)
            return -EPROTO;
        if (blank_ok) {
            *flags = NETRXF_csum_blank | NETRXF_data_validated;
            return 0;
        }
        if (caplen < len)
            return -ENODATA;
        net_csum_finish(pkt, len, vh->csum_start, vh->csum_offset);
        *flags = NETRXF_data_validated;
    } else if (vh->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
        *flags = NETRXF_data_validated;
    }
    return 0;
}

int net_rx_offload(uint8_t *pkt, size_t len, const struct virtio_net_hdr *vh,
                   const struct net_features *feat, uint16_t *flags, netif_extra_info_t *gso,
                   bool *has_gso)
{
    return net_rx_offload_head(pkt, len, len, vh, feat, flags, gso, has_gso);
}
