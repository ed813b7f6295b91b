/* Xen's netif ABI (<xen/io/netif.h>) with the barriers its ring macros need,
 * and the limits netback applies to a frontend. Include this instead of the
 * Xen headers directly. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>

#ifndef xen_mb
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif
#include <xen/grant_table.h>
#include <xen/io/netif.h>

#define NET_PAGE_SIZE 4096u
#define NET_ETH_HLEN 14u
/* A packet's largest size on the wire (the tx first slot's size field). */
#define NET_MAX_PACKET XEN_NETIF_MAX_TX_SIZE
/* Fragments (slots after the first) of one tx packet: up to NET_MAX_FRAGS
 * are taken; up to NET_FATAL_FRAGS the packet is answered with an error and
 * the queue goes on; more and the frontend is treated as malicious (queue
 * stopped). Linux netback's XEN_NETBK_LEGACY_SLOTS_MAX and fatal_skb_slots
 * defaults, which it compares with the same count. */
#define NET_MAX_FRAGS XEN_NETIF_NR_SLOTS_MIN
#define NET_FATAL_FRAGS 20u
/* Extra-info slots one tx packet may carry (one per known type). */
#define NET_MAX_EXTRAS (XEN_NETIF_EXTRA_TYPE_MAX - 1)
/* One ring page each way, as Linux's netfront uses. */
#define NET_TX_RING_SIZE __CONST_RING_SIZE(netif_tx, NET_PAGE_SIZE)
#define NET_RX_RING_SIZE __CONST_RING_SIZE(netif_rx, NET_PAGE_SIZE)

_Static_assert(sizeof(netif_extra_info_t) <= sizeof(netif_tx_request_t), "extras overlay tx requests");
_Static_assert(sizeof(netif_extra_info_t) <= sizeof(netif_rx_response_t), "extras overlay rx responses");
