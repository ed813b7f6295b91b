/* Shared helpers of the netback tests: frame builders, a harness opened in
 * the build's mode (socketpairs for test_net; real taps when compiled with
 * NX_TAP, for netback-tap-cases), checksum checks. */
#pragma once
#include "backend/netback_offload.h"
#include "harness/netfront.h"
#include "unit.h"
#include <errno.h>
#include <unistd.h>

extern const uint8_t net_guest_mac[6], net_peer_mac[6];

/* Opens h (guard on, 1 queue unless cfg says otherwise); in tap mode with a
 * fresh tap name. Fails the case on error. */
bool net_open(struct nx *h, struct nx_config *cfg);
/* Closes h and checks no grant mapping is left. */
void net_close(struct nx *h);

/* An Ethernet frame of len bytes from src to dst with ethertype type and a
 * payload pattern seeded by seed. */
void net_eth(uint8_t *f, size_t len, const uint8_t *dst, const uint8_t *src, uint16_t type,
             unsigned seed);
/* A TCP (proto 6) or UDP (17) packet over IPv4 (v6 false) or IPv6 (v6: with
 * hop-by-hop and destination-options headers when ext) of len bytes in
 * total; the checksum field holds the pseudo-header sum (partial) when
 * partial, else the full checksum. Returns the L4 header's offset. */
unsigned net_ip(uint8_t *f, size_t len, bool v6, bool ext, uint8_t proto, bool partial, unsigned seed);
/* True if the packet's TCP/UDP checksum verifies. */
bool net_csum_ok(const uint8_t *f, size_t len);
/* Reads the next frame on the host side; fails the case on a timeout. */
ssize_t net_host_recv(struct nx *h, unsigned q, struct virtio_net_hdr *vh, uint8_t *buf, size_t cap);
/* True if a tap can be made here (root and /dev/net/tun). */
bool net_tap_possible(void);
