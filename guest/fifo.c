#include "fifo.h"
#include "cpu.h"
#include "hypercall.h"

#define MAX_PAGES 4
#define W_PENDING (1u << EVTCHN_FIFO_PENDING)
#define W_MASKED  (1u << EVTCHN_FIFO_MASKED)
#define W_LINKED  (1u << EVTCHN_FIFO_LINKED)
#define W_BUSY    (1u << EVTCHN_FIFO_BUSY)

bool fifo_active;
uint8_t fifo_link_bits;
static struct evtchn_fifo_control_block control[MAX_CPUS] ALIGNED(4096);
static event_word_t array[MAX_PAGES][1024] ALIGNED(4096);
static unsigned nr_pages;
static uint32_t local_head[MAX_CPUS][EVTCHN_FIFO_MAX_QUEUES];

volatile event_word_t *fifo_word(evtchn_port_t port)
{
    return port < nr_pages * 1024 ? &array[port / 1024][port % 1024] : NULL;
}

unsigned fifo_nr_ports(void)
{
    return nr_pages * 1024;
}

long fifo_expand(void)
{
    if (nr_pages == MAX_PAGES)
        return -XEN_ENOSPC;
    for (unsigned i = 0; i < 1024; i++)
        array[nr_pages][i] = W_MASKED;
    struct evtchn_expand_array ea = { .array_gfn = (uintptr_t)array[nr_pages] >> 12 };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &ea);
    if (!rc)
        nr_pages++;
    return rc;
}

long fifo_init(void)
{
    unsigned cpu = this_cpu()->id;
    memset(&control[cpu], 0, sizeof(control[cpu]));
    memset(local_head[cpu], 0, sizeof(local_head[cpu]));
    /* Several vCPUs' blocks share the page, each at its own offset. */
    struct evtchn_init_control ic = {
        .control_gfn = (uintptr_t)control >> 12,
        .offset = (uint32_t)((uintptr_t)&control[cpu] & 4095),
        .vcpu = cpu,
    };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &ic);
    if (rc)
        return rc;
    fifo_link_bits = ic.link_bits;
    fifo_active = true;
    return nr_pages ? 0 : fifo_expand();
}

void fifo_forget(void)
{
    fifo_active = false;
    nr_pages = 0;
}

bool fifo_test_pending(evtchn_port_t port)
{
    volatile event_word_t *w = fifo_word(port);
    return w && (*w & W_PENDING);
}

bool fifo_test_masked(evtchn_port_t port)
{
    volatile event_word_t *w = fifo_word(port);
    return !w || (*w & W_MASKED);
}

void fifo_mask(evtchn_port_t port)
{
    volatile event_word_t *w = fifo_word(port);
    if (w)
        __atomic_fetch_or(w, W_MASKED, __ATOMIC_SEQ_CST);
}

void fifo_clear_pending(evtchn_port_t port)
{
    volatile event_word_t *w = fifo_word(port);
    if (w)
        __atomic_fetch_and(w, ~W_PENDING, __ATOMIC_SEQ_CST);
}

long fifo_unmask(evtchn_port_t port)
{
    volatile event_word_t *w = fifo_word(port);
    if (!w)
        return -XEN_EINVAL;
    event_word_t old = *w;
    for (;;) {
        if (!(old & W_MASKED))
            return 0;
        if (old & W_PENDING)
            break;            /* Xen must link it */
        old &= ~W_BUSY;       /* never while Xen is linking */
        if (__atomic_compare_exchange_n(w, &old, old & ~W_MASKED, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            return 0;
    }
    struct evtchn_unmask u = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &u);
}

/* Clears LINKED and LINK together; returns the LINK it held. */
static uint32_t clear_linked(volatile event_word_t *w)
{
    event_word_t old = *w;
    while (!__atomic_compare_exchange_n(w, &old, old & ~(W_LINKED | EVTCHN_FIFO_LINK_MASK), false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        ;
    return old & EVTCHN_FIFO_LINK_MASK;
}

static void consume_one(unsigned cpu, unsigned prio, uint32_t *ready,
                        void (*dispatch)(evtchn_port_t port))
{
    uint32_t head = local_head[cpu][prio];
    if (!head)     /* reached the tail last time: Xen may have set a new head */
        head = __atomic_load_n(&control[cpu].head[prio], __ATOMIC_SEQ_CST);
    volatile event_word_t *w = fifo_word(head);
    if (!w) {
        *ready &= ~(1u << prio);
        local_head[cpu][prio] = 0;
        return;
    }
    uint32_t next = clear_linked(w);
    if (!next)
        *ready &= ~(1u << prio);
    if ((*w & (W_PENDING | W_MASKED)) == W_PENDING) {
        __atomic_fetch_and(w, ~W_PENDING, __ATOMIC_SEQ_CST);
        dispatch(head);
    }
    local_head[cpu][prio] = next;
}

void fifo_scan(void (*dispatch)(evtchn_port_t port))
{
    unsigned cpu = this_cpu()->id;
    struct evtchn_fifo_control_block *cb = &control[cpu];
    uint32_t ready = __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);
    while (ready) {
        consume_one(cpu, (unsigned)__builtin_ctz(ready), &ready, dispatch);
        ready |= __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST);
    }
}
