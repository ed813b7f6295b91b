/* idle: a long-running guest for the toolstack's tests. Prints
 * "idle: tick N" every 500 ms (so a pause shows as silence), and after an
 * NMI (xl trigger DOM nmi) "idle: NMI count N" at the next tick; sleeps in
 * SCHEDOP_block in between, and acts on control/shutdown as a PV guest's
 * xenbus driver does: "poweroff"/"halt" power off, "reboot" reboots,
 * "crash" crashes (after acknowledging with an empty value). Without
 * xenstore it just ticks until destroyed. */
#include "xtest.h"
#include "cpu.h"
#include "events.h"
#include "hypercall.h"
#include "pvclock.h"
#include "report.h"
#include "traps.h"
#include "xenbus.h"

#define MS 1000000ULL

static volatile uint32_t timer_hits, nmis;

static void on_nmi(struct trap_frame *f)
{
    (void)f;
    nmis++;
}

static void on_timer(evtchn_port_t port, void *arg)
{
    (void)port, (void)arg;
    timer_hits++;
}

static void sleep_ms(unsigned ms)
{
    uint32_t target = timer_hits + 1;
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = xen_time_ns() + ms * MS };
    HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
    while (timer_hits < target) {
        irq_disable();
        if (timer_hits < target)
            HYPERVISOR_sched_op(SCHEDOP_block, NULL);
        irq_enable();
    }
}

/* A control/shutdown request, if one is there: the reason, else -1. */
static int shutdown_request(void)
{
    char v[32];
    struct xb_watch_event ev;
    while (xb_wait_watch(&ev, 0) == 0) { /* drain: the value is what counts */ }
    if (xb_read(0, "control/shutdown", v, sizeof(v)) || !v[0])
        return -1;
    xb_write(0, "control/shutdown", "");
    printf("idle: control/shutdown = %s\n", v);
    if (!strcmp(v, "reboot"))
        return SHUTDOWN_reboot;
    if (!strcmp(v, "crash"))
        return SHUTDOWN_crash;
    if (!strcmp(v, "suspend"))
        return SHUTDOWN_suspend;
    return SHUTDOWN_poweroff;
}

void prog_idle(int argc, char **argv)
{
    (void)argc, (void)argv;
    evtchn_port_t port;
    if (evtchn_bind_virq(VIRQ_TIMER, 0, &port)) {
        fail("idle", "cannot bind VIRQ_TIMER");
        return;
    }
    evtchn_set_handler(port, on_timer, NULL);
    evtchn_unmask(port);
    set_irq_handler(2, on_nmi);
    uint32_t nmis_seen = 0;
    bool xs = xb_init() == 0 && xb_watch("control/shutdown", "idle") == 0;
    printf("idle: running%s\n", xs ? ", watching control/shutdown" : " (no xenstore)");
    for (unsigned tick = 1;; tick++) {
        sleep_ms(500);
        printf("idle: tick %u\n", tick);
        if (nmis != nmis_seen) {
            nmis_seen = nmis;
            printf("idle: NMI count %u\n", nmis_seen);
        }
        int reason = xs ? shutdown_request() : -1;
        if (reason >= 0)
            shutdown(reason);
    }
}
