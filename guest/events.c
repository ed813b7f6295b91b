#include "events.h"
#include "cpu.h"
#include "fifo.h"
#include "hypercall.h"
#include "pvclock.h"
#include "traps.h"

/* The guest page that shared_info is mapped over. */
static uint8_t shared_info_page[4096] ALIGNED(4096);
struct shared_info *shared;

struct evtchn_stat evtchn_stat[NR_EVTCHN];
volatile uint32_t upcall_count[MAX_CPUS], callback_count[MAX_CPUS];
static evtchn_handler_t handler_fn[NR_EVTCHN];
static void *handler_arg[NR_EVTCHN];

#define BITS_PER_WORD (sizeof(xen_ulong_t) * 8)

long shared_info_map(void)
{
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF,
        .space = XENMAPSPACE_shared_info,
        .idx = 0,
        .gpfn = (uintptr_t)shared_info_page >> 12,
    };
    long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
    if (rc)
        return rc;
    shared = (struct shared_info *)shared_info_page;
    for (unsigned i = 0; i < MAX_CPUS && i < XEN_LEGACY_MAX_VCPUS; i++)
        percpu[i].vi = &shared->vcpu_info[i];
    return 0;
}

void evtchn_set_handler(evtchn_port_t port, evtchn_handler_t fn, void *arg)
{
    handler_arg[port] = arg;
    handler_fn[port] = fn;
}

static volatile xen_ulong_t *word(volatile xen_ulong_t *arr, evtchn_port_t port)
{
    return &arr[port / BITS_PER_WORD];
}

bool evtchn_test_pending(evtchn_port_t port)
{
    if (fifo_active)
        return fifo_test_pending(port);
    return (*word(shared->evtchn_pending, port) >> (port % BITS_PER_WORD)) & 1;
}

bool evtchn_test_masked(evtchn_port_t port)
{
    if (fifo_active)
        return fifo_test_masked(port);
    return (*word(shared->evtchn_mask, port) >> (port % BITS_PER_WORD)) & 1;
}

void evtchn_mask(evtchn_port_t port)
{
    if (fifo_active) {
        fifo_mask(port);
        return;
    }
    __atomic_fetch_or(word(shared->evtchn_mask, port), 1UL << (port % BITS_PER_WORD),
                      __ATOMIC_SEQ_CST);
}

void evtchn_clear_pending(evtchn_port_t port)
{
    if (fifo_active) {
        fifo_clear_pending(port);
        return;
    }
    __atomic_fetch_and(word(shared->evtchn_pending, port), ~(1UL << (port % BITS_PER_WORD)),
                       __ATOMIC_SEQ_CST);
}

static void dispatch(evtchn_port_t port)
{
    evtchn_stat[port].cpu = (int)this_cpu()->id;
    evtchn_stat[port].hits++;
    if (handler_fn[port])
        handler_fn[port](port, handler_arg[port]);
}

/* The scan every upcall runs: FIFO queues, or the 2-level selector words,
 * then their ports. */
static void upcall_scan(void)
{
    if (fifo_active) {
        struct vcpu_info *vi = this_cpu()->vi;
        do {
            vi->evtchn_upcall_pending = 0;
            fifo_scan(dispatch);
        } while (vi->evtchn_upcall_pending);
        return;
    }
    struct percpu *pc = this_cpu();
    struct vcpu_info *vi = pc->vi;
    do {
        vi->evtchn_upcall_pending = 0;
        xen_ulong_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
        while (sel) {
            unsigned w = (unsigned)__builtin_ctzl(sel);
            sel &= sel - 1;
            xen_ulong_t bits = shared->evtchn_pending[w] & ~shared->evtchn_mask[w];
            while (bits) {
                unsigned b = (unsigned)__builtin_ctzl(bits);
                bits &= bits - 1;
                evtchn_port_t port = w * BITS_PER_WORD + b;
                evtchn_clear_pending(port);
                dispatch(port);
            }
        }
    } while (vi->evtchn_upcall_pending);
}

/* The per-vCPU vector is a LAPIC interrupt: EOI it. */
static void upcall(struct trap_frame *f)
{
    (void)f;
    upcall_count[this_cpu()->id]++;
    upcall_scan();
    apic_eoi();
}

/* The global callback vector comes with no LAPIC involvement: no EOI. */
static void callback(struct trap_frame *f)
{
    (void)f;
    callback_count[this_cpu()->id]++;
    upcall_scan();
}

long events_init_callback(uint8_t vector)
{
    set_irq_handler(vector, callback);
    this_cpu()->vi->evtchn_upcall_mask = 0;
    return hvm_set_param(HVM_PARAM_CALLBACK_IRQ,
                         ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | vector);
}

long events_init_cpu(void)
{
    set_irq_handler(VECTOR_UPCALL, upcall);
    apic_init();
    struct percpu *pc = this_cpu();
    pc->vi->evtchn_upcall_mask = 0;
    struct xen_hvm_evtchn_upcall_vector uv = { .vcpu = pc->id, .vector = VECTOR_UPCALL };
    return HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv);
}

long evtchn_send(evtchn_port_t port)
{
    struct evtchn_send s = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
}

long evtchn_close(evtchn_port_t port)
{
    struct evtchn_close c = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_close, &c);
}

long evtchn_unmask(evtchn_port_t port)
{
    if (fifo_active)
        return fifo_unmask(port);
    struct evtchn_unmask u = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &u);
}

long evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_virq b = { .virq = virq, .vcpu = vcpu };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &b);
    *port = b.port;
    return rc;
}

long evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_ipi b = { .vcpu = vcpu };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &b);
    *port = b.port;
    return rc;
}

long evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = remote };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a);
    *port = a.port;
    return rc;
}

long evtchn_bind_interdomain(domid_t rdom, evtchn_port_t rport, evtchn_port_t *port)
{
    struct evtchn_bind_interdomain b = { .remote_dom = rdom, .remote_port = rport };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &b);
    *port = b.local_port;
    return rc;
}

long evtchn_status(evtchn_port_t port, struct evtchn_status *st)
{
    memset(st, 0, sizeof(*st));
    st->dom = DOMID_SELF;
    st->port = port;
    return HYPERVISOR_event_channel_op(EVTCHNOP_status, st);
}

bool wait_count(volatile uint32_t *counter, uint32_t target, uint64_t timeout_ns)
{
    uint64_t end = xen_time_ns() + timeout_ns;
    bool irq = irqs_enabled();
    irq_enable();
    while (*counter < target && xen_time_ns() < end)
        cpu_relax();
    if (!irq)
        irq_disable();
    return *counter >= target;
}
