/* evbench MODE [N]: an event's round trip through xenkvm, measured in the guest
 * with rdtsc: EVTCHNOP_send on a loop-back port until its handler has run,
 * against a bare hypercall (xen_version) in the same run. MODE: 2l (2-level,
 * per-vCPU LAPIC vector), fifo (FIFO queues, same vector), callback (2-level
 * through the global callback vector, LAPIC off). Prints one "bench ..." line
 * for bench/events.sh. */
#include "xtest.h"
#include "events.h"
#include "fifo.h"
#include "hypercall.h"
#include "report.h"

#define VECTOR_CB 0x30

static volatile uint32_t hits;

static void on_event(evtchn_port_t port, void *arg)
{
    (void)port, (void)arg;
    hits++;
}

void prog_evbench(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "2l";
    unsigned n = 2000;
    if (argc > 2) {
        n = 0;
        for (const char *s = argv[2]; *s >= '0' && *s <= '9'; s++)
            n = n * 10 + (unsigned)(*s - '0');
        if (!n)
            n = 2000;
    }
    long rc = !strcmp(mode, "callback") ? events_init_callback(VECTOR_CB) : events_init_cpu();
    if (!rc && !strcmp(mode, "fifo")) {
        irq_disable();
        rc = fifo_init();
        irq_enable();
    }
    evtchn_port_t a, b;
    if (!rc)
        rc = evtchn_alloc_unbound(DOMID_SELF, &a);
    if (!rc)
        rc = evtchn_bind_interdomain(DOMID_SELF, a, &b);
    if (!check_rc("event delivery set up", rc, 0))
        return;
    evtchn_unmask(a);
    evtchn_unmask(b);
    evtchn_set_handler(b, on_event, NULL);
    uint32_t khz, eb, ec, ed;
    cpuid(0x40000003, 0, &khz, &eb, &ec, &ed);
    khz = ec;
    uint64_t ev = ~0ull, hc = ~0ull;
    unsigned lost = 0;
    for (int round = 0; round < 3; round++) {
        uint64_t t0 = rdtsc();
        for (unsigned i = 0; i < n; i++) {
            uint32_t want = hits + 1;
            evtchn_send(a);
            uint64_t spin = 0;
            while (hits < want && ++spin < 100000000)
                cpu_relax();
            lost += hits < want;
        }
        uint64_t t1 = rdtsc();
        for (unsigned i = 0; i < n; i++)
            HYPERVISOR_xen_version(XENVER_version, NULL);
        uint64_t t2 = rdtsc();
        ev = (t1 - t0) / n < ev ? (t1 - t0) / n : ev;
        hc = (t2 - t1) / n < hc ? (t2 - t1) / n : hc;
    }
    printf("bench mode=%s event_cycles=%lu hypercall_cycles=%lu tsc_khz=%u event_ns=%lu "
           "hypercall_ns=%lu ratio_x1000=%lu\n", mode, (unsigned long)ev, (unsigned long)hc, khz,
           khz ? (unsigned long)(ev * 1000000 / khz) : 0,
           khz ? (unsigned long)(hc * 1000000 / khz) : 0,
           hc ? (unsigned long)(ev * 1000 / hc) : 0);
    check(lost == 0, "every event delivered", "%u lost", lost);
}
