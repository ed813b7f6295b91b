/* Console output. printf goes through console_io so that it shows on xenkvm's
 * stdout even when nothing else works; the PV ring is exercised on its own. */
#include "console.h"
#include "hypercall.h"

static volatile int console_lock;

static void lock(void)
{
    while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE))
        cpu_relax();
}

static void unlock(void)
{
    __atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
}

void console_write(const char *buf, size_t len)
{
    HYPERVISOR_console_io(CONSOLEIO_write, len, buf);
}

int printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
    /* Interrupt handlers print too: keep a line whole. */
    bool irq = irqs_enabled();
    irq_disable();
    lock();
    console_write(buf, len);
    unlock();
    if (irq)
        irq_enable();
    return n;
}

static struct xencons_interface *ring;
static evtchn_port_t ring_port;

long console_ring_init(void)
{
    uint64_t pfn, port;
    long rc = hvm_get_param(HVM_PARAM_CONSOLE_PFN, &pfn);
    if (rc)
        return rc;
    rc = hvm_get_param(HVM_PARAM_CONSOLE_EVTCHN, &port);
    if (rc)
        return rc;
    if (!pfn)
        return -XEN_ENODEV;
    ring = (struct xencons_interface *)(uintptr_t)(pfn << 12);
    ring_port = (evtchn_port_t)port;
    return 0;
}

long console_ring_write(const char *buf, size_t len)
{
    if (!ring)
        return -XEN_ENODEV;
    size_t done = 0;
    unsigned spins = 0;
    while (done < len) {
        XENCONS_RING_IDX cons = __atomic_load_n(&ring->out_cons, __ATOMIC_ACQUIRE);
        XENCONS_RING_IDX prod = ring->out_prod;
        if (prod - cons >= sizeof(ring->out)) {
            /* Full: let the backend drain it. */
            struct evtchn_send s = { .port = ring_port };
            HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
            if (++spins > 1000000)
                return -XEN_ETIMEDOUT;
            cpu_relax();
            continue;
        }
        while (done < len && prod - cons < sizeof(ring->out))
            ring->out[MASK_XENCONS_IDX(prod++, ring->out)] = buf[done++];
        __atomic_store_n(&ring->out_prod, prod, __ATOMIC_RELEASE);
    }
    struct evtchn_send s = { .port = ring_port };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
    return rc ? rc : (long)done;
}

evtchn_port_t console_ring_port(void)
{
    return ring_port;
}

size_t console_ring_read(char *buf, size_t max)
{
    if (!ring)
        return 0;
    XENCONS_RING_IDX cons = ring->in_cons;
    XENCONS_RING_IDX prod = __atomic_load_n(&ring->in_prod, __ATOMIC_ACQUIRE);
    size_t n = 0;
    if (prod - cons > sizeof(ring->in))
        return 0;       /* impossible indices: ignore them */
    while (cons != prod && n < max)
        buf[n++] = ring->in[MASK_XENCONS_IDX(cons++, ring->in)];
    __atomic_store_n(&ring->in_cons, cons, __ATOMIC_RELEASE);
    if (n) {
        /* Room in the ring again: the backend may have more. */
        struct evtchn_send s = { .port = ring_port };
        HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
    }
    return n;
}
