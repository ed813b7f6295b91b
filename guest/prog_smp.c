/* smp: bring up vCPU 1 with VCPUOP_initialise (64-bit vcpu_hvm_context) and
 * VCPUOP_up, then IPIs between the two vCPUs through event channels. Run with
 * two vCPUs. */
#include "xtest.h"
#include "cpu.h"
#include "events.h"
#include "hypercall.h"
#include "pvclock.h"
#include "report.h"

#define MS 1000000ULL

static volatile int ap_vcpu_id = -2;
static volatile uint64_t ap_time;
static volatile uint32_t ap_upcall_vector_rc = 1;
static volatile evtchn_port_t ap_send_port;
static volatile long ap_send_rc = 1;
static volatile uint32_t ap_sends;

/* Runs on vCPU 1: reports in, then sends on request. */
static void ap_work(unsigned id)
{
    (void)id;
    ap_vcpu_id = cpuid_vcpu_id();
    ap_time = xen_time_ns();
    irq_enable();
    for (;;) {
        evtchn_port_t p = ap_send_port;
        if (p) {
            ap_send_rc = evtchn_send(p);
            ap_send_port = 0;
            ap_sends++;
        }
        cpu_relax();
    }
}

static unsigned count_vcpus(void)
{
    /* do_vcpu_op answers -ENOENT for ids the domain does not have. */
    unsigned n = 1;
    while (n < MAX_CPUS && HYPERVISOR_vcpu_op(VCPUOP_is_up, n, NULL) >= 0)
        n++;
    return n;
}

static bool wait_flag(volatile uint32_t *v, uint32_t target, uint64_t ns)
{
    return wait_count(v, target, ns);
}

void prog_smp(int argc, char **argv)
{
    (void)argc, (void)argv;
    unsigned n = count_vcpus();
    printf("  vCPUs: %u\n", n);
    if (!check(n >= 2, "domain has a second vCPU", "only %u (run with --vcpus 2)", n))
        return;
    check_rc("vCPU 1 is down before VCPUOP_up", HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
    check_rc("VCPUOP_up of an uninitialised vCPU -> -EINVAL",
             HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), -XEN_EINVAL);

    long rc = smp_start_cpu(1, ap_work);
    check_rc("VCPUOP_initialise + VCPUOP_up vCPU 1", rc, 0);
    uint64_t end = xen_time_ns() + 2000 * MS;
    while (ap_vcpu_id == -2 && xen_time_ns() < end)
        cpu_relax();
    if (!check(ap_vcpu_id != -2, "vCPU 1 runs our code", "no sign of life in 2 s"))
        return;
    check(ap_vcpu_id == 1 || ap_vcpu_id == -1, "vCPU 1 reads its id from CPUID", "id %d",
          ap_vcpu_id);
    uint64_t now = xen_time_ns();
    check(ap_time > 0 && ap_time <= now, "vCPU 1's pvclock agrees with vCPU 0's",
          "vCPU 1 %lu vs vCPU 0 %lu", (unsigned long)ap_time, (unsigned long)now);
    check_rc("VCPUOP_is_up vCPU 1 -> 1", HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 1);
    static struct vcpu_hvm_context ctx = { .mode = VCPU_HVM_MODE_64B };
    check_rc("second VCPUOP_initialise of vCPU 1 -> -EEXIST",
             HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), -XEN_EEXIST);

    /* IPI 0 -> 1: an IPI port bound to vCPU 1, sent from vCPU 0. */
    evtchn_port_t to1, to0;
    rc = evtchn_bind_ipi(1, &to1);
    check_rc("bind_ipi to vCPU 1", rc, 0);
    uint32_t before = evtchn_stat[to1].hits;
    uint32_t up1 = upcall_count[1];
    rc = evtchn_send(to1);
    bool got = wait_count(&evtchn_stat[to1].hits, before + 1, 500 * MS);
    check(rc == 0 && got && evtchn_stat[to1].cpu == 1 && upcall_count[1] > up1,
          "IPI from vCPU 0 handled on vCPU 1", "send %s got %d cpu %d upcalls %u", errname(rc), got,
          evtchn_stat[to1].cpu, upcall_count[1] - up1);

    /* IPI 1 -> 0: vCPU 1 sends on a port bound to vCPU 0. */
    rc = evtchn_bind_ipi(0, &to0);
    check_rc("bind_ipi to vCPU 0", rc, 0);
    before = evtchn_stat[to0].hits;
    uint32_t sends = ap_sends;
    ap_send_port = to0;
    got = wait_count(&evtchn_stat[to0].hits, before + 1, 500 * MS) &&
          wait_flag(&ap_sends, sends + 1, 500 * MS);
    check(got && ap_send_rc == 0 && evtchn_stat[to0].cpu == 0, "IPI from vCPU 1 handled on vCPU 0",
          "got %d send %s cpu %d", got, errname(ap_send_rc), evtchn_stat[to0].cpu);

    /* A loop-back interdomain pair with one end moved to vCPU 1 (bind_vcpu). */
    evtchn_port_t a, b;
    evtchn_alloc_unbound(DOMID_SELF, &a);
    rc = evtchn_bind_interdomain(DOMID_SELF, a, &b);
    check_rc("loop-back pair for bind_vcpu", rc, 0);
    wait_count(&evtchn_stat[b].hits, 1, 200 * MS); /* the bind's own notification */
    struct evtchn_bind_vcpu bv = { .port = a, .vcpu = 1 };
    check_rc("EVTCHNOP_bind_vcpu port to vCPU 1", HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &bv), 0);
    struct evtchn_status st;
    evtchn_status(a, &st);
    check(st.vcpu == 1, "status shows the new vCPU", "vcpu %u", st.vcpu);
    before = evtchn_stat[a].hits;
    rc = evtchn_send(b);
    got = wait_count(&evtchn_stat[a].hits, before + 1, 500 * MS);
    check(rc == 0 && got && evtchn_stat[a].cpu == 1, "event on a port bound to vCPU 1 lands there",
          "send %s got %d cpu %d", errname(rc), got, evtchn_stat[a].cpu);

    /* VIRQ_TIMER on vCPU 1 is that vCPU's own: a singleshot set by vCPU 0
     * for vCPU 1 is refused (do_vcpu_op: v != current -> -EINVAL). */
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = xen_time_ns() + MS };
    check_rc("singleshot timer for another vCPU -> -EINVAL",
             HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 1, &t), -XEN_EINVAL);

    /* VCPUOP_down stops vCPU 1 where it is; VCPUOP_up lets it go on. */
    check_rc("VCPUOP_down vCPU 1", HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL), 0);
    check_rc("VCPUOP_is_up vCPU 1 after down -> 0", HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
    sends = ap_sends;
    before = evtchn_stat[to0].hits;
    ap_send_port = to0;
    got = wait_count(&evtchn_stat[to0].hits, before + 1, 300 * MS);
    check(!got && ap_sends == sends, "a vCPU that is down does not run", "it sent %u",
          ap_sends - sends);
    check_rc("VCPUOP_up vCPU 1 again", HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);
    got = wait_count(&evtchn_stat[to0].hits, before + 1, 500 * MS);
    check(got && HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL) == 1,
          "vCPU 1 resumes where it was after VCPUOP_up", "got %d", got);
}
