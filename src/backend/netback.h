/* A netback device: one vif, up to NET_MAX_QUEUES queues (a tx ring and an
 * rx ring each), one worker thread per queue moving packets between the
 * queue's rings and the queue's tap file descriptor (IFF_VNET_HDR, so
 * checksum offload and GSO pass through as virtio_net_hdr).
 * Knows nothing of KVM or xenstore: the gnt_env supplies grant mapping and
 * notification; the caller says when the frontend kicked a queue.
 *
 * Notify indices given to env.notify: 2*q for queue q's tx ring, 2*q+1 for
 * its rx ring (the same port unless the frontend split its channels). */
#pragma once
#include "backend/grant_env.h"
#include "backend/queue_workers.h"
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_MAX_QUEUES 4
_Static_assert(NET_MAX_QUEUES <= QW_MAX_QUEUES, "one worker per queue");

/* What the frontend asked for (its xenstore feature-* / request-* nodes). */
struct net_features {
    bool rx_copy;          /* request-rx-copy: must be set */
    bool rx_notify;        /* feature-rx-notify */
    bool sg;               /* feature-sg: rx packets may span slots */
    bool gso_tcpv4;        /* feature-gso-tcpv4: rx may carry GSO extras */
    bool gso_tcpv6;        /* feature-gso-tcpv6 */
    bool csum;             /* !feature-no-csum-offload: IPv4 rx csum may be blank */
    bool ipv6_csum;        /* feature-ipv6-csum-offload */
};

struct netback_queue_refs {
    grant_ref_t tx_ref, rx_ref;   /* one page each */
};

/* Counters, from the guest's point of view as `xl top` shows them
 * (tx: the guest sent, rx: the guest received). */
struct net_stats {
    _Atomic uint64_t tx_packets, tx_bytes, tx_errors;
    _Atomic uint64_t rx_packets, rx_bytes, rx_dropped;
};

struct netq;                       /* one queue's state (netback_queue.h) */

struct netback {
    struct gnt_env env;
    struct net_features feat;
    struct net_stats stats;
    unsigned nr_queues;            /* connected queues, 0 when idle */
    struct netq *q[NET_MAX_QUEUES];
    int tap_fd[NET_MAX_QUEUES];    /* not owned */
    struct queue_workers workers;
};

void netback_init(struct netback *nb, const struct gnt_env *env);
/* Maps the rings of nr_queues queues; queue q uses tap_fd[q]. Tells the tap
 * which offloads the frontend takes (net_tap_set_offload). If threaded,
 * starts one worker per queue; without threads the caller drives the queues
 * with netback_poll. Returns 0 or -errno with err set (nothing left
 * connected). */
int netback_connect(struct netback *nb, unsigned nr_queues, const struct netback_queue_refs *refs,
                    const int *tap_fd, const struct net_features *feat, bool threaded,
                    char *err, size_t errlen);
/* The frontend kicked queue q, tx or rx (safe from any thread, any lock held). */
void netback_kick(struct netback *nb, unsigned q);
/* Unthreaded use: moves what can be moved on queue q now (tx ring to tap,
 * tap to rx ring) without blocking. Returns the packets moved, or -errno
 * when the queue was shut down for a fatal frontend error. */
int netback_poll(struct netback *nb, unsigned q);
/* A save's drain: stops the workers and lets go of the rx requests taken
 * ahead (their pages unmapped, req_cons left where the answered ones end, so
 * they are taken again). Every tx request taken is answered already. */
void netback_pause(struct netback *nb);
/* The packets read from the taps and not delivered yet (paused: too few rx
 * requests were posted for them), for a save to carry: per queue holding
 * one, u32 queue, u32 length, then the virtio_net_hdr and the frame.
 * *out malloc'd; returns its length (0: none, or out of memory). */
size_t netback_pending_rx(struct netback *nb, uint8_t **out);
/* Restore, connected and before the workers start: those packets back, to
 * be delivered first. 0, or -EINVAL with err for a bad one. */
int netback_set_pending_rx(struct netback *nb, const uint8_t *p, size_t len, char *err,
                           size_t errlen);
/* Starts the workers (after netback_pause, or a connect without threads).
 * 0 or -errno with err set. */
int netback_resume(struct netback *nb, char *err, size_t errlen);
/* Stops the workers, unmaps everything; the tap fds stay open. */
void netback_disconnect(struct netback *nb);

/* ---- tap devices (netback_tap.c) ---- */

/* Creates (or opens) tap device name with nr_queues queues (IFF_TAP,
 * IFF_NO_PI, IFF_VNET_HDR, IFF_MULTI_QUEUE); fds[] get one fd per queue,
 * non-blocking. Sets the host side's MAC to fe:ff:ff:ff:ff:ff as Xen's
 * hotplug scripts do, the MTU when mtu != 0, attaches it to bridge when not
 * NULL (the bridge must exist) and brings the link up. 0, or -1 with err set
 * (nothing left open). */
int net_tap_open(const char *name, unsigned nr_queues, unsigned mtu, const char *bridge,
                 int *fds, char *err, size_t errlen);
/* Tells the tap which offloads the frontend takes on rx (TUNSETOFFLOAD):
 * the kernel then hands us checksum-partial and GSO packets only when the
 * guest can take them. 0 or -errno. */
int net_tap_set_offload(int fd, const struct net_features *feat);
/* Keeps the first active of nr_queues queues attached and detaches the rest
 * (TUNSETQUEUE), so the kernel steers packets only to queues being served.
 * 0 or -errno. */
int net_tap_set_queues(const int *fds, unsigned nr_queues, unsigned active);
/* Closes the fds; the kernel removes the device with its last fd. */
void net_tap_close(int *fds, unsigned nr_queues);
