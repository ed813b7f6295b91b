/* idle: a long-running guest for the toolstack's tests. Prints
 * "idle: tick N" every 500 ms (so a pause shows as silence), sleeps in
 * SCHEDOP_block in between, and acts on control/shutdown as a PV guest's
 * xenbus driver does: "poweroff"/"halt" power off, "reboot" reboots,
 * "crash" crashes (after acknowledging with an empty value). Without
 * xenstore it just ticks until destroyed. */
#include "xtest.h"
#include "control.h"
#include "hypercall.h"
#include "report.h"

void prog_idle(int argc, char **argv)
{
    (void)argc, (void)argv;
    int xs = control_init();
    if (xs < 0) {
        fail("idle", "cannot bind VIRQ_TIMER");
        return;
    }
    printf("idle: running%s\n", xs ? ", watching control/shutdown" : " (no xenstore)");
    for (unsigned tick = 1;; tick++) {
        control_sleep_ms(500, NULL);
        printf("idle: tick %u\n", tick);
        int reason = control_shutdown_request("idle");
        if (reason >= 0)
            shutdown(reason);
    }
}
