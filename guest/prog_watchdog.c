/* watchdog: SCHEDOP_watchdog as Xen's common/sched/core.c domain_watchdog:
 * id 0 creates a timer (returns its id, 1 or 2; -ENOSPC with both in use), a
 * known id with a timeout pings it, with timeout 0 destroys it, an unknown
 * id is -EINVAL. "watchdog expire": a 1 s watchdog left unpinged shuts the
 * domain down with SHUTDOWN_watchdog (xenkvm exits 5). */
#include "xtest.h"
#include "hypercall.h"
#include "pvclock.h"
#include "report.h"

#define MS 1000000ULL

static long watchdog(uint32_t id, uint32_t timeout)
{
    struct sched_watchdog w = { .id = id, .timeout = timeout };
    return HYPERVISOR_sched_op(SCHEDOP_watchdog, &w);
}

static void spin_ms(unsigned ms)
{
    uint64_t end = xen_time_ns() + ms * MS;
    while (xen_time_ns() < end)
        cpu_relax();
}

void prog_watchdog(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "expire")) {
        long id = watchdog(0, 1);
        check(id == 1, "SCHEDOP_watchdog create, 1 s", "%s", errname(id));
        printf("watchdog: not pinging; the domain should stop within a second\n");
        spin_ms(5000);
        fail("watchdog expired", "still running 5 s later");
        return;
    }
    check_rc("ping of watchdog 1 before any exists -> -EINVAL", watchdog(1, 10), -XEN_EINVAL);
    check_rc("watchdog id 3 (only 2 exist) -> -EINVAL", watchdog(3, 10), -XEN_EINVAL);
    check_rc("watchdog id 0xffffffff -> -EINVAL", watchdog(0xffffffffu, 10), -XEN_EINVAL);
    long a = watchdog(0, 1), b = watchdog(0, 1);
    check(a == 1 && b == 2, "two watchdogs created: ids 1 and 2", "%ld %ld", a, b);
    check_rc("a third -> -ENOSPC", watchdog(0, 1), -XEN_ENOSPC);
    /* Pinged every 300 ms for 1.5 s: longer than their 1 s timeout. */
    unsigned pings = 0;
    for (unsigned i = 0; i < 5; i++) {
        spin_ms(300);
        pings += watchdog(1, 1) == 0 && watchdog(2, 1) == 0;
    }
    check(pings == 5, "pinged watchdogs do not fire (1.5 s with 1 s timeouts)", "%u of 5 pings", pings);
    check_rc("destroy watchdog 2 (timeout 0)", watchdog(2, 0), 0);
    check_rc("ping of the destroyed watchdog -> -EINVAL", watchdog(2, 1), -XEN_EINVAL);
    check_rc("its slot is free again", watchdog(0, 1), 2);
    check_rc("destroy watchdog 1", watchdog(1, 0), 0);
    check_rc("destroy watchdog 2", watchdog(2, 0), 0);
    spin_ms(1500);
    ok("destroyed watchdogs do not fire (1.5 s after their 1 s timeout)");
}
