/* Netfront harness: plays a guest's side of netif tx/rx rings in host memory
 * and drives the netback core directly (no KVM, no xenstore). Guest memory
 * is a memfd of frames with a fake grant table (netfront_env.c); with guard
 * on, the backend's view of it is PROT_NONE except granted pages while
 * mapped (read-only grants stay read-only), so any stray access faults.
 *
 * The host side is either a real tap (cfg.tap: the test reads what netback
 * sent from an AF_PACKET socket on it and injects frames there, both with
 * virtio_net_hdr) or, without a tap, one SOCK_SEQPACKET socketpair per queue
 * standing in for the tap fd: the same framing, no root needed. */
#pragma once
#include "backend/netback.h"
#include "backend/netif_ring.h"
#include <linux/virtio_net.h>
#include <pthread.h>
#include <sys/types.h>

#define NX_MAX_GRANTS 8192
#define NX_FIRST_REF 8           /* 0..7 are the toolstack's, as in Xen */
#define NX_REF_INVALID 0xffffffffu
/* Frames per queue: the two ring pages, then one page per tx and rx slot. */
#define NX_QUEUE_FRAMES (2 + NET_TX_RING_SIZE + NET_RX_RING_SIZE)
#define NX_SCRATCH_FRAMES 64     /* after the queues' frames, for tests */
#define NX_MAX_PKT 70000

struct nx_config {
    unsigned nr_queues;          /* 1..NET_MAX_QUEUES (0: 1) */
    bool threaded;               /* backend worker threads (else the harness polls it) */
    bool guard;                  /* fault on any access outside a mapped grant */
    bool split;                  /* split event channels: tx and rx notify apart */
    bool custom_feat;            /* use feat as given; else everything on */
    struct net_features feat;
    const char *tap;             /* real tap name; NULL: socketpairs */
    const char *bridge;          /* tap mode: attach to this bridge */
    unsigned mtu;                /* tap mode: 0 leaves the default */
    bool no_refill;              /* nx_rx_recv does not re-post the slots it used */
};

struct nx_grant {
    uint32_t frame;
    bool used, ro;
};

struct nx_queue {
    netif_tx_front_ring_t tx;
    netif_rx_front_ring_t rx;
    grant_ref_t tx_ring_ref, rx_ring_ref;
    unsigned tx_frame0, rx_frame0;        /* slot i's page: frame0 + i */
    grant_ref_t tx_ref[NET_TX_RING_SIZE]; /* standing grants of those pages */
    grant_ref_t rx_ref[NET_RX_RING_SIZE];
    int notify_fd[2];                     /* tx, rx: one eventfd unless split */
    uint64_t notifies[2];                 /* env.notify calls for 2q, 2q+1 */
    int host_fd;                          /* socketpair mode: the host's end */
    int be_fd;                            /* the fd netback serves */
    uint16_t next_id;
};

struct nx {
    struct nx_config cfg;
    unsigned frames;
    int memfd;
    uint8_t *mem;                /* the frontend's view */
    uint8_t *bview;              /* the backend's view (guard), else == mem */
    pthread_mutex_t lock;        /* grant table and map counts */
    struct nx_grant gnt[NX_MAX_GRANTS];
    grant_ref_t next_ref;
    uint16_t *map_ro, *map_rw;   /* per frame: live backend mappings */
    long live_maps;              /* grant mappings not yet unmapped */
    long ring_maps;
    struct gnt_env env;
    struct netback nb;
    struct nx_queue q[NET_MAX_QUEUES];
    int tap_fd[NET_MAX_QUEUES];
    int pkt_fd;                  /* tap mode: AF_PACKET socket on the tap */
    int ifindex;
    unsigned scratch0;           /* first scratch frame */
    bool connected;
};

/* A received packet (nx_rx_recv). */
struct nx_pkt {
    uint8_t data[NX_MAX_PKT];
    size_t len;
    uint16_t flags;              /* the first response's NETRXF_* */
    bool has_gso;
    netif_extra_info_t gso;
    int16_t status;              /* NETIF_RSP_OKAY or the first error */
    unsigned slots;              /* ring slots used, extras included */
};

/* Options of one sent packet (nx_send). */
struct nx_txopt {
    uint16_t flags;              /* NETTXF_csum_blank / NETTXF_data_validated */
    uint8_t gso_type;            /* XEN_NETIF_GSO_TYPE_*: adds a GSO extra */
    uint16_t gso_size;
    unsigned slot_size;          /* most data bytes per slot (0: a page) */
    unsigned offset;             /* where data starts in the first page */
};

/* Returns 0 or -errno with err set (and everything undone). */
int nx_open(struct nx *h, const struct nx_config *cfg, char *err, size_t errlen);
void nx_close(struct nx *h);
/* Only the backend: netback_disconnect (rings unmapped, workers stopped). */
void nx_disconnect(struct nx *h);

uint8_t *nx_frame(struct nx *h, unsigned frame);
grant_ref_t nx_grant(struct nx *h, unsigned frame, bool readonly);
void nx_ungrant(struct nx *h, grant_ref_t ref);

/* tx: the next raw request slot (zeroed) and the page standing for it. */
netif_tx_request_t *nx_tx_req(struct nx *h, unsigned q);
/* Queues one packet as requests (extras and slots as opt says) on pages of
 * the slots used; returns the first request's id, or -1 if the ring is full. */
int nx_send(struct nx *h, unsigned q, const void *frame, size_t len, const struct nx_txopt *opt);
/* Publishes tx requests and kicks when the ring asks for it; unthreaded,
 * runs the backend. */
void nx_tx_push(struct nx *h, unsigned q);
/* One tx response, waiting up to timeout_ms. 0 or -ETIMEDOUT. */
int nx_tx_rsp(struct nx *h, unsigned q, netif_tx_response_t *out, int timeout_ms);
/* Sends one packet, pushes, collects its n responses (n = slots it used);
 * returns the first response's status, or 99 on a missing response. */
int16_t nx_xmit(struct nx *h, unsigned q, const void *frame, size_t len, const struct nx_txopt *opt);

/* rx: the next raw request slot (zeroed). */
netif_rx_request_t *nx_rx_req(struct nx *h, unsigned q);
/* Posts n rx requests on the slots' own pages and publishes them. */
void nx_rx_post(struct nx *h, unsigned q, unsigned n);
/* Publishes rx requests written with nx_rx_req and kicks when asked. */
void nx_rx_push(struct nx *h, unsigned q);
/* One rx response, raw. 0 or -ETIMEDOUT. */
int nx_rx_rsp(struct nx *h, unsigned q, netif_rx_response_t *out, int timeout_ms);
/* One whole packet from the rx ring (extras, more_data chains), re-posting
 * its slots unless cfg.no_refill. In tap mode frames the kernel itself sent
 * (source fe:ff:ff:ff:ff:ff) are skipped. 0 or -ETIMEDOUT. */
int nx_rx_recv(struct nx *h, unsigned q, struct nx_pkt *p, int timeout_ms);

/* Host side: injects a frame toward the guest (socketpair: on queue q; tap:
 * into the tap, the kernel picks the queue). 0 or -errno. */
int nx_host_send(struct nx *h, unsigned q, const struct virtio_net_hdr *vh, const void *frame,
                 size_t len);
/* Host side: the next frame netback sent (socketpair: on queue q; tap: any
 * queue, the guest's frames only). Its length, or -ETIMEDOUT. */
ssize_t nx_host_recv(struct nx *h, unsigned q, struct virtio_net_hdr *vh, void *buf, size_t cap,
                     int timeout_ms);

/* A unique tap name for this process: xkt<pid>n<n>. */
void nx_tap_name(char *buf, size_t len);
