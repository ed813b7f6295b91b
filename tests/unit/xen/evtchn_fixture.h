/* A domain's event channels over a zeroed, page-aligned shared_info, with a
 * counting kick callback: what the unit tests of src/xen/evtchn.c share. */
#pragma once
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "xen/evtchn.h"

#define FX_DOMID 7
#define FX_VCPUS 4
/* Guest RAM pages for FIFO control blocks and event arrays: gfns
 * FX_GFN0 .. FX_GFN0 + FX_NPAGES - 1; anything else is not RAM. */
#define FX_GFN0 0x100
#define FX_NPAGES 8

struct fx {
    struct evtchn_domain *e;
    struct shared_info *si;
    int kicks[XEN_LEGACY_MAX_VCPUS];
    /* Host-side callback record. */
    int cb_calls;
    evtchn_port_t cb_port;
    void *cb_opaque;
    uint8_t *pages[FX_NPAGES];
    int poll_wakes;
};

static inline struct shared_info *fx_shared_info(void *o) { return ((struct fx *)o)->si; }

static inline struct vcpu_info *fx_vcpu_info(void *o, unsigned v)
{
    return v < XEN_LEGACY_MAX_VCPUS ? &((struct fx *)o)->si->vcpu_info[v] : NULL;
}

static inline void fx_kick(void *o, unsigned v) { ((struct fx *)o)->kicks[v]++; }

static inline uint8_t *fx_gfn_page(void *o, uint64_t gfn)
{
    struct fx *f = o;
    return gfn >= FX_GFN0 && gfn < FX_GFN0 + FX_NPAGES ? f->pages[gfn - FX_GFN0] : NULL;
}

static inline void fx_poll_wake(void *o, evtchn_port_t port)
{
    (void)port;
    ((struct fx *)o)->poll_wakes++;
}

static inline struct fx *fx_new(void)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->si = aligned_alloc(4096, 4096);
    memset(f->si, 0, 4096);
    f->e = calloc(1, sizeof(*f->e));
    evtchn_init(f->e, FX_DOMID, FX_VCPUS);
    f->e->shared_info = fx_shared_info;
    f->e->vcpu_info = fx_vcpu_info;
    f->e->kick = fx_kick;
    f->e->gfn_page = fx_gfn_page;
    f->e->poll_wake = fx_poll_wake;
    f->e->opaque = f;
    for (unsigned i = 0; i < FX_NPAGES; i++) {
        f->pages[i] = aligned_alloc(4096, 4096);
        memset(f->pages[i], 0, 4096);
    }
    return f;
}

static inline void fx_free(struct fx *f)
{
    evtchn_fini(f->e);
    for (unsigned i = 0; i < FX_NPAGES; i++)
        free(f->pages[i]);
    free(f->e);
    free(f->si);
    free(f);
}

static inline int fx_total_kicks(const struct fx *f)
{
    int n = 0;
    for (unsigned v = 0; v < XEN_LEGACY_MAX_VCPUS; v++)
        n += f->kicks[v];
    return n;
}

/* EVTCHNOP wrappers: each returns the hypercall's result, the port via *port. */
static inline long fx_alloc_unbound(struct fx *f, domid_t remote, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = remote };
    long rc = evtchn_op(f->e, EVTCHNOP_alloc_unbound, &a, 0);
    *port = a.port;
    return rc;
}

static inline long fx_bind_interdomain(struct fx *f, domid_t rdom, evtchn_port_t rport,
                                       evtchn_port_t *local)
{
    struct evtchn_bind_interdomain b = { .remote_dom = rdom, .remote_port = rport };
    long rc = evtchn_op(f->e, EVTCHNOP_bind_interdomain, &b, 0);
    *local = b.local_port;
    return rc;
}

static inline long fx_bind_virq(struct fx *f, uint32_t virq, uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_virq b = { .virq = virq, .vcpu = vcpu };
    long rc = evtchn_op(f->e, EVTCHNOP_bind_virq, &b, 0);
    *port = b.port;
    return rc;
}

static inline long fx_bind_ipi(struct fx *f, uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_ipi b = { .vcpu = vcpu };
    long rc = evtchn_op(f->e, EVTCHNOP_bind_ipi, &b, 0);
    *port = b.port;
    return rc;
}

static inline long fx_send(struct fx *f, evtchn_port_t port)
{
    struct evtchn_send s = { .port = port };
    return evtchn_op(f->e, EVTCHNOP_send, &s, 0);
}

static inline long fx_close(struct fx *f, evtchn_port_t port)
{
    struct evtchn_close c = { .port = port };
    return evtchn_op(f->e, EVTCHNOP_close, &c, 0);
}

static inline long fx_status(struct fx *f, evtchn_port_t port, struct evtchn_status *st)
{
    memset(st, 0xa5, sizeof(*st));
    st->dom = DOMID_SELF;
    st->port = port;
    return evtchn_op(f->e, EVTCHNOP_status, st, 0);
}

static inline long fx_bind_vcpu(struct fx *f, evtchn_port_t port, uint32_t vcpu)
{
    struct evtchn_bind_vcpu b = { .port = port, .vcpu = vcpu };
    return evtchn_op(f->e, EVTCHNOP_bind_vcpu, &b, 0);
}

static inline long fx_unmask(struct fx *f, evtchn_port_t port)
{
    struct evtchn_unmask u = { .port = port };
    return evtchn_op(f->e, EVTCHNOP_unmask, &u, 0);
}

/* The guest's side of the shared bits. */
#define FX_BITS (sizeof(xen_ulong_t) * 8)
static inline bool fx_pending(struct fx *f, evtchn_port_t p)
{
    return (f->si->evtchn_pending[p / FX_BITS] >> (p % FX_BITS)) & 1;
}

static inline void fx_mask(struct fx *f, evtchn_port_t p)
{
    f->si->evtchn_mask[p / FX_BITS] |= (xen_ulong_t)1 << (p % FX_BITS);
}

static inline xen_ulong_t fx_sel(struct fx *f, unsigned vcpu)
{
    return f->si->vcpu_info[vcpu].evtchn_pending_sel;
}

static inline uint8_t fx_upcall(struct fx *f, unsigned vcpu)
{
    return f->si->vcpu_info[vcpu].evtchn_upcall_pending;
}

/* What a guest's upcall handler does: consume every pending event. */
static inline void fx_guest_ack_all(struct fx *f)
{
    memset(f->si->evtchn_pending, 0, sizeof(f->si->evtchn_pending));
    for (unsigned v = 0; v < XEN_LEGACY_MAX_VCPUS; v++) {
        f->si->vcpu_info[v].evtchn_pending_sel = 0;
        f->si->vcpu_info[v].evtchn_upcall_pending = 0;
    }
}
