/* shutdown <reason>: SCHEDOP_shutdown with the named reason. xenkvm's exit
 * status tells the reason: poweroff 0, crash 2, reboot 3, suspend 4,
 * watchdog 5, soft_reset 6. "shutdown code <reason>" records the reason with
 * SCHEDOP_shutdown_code, then powers off: the domain ends with the recorded
 * reason. "shutdown triplefault" loads an empty IDT and traps: a triple fault,
 * which ends the domain with HVM_PARAM_TRIPLE_FAULT_REASON (reboot by default). */
#include "xtest.h"
#include "hypercall.h"
#include "report.h"

static const struct {
    const char *name;
    unsigned reason;
} reasons[] = {
    { "poweroff", SHUTDOWN_poweroff }, { "reboot", SHUTDOWN_reboot },
    { "suspend", SHUTDOWN_suspend },   { "crash", SHUTDOWN_crash },
    { "watchdog", SHUTDOWN_watchdog }, { "soft_reset", SHUTDOWN_soft_reset },
};

static const char *reason_of(const char *name, unsigned *reason)
{
    for (unsigned i = 0; i < ARRAY_SIZE(reasons); i++)
        if (!strcmp(name, reasons[i].name)) {
            *reason = reasons[i].reason;
            return reasons[i].name;
        }
    return NULL;
}

void prog_shutdown(int argc, char **argv)
{
    unsigned reason;
    if (argc < 2) {
        fail("shutdown", "usage: shutdown <poweroff|reboot|suspend|crash|watchdog|soft_reset>"
                         " or shutdown code <reason>");
        return;
    }
    if (!strcmp(argv[1], "code")) {
        /* Xen (common/schedule.c, do_sched_op): SCHEDOP_shutdown_code records
         * the reason only while none is recorded yet and returns 0; then
         * domain_shutdown() (common/domain.c) uses the recorded code in place
         * of the reason it is given. So "code reboot" + poweroff ends as a
         * reboot, and a second shutdown_code is ignored. */
        if (argc < 3 || !reason_of(argv[2], &reason)) {
            fail("shutdown code", "usage: shutdown code <reason>");
            return;
        }
        struct sched_shutdown s = { .reason = reason };
        long rc = HYPERVISOR_sched_op(SCHEDOP_shutdown_code, &s);
        check_rc("SCHEDOP_shutdown_code", rc, 0);
        s.reason = reason == SHUTDOWN_crash ? SHUTDOWN_reboot : SHUTDOWN_crash;
        rc = HYPERVISOR_sched_op(SCHEDOP_shutdown_code, &s);
        check_rc("second SCHEDOP_shutdown_code (ignored)", rc, 0);
        printf("shutting down: poweroff after code %s\n", argv[2]);
        shutdown(SHUTDOWN_poweroff);
    }
    if (!strcmp(argv[1], "triplefault")) {
        struct __attribute__((packed)) { uint16_t limit; uintptr_t base; } empty = { 0, 0 };
        printf("shutting down: triplefault\n");
        __asm__ volatile("cli; lidt %0; int3" : : "m"(empty));
        fail("triplefault", "int3 with an empty IDT returned");
        return;
    }
    if (!reason_of(argv[1], &reason)) {
        fail("shutdown", "unknown reason '%s'", argv[1]);
        return;
    }
    printf("shutting down: %s\n", argv[1]);
    struct sched_shutdown s = { .reason = reason };
    long rc = HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
    /* SCHEDOP_shutdown does not return to a guest that it shut down (except
     * suspend, which returns 0 on resume in a PV guest's domain). */
    fail("SCHEDOP_shutdown returned", "%s", errname(rc));
}
