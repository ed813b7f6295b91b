/* idle: a long-running guest for the toolstack's tests. Prints
 * "idle: tick N" every 500 ms (so a pause shows as silence), sleeps in
 * SCHEDOP_block in between, and acts on control/shutdown as a PV guest's
 * xenbus driver does: "poweroff"/"halt" power off, "reboot" reboots,
 * "crash" crashes (after acknowledging with an empty value). It follows
 * memory/target as Linux's balloon driver does (handing frames back or
 * taking them back) and prints "idle: holding N KiB". Without xenstore it
 * just ticks until destroyed. */
#include "xtest.h"
#include "cpu.h"
#include "events.h"
#include "hypercall.h"
#include "pvclock.h"
#include "report.h"
#include "xenbus.h"
#include "balloon.h"

#define MS 1000000ULL

static volatile uint32_t timer_hits;

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

/* memory/target (KiB): balloon so that current_reservation meets it. */
static void follow_target(void)
{
    static unsigned long last_target;
    char v[32];
    if (xb_read(0, "memory/target", v, sizeof(v)) || !v[0])
        return;
    unsigned long target = 0;
    for (const char *c = v; *c >= '0' && *c <= '9'; c++)
        target = target * 10 + (unsigned long)(*c - '0');
    if (target == last_target)
        return;
    last_target = target;
    domid_t self = DOMID_SELF;
    long cur = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
    long want = (long)(target / 4);
    if (cur <= 0)
        return;
    long out = (long)balloon_out() + (cur - want);
    balloon_set_out(out < 0 ? 0 : (unsigned long)out);
    cur = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
    printf("idle: memory target %lu KiB, holding %ld KiB\n", target, cur * 4);
}

/* A control/shutdown request, if one is there: the reason, else -1. */
static int shutdown_request(void)
{
    char v[32];
    struct xb_watch_event ev;
    while (xb_wait_watch(&ev, 0) == 0) { /* drain: the values are what counts */ }
    follow_target();
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
    bool xs = xb_init() == 0 && xb_watch("control/shutdown", "idle") == 0;
    if (xs && balloon_init() == 0)
        xb_watch("memory/target", "balloon");
    printf("idle: running%s\n", xs ? ", watching control/shutdown" : " (no xenstore)");
    for (unsigned tick = 1;; tick++) {
        sleep_ms(500);
        printf("idle: tick %u\n", tick);
        int reason = xs ? shutdown_request() : -1;
        if (reason >= 0)
            shutdown(reason);
    }
}
