/* One netback queue: a tx ring (guest -> tap) and an rx ring (tap -> guest)
 * on one tap file descriptor. Not thread-safe: one thread drives a queue
 * (the device's worker, or a caller of netback_poll). */
#pragma once
#include "backend/netback.h"
#include "backend/netif_ring.h"
#include <linux/virtio_net.h>
#include <sys/types.h>

/* Bytes one tap read may bring (a 64 KiB GSO packet with its headers). */
#define NET_RX_BUF (65536u + 1024u)
/* Slots one rx packet may use: its data pages and a GSO extra. */
#define NET_RX_MAX_SLOTS ((NET_RX_BUF + NET_PAGE_SIZE - 1) / NET_PAGE_SIZE + 1)
/* Packets moved each way per round, so a busy direction cannot starve the other. */
#define NET_BUDGET 64
/* Responses are published (and the frontend notified if it asked) after this
 * many slots within a round, and at its end: a frontend with a full ring
 * refills half of it while the other half is being served. */
#define NET_TX_PUSH_SLOTS (NET_TX_RING_SIZE / 2)
#define NET_RX_PUSH_SLOTS (NET_RX_RING_SIZE / 2)

/* One tx packet as its requests describe it (net_tx_parse). */
struct net_tx_pkt {
    unsigned consumed;                    /* ring slots: first + extras + fragments */
    unsigned nr_data;                     /* first + fragments */
    unsigned nr_extras;
    unsigned data_idx[NET_MAX_FRAGS + 1]; /* their positions in the window */
    uint16_t size[NET_MAX_FRAGS + 1];     /* data bytes in each (first: the remainder) */
    uint16_t total;                       /* the packet's length */
    uint16_t flags;                       /* the first request's NETTXF_* */
    bool has_gso, mcast;
    netif_extra_info_t gso;
    int16_t status;                       /* NETIF_RSP_OKAY, or ERROR: drop it */
    const char *why;                      /* for an error or a fatal verdict */
};

enum { NET_TX_MORE = 0, NET_TX_FATAL = -1 };
/* Checks the packet starting at win[0] of avail private request copies.
 * Returns the slots it consumes (> 0; p->status says whether it is sent or
 * answered with an error), NET_TX_MORE if its requests are not all there
 * yet, or NET_TX_FATAL (p->why, p->consumed) for a malicious frontend. */
int net_tx_parse(const netif_tx_request_t *win, unsigned avail, struct net_tx_pkt *p);

struct netq {
    unsigned idx;
    struct netback *nb;
    int tap_fd;
    netif_tx_back_ring_t tx;
    netif_rx_back_ring_t rx;
    grant_ref_t tx_ref, rx_ref;
    bool broken;                          /* the frontend broke the protocol */
    netif_tx_request_t txwin[NET_TX_RING_SIZE];   /* private copies of requests */
    uint8_t *txbuf;                       /* virtio_net_hdr + one packet */
    uint8_t *rxbuf;                       /* virtio_net_hdr + one packet */
    size_t rx_len;                        /* packet bytes in rxbuf */
    bool rx_pending;                      /* rxbuf holds a packet waiting for rx slots */
    bool tap_eof;                         /* the fd reads 0 (a test's socket peer closed) */
    bool tap_error;                       /* the last read failed (e.g. a detached queue):
                                             the worker retries after a pause, not at once */
    bool tx_notify, rx_notify;            /* responses written since the last push */
    /* rx: the next posted requests from rx.req_cons on, copied and their pages
     * mapped ahead (netback_rx.c); a NULL page: its grant could not be mapped. */
    netif_rx_request_t rxw_req[NET_RX_MAX_SLOTS];
    void *rxw_page[NET_RX_MAX_SLOTS];
    unsigned rxw_n;
};

int netq_init(struct netq *q, struct netback *nb, unsigned idx, const struct netback_queue_refs *refs,
              int tap_fd, char *err, size_t errlen);
void netq_fini(struct netq *q);
/* Moves what can be moved now; packets moved, or -EPROTO once broken. */
int netq_poll(struct netq *q);
/* The parts of netq_poll (netback_tx.c, netback_rx.c): packets moved, at
 * most NET_BUDGET. */
int netq_tx(struct netq *q);
int netq_rx(struct netq *q);
/* Unmaps the rx requests taken ahead (netq_fini does). */
void netq_rx_fini(struct netq *q);
/* Unmaps them without consuming them: they are read from the ring again. */
void netq_rx_release(struct netq *q);
/* Stops the queue for a frontend that broke the protocol; logs once. */
void netq_fatal(struct netq *q, const char *what);
