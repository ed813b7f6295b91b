/* Console output. printf goes to the PV console ring, the guest's console
 * (xenkvm's stdout, or the domain's console under xenkvmd), as Linux's hvc
 * console does. Until the ring is found, and for good once a notification on
 * it fails (EVTCHNOP_reset closes its port), it goes through console_io into
 * the hypervisor's log instead (xenkvm's stderr, "(dN) " first). */
#include "console.h"
#include "events.h"
#include "hypercall.h"

static bool use_ring;
static struct xencons_interface *ring;
static evtchn_port_t ring_port;

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
    if (use_ring && console_ring_write(buf, len) == (long)len)
        return;
    use_ring = false;
    HYPERVISOR_console_io(CONSOLEIO_write, len, buf);
}

void console_use_ring(void)
{
    use_ring = console_ring_init() == 0;
}

void console_mask_port(void)
{
    /* The backend's "drained" notifications are of no use here, and an
     * upcall for them would make vCPU 0 scan (and take) events of other
     * vCPUs' ports in the same pending word. */
    if (use_ring)
        evtchn_mask(ring_port);
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
