/* VIRQ_TIMER sleeps and control/shutdown for the long-running programs. */
#include "control.h"
#include "cpu.h"
#include "events.h"
#include "hypercall.h"
#include "pvclock.h"
#include "report.h"
#include "xenbus.h"

#define MS 1000000ULL

static volatile uint32_t timer_hits;
static bool have_xs;

static void on_timer(evtchn_port_t port, void *arg)
{
    (void)port, (void)arg;
    timer_hits++;
}

int control_init(void)
{
    evtchn_port_t port;
    if (evtchn_bind_virq(VIRQ_TIMER, 0, &port))
        return -1;
    evtchn_set_handler(port, on_timer, NULL);
    evtchn_unmask(port);
    have_xs = xb_init() == 0 && xb_watch("control/shutdown", "control") == 0;
    return have_xs;
}

void control_sleep_ms(unsigned ms, volatile uint32_t *wake)
{
    uint32_t target = timer_hits + 1, was = wake ? *wake : 0;
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = xen_time_ns() + ms * MS };
    HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
    while (timer_hits < target && (!wake || *wake == was)) {
        irq_disable();
        if (timer_hits < target && (!wake || *wake == was))
            HYPERVISOR_sched_op(SCHEDOP_block, NULL);
        irq_enable();
    }
}

int control_shutdown_request(const char *who)
{
    char v[32];
    struct xb_watch_event ev;
    if (!have_xs)
        return -1;
    while (xb_wait_watch(&ev, 0) == 0) { /* drain: the value is what counts */ }
    if (xb_read(0, "control/shutdown", v, sizeof(v)) || !v[0])
        return -1;
    xb_write(0, "control/shutdown", "");
    printf("%s: control/shutdown = %s\n", who, v);
    if (!strcmp(v, "reboot"))
        return SHUTDOWN_reboot;
    if (!strcmp(v, "crash"))
        return SHUTDOWN_crash;
    if (!strcmp(v, "suspend"))
        return SHUTDOWN_suspend;
    return SHUTDOWN_poweroff;
}
