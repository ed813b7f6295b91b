/* idle: a long-running guest for the toolstack's tests. Prints
 * "idle: tick N" every 500 ms (so a pause shows as silence), sleeps in
 * SCHEDOP_block in between, and acts on control/shutdown as a PV guest's
 * xenbus driver does: "poweroff"/"halt" power off, "reboot" reboots,
 * "crash" crashes (after acknowledging with an empty value). It follows
 * memory/target as Linux's balloon driver does (handing frames back or
 * taking them back) and prints "idle: holding N KiB". Without xenstore it
 * just ticks until destroyed. */
#include "xtest.h"
#include "balloon.h"
#include "control.h"
#include "hypercall.h"
#include "report.h"
#include "xenbus.h"

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

void prog_idle(int argc, char **argv)
{
    (void)argc, (void)argv;
    int xs = control_init();
    if (xs < 0) {
        fail("idle", "cannot bind VIRQ_TIMER");
        return;
    }
    bool balloon = xs && balloon_init() == 0 && xb_watch("memory/target", "balloon") == 0;
    printf("idle: running%s\n", xs ? ", watching control/shutdown" : " (no xenstore)");
    for (unsigned tick = 1;; tick++) {
        control_sleep_ms(500, NULL);
        printf("idle: tick %u\n", tick);
        int reason = control_shutdown_request("idle");   /* drains the watch events too */
        if (balloon)
            follow_target();
        if (reason >= 0)
            shutdown(reason);
    }
}
