/* idle: a long-running guest for the toolstack's tests. Prints
 * "idle: tick N" every 500 ms (so a pause shows as silence), and after an
 * NMI (xl trigger DOM nmi) "idle: NMI count N" at the next tick; sleeps in
 * SCHEDOP_block in between, and acts on control/shutdown as a PV guest's
 * xenbus driver does: "poweroff"/"halt" power off, "reboot" reboots,
 * "crash" crashes (after acknowledging with an empty value). It follows
 * memory/target as Linux's balloon driver does (handing frames back or
 * taking them back) and prints "idle: holding N KiB". Without xenstore it
 * just ticks until destroyed. "idle N" first fills N MiB of its RAM from
 * 16 MiB up, a quarter of each page pseudo-random and the rest zero (about
 * what an idle Linux holds: bench/save.sh), and prints "idle: filled N MiB". */
#include "xtest.h"
#include "balloon.h"
#include "control.h"
#include "hypercall.h"
#include "report.h"
#include "traps.h"
#include "xenbus.h"

static volatile uint32_t nmis;

static void on_nmi(struct trap_frame *f)
{
    (void)f;
    nmis++;
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

/* N MiB from 16 MiB up, inside the RAM region that holds 16 MiB (the boot
 * page tables map the first 4 GiB). */
static void fill(unsigned long mib)
{
    const struct hvm_memmap_table_entry *m = (const void *)(uintptr_t)start_info->memmap_paddr;
    uint64_t base = 16ull << 20, end = base + (mib << 20), top = 0;
    for (unsigned i = 0; i < start_info->memmap_entries; i++)
        if (m[i].type == 1 && m[i].addr <= base && m[i].addr + m[i].size > base)
            top = m[i].addr + m[i].size;
    if (end > top || end > (4ull << 30)) {
        fail("idle", "cannot fill %lu MiB from 16 MiB: RAM ends at %lu MiB", mib,
             (unsigned long)(top >> 20));
        return;
    }
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (uint64_t a = base; a < end; a += 4096) {
        uint64_t *w = (uint64_t *)(uintptr_t)a;
        for (unsigned i = 0; i < 128; i++) {         /* fresh RAM is zero */
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;     /* xorshift64 */
            w[i] = x;
        }
    }
    printf("idle: filled %lu MiB\n", mib);
}

void prog_idle(int argc, char **argv)
{
    unsigned long mib = 0;
    for (const char *c = argc > 1 ? argv[1] : ""; *c >= '0' && *c <= '9'; c++)
        mib = mib * 10 + (unsigned long)(*c - '0');
    if (mib)
        fill(mib);
    int xs = control_init();
    if (xs < 0) {
        fail("idle", "cannot bind VIRQ_TIMER");
        return;
    }
    bool balloon = xs && balloon_init() == 0 && xb_watch("memory/target", "balloon") == 0;
    set_irq_handler(2, on_nmi);
    uint32_t nmis_seen = 0;
    printf("idle: running%s\n", xs ? ", watching control/shutdown" : " (no xenstore)");
    for (unsigned tick = 1;; tick++) {
        control_sleep_ms(500, NULL);
        printf("idle: tick %u\n", tick);
        if (nmis != nmis_seen) {
            nmis_seen = nmis;
            printf("idle: NMI count %u\n", nmis_seen);
        }
        int reason = control_shutdown_request("idle");   /* drains the watch events too */
        if (balloon)
            follow_target();
        if (reason >= 0)
            shutdown(reason);
    }
}
