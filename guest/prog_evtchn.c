/* evtchn: 2-level event channels end to end. Expectations follow Xen 4.17's
 * common/event_channel.c (cited per check) and event_2l.c (delivery: a send
 * sets the pending bit; unless the port is masked it sets the selector bit
 * and evtchn_upcall_pending, which raises the upcall vector; EVTCHNOP_unmask
 * of a pending port raises it then). */
#include "xtest.h"
#include "cpu.h"
#include "events.h"
#include "hypercall.h"
#include "pvclock.h"
#include "report.h"

#define MS 1000000ULL

static bool status_is(evtchn_port_t port, uint32_t want, struct evtchn_status *st)
{
    long rc = evtchn_status(port, st);
    return rc == 0 && st->status == want;
}

static void spin_ms(unsigned ms)
{
    uint64_t end = xen_time_ns() + ms * MS;
    while (xen_time_ns() < end)
        cpu_relax();
}

/* Sends on `from` and waits for a delivery on `to`. */
static void send_and_expect(const char *what, evtchn_port_t from, evtchn_port_t to)
{
    uint32_t before = evtchn_stat[to].hits, other = evtchn_stat[from].hits;
    long rc = evtchn_send(from);
    bool got = wait_count(&evtchn_stat[to].hits, before + 1, 200 * MS);
    spin_ms(2);
    check(rc == 0 && got && evtchn_stat[to].hits == before + 1 &&
              (from == to || evtchn_stat[from].hits == other),
          what, "send %s, deliveries on %u: %u -> %u, on %u: %u -> %u", errname(rc), to, before,
          evtchn_stat[to].hits, from, other, evtchn_stat[from].hits);
}

/* VCPUOP_register_vcpu_info (common/domain.c map_vcpu_info): moves vCPU 0's
 * vcpu_info into a page of ours, as Linux does for every vCPU. An offset that
 * lets the structure cross the page end is -EINVAL, and so is a second
 * registration. Events and time must keep working from the new place. */
static void register_vcpu_info(void)
{
    static uint8_t page[4096] ALIGNED(4096);
    struct vcpu_register_vcpu_info r = { .mfn = (uintptr_t)page >> 12, .offset = 4096 - 32 };
    check_rc("register_vcpu_info crossing the page end -> -EINVAL",
             HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &r), -XEN_EINVAL);
    r.offset = 128;
    irq_disable();
    long rc = HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &r);
    if (rc == 0)
        percpu[0].vi = (struct vcpu_info *)(page + 128);
    irq_enable();
    if (!check_rc("VCPUOP_register_vcpu_info", rc, 0))
        return;
    uint64_t t0 = xen_time_ns();
    spin_ms(2);
    uint64_t t1 = xen_time_ns();
    check(percpu[0].vi->time.tsc_to_system_mul != 0 && t1 > t0, "pvclock kept in the moved vcpu_info",
          "mul %u, %lu -> %lu", percpu[0].vi->time.tsc_to_system_mul, (unsigned long)t0,
          (unsigned long)t1);
    evtchn_port_t a, b;
    evtchn_alloc_unbound(DOMID_SELF, &a);
    rc = evtchn_bind_interdomain(DOMID_SELF, a, &b);
    check(rc == 0 && wait_count(&evtchn_stat[b].hits, 1, 200 * MS),
          "events delivered through the moved vcpu_info", "bind %s", errname(rc));
    send_and_expect("send delivered after the move", a, b);
    check_rc("second register_vcpu_info -> -EINVAL",
             HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &r), -XEN_EINVAL);
}

void prog_evtchn(int argc, char **argv)
{
    (void)argc, (void)argv;
    struct evtchn_status st;
    long rc;

    /* alloc_unbound: remote DOMID_SELF is recorded as our own domid. */
    evtchn_port_t p1 = 0, p2 = 0;
    rc = evtchn_alloc_unbound(DOMID_SELF, &p1);
    check(rc == 0 && p1 > 0 && p1 < NR_EVTCHN, "EVTCHNOP_alloc_unbound", "rc %s port %u",
          errname(rc), p1);
    check(status_is(p1, EVTCHNSTAT_unbound, &st) && st.u.unbound.dom < DOMID_FIRST_RESERVED,
          "status of unbound port", "status %u dom 0x%x", st.status, st.u.unbound.dom);
    domid_t self = st.u.unbound.dom;
    printf("  our domid %u, unbound port %u\n", self, p1);
    /* evtchn_send: ECS_UNBOUND "silently drop[s] the notification". */
    check_rc("send on an unbound port is dropped", evtchn_send(p1), 0);

    /* bind_interdomain to our own unbound port: a loop-back pair. Binding
     * "conservatively" sets the new local port pending. */
    uint32_t before;
    rc = evtchn_bind_interdomain(DOMID_SELF, p1, &p2);
    check(rc == 0 && p2 > 0 && p2 != p1, "EVTCHNOP_bind_interdomain to self", "rc %s port %u",
          errname(rc), p2);
    check(wait_count(&evtchn_stat[p2].hits, 1, 200 * MS), "bind_interdomain notifies the new port",
          "no delivery on port %u", p2);
    check(status_is(p1, EVTCHNSTAT_interdomain, &st) && st.u.interdomain.dom == self &&
              st.u.interdomain.port == p2 && st.vcpu == 0,
          "status of loop-back side 1", "status %u dom %u port %u vcpu %u", st.status,
          st.u.interdomain.dom, st.u.interdomain.port, st.vcpu);
    check(status_is(p2, EVTCHNSTAT_interdomain, &st) && st.u.interdomain.dom == self &&
              st.u.interdomain.port == p1,
          "status of loop-back side 2", "status %u dom %u port %u", st.status,
          st.u.interdomain.dom, st.u.interdomain.port);

    uint32_t upcalls = upcall_count[0];
    send_and_expect("send on side 1 is delivered on side 2", p1, p2);
    send_and_expect("send on side 2 is delivered on side 1", p2, p1);
    check(upcall_count[0] > upcalls, "deliveries came through the upcall vector",
          "upcall count %u", upcall_count[0]);

    /* Masked port: the pending bit is set but no upcall; unmask delivers. */
    evtchn_mask(p2);
    before = evtchn_stat[p2].hits;
    rc = evtchn_send(p1);
    spin_ms(20);
    check(rc == 0 && evtchn_stat[p2].hits == before && evtchn_test_pending(p2),
          "masked port is set pending without an upcall", "send %s, deliveries %u -> %u, pending %d",
          errname(rc), before, evtchn_stat[p2].hits, evtchn_test_pending(p2));
    rc = evtchn_unmask(p2);
    bool got = wait_count(&evtchn_stat[p2].hits, before + 1, 200 * MS);
    check(rc == 0 && got && !evtchn_test_masked(p2), "EVTCHNOP_unmask delivers the pending event",
          "unmask %s, deliveries %u -> %u, masked %d", errname(rc), before,
          evtchn_stat[p2].hits, evtchn_test_masked(p2));
    /* Unmasking a port with nothing pending delivers nothing. */
    evtchn_mask(p2);
    before = evtchn_stat[p2].hits;
    rc = evtchn_unmask(p2);
    spin_ms(10);
    check(rc == 0 && evtchn_stat[p2].hits == before, "unmask without pending delivers nothing",
          "unmask %s, deliveries %u -> %u", errname(rc), before, evtchn_stat[p2].hits);

    /* IPI to ourselves. */
    evtchn_port_t p3 = 0;
    rc = evtchn_bind_ipi(0, &p3);
    check(rc == 0 && p3 > 0, "EVTCHNOP_bind_ipi vcpu 0", "rc %s port %u", errname(rc), p3);
    check(status_is(p3, EVTCHNSTAT_ipi, &st) && st.vcpu == 0, "status of IPI port",
          "status %u vcpu %u", st.status, st.vcpu);
    send_and_expect("IPI to self is delivered", p3, p3);
    /* evtchn_bind_ipi: domain_vcpu() fails -> -ENOENT. */
    check_rc("bind_ipi to a missing vCPU -> -ENOENT", evtchn_bind_ipi(77, &p3), -XEN_ENOENT);

    /* VIRQ_TIMER (per-vCPU). */
    evtchn_port_t p4 = 0;
    rc = evtchn_bind_virq(VIRQ_TIMER, 0, &p4);
    check(rc == 0 && p4 > 0, "EVTCHNOP_bind_virq VIRQ_TIMER", "rc %s port %u", errname(rc), p4);
    check(status_is(p4, EVTCHNSTAT_virq, &st) && st.u.virq == VIRQ_TIMER && st.vcpu == 0,
          "status of VIRQ port", "status %u virq %u vcpu %u", st.status, st.u.virq, st.vcpu);
    evtchn_port_t dummy;
    /* evtchn_bind_virq: a VIRQ already bound on that vCPU -> -EEXIST. */
    check_rc("second bind of VIRQ_TIMER -> -EEXIST", evtchn_bind_virq(VIRQ_TIMER, 0, &dummy),
             -XEN_EEXIST);
    /* evtchn_send: a VIRQ port is not sendable (default case) -> -EINVAL. */
    check_rc("send on a VIRQ port -> -EINVAL", evtchn_send(p4), -XEN_EINVAL);

    /* bind_vcpu: unbound/interdomain ports may move; per-vCPU VIRQs and IPIs
     * may not (-EINVAL); a missing vCPU is -ENOENT, checked first. */
    struct evtchn_bind_vcpu bv = { .port = p1, .vcpu = 0 };
    check_rc("bind_vcpu of an interdomain port", HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &bv), 0);
    bv.port = p4;
    check_rc("bind_vcpu of VIRQ_TIMER -> -EINVAL", HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &bv),
             -XEN_EINVAL);
    bv.port = p3;
    check_rc("bind_vcpu of an IPI port -> -EINVAL", HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &bv),
             -XEN_EINVAL);
    bv.port = p1;
    bv.vcpu = 77;
    check_rc("bind_vcpu to a missing vCPU -> -ENOENT",
             HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &bv), -XEN_ENOENT);

    /* close: the other side of an interdomain pair falls back to unbound. */
    check_rc("EVTCHNOP_close side 2", evtchn_close(p2), 0);
    check(status_is(p2, EVTCHNSTAT_closed, &st), "closed port reads closed", "status %u",
          st.status);
    check(status_is(p1, EVTCHNSTAT_unbound, &st) && st.u.unbound.dom == self,
          "peer of a closed port is unbound again", "status %u dom %u", st.status,
          st.u.unbound.dom);
    /* evtchn_close: ECS_FREE -> -EINVAL; evtchn_send: free port -> -EINVAL. */
    check_rc("close of a closed port -> -EINVAL", evtchn_close(p2), -XEN_EINVAL);
    check_rc("send on a closed port -> -EINVAL", evtchn_send(p2), -XEN_EINVAL);
    /* Port 0 is reserved: reads closed, cannot be closed. */
    check(status_is(0, EVTCHNSTAT_closed, &st), "port 0 reads closed", "status %u", st.status);
    check_rc("close of port 0 -> -EINVAL", evtchn_close(0), -XEN_EINVAL);
    check_rc("close of the VIRQ port", evtchn_close(p4), 0);
    rc = evtchn_bind_virq(VIRQ_TIMER, 0, &p4);
    check_rc("VIRQ_TIMER can be bound again after close", rc, 0);

    /* This program stays on 2-level (prog_fifo covers FIFO): before any
     * init_control, expand_array is -EOPNOTSUPP (evtchn_fifo_expand_array). */
    struct evtchn_expand_array ea = { .array_gfn = 0x1000 };
    check_rc("EVTCHNOP_expand_array before init_control -> -EOPNOTSUPP",
             HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &ea), -XEN_EOPNOTSUPP);
    /* evtchn_set_priority on a 2-level domain: no set_priority op -> -ENOSYS. */
    struct evtchn_set_priority sp = { .port = p1, .priority = 7 };
    check_rc("EVTCHNOP_set_priority on 2-level -> -ENOSYS",
             HYPERVISOR_event_channel_op(EVTCHNOP_set_priority, &sp), -XEN_ENOSYS);
    check_rc("unknown EVTCHNOP 99 -> -ENOSYS", HYPERVISOR_event_channel_op(99, &sp), -XEN_ENOSYS);

    /* reset closes every port of the domain. */
    struct evtchn_reset r = { .dom = DOMID_SELF };
    check_rc("EVTCHNOP_reset", HYPERVISOR_event_channel_op(EVTCHNOP_reset, &r), 0);
    bool all_closed = status_is(p1, EVTCHNSTAT_closed, &st) && status_is(p3, EVTCHNSTAT_closed, &st) &&
                      status_is(p4, EVTCHNSTAT_closed, &st);
    check(all_closed, "ports are closed after reset", "a port still reads status %u", st.status);
    irq_disable();
    memset(evtchn_stat, 0, sizeof(evtchn_stat));
    irq_enable();
    rc = evtchn_alloc_unbound(DOMID_SELF, &p1);
    check(rc == 0 && p1 > 0, "alloc_unbound works after reset", "rc %s", errname(rc));
    rc = evtchn_bind_interdomain(DOMID_SELF, p1, &p2);
    check(rc == 0 && wait_count(&evtchn_stat[p2].hits, 1, 200 * MS),
          "loop-back works after reset", "rc %s", errname(rc));

    register_vcpu_info();
}
