/* Checksum offload and GSO between Xen's netif flags/extras and the
 * virtio_net_hdr a tap speaks. Pure functions on private packet copies:
 * header parsing (as Linux's skb_checksum_setup), checksum arithmetic. */
#pragma once
#include "backend/netback.h"
#include "backend/netif_ring.h"
#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a TCP/UDP packet's checksum lives. */
struct net_l4 {
    bool ipv6;
    uint8_t proto;           /* IPPROTO_TCP or IPPROTO_UDP */
    uint16_t l3_off;         /* the IP header */
    uint16_t csum_start;     /* the TCP/UDP header, from the frame's start */
    uint16_t csum_offset;    /* of the checksum field within that header */
    uint16_t l4_len;         /* TCP/UDP header + payload, from the IP lengths */
    uint16_t hdr_len;        /* through the TCP header (0 for UDP) */
};

/* Parses Ethernet (at most one VLAN tag), IPv4 or IPv6 with its extension
 * headers (hop-by-hop, routing, destination, fragment, AH), then TCP or UDP.
 * 0, or -EPROTO: another protocol, an IP fragment, or a length that does not
 * fit the frame. */
int net_l4_parse(const uint8_t *pkt, size_t len, struct net_l4 *out);
/* The same on the first caplen bytes of a len-byte frame (caplen <= len):
 * -ENODATA when the headers need more than those (then parse a longer copy).
 * Every header byte read or written later (through hdr_len for TCP, the
 * checksum field for UDP) lies within caplen. */
int net_l4_parse_head(const uint8_t *pkt, size_t caplen, size_t len, struct net_l4 *out);
/* 3 for not IP, else 4 or 6 (after at most one VLAN tag). */
int net_l3_family(const uint8_t *pkt, size_t len);
/* The 16-bit one's complement sum of [p, p+len) added to sum, not folded. */
uint64_t net_csum_add(uint64_t sum, const uint8_t *p, size_t len);
uint16_t net_csum_fold(uint64_t sum);
/* Writes the pseudo-header sum into the checksum field, as a partial
 * (CHECKSUM_PARTIAL) packet carries it. */
void net_csum_set_pseudo(uint8_t *pkt, const struct net_l4 *l4);
/* Completes a partial checksum: sums [start, len), stores the complement at
 * start + off. -EINVAL when the field is not inside the frame. */
int net_csum_finish(uint8_t *pkt, size_t len, unsigned start, unsigned off);

/* A guest's tx packet: its NETTXF_* flags and GSO extra (NULL: none) ->
 * the virtio_net_hdr for the tap. A GSO packet without csum_blank gets its
 * pseudo-header sum written (as Linux netback does). 0 or -EPROTO (csum_blank
 * or GSO on a packet that is not TCP/UDP over IP, or GSO type and packet
 * disagree). */
int net_tx_offload(uint8_t *pkt, size_t len, uint16_t flags, const netif_extra_info_t *gso,
                   struct virtio_net_hdr *vh);
/* net_tx_offload given only the first caplen bytes of the len-byte packet
 * (the rest is passed to the tap from the guest's pages, unread): -ENODATA
 * when its headers reach beyond them. On success *used is how many bytes at
 * the start were read or written (0 when no offload was asked for): the
 * tap must get those from this copy, the rest may come from the guest. */
int net_tx_offload_head(uint8_t *pkt, size_t caplen, size_t len, uint16_t flags,
                        const netif_extra_info_t *gso, struct virtio_net_hdr *vh, size_t *used);
/* A tap's rx packet with its virtio_net_hdr -> the NETRXF_* flags for the
 * frontend and, for GSO, the extra info it gets (*has_gso). A partial
 * checksum the frontend cannot take blank for this protocol is completed in
 * software. -EPROTO: the frontend cannot take this packet (drop it). */
int net_rx_offload(uint8_t *pkt, size_t len, const struct virtio_net_hdr *vh,
                   const struct net_features *feat, uint16_t *flags, netif_extra_info_t *gso,
                   bool *has_gso);
/* net_rx_offload with only the first caplen bytes of the len-byte packet at
 * hand (at least the Ethernet and VLAN headers, or all of it): -ENODATA when
 * the checksum must be completed in software, which needs every byte. */
int net_rx_offload_head(uint8_t *pkt, size_t caplen, size_t len, const struct virtio_net_hdr *vh,
                        const struct net_features *feat, uint16_t *flags, netif_extra_info_t *gso,
                        bool *has_gso);
