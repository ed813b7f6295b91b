/* Event channels: the ports and every EVTCHNOP with Xen's error codes, and
 * 2-level delivery; FIFO delivery is in evtchn_fifo.c. */
#include "xen/evtchn.h"
#include "xen/evtchn_fifo.h"
#include <errno.h>
#include <string.h>
#include <xen/xen.h>

#define BITS_PER_XEN_ULONG (sizeof(xen_ulong_t) * 8)

void evtchn_init(struct evtchn_domain *e, domid_t domid, unsigned nr_vcpus)
{
    /* e arrives zeroed (see evtchn.h): clearing its 70 KiB of tables again
     * would make every page of them resident in the domain process. */
    e->domid = domid;
    e->nr_vcpus = nr_vcpus;
    e->ports[0].state = ECS_RESERVED;
    e->fifo = NULL;
}

void evtchn_fini(struct evtchn_domain *e)
{
    evtchn_fifo_destroy(e);
}

static bool self_domid(const struct evtchn_domain *e, domid_t d)
{
    return d == DOMID_SELF || d == e->domid;
}

/* The error for naming a domain other than this one: the host (dom 0) exists
 * but is not this guest's to touch; any other id names no domain. */
static long other_domain(domid_t d)
{
    return d == 0 ? -EPERM : -ESRCH;
}

static bool virq_is_global(uint32_t virq)
{
    return !(virq == VIRQ_TIMER || virq == VIRQ_DEBUG || virq == VIRQ_XENOPROF ||
             virq == VIRQ_XENPMU);
}

static int get_free_port(struct evtchn_domain *e)
{
    /* A FIFO port still linked on a queue is not reused yet (Xen's
     * evtchn_port_is_busy). */
    for (evtchn_port_t p = 1; p < EVTCHN_NR_PORTS; p++)
        if (e->ports[p].state == ECS_FREE && !(e->fifo && evtchn_fifo_is_busy(e, p)))
            return p;
    return -ENOSPC;
}

static inline bool test_and_set(xen_ulong_t *word, unsigned bit)
{
    xen_ulong_t m = (xen_ulong_t)1 << bit;
    return __atomic_fetch_or(word, m, __ATOMIC_SEQ_CST) & m;
}

static inline bool test_bit_word(xen_ulong_t *word, unsigned bit)
{
    return __atomic_load_n(word, __ATOMIC_SEQ_CST) & ((xen_ulong_t)1 << bit);
}

void evtchn_mark_upcall(struct evtchn_domain *e, unsigned vcpu)
{
    struct vcpu_info *vi = e->vcpu_info(e->opaque, vcpu);
    if (!vi)
        return;
    if (__atomic_exchange_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST) == 0)
        e->kick(e->opaque, vcpu);
    else if (e->rekick)
        e->rekick(e->opaque, vcpu);
}

/* 2-level: the port's selector word in its vCPU's vcpu_info, then the upcall. */
static void mark_vcpu_pending(struct evtchn_domain *e, unsigned vcpu, evtchn_port_t port)
{
    struct vcpu_info *vi = e->vcpu_info(e->opaque, vcpu);
    if (!vi)
        return;
    unsigned word = port / BITS_PER_XEN_ULONG;
    if (test_and_set(&vi->evtchn_pending_sel, word))
        return;
    evtchn_mark_upcall(e, vcpu);
}

static bool set_pending_2l(struct evtchn_domain *e, evtchn_port_t port)
{
    struct shared_info *s = e->shared_info(e->opaque);
    unsigned w = port / BITS_PER_XEN_ULONG, b = port % BITS_PER_XEN_ULONG;
    if (test_and_set(&s->evtchn_pending[w], b))
        return false;
    if (!test_bit_word(&s->evtchn_mask[w], b))
        mark_vcpu_pending(e, e->ports[port].notify_vcpu, port);
    return true;
}

void evtchn_set_pending(struct evtchn_domain *e, evtchn_port_t port)
{
    if (port >= EVTCHN_NR_PORTS)
        return;
    bool newly = e->fifo ? evtchn_fifo_set_pending(e, port) : set_pending_2l(e, port);
    if (newly && e->poll_wake)
        e->poll_wake(e->opaque, port);
}

bool evtchn_2l_pending(struct evtchn_domain *e, evtchn_port_t port)
{
    struct shared_info *s = e->shared_info(e->opaque);
    return test_bit_word(&s->evtchn_pending[port / BITS_PER_XEN_ULONG],
                         port % BITS_PER_XEN_ULONG);
}

bool evtchn_port_pending(struct evtchn_domain *e, evtchn_port_t port)
{
    if (port >= EVTCHN_NR_PORTS)
        return false;
    return e->fifo ? evtchn_fifo_is_pending(e, port) : evtchn_2l_pending(e, port);
}

void evtchn_send_virq(struct evtchn_domain *e, uint32_t virq, unsigned vcpu)
{
    if (virq >= NR_VIRQS)
        return;
    if (virq_is_global(virq))
        vcpu = 0;
    if (vcpu >= e->nr_vcpus || vcpu >= XEN_LEGACY_MAX_VCPUS)
        return;
    uint32_t port = e->virq_port[vcpu][virq];
    if (port)
        evtchn_set_pending(e, port);
}

static int alloc_port(struct evtchn_domain *e, uint8_t state, uint32_t vcpu)
{
    int p = get_free_port(e);
    if (p < 0)
        return p;
    struct evtchn *c = &e->ports[p];
    *c = (struct evtchn){ .state = state, .notify_vcpu = vcpu,
                          .priority = EVTCHN_FIFO_PRIORITY_DEFAULT,
                          .last_vcpu = c->last_vcpu, .last_priority = c->last_priority };
    return p;
}

static long op_alloc_unbound(struct evtchn_domain *e, struct evtchn_alloc_unbound *a)
{
    if (!self_domid(e, a->dom))
        return other_domain(a->dom);
    int p = alloc_port(e, ECS_UNBOUND, 0);
    if (p < 0)
        return p;
    e->ports[p].u.unbound.remote_dom = a->remote_dom == DOMID_SELF ? e->domid : a->remote_dom;
    a->port = p;
    return 0;
}

static long op_bind_interdomain(struct evtchn_domain *e, struct evtchn_bind_interdomain *b)
{
    if (self_domid(e, b->remote_dom)) {
        evtchn_port_t rp = b->remote_port;
        if (rp >= EVTCHN_NR_PORTS)
            return -EINVAL;
        struct evtchn *r = &e->ports[rp];
        if (r->state != ECS_UNBOUND || r->u.unbound.remote_dom != e->domid)
            return -EINVAL;
        int p = alloc_port(e, ECS_INTERDOMAIN, 0);
        if (p < 0)
            return p;
        e->ports[p].u.inter = (typeof(e->ports[p].u.inter)){ rp, -1 };
        r->state = ECS_INTERDOMAIN;
        r->u.inter = (typeof(r->u.inter)){ (evtchn_port_t)p, -1 };
        b->local_port = p;
        /* Xen raises the new local port so that no notification is lost. */
        evtchn_set_pending(e, p);
        return 0;
    }
    if (b->remote_dom != 0)
        return -ESRCH;   /* only this domain and the host exist here */
    if (b->remote_port >= EVTCHN_HOST_PORTS)
        return -EINVAL;
    struct evtchn_host_port *h = &e->host[b->remote_port];
    if (!h->used || h->guest_port)
        return -EINVAL;
    int p = alloc_port(e, ECS_INTERDOMAIN, 0);
    if (p < 0)
        return p;
    e->ports[p].u.inter = (typeof(e->ports[p].u.inter)){ 0, (int)b->remote_port };
    h->guest_port = p;
    b->local_port = p;
    evtchn_set_pending(e, p);
    return 0;
}

static long op_bind_virq(struct evtchn_domain *e, struct evtchn_bind_virq *b)
{
    if (b->virq >= NR_VIRQS)
        return -EINVAL;
    if (virq_is_global(b->virq) && b->vcpu != 0)
        return -EINVAL;
    if (b->vcpu >= e->nr_vcpus || b->vcpu >= XEN_LEGACY_MAX_VCPUS)
        return -ENOENT;
    if (e->virq_port[b->vcpu][b->virq])
        return -EEXIST;
    int p = alloc_port(e, ECS_VIRQ, b->vcpu);
    if (p < 0)
        return p;
    e->ports[p].u.virq = b->virq;
    e->virq_port[b->vcpu][b->virq] = p;
    b->port = p;
    return 0;
}

static long op_bind_ipi(struct evtchn_domain *e, struct evtchn_bind_ipi *b)
{
    if (b->vcpu >= e->nr_vcpus)
        return -ENOENT;
    int p = alloc_port(e, ECS_IPI, b->vcpu);
    if (p < 0)
        return p;
    b->port = p;
    return 0;
}

static void close_port(struct evtchn_domain *e, evtchn_port_t port)
{
    struct evtchn *c = &e->ports[port];
    switch (c->state) {
    case ECS_VIRQ:
        for (unsigned v = 0; v < XEN_LEGACY_MAX_VCPUS; v++)
            if (e->virq_port[v][c->u.virq] == port)
                e->virq_port[v][c->u.virq] = 0;
        break;
    case ECS_INTERDOMAIN:
        if (c->u.inter.host_port >= 0) {
            /* The host side stays, unbound again (its backend may rebind). */
            e->host[c->u.inter.host_port].guest_port = 0;
        } else if (c->u.inter.remote_port != port) {
            struct evtchn *r = &e->ports[c->u.inter.remote_port];
            r->state = ECS_UNBOUND;
            r->u.unbound.remote_dom = e->domid;
        }
        break;
    }
    /* The FIFO queue it was last on stays known: it may still be its tail. */
    *c = (struct evtchn){ .last_vcpu = c->last_vcpu, .last_priority = c->last_priority };
    /* Xen clears the pending bit on close so a reused port starts clean. */
    if (e->fifo) {
        evtchn_fifo_clear_pending(e, port);
        return;
    }
    struct shared_info *s = e->shared_info(e->opaque);
    __atomic_fetch_and(&s->evtchn_pending[port / BITS_PER_XEN_ULONG],
                       ~((xen_ulong_t)1 << (port % BITS_PER_XEN_ULONG)), __ATOMIC_SEQ_CST);
}

static long op_close(struct evtchn_domain *e, struct evtchn_close *c)
{
    if (c->port >= EVTCHN_NR_PORTS)
        return -EINVAL;
    uint8_t st = e->ports[c->port].state;
    if (st == ECS_FREE || st == ECS_RESERVED)
        return -EINVAL;
    close_port(e, c->port);
    return 0;
}

static long op_send(struct evtchn_domain *e, struct evtchn_send *s)
{
    if (s->port >= EVTCHN_NR_PORTS)
        return -EINVAL;
    struct evtchn *c = &e->ports[s->port];
    switch (c->state) {
    case ECS_INTERDOMAIN:
        if (c->u.inter.host_port >= 0) {
            struct evtchn_host_port *h = &e->host[c->u.inter.host_port];
            if (h->cb)
                h->cb(h->opaque, s->port);
        } else {
            evtchn_set_pending(e, c->u.inter.remote_port);
        }
        return 0;
    case ECS_IPI:
        evtchn_set_pending(e, s->port);
        return 0;
    case ECS_UNBOUND:
        return 0;   /* Xen silently drops it */
    default:
        return -EINVAL;
    }
}

static long op_status(struct evtchn_domain *e, struct evtchn_status *st)
{
    if (!self_domid(e, st->dom))
        return other_domain(st->dom);
    if (st->port >= EVTCHN_NR_PORTS)
        return -EINVAL;
    struct evtchn *c = &e->ports[st->port];
    st->vcpu = c->notify_vcpu;
    switch (c->state) {
    case ECS_FREE:
    case ECS_RESERVED:
        st->status = EVTCHNSTAT_closed;
        break;
    case ECS_UNBOUND:
        st->status = EVTCHNSTAT_unbound;
        st->u.unbound.dom = c->u.unbound.remote_dom;
        break;
    case ECS_INTERDOMAIN:
        st->status = EVTCHNSTAT_interdomain;
        st->u.interdomain.dom = c->u.inter.host_port >= 0 ? 0 : e->domid;
        st->u.interdomain.port = c->u.inter.host_port >= 0 ? (evtchn_port_t)c->u.inter.host_port
                                                           : c->u.inter.remote_port;
        break;
    case ECS_VIRQ:
        st->status = EVTCHNSTAT_virq;
        st->u.virq = c->u.virq;
        break;
    case ECS_IPI:
        st->status = EVTCHNSTAT_ipi;
        break;
    default:
        return -EINVAL;
    }
    return 0;
}

static long op_bind_vcpu(struct evtchn_domain *e, struct evtchn_bind_vcpu *b)
{
    if (b->vcpu >= e->nr_vcpus)
        return -ENOENT;
    if (b->port >= EVTCHN_NR_PORTS)
        return -EINVAL;
    struct evtchn *c = &e->ports[b->port];
    switch (c->state) {
    case ECS_VIRQ:
        /* A global VIRQ stays bound in vCPU 0's table (where senders look it
         * up); only the vCPU it is delivered to moves, as on Xen. */
        if (!virq_is_global(c->u.virq))
            return -EINVAL;
        c->notify_vcpu = b->vcpu;
        return 0;
    case ECS_UNBOUND:
    case ECS_INTERDOMAIN:
    case ECS_PIRQ:
        c->notify_vcpu = b->vcpu;
        return 0;
    default:
        return -EINVAL;
    }
}

static long op_unmask(struct evtchn_domain *e, struct evtchn_unmask *u)
{
    if (u->port >= EVTCHN_NR_PORTS)
        return -EINVAL;
    if (e->fifo) {
        evtchn_fifo_unmask(e, u->port);
        return 0;
    }
    struct shared_info *s = e->shared_info(e->opaque);
    unsigned w = u->port / BITS_PER_XEN_ULONG, b = u->port % BITS_PER_XEN_ULONG;
    xen_ulong_t m = (xen_ulong_t)1 << b;
    if ((__atomic_fetch_and(&s->evtchn_mask[w], ~m, __ATOMIC_SEQ_CST) & m) &&
        test_bit_word(&s->evtchn_pending[w], b))
        mark_vcpu_pending(e, e->ports[u->port].notify_vcpu, u->port);
    return 0;
}

static long op_reset(struct evtchn_domain *e, struct evtchn_reset *r)
{
    if (!self_domid(e, r->dom))
        return other_domain(r->dom);
    for (evtchn_port_t p = 1; p < EVTCHN_NR_PORTS; p++)
        if (e->ports[p].state != ECS_FREE)
            close_port(e, p);
    /* Back to the 2-level ABI, as Xen's evtchn_reset does. */
    evtchn_fifo_destroy(e);
    for (evtchn_port_t p = 1; p < EVTCHN_NR_PORTS; p++)
        e->ports[p].last_vcpu = e->ports[p].last_priority = 0;
    return 0;
}

static long op_set_priority(struct evtchn_domain *e, struct evtchn_set_priority *sp)
{
    if (sp->port >= EVTCHN_NR_PORTS)
        return -EINVAL;
    if (!e->fifo)
        return -ENOSYS;     /* the 2-level ABI has no priorities */
    if (sp->priority > EVTCHN_FIFO_PRIORITY_MIN)
        return -EINVAL;
    /* For future events; one already queued stays where it is (as Xen). */
    e->ports[sp->port].priority = sp->priority;
    return 0;
}

unsigned evtchn_op_size(unsigned cmd)
{
    switch (cmd) {
    case EVTCHNOP_bind_interdomain: return sizeof(struct evtchn_bind_interdomain);
    case EVTCHNOP_bind_virq:        return sizeof(struct evtchn_bind_virq);
    case EVTCHNOP_bind_pirq:        return sizeof(struct evtchn_bind_pirq);
    case EVTCHNOP_close:            return sizeof(struct evtchn_close);
    case EVTCHNOP_send:             return sizeof(struct evtchn_send);
    case EVTCHNOP_status:           return sizeof(struct evtchn_status);
    case EVTCHNOP_alloc_unbound:    return sizeof(struct evtchn_alloc_unbound);
    case EVTCHNOP_bind_ipi:         return sizeof(struct evtchn_bind_ipi);
    case EVTCHNOP_bind_vcpu:        return sizeof(struct evtchn_bind_vcpu);
    case EVTCHNOP_unmask:           return sizeof(struct evtchn_unmask);
    case EVTCHNOP_reset:            return sizeof(struct evtchn_reset);
    case EVTCHNOP_init_control:     return sizeof(struct evtchn_init_control);
    case EVTCHNOP_expand_array:     return sizeof(struct evtchn_expand_array);
    case EVTCHNOP_set_priority:     return sizeof(struct evtchn_set_priority);
    default:                        return 0;
    }
}

long evtchn_op(struct evtchn_domain *e, unsigned cmd, void *arg, unsigned cur_vcpu)
{
    (void)cur_vcpu;
    switch (cmd) {
    case EVTCHNOP_alloc_unbound:    return op_alloc_unbound(e, arg);
    case EVTCHNOP_bind_interdomain: return op_bind_interdomain(e, arg);
    case EVTCHNOP_bind_virq:        return op_bind_virq(e, arg);
    case EVTCHNOP_bind_ipi:         return op_bind_ipi(e, arg);
    case EVTCHNOP_bind_pirq:        return -EINVAL;   /* a PVH domU here has no PIRQs */
    case EVTCHNOP_close:            return op_close(e, arg);
    case EVTCHNOP_send:             return op_send(e, arg);
    case EVTCHNOP_status:           return op_status(e, arg);
    case EVTCHNOP_bind_vcpu:        return op_bind_vcpu(e, arg);
    case EVTCHNOP_unmask:           return op_unmask(e, arg);
    case EVTCHNOP_reset:            return op_reset(e, arg);
    case EVTCHNOP_init_control:     return evtchn_fifo_init_control(e, arg);
    case EVTCHNOP_expand_array:     return evtchn_fifo_expand_array(e, arg);
    case EVTCHNOP_set_priority:     return op_set_priority(e, arg);
    default:                        return -ENOSYS;
    }
}

/* Host side */

static int host_alloc(struct evtchn_domain *e, evtchn_host_cb cb, void *opaque)
{
    for (int h = 1; h < EVTCHN_HOST_PORTS; h++)
        if (!e->host[h].used) {
            e->host[h] = (struct evtchn_host_port){ .used = true, .cb = cb, .opaque = opaque };
            return h;
        }
    return -ENOSPC;
}

int evtchn_host_bind(struct evtchn_domain *e, evtchn_port_t guest_port, evtchn_host_cb cb, void *opaque)
{
    if (guest_port == 0 || guest_port >= EVTCHN_NR_PORTS)
        return -EINVAL;
    struct evtchn *c = &e->ports[guest_port];
    if (c->state != ECS_UNBOUND || c->u.unbound.remote_dom != 0)
        return -EINVAL;
    int h = host_alloc(e, cb, opaque);
    if (h < 0)
        return h;
    e->host[h].guest_port = guest_port;
    c->state = ECS_INTERDOMAIN;
    c->u.inter = (typeof(c->u.inter)){ 0, h };
    return h;
}

int evtchn_host_alloc_bound(struct evtchn_domain *e, evtchn_host_cb cb, void *opaque)
{
    int p = alloc_port(e, ECS_UNBOUND, 0);
    if (p < 0)
        return p;
    e->ports[p].u.unbound.remote_dom = 0;
    int h = evtchn_host_bind(e, p, cb, opaque);
    if (h < 0) {
        memset(&e->ports[p], 0, sizeof(e->ports[p]));
        return h;
    }
    return p;
}

int evtchn_host_alloc_unbound(struct evtchn_domain *e, evtchn_host_cb cb, void *opaque)
{
    return host_alloc(e, cb, opaque);
}

int evtchn_host_notify(struct evtchn_domain *e, int host_port)
{
    if (host_port <= 0 || host_port >= EVTCHN_HOST_PORTS || !e->host[host_port].used)
        return -EINVAL;
    evtchn_port_t gp = e->host[host_port].guest_port;
    if (gp)
        evtchn_set_pending(e, gp);
    return 0;
}

void evtchn_host_close(struct evtchn_domain *e, int host_port)
{
    if (host_port <= 0 || host_port >= EVTCHN_HOST_PORTS || !e->host[host_port].used)
        return;
    evtchn_port_t gp = e->host[host_port].guest_port;
    if (gp) {
        struct evtchn *c = &e->ports[gp];
        c->state = ECS_UNBOUND;
        c->u.unbound.remote_dom = 0;
    }
    memset(&e->host[host_port], 0, sizeof(e->host[host_port]));
}
