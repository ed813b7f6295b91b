/* timer: pvclock sanity, VIRQ_TIMER from the singleshot timer (waited for
 * with SCHEDOP_block), the periodic timer, set_timer_op and the secondary
 * time area. Expectations
 * follow Xen 4.17 common/domain.c do_vcpu_op() and common/schedule.c
 * do_set_timer_op(). */
#include "xtest.h"
#include "cpu.h"
#include "events.h"
#include "hypercall.h"
#include "pvclock.h"
#include "report.h"

#define MS 1000000ULL

static volatile uint32_t timer_hits;
static volatile uint64_t timer_last_ns;

static void on_timer(evtchn_port_t port, void *arg)
{
    (void)port, (void)arg;
    timer_last_ns = xen_time_ns();
    timer_hits++;
}

static unsigned blocks;

/* Waits for timer_hits to reach target: SCHEDOP_block with interrupts off
 * (Xen returns at once if an event is already pending, so nothing is lost
 * between the test and the block), then interrupts on to take the upcall. */
static bool block_until(uint32_t target, uint64_t timeout_ns)
{
    uint64_t end = xen_time_ns() + timeout_ns;
    while (timer_hits < target && xen_time_ns() < end) {
        irq_disable();
        if (timer_hits < target) {
            blocks++;
            HYPERVISOR_sched_op(SCHEDOP_block, NULL);
        }
        irq_enable();
        for (int i = 0; i < 200 && timer_hits < target; i++)
            cpu_relax();
    }
    return timer_hits >= target;
}

static void spin_ms(unsigned ms)
{
    uint64_t end = xen_time_ns() + ms * MS;
    while (xen_time_ns() < end)
        cpu_relax();
}

static long singleshot(uint64_t abs_ns, uint32_t flags)
{
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = abs_ns, .flags = flags };
    return HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
}

static void pvclock_checks(void)
{
    const volatile struct vcpu_time_info *t = &this_cpu()->vi->time;
    printf("  pvclock: version %u tsc_timestamp %lu system_time %lu mul %u shift %d flags 0x%x\n",
           t->version, (unsigned long)t->tsc_timestamp, (unsigned long)t->system_time,
           t->tsc_to_system_mul, t->tsc_shift, t->flags);
    check(t->tsc_to_system_mul != 0 && !(t->version & 1), "pvclock published",
          "mul %u version %u", t->tsc_to_system_mul, t->version);
    uint64_t prev = xen_time_ns(), first = prev;
    unsigned backwards = 0;
    for (int i = 0; i < 2000; i++) {
        uint64_t now = xen_time_ns();
        if (now < prev)
            backwards++;
        prev = now;
    }
    check(backwards == 0 && prev > first, "pvclock monotonic over 2000 reads",
          "%u steps backwards, %lu -> %lu", backwards, (unsigned long)first, (unsigned long)prev);

    uint64_t sec;
    uint32_t nsec;
    xen_wallclock(&sec, &nsec);
    printf("  wallclock at system time 0: %lu.%09u\n", (unsigned long)sec, nsec);
    /* 2020-01-01 .. 2100-01-01 */
    check(sec > 1577836800 && sec < 4102444800u && nsec < 1000000000, "wallclock plausible",
          "%lu.%u", (unsigned long)sec, nsec);
}

/* VCPUOP_register_vcpu_time_memory_area (Linux's vDSO pvclock page): a
 * second copy of vcpu_info's time record, kept as the first one is. */
static void time_area_checks(void)
{
    static volatile struct vcpu_time_info area ALIGNED(64);
    area.version = 0x77;
    struct vcpu_register_time_memory_area ta = { .addr.p = 0 };
    ta.addr.v = (struct vcpu_time_info *)&area;
    long rc = HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_time_memory_area, 0, &ta);
    const volatile struct vcpu_time_info *t = &this_cpu()->vi->time;
    check(rc == 0 && !(area.version & 1) && area.version == t->version &&
              area.tsc_to_system_mul == t->tsc_to_system_mul &&
              area.tsc_shift == t->tsc_shift && area.system_time == t->system_time &&
              area.flags == t->flags,
          "VCPUOP_register_vcpu_time_memory_area fills the area",
          "rc %s version %u/%u mul %u flags 0x%x", errname(rc), area.version, t->version,
          area.tsc_to_system_mul, area.flags);
    /* The same record: a reading from it lies between two from vcpu_info. */
    uint64_t t0 = xen_time_ns(), a = pvclock_read(&area), t1 = xen_time_ns();
    check(t0 <= a && a <= t1, "pvclock from the time area agrees",
          "vcpu_info %lu, area %lu, vcpu_info %lu", (unsigned long)t0, (unsigned long)a,
          (unsigned long)t1);
    ta.addr.v = NULL;
    rc = HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_time_memory_area, 0, &ta);
    check_rc("time area unregistered (NULL)", rc, 0);
}

static long poll(evtchn_port_t *ports, unsigned n, uint64_t timeout)
{
    struct sched_poll sp = { .nr_ports = n, .timeout = timeout };
    set_xen_guest_handle(sp.ports, ports);
    return HYPERVISOR_sched_op(SCHEDOP_poll, &sp);
}

/* SCHEDOP_poll (common/sched/core.c do_poll), interrupts off as Linux's
 * spinlock wait may have them: it returns once a polled port is pending
 * (masked or not), at its timeout, or when the vCPU is woken for any other
 * event (vcpu_unblock ends the poll: the guest looks again). */
static void poll_checks(void)
{
    evtchn_port_t a, b;
    if (evtchn_alloc_unbound(DOMID_SELF, &a) || evtchn_bind_interdomain(DOMID_SELF, a, &b)) {
        fail("SCHEDOP_poll", "no loop-back pair");
        return;
    }
    spin_ms(5);   /* the bind's own event goes by */
    evtchn_mask(b);
    evtchn_clear_pending(b);
    evtchn_port_t many[129];
    for (unsigned i = 0; i < 129; i++)
        many[i] = b;
    check_rc("SCHEDOP_poll of 129 ports -> -EINVAL", poll(many, 129, 0), -XEN_EINVAL);
    evtchn_port_t bad = 4096;
    check_rc("SCHEDOP_poll of port 4096 -> -EINVAL", poll(&bad, 1, 0), -XEN_EINVAL);
#ifndef __x86_64__
    /* The 32-bit shared_info's 2-level bitmaps hold 1024 ports (Xen's max_evtchns). */
    bad = 1024;
    check_rc("SCHEDOP_poll of port 1024 (32-bit 2-level) -> -EINVAL", poll(&bad, 1, 0),
             -XEN_EINVAL);
#endif

    irq_disable();
    uint64_t t0 = xen_time_ns();
    long rc = poll(&b, 1, t0 + 10 * MS);
    uint64_t took = xen_time_ns() - t0;
    check(rc == 0 && took >= 10 * MS && took < 1000 * MS, "SCHEDOP_poll times out",
          "%s after %lu us", errname(rc), (unsigned long)(took / 1000));
    evtchn_send(a);   /* b masked: pending, no upcall */
    t0 = xen_time_ns();
    rc = poll(&b, 1, t0 + 2000 * MS);
    took = xen_time_ns() - t0;
    check(rc == 0 && took < 1000 * MS, "SCHEDOP_poll returns at once for a pending masked port",
          "%s after %lu us", errname(rc), (unsigned long)(took / 1000));
    evtchn_clear_pending(b);
    /* Another event for this vCPU (the timer, 20 ms on) ends the poll. */
    uint32_t before = timer_hits;
    t0 = xen_time_ns();
    singleshot(t0 + 20 * MS, 0);
    rc = poll(&b, 1, t0 + 3000 * MS);
    took = xen_time_ns() - t0;
    irq_enable();
    check(rc == 0 && took >= 20 * MS && took < 2000 * MS,
          "SCHEDOP_poll on a quiet port ends when another event is raised",
          "%s after %lu us", errname(rc), (unsigned long)(took / 1000));
    wait_count(&timer_hits, before + 1, 500 * MS);
    evtchn_close(a);
    evtchn_close(b);
}

void prog_timer(int argc, char **argv)
{
    (void)argc, (void)argv;
    pvclock_checks();

    evtchn_port_t port;
    long rc = evtchn_bind_virq(VIRQ_TIMER, 0, &port);
    if (!check(rc == 0, "bind VIRQ_TIMER", "%s", errname(rc)))
        return;
    evtchn_set_handler(port, on_timer, NULL);

    /* Singleshot 10 ms ahead, waited for with SCHEDOP_block. */
    uint64_t start = xen_time_ns(), deadline = start + 10 * MS;
    rc = singleshot(deadline, 0);
    check_rc("VCPUOP_set_singleshot_timer +10ms", rc, 0);
    bool fired = block_until(1, 2000 * MS);
    uint64_t end = xen_time_ns();
    printf("  singleshot: fired %d after %lu us (%u blocks)\n", fired,
           (unsigned long)((timer_last_ns - start) / 1000), blocks);
    check(fired, "singleshot timer fired (VIRQ_TIMER)", "not within 2 s");
    check(fired && timer_last_ns >= deadline && end - start >= 10 * MS,
          "singleshot fired no earlier than its deadline", "fired at +%ld ns",
          (long)(timer_last_ns - start));
    check(blocks > 0, "SCHEDOP_block returned for the timer event", "never blocked");

    /* stop_singleshot cancels. */
    uint32_t before = timer_hits;
    singleshot(xen_time_ns() + 20 * MS, 0);
    check_rc("VCPUOP_stop_singleshot_timer", HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL), 0);
    spin_ms(50);
    check(timer_hits == before, "stopped singleshot does not fire", "%u deliveries",
          timer_hits - before);

    /* A deadline already past with VCPU_SSHOTTMR_future: 4.17 answers -ETIME;
     * releases that ignore the flag fire at once instead. */
    before = timer_hits;
    rc = singleshot(xen_time_ns() - 1 * MS, VCPU_SSHOTTMR_future);
    if (rc == 0)
        check(block_until(before + 1, 500 * MS), "past singleshot with future flag fires at once",
              "no delivery");
    else
        check_rc("past singleshot with VCPU_SSHOTTMR_future -> -ETIME", rc, -XEN_ETIME);
    /* Without the flag a past deadline fires at once. */
    before = timer_hits;
    rc = singleshot(xen_time_ns() - 1 * MS, 0);
    check(rc == 0 && block_until(before + 1, 500 * MS), "past singleshot fires at once",
          "rc %s hits %u", errname(rc), timer_hits - before);
    /* Another vCPU's singleshot: missing vCPU -> -ENOENT before anything. */
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = xen_time_ns() + MS };
    check_rc("singleshot on a missing vCPU -> -ENOENT",
             HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 77, &t), -XEN_ENOENT);

    /* Periodic timer, 10 ms: five periods take at least ~50 ms. */
    spin_ms(5);
    before = timer_hits;
    struct vcpu_set_periodic_timer per = { .period_ns = 10 * MS };
    start = xen_time_ns();
    rc = HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &per);
    check_rc("VCPUOP_set_periodic_timer 10ms", rc, 0);
    fired = block_until(before + 5, 3000 * MS);
    uint64_t took = timer_last_ns - start;
    printf("  periodic: 5 ticks in %lu us\n", (unsigned long)(took / 1000));
    check(fired && took >= 40 * MS, "periodic timer fires repeatedly", "%u ticks in %lu us",
          timer_hits - before, (unsigned long)(took / 1000));
    rc = HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL);
    check_rc("VCPUOP_stop_periodic_timer", rc, 0);
    spin_ms(5); /* one tick may be in flight */
    before = timer_hits;
    spin_ms(50);
    check(timer_hits == before, "stopped periodic timer is quiet", "%u more ticks",
          timer_hits - before);
    /* do_vcpu_op: period_ns < 1 ms -> -EINVAL. */
    per.period_ns = 100000;
    check_rc("periodic period below 1ms -> -EINVAL",
             HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &per), -XEN_EINVAL);

    /* set_timer_op: absolute deadline; 0 cancels. */
    before = timer_hits;
    start = xen_time_ns();
    deadline = start + 10 * MS;
    rc = HYPERVISOR_set_timer_op(deadline);
    fired = block_until(before + 1, 2000 * MS);
    check(rc == 0 && fired && timer_last_ns >= deadline, "set_timer_op +10ms fires",
          "rc %s fired %d at +%ld ns", errname(rc), fired, (long)(timer_last_ns - start));
    before = timer_hits;
    HYPERVISOR_set_timer_op(xen_time_ns() + 20 * MS);
    rc = HYPERVISOR_set_timer_op(0);
    spin_ms(50);
    check(rc == 0 && timer_hits == before, "set_timer_op(0) cancels", "rc %s, %u deliveries",
          errname(rc), timer_hits - before);

    /* do_set_timer_op: a deadline more than 2^50 ns (~13 days) ahead is taken
     * as a wrapped one and fires in 100 ms. (A 32-bit caller passes it in two
     * halves: the high one decides.) */
    start = xen_time_ns();
    rc = HYPERVISOR_set_timer_op(start + (1ULL << 52));
    /* A late event of a timer stopped above may come first: wait for one
     * at 100 ms. */
    fired = false;
    while (!fired && xen_time_ns() < start + 2000 * MS)
        fired = block_until(timer_hits + 1, start + 2000 * MS - xen_time_ns()) &&
                timer_last_ns - start >= 90 * MS;
    check(rc == 0 && fired, "set_timer_op far ahead fires in 100 ms",
          "rc %s fired %d at +%ld ns", errname(rc), fired, (long)(timer_last_ns - start));

    time_area_checks();
    poll_checks();
}
