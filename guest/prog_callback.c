/* callback: event delivery through the global callback vector alone
 * (HVM_PARAM_CALLBACK_IRQ, type vector), as Mini-OS and Xen's test framework
 * use it. Xen injects that vector directly on a VM entry of any vCPU whose
 * evtchn_upcall_pending is set (arch/x86/hvm/irq.c hvm_vcpu_has_pending_irq):
 * the LAPIC is not involved and nothing is EOIed. Here the LAPIC is never
 * enabled and the program idles in `sti; hlt`, as Mini-OS does.
 *
 * "callback lapic": the LAPIC is enabled with LVT0 masked first, as Linux
 * before 6.0 leaves its CPUs while it uses this vector, and the vector must
 * still bypass it (never in IRR or ISR; LVT0 as the guest wrote it). */
#include "xtest.h"
#include "cpu.h"
#include "events.h"
#include "hypercall.h"
#include "pvclock.h"
#include "report.h"
#include "traps.h"

#define MS 1000000ULL
#define VECTOR_CB 0x30           /* below the LAPIC's own vectors, as Mini-OS's */
#define APIC_BASE 0xfee00000UL
#define APIC_SVR  0xf0
#define APIC_ISR  0x100
#define APIC_IRR  0x200
#define APIC_LVT0 0x350

static uint32_t apic_reg(unsigned off)
{
    return mmio_read32(APIC_BASE + off);
}

static bool apic_vector_bit(unsigned base, unsigned vec)
{
    return (apic_reg(base + (vec / 32) * 0x10) >> (vec % 32)) & 1;
}

/* Sleeps in `sti; hlt` (the instruction pair leaves no window for a lost
 * wake-up) until *c reaches target or the deadline passes. Needs an event to
 * come: the callers arm a timer or expect one. */
static bool halt_until(volatile uint32_t *c, uint32_t target, uint64_t timeout_ns)
{
    uint64_t end = xen_time_ns() + timeout_ns;
    for (;;) {
        irq_disable();
        if (*c >= target || xen_time_ns() >= end)
            break;
        asm volatile("sti; hlt" ::: "memory");
    }
    irq_enable();
    return *c >= target;
}

static volatile uint32_t timer_hits;

static void on_timer(evtchn_port_t port, void *arg)
{
    (void)port, (void)arg;
    timer_hits++;
}

/* vCPU 1, its LAPIC never enabled: takes events through the callback vector
 * while it idles in sti;hlt (ap_main's loop). */
static void ap_work(unsigned id)
{
    percpu[id].vi->evtchn_upcall_mask = 0;
}

static void arm_timer_ms(unsigned ms)
{
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = xen_time_ns() + ms * MS };
    HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
}

void prog_callback(int argc, char **argv)
{
    bool lapic = argc > 1 && !strcmp(argv[1], "lapic");
    uint32_t lvt0 = 0;
    if (lapic) {
        mmio_write32(APIC_BASE + APIC_SVR, 0x100 | VECTOR_SPURIOUS);
        mmio_write32(APIC_BASE + APIC_LVT0, 0x10700);   /* ExtINT, masked */
        lvt0 = apic_reg(APIC_LVT0);
        check(lvt0 & 0x10000, "LAPIC enabled with LVT0 masked", "LVT0 0x%x", lvt0);
    } else {
        check(!(apic_reg(APIC_SVR) & 0x100), "LAPIC software-disabled", "SVR 0x%x",
              apic_reg(APIC_SVR));
    }

    /* An event made pending before there is a callback: Xen raises it when
     * the callback is set (hvm_set_callback_via asserts every vCPU's). */
    evtchn_port_t a, b;
    long rc = evtchn_alloc_unbound(DOMID_SELF, &a);
    if (!rc)
        rc = evtchn_bind_interdomain(DOMID_SELF, a, &b);
    if (!check_rc("loop-back pair", rc, 0))
        return;
    rc = events_init_callback(VECTOR_CB);
    check_rc("HVM_PARAM_CALLBACK_IRQ type vector", rc, 0);
    check(wait_count(&evtchn_stat[b].hits, 1, 500 * MS),
          "event pending before the callback is delivered once it is set", "hits %u",
          evtchn_stat[b].hits);

    /* Many sends, each delivered: nothing is ever EOIed, so a vector that went
     * through the LAPIC would stay in service and block the next. */
    uint32_t n = 0;
    for (unsigned i = 0; i < 20; i++) {
        uint32_t before = evtchn_stat[b].hits;
        evtchn_send(a);
        n += wait_count(&evtchn_stat[b].hits, before + 1, 200 * MS);
    }
    check(n == 20, "20 sends, 20 deliveries without an EOI", "%u delivered", n);
    check(upcall_count[0] == 0 && callback_count[0] >= 21,
          "every upcall came through the callback vector", "callback %u, per-vCPU vector %u",
          callback_count[0], upcall_count[0]);

    /* An event raised while interrupts are off waits for sti. */
    irq_disable();
    uint32_t before = evtchn_stat[b].hits;
    evtchn_send(a);
    uint64_t end = xen_time_ns() + 20 * MS;
    while (xen_time_ns() < end)
        cpu_relax();
    bool early = evtchn_stat[b].hits != before;
    irq_enable();
    check(!early && wait_count(&evtchn_stat[b].hits, before + 1, 200 * MS),
          "event sent with interrupts off is taken after sti", "early %d, hits %u -> %u",
          early, before, evtchn_stat[b].hits);

    /* A masked port sets no upcall; unmasking delivers it. */
    evtchn_mask(b);
    before = evtchn_stat[b].hits;
    evtchn_send(a);
    end = xen_time_ns() + 20 * MS;
    while (xen_time_ns() < end)
        cpu_relax();
    check(evtchn_stat[b].hits == before && evtchn_test_pending(b),
          "masked port pending without a callback", "hits %u -> %u", before,
          evtchn_stat[b].hits);
    evtchn_unmask(b);
    check(wait_count(&evtchn_stat[b].hits, before + 1, 200 * MS),
          "EVTCHNOP_unmask delivers through the callback", "hits %u", evtchn_stat[b].hits);

    /* The timer wakes the vCPU from sti;hlt, several times over. */
    evtchn_port_t t;
    if (check_rc("bind VIRQ_TIMER", evtchn_bind_virq(VIRQ_TIMER, 0, &t), 0)) {
        evtchn_set_handler(t, on_timer, NULL);
        unsigned woken = 0;
        for (unsigned i = 0; i < 5; i++) {
            uint32_t target = timer_hits + 1;
            uint64_t t0 = xen_time_ns();
            arm_timer_ms(10);
            woken += halt_until(&timer_hits, target, 2000 * MS) && xen_time_ns() >= t0 + 10 * MS;
        }
        check(woken == 5, "singleshot timer wakes sti;hlt 5 times", "%u of 5", woken);
    }

    /* With a second vCPU: an IPI port bound to it, its LAPIC left off. */
    if (!lapic && HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL) >= 0) {
        smp_own_delivery = true;
        evtchn_port_t ipi;
        long rc1 = smp_start_cpu(1, ap_work);
        if (!rc1)
            rc1 = evtchn_bind_ipi(1, &ipi);
        uint32_t got = 0;
        for (unsigned i = 0; !rc1 && i < 5; i++) {
            uint32_t before = evtchn_stat[ipi].hits;
            evtchn_send(ipi);
            got += wait_count(&evtchn_stat[ipi].hits, before + 1, 500 * MS) && evtchn_stat[ipi].cpu == 1;
        }
        check(!rc1 && got == 5, "vCPU 1 (LAPIC off, in sti;hlt) takes 5 IPIs through the callback",
              "%s, %u of 5 on vCPU 1", errname(rc1), got);
        /* (an IPI sent while vCPU 1's handler still scans is taken in that same
         * upcall, as on Xen: 5 IPIs may come in fewer than 5 upcalls) */
        check(callback_count[1] >= 1 && upcall_count[1] == 0, "vCPU 1's upcalls all through the callback",
              "callback %u, per-vCPU vector %u", callback_count[1], upcall_count[1]);
    }

    if (lapic) {
        check(!apic_vector_bit(APIC_ISR, VECTOR_CB) && !apic_vector_bit(APIC_IRR, VECTOR_CB),
              "callback vector never in the LAPIC's IRR or ISR", "ISR %d IRR %d",
              apic_vector_bit(APIC_ISR, VECTOR_CB), apic_vector_bit(APIC_IRR, VECTOR_CB));
        check(apic_reg(APIC_LVT0) == lvt0, "LVT0 reads back as written", "0x%x, wrote 0x%x",
              apic_reg(APIC_LVT0), lvt0);
    } else {
        check(!(apic_reg(APIC_SVR) & 0x100), "LAPIC still software-disabled", "SVR 0x%x",
              apic_reg(APIC_SVR));
    }
}
