/* Event channels: the per-domain port table and delivery, 2-level (bits in
 * shared_info and vcpu_info) or FIFO (evtchn_fifo.c: event words in guest
 * pages, per-vCPU queues by priority) once the guest calls
 * EVTCHNOP_init_control. Pure logic over guest-shared pages reached through
 * callbacks, so the unit tests drive it with plain buffers. Caller holds the
 * domain lock. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>

#define EVTCHN_NR_PORTS (sizeof(xen_ulong_t) * sizeof(xen_ulong_t) * 64)   /* 4096 */
#define EVTCHN_HOST_PORTS 64    /* ports in the host ("dom0") namespace per domain */

typedef void (*evtchn_host_cb)(void *opaque, evtchn_port_t guest_port);

enum evtchn_state {
    ECS_FREE, ECS_RESERVED, ECS_UNBOUND, ECS_INTERDOMAIN, ECS_PIRQ, ECS_VIRQ, ECS_IPI,
};

struct evtchn {
    uint8_t state;
    uint8_t priority;             /* FIFO queue, EVTCHN_FIFO_PRIORITY_DEFAULT at allocation */
    /* FIFO: the queue (vCPU, priority) the port was last linked on; kept when
     * the port is freed, as the port may still be that queue's tail. */
    uint8_t last_priority;
    uint8_t last_vcpu;
    bool fifo_pending;            /* FIFO: raised while its event array page was missing */
    uint32_t notify_vcpu;
    union {
        struct { domid_t remote_dom; } unbound;
        /* Within this domain (loop-back) or to the host (host_port >= 0). */
        struct { evtchn_port_t remote_port; int host_port; } inter;
        uint32_t virq;
    } u;
};

struct evtchn_host_port {
    bool used;
    evtchn_port_t guest_port;     /* 0 while unbound */
    evtchn_host_cb cb;
    void *opaque;
};

struct evtchn_fifo;

struct evtchn_domain {
    domid_t domid;
    unsigned nr_vcpus;
    struct evtchn_fifo *fifo;      /* NULL: 2-level */
    struct evtchn ports[EVTCHN_NR_PORTS];
    struct evtchn_host_port host[EVTCHN_HOST_PORTS];
    uint32_t virq_port[XEN_LEGACY_MAX_VCPUS][NR_VIRQS];
    /* The domain's shared_info and each vCPU's vcpu_info as they are now. */
    struct shared_info *(*shared_info)(void *opaque);
    struct vcpu_info *(*vcpu_info)(void *opaque, unsigned vcpu);
    /* Raise the upcall on a vCPU whose evtchn_upcall_pending went 0 -> 1. */
    void (*kick)(void *opaque, unsigned vcpu);
    /* Optional: a new event on a vCPU whose upcall was already pending (the
     * domain re-raises an upcall its guest could not take before). */
    void (*rekick)(void *opaque, unsigned vcpu);
    /* FIFO: the guest RAM page at gfn (control blocks, event arrays), or NULL
     * if gfn is not RAM. */
    uint8_t *(*gfn_page)(void *opaque, uint64_t gfn);
    /* Optional: a port became pending; wake vCPUs blocked in SCHEDOP_poll
     * (Xen's evtchn_check_pollers: masked or not). */
    void (*poll_wake)(void *opaque, evtchn_port_t port);
    void *opaque;
};

/* e must be zero-filled (static storage or calloc, as a domain is). */
void evtchn_init(struct evtchn_domain *e, domid_t domid, unsigned nr_vcpus);
/* Frees what the FIFO ABI allocated. */
void evtchn_fini(struct evtchn_domain *e);

/* The hypercall: EVTCHNOP_* with its argument already copied in (and out by the
 * caller afterwards). Returns 0 or a negative Xen errno. */
long evtchn_op(struct evtchn_domain *e, unsigned cmd, void *arg, unsigned cur_vcpu);
/* Size of the argument struct of cmd, or 0 for an unknown cmd. */
unsigned evtchn_op_size(unsigned cmd);

/* Delivery */
void evtchn_set_pending(struct evtchn_domain *e, evtchn_port_t port);
/* Sends VIRQ virq on vcpu (a global VIRQ goes to its bound vCPU); no-op if unbound. */
void evtchn_send_virq(struct evtchn_domain *e, uint32_t virq, unsigned vcpu);
bool evtchn_port_pending(struct evtchn_domain *e, evtchn_port_t port);

/* Host side, for backends. A host port is a port in the host's namespace that
 * a guest port is connected to. */
/* Connects guest port (unbound, remote dom 0) to a new host port; cb runs when
 * the guest sends. Returns the host port or a negative errno. */
int evtchn_host_bind(struct evtchn_domain *e, evtchn_port_t guest_port, evtchn_host_cb cb, void *opaque);
/* Allocates a guest port already connected to a new host port (what the
 * toolstack does for the console and xenstore). Returns the guest port or -errno. */
int evtchn_host_alloc_bound(struct evtchn_domain *e, evtchn_host_cb cb, void *opaque);
/* Allocates an unbound host port for the guest to EVTCHNOP_bind_interdomain to
 * (remote_dom 0). Returns the host port or -errno. */
int evtchn_host_alloc_unbound(struct evtchn_domain *e, evtchn_host_cb cb, void *opaque);
/* The host notifies the guest port connected to host_port. */
int evtchn_host_notify(struct evtchn_domain *e, int host_port);
void evtchn_host_close(struct evtchn_domain *e, int host_port);
