/* saverestore: guest state that `xenkvm save` / `restore` must carry, checked
 * from inside (tests/test_save_restore.py). Sets up a periodic VIRQ_TIMER
 * (counting ticks), a loop-back event channel left pending but masked, a
 * grant entry, a node in its xenstore subtree and a watch on data/sr-go;
 * prints "sr: ready", then ticks until data/sr-go is "go". Then it checks
 * that all of that is as it left it (the pending event is delivered when
 * unmasked, the grant table still works, the node and the watch came along,
 * time never went backwards) and finishes with RESULT PASS/FAIL.
 * "saverestore fifo": the same on FIFO event channels. "saverestore down"
 * (two vCPUs): vCPU 1 is brought up, counts, and is taken down with
 * VCPUOP_down before "sr: ready"; after go it must still be down (not
 * running, VCPUOP_is_up 0) and go on counting after VCPUOP_up. */
#include "xtest.h"
#include "cpu.h"
#include "events.h"
#include "fifo.h"
#include "hypercall.h"
#include "pvclock.h"
#include "report.h"
#include "xenbus.h"

#define MS 1000000ULL

static volatile uint32_t ticks, loop_hits, backwards, ap_count;
static volatile uint64_t last_ns;
static uint8_t gnt_frame[4096] ALIGNED(4096);
static uint8_t src_page[4096] ALIGNED(4096), dst_page[4096] ALIGNED(4096);

static void on_timer(evtchn_port_t port, void *arg)
{
    (void)port, (void)arg;
    uint64_t now = xen_time_ns();
    if (now < last_ns)
        backwards++;
    last_ns = now;
    ticks++;
}

static void on_loop(evtchn_port_t port, void *arg)
{
    (void)port, (void)arg;
    loop_hits++;
}

static void sleep_until(volatile uint32_t *counter, uint32_t target)
{
    while (*counter < target) {
        irq_disable();
        if (*counter < target)
            HYPERVISOR_sched_op(SCHEDOP_block, NULL);
        irq_enable();
        for (int i = 0; i < 100; i++)
            cpu_relax();
    }
}

static void ap_count_loop(unsigned id)
{
    (void)id;
    for (;;) {
        ap_count++;
        cpu_relax();
    }
}

/* vCPU 1 up, counting, then down (before the save). */
static bool take_ap_down(void)
{
    if (!check(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL) == 0, "vCPU 1 exists and is down",
               "run with --vcpus 2"))
        return false;
    check_rc("vCPU 1 up", smp_start_cpu(1, ap_count_loop), 0);
    check(wait_count(&ap_count, 1000, 2000 * MS), "vCPU 1 counts", "count %u", ap_count);
    check_rc("VCPUOP_down vCPU 1", HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL), 0);
    return true;
}

/* After the restore: vCPU 1 still down, and it goes on once up again. */
static void check_ap_down(void)
{
    check_rc("VCPUOP_is_up vCPU 1 after the restore -> 0",
             HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
    uint32_t c = ap_count;
    uint64_t end = xen_time_ns() + 300 * MS;
    while (xen_time_ns() < end)
        cpu_relax();
    check(ap_count == c, "vCPU 1 stays down (does not run)", "it counted %u", ap_count - c);
    check_rc("VCPUOP_up vCPU 1", HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);
    check(wait_count(&ap_count, c + 1000, 1000 * MS), "vCPU 1 counts on after VCPUOP_up",
          "count %u -> %u", c, ap_count);
}

static bool go_requested(void)
{
    char v[16];
    return xb_read(0, "data/sr-go", v, sizeof(v)) == 0 && !strcmp(v, "go");
}

void prog_saverestore(int argc, char **argv)
{
    evtchn_port_t timer, a, b;
    bool down = argc > 1 && !strcmp(argv[1], "down");
    if (argc > 1 && !strcmp(argv[1], "fifo"))        /* as Linux does by default */
        check_rc("FIFO event channels", fifo_init(), 0);
    if (down && !take_ap_down())
        finish();
    check_rc("bind VIRQ_TIMER", evtchn_bind_virq(VIRQ_TIMER, 0, &timer), 0);
    evtchn_set_handler(timer, on_timer, NULL);
    evtchn_unmask(timer);       /* FIFO words start masked, as Linux leaves them */
    struct vcpu_set_periodic_timer pt = { .period_ns = 100 * MS };
    check_rc("periodic timer 100 ms", HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &pt), 0);

    /* A loop-back pair: b is left pending and masked across the save. */
    check_rc("alloc_unbound", evtchn_alloc_unbound(DOMID_SELF, &a), 0);
    check_rc("bind_interdomain to self", evtchn_bind_interdomain(DOMID_SELF, a, &b), 0);
    evtchn_set_handler(b, on_loop, NULL);
    evtchn_mask(b);
    check_rc("send on the loop-back pair", evtchn_send(a), 0);

    /* A grant entry in frame 0, placed in our memory. */
    struct xen_add_to_physmap xatp = { .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table,
                                       .idx = 0, .gpfn = (uintptr_t)gnt_frame >> 12 };
    check_rc("grant frame 0 mapped", HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), 0);
    grant_entry_v1_t *gt = (grant_entry_v1_t *)gnt_frame;
    for (unsigned i = 0; i < sizeof(src_page); i++)
        src_page[i] = (uint8_t)(i * 13 + 5);
    gt[8].frame = (uint32_t)((uintptr_t)src_page >> 12);
    gt[8].domid = 0;
    __atomic_store_n(&gt[8].flags, (uint16_t)(GTF_permit_access | GTF_readonly), __ATOMIC_RELEASE);

    /* xenstore: a node of ours and a watch. */
    check_rc("xenstore", xb_init(), 0);
    check_rc("write data/sr", xb_write(0, "data/sr", "before"), 0);
    check_rc("watch data/sr-go", xb_watch("data/sr-go", "srgo"), 0);
    struct xb_watch_event ev;
    xb_wait_watch(&ev, 2000 * MS);               /* the one at registration */
    domid_t first = own_domid();
    printf("sr: ready domid %u\n", first);

    uint64_t t0 = xen_time_ns();
    uint32_t printed = 0, events = 0;
    while (!go_requested()) {
        if (xb_wait_watch(&ev, 200 * MS) == 0)
            events++;
        if (ticks / 5 != printed) {
            printed = ticks / 5;
            printf("sr: tick %u\n", ticks);
        }
    }
    domid_t now = own_domid();
    uint64_t t1 = xen_time_ns();
    printf("sr: go after %u ticks, %lu ms of system time; domid %u -> %u; %u watch events\n",
           ticks, (unsigned long)((t1 - t0) / MS), first, now, events);
    check(events >= 1, "the watch on data/sr-go fired", "%u events", events);

    /* Time: monotonic at every tick, and the timer still ticks. */
    uint32_t before = ticks;
    sleep_until(&ticks, before + 3);
    check(backwards == 0, "system time never went backwards", "%u times", backwards);
    ok("the periodic timer ticks on (%u -> %u)", before, ticks);

    /* The loop-back event: still pending and masked, delivered on unmask. */
    check(evtchn_test_pending(b) && evtchn_test_masked(b) && loop_hits == 0,
          "the masked event is still pending", "pending %d masked %d hits %u",
          evtchn_test_pending(b), evtchn_test_masked(b), loop_hits);
    evtchn_unmask(b);
    check(wait_count(&loop_hits, 1, 1000 * MS), "the pending event is delivered on unmask",
          "hits %u", loop_hits);
    check_rc("the loop-back pair still sends", evtchn_send(a), 0);
    check(wait_count(&loop_hits, 2, 1000 * MS), "and delivers", "hits %u", loop_hits);

    /* Grants: entry 8 as written, and the table works with a new entry. */
    check(gt[8].frame == (uint32_t)((uintptr_t)src_page >> 12) && gt[8].domid == 0 &&
              gt[8].flags == (GTF_permit_access | GTF_readonly),
          "grant entry 8 kept", "frame 0x%x dom %u flags 0x%x", gt[8].frame, gt[8].domid,
          gt[8].flags);
    gt[9].frame = (uint32_t)((uintptr_t)src_page >> 12);
    gt[9].domid = now;
    __atomic_store_n(&gt[9].flags, (uint16_t)(GTF_permit_access | GTF_readonly), __ATOMIC_RELEASE);
    struct gnttab_copy c = {
        .source = { .u.ref = 9, .domid = DOMID_SELF, .offset = 64 },
        .dest = { .u.gmfn = (uintptr_t)dst_page >> 12, .domid = DOMID_SELF, .offset = 128 },
        .len = 256, .flags = GNTCOPY_source_gref,
    };
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_copy, &c, 1);
    check(rc == 0 && c.status == GNTST_okay && !memcmp(dst_page + 128, src_page + 64, 256),
          "GNTTABOP_copy through the grant table", "rc %ld status %d", rc, c.status);

    /* xenstore: our node came along, and the connection still answers. */
    char v[32];
    int xr = xb_read(0, "data/sr", v, sizeof(v));
    check(xr == 0 && !strcmp(v, "before"), "data/sr kept", "rc %d value '%s'", xr, xr ? "" : v);
    check_rc("write data/sr after", xb_write(0, "data/sr", "after"), 0);
    if (down)
        check_ap_down();
    finish();
}
