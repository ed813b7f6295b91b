/* fifo: FIFO event channels end to end, as Linux uses them. Expectations follow
 * Xen 4.17's common/event_fifo.c (cited per check): init_control's argument
 * checks, the switch from 2-level (pending ports carried over), event array
 * pages, queues by priority in FIFO order, masking, host ports, VIRQs, and
 * EVTCHNOP_reset back to 2-level. The upcall comes through the per-vCPU vector
 * and events.c walks the queues (fifo.c). */
#include "xtest.h"
#include "cpu.h"
#include "events.h"
#include "fifo.h"
#include "hypercall.h"
#include "pvclock.h"
#include "report.h"
#include "console.h"

#define MS 1000000ULL
#define W_PENDING (1u << EVTCHN_FIFO_PENDING)
#define W_LINKED  (1u << EVTCHN_FIFO_LINKED)

static void spin_ms(unsigned ms)
{
    uint64_t end = xen_time_ns() + ms * MS;
    while (xen_time_ns() < end)
        cpu_relax();
}

static long init_control(uint64_t gfn, uint32_t offset, uint32_t vcpu, uint8_t *link_bits)
{
    struct evtchn_init_control ic = { .control_gfn = gfn, .offset = offset, .vcpu = vcpu };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &ic);
    if (link_bits)
        *link_bits = ic.link_bits;
    return rc;
}

static long set_priority(evtchn_port_t port, uint32_t prio)
{
    struct evtchn_set_priority sp = { .port = port, .priority = prio };
    return HYPERVISOR_event_channel_op(EVTCHNOP_set_priority, &sp);
}

static long pair(evtchn_port_t *a, evtchn_port_t *b)
{
    long rc = evtchn_alloc_unbound(DOMID_SELF, a);
    return rc ? rc : evtchn_bind_interdomain(DOMID_SELF, *a, b);
}

/* Delivery order, recorded by the handler. */
static evtchn_port_t order[16];
static volatile unsigned norder;

static void record(evtchn_port_t port, void *arg)
{
    (void)arg;
    if (norder < ARRAY_SIZE(order))
        order[norder] = port;
    norder++;
}

static void before_init(void)
{
    static uint8_t page[4096] ALIGNED(4096);
    uint64_t gfn = (uintptr_t)page >> 12;
    struct evtchn_expand_array ea = { .array_gfn = gfn };
    check_rc("expand_array before init_control -> -EOPNOTSUPP",
             HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &ea), -XEN_EOPNOTSUPP);
    check_rc("set_priority on 2-level -> -ENOSYS", set_priority(1, 3), -XEN_ENOSYS);
    /* evtchn_fifo_init_control: domain_vcpu() -> -ENOENT; the block must fit
     * in the page and be 8-byte aligned; map_guest_page needs a RAM page. */
    check_rc("init_control for vCPU 99 -> -ENOENT", init_control(gfn, 0, 99, NULL), -XEN_ENOENT);
    check_rc("init_control offset crossing the page end -> -EINVAL",
             init_control(gfn, 4096 - 64, 0, NULL), -XEN_EINVAL);
    check_rc("init_control offset 0xfffffff8 -> -EINVAL", init_control(gfn, 0xfffffff8u, 0, NULL),
             -XEN_EINVAL);
    check_rc("init_control unaligned offset -> -EINVAL", init_control(gfn, 4, 0, NULL), -XEN_EINVAL);
    check_rc("init_control on the LAPIC page -> -EINVAL", init_control(0xfee00, 0, 0, NULL),
             -XEN_EINVAL);
    check_rc("init_control gfn far beyond RAM -> -EINVAL", init_control(1ull << 36, 0, 0, NULL),
             -XEN_EINVAL);
    check_rc("still 2-level after refused init_controls", set_priority(1, 3), -XEN_ENOSYS);
}

void prog_fifo(int argc, char **argv)
{
    (void)argc, (void)argv;
    before_init();

    /* A port pending (and masked) in 2-level when the guest switches. */
    evtchn_port_t c1, c2;
    long rc = pair(&c1, &c2);
    wait_count(&evtchn_stat[c2].hits, 1, 200 * MS);
    evtchn_mask(c2);
    evtchn_send(c1);
    check(rc == 0 && evtchn_test_pending(c2), "2-level port pending before the switch", "%s",
          errname(rc));

    irq_disable();
    rc = fifo_init();
    irq_enable();
    if (!check_rc("EVTCHNOP_init_control + expand_array", rc, 0))
        return;
    check(fifo_link_bits == EVTCHN_FIFO_LINK_BITS, "init_control answers link_bits 17", "%u",
          fifo_link_bits);
    /* map_control_block: once per vCPU */
    check_rc("second init_control for vCPU 0 -> -EINVAL",
             init_control((uintptr_t)fifo_word(0) >> 12, 0, 0, NULL), -XEN_EINVAL);
    struct evtchn_expand_array bad = { .array_gfn = 0xfee00 };
    check_rc("expand_array on the LAPIC page -> -EINVAL",
             HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &bad), -XEN_EINVAL);
    /* setup_ports + add_page_to_event_array: c2's event comes back, pending
     * in its (masked) word; unmasking links and delivers it. */
    check(fifo_test_pending(c2) && fifo_test_masked(c2), "pending 2-level port carried to FIFO",
          "word 0x%x", *fifo_word(c2));
    uint32_t before = evtchn_stat[c2].hits;
    rc = evtchn_unmask(c2);
    check(rc == 0 && wait_count(&evtchn_stat[c2].hits, before + 1, 200 * MS),
          "carried event delivered on unmask", "unmask %s, hits %u", errname(rc),
          evtchn_stat[c2].hits);

    /* Loop-back pair on FIFO. */
    evtchn_port_t a, b;
    rc = pair(&a, &b);
    evtchn_unmask(a);
    evtchn_unmask(b);      /* the bind's event: pending, so Xen links it */
    check(rc == 0 && wait_count(&evtchn_stat[b].hits, 1, 200 * MS),
          "bind_interdomain raises the new port on FIFO", "%s, hits %u", errname(rc),
          evtchn_stat[b].hits);
    unsigned got = 0;
    for (unsigned i = 0; i < 10; i++) {
        before = evtchn_stat[b].hits;
        evtchn_send(a);
        got += wait_count(&evtchn_stat[b].hits, before + 1, 200 * MS);
    }
    check(got == 10, "10 sends delivered through a FIFO queue", "%u", got);
    check(*fifo_word(b) == 0, "delivered word left clear (not PENDING, not LINKED)", "0x%x",
          *fifo_word(b));
    check(upcall_count[0] > 0, "upcalls through the per-vCPU vector", "%u", upcall_count[0]);

    /* Priorities: higher first; FIFO within a priority (three IPIs at the
     * default priority). */
    evtchn_port_t lo, los, hi, his, ipi[3];
    rc = pair(&los, &lo) | pair(&his, &hi);
    for (unsigned i = 0; i < 3; i++)
        rc |= evtchn_bind_ipi(0, &ipi[i]);
    check_rc("set_priority 1", set_priority(hi, 1), 0);
    check_rc("set_priority 12", set_priority(lo, 12), 0);
    check_rc("set_priority 16 -> -EINVAL", set_priority(hi, 16), -XEN_EINVAL);
    check_rc("set_priority on port 4096 -> -EINVAL", set_priority(4096, 3), -XEN_EINVAL);
    evtchn_port_t all[5] = { lo, hi, ipi[0], ipi[1], ipi[2] };
    for (unsigned i = 0; i < 5; i++) {
        evtchn_unmask(all[i]);
        evtchn_set_handler(all[i], record, NULL);
    }
    spin_ms(5);    /* the binds' own events, if any, go by */
    irq_disable();
    norder = 0;
    evtchn_send(los);
    evtchn_send(ipi[0]);
    evtchn_send(ipi[1]);
    evtchn_send(ipi[2]);
    evtchn_send(his);
    irq_enable();
    wait_count((volatile uint32_t *)&norder, 5, 200 * MS);
    check(rc == 0 && norder == 5 && order[0] == hi && order[1] == ipi[0] && order[2] == ipi[1] &&
              order[3] == ipi[2] && order[4] == lo,
          "higher priority first, FIFO within a priority",
          "%u events: %u %u %u %u %u (want %u %u %u %u %u)", norder, order[0], order[1], order[2],
          order[3], order[4], hi, ipi[0], ipi[1], ipi[2], lo);

    /* Masked port: PENDING without LINKED and no upcall; unmask delivers. */
    evtchn_mask(b);
    before = evtchn_stat[b].hits;
    evtchn_send(a);
    spin_ms(10);
    check(evtchn_stat[b].hits == before && *fifo_word(b) == (W_PENDING | (1u << EVTCHN_FIFO_MASKED)),
          "masked port pending, unlinked, no upcall", "hits %u -> %u, word 0x%x", before,
          evtchn_stat[b].hits, *fifo_word(b));
    struct evtchn_unmask u = { .port = b };
    rc = HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &u);
    check(rc == 0 && wait_count(&evtchn_stat[b].hits, before + 1, 200 * MS),
          "EVTCHNOP_unmask links and delivers", "%s, hits %u", errname(rc), evtchn_stat[b].hits);

    /* A host port: the console backend answers each ring write. */
    uint64_t cport = 0;
    if (console_ring_init() == 0 && hvm_get_param(HVM_PARAM_CONSOLE_EVTCHN, &cport) == 0) {
        evtchn_unmask((evtchn_port_t)cport);
        before = evtchn_stat[cport].hits;
        rc = console_ring_write("fifo: console ring write\n", 25);
        check(rc >= 0 && wait_count(&evtchn_stat[cport].hits, before + 1, 500 * MS),
              "host port (console) notification on FIFO", "%s, hits %u", errname(rc),
              evtchn_stat[cport].hits);
    }

    /* VIRQ_TIMER on FIFO. */
    evtchn_port_t t;
    rc = evtchn_bind_virq(VIRQ_TIMER, 0, &t);
    evtchn_unmask(t);
    struct vcpu_set_singleshot_timer st = { .timeout_abs_ns = xen_time_ns() + 5 * MS };
    HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &st);
    check(rc == 0 && wait_count(&evtchn_stat[t].hits, 1, 500 * MS), "VIRQ_TIMER on FIFO", "%s",
          errname(rc));

    /* A port beyond the event array: pending with nowhere to show it until
     * a page is added (add_page_to_event_array re-raises it). */
    evtchn_port_t first_extra = 0, p = 0, x = 0, y = 0;
    while (rc == 0 && p < fifo_nr_ports() - 1) {
        rc = evtchn_alloc_unbound(DOMID_SELF, &p);
        if (!first_extra)
            first_extra = p;
    }
    rc |= pair(&x, &y);
    bool beyond = y >= fifo_nr_ports() && !fifo_word(y);
    long erc = fifo_expand();
    check(rc == 0 && beyond && erc == 0 && fifo_test_pending(y),
          "event on a port beyond the array is pending once its page is added",
          "ports %u %u, expand %s, pending %d", x, y, errname(erc), fifo_test_pending(y));
    evtchn_unmask(y);
    check(wait_count(&evtchn_stat[y].hits, 1, 200 * MS), "and delivered on unmask", "hits %u",
          evtchn_stat[y].hits);
    for (evtchn_port_t q = first_extra; q <= y; q++)
        evtchn_close(q);

    /* Close clears PENDING. */
    evtchn_mask(b);
    evtchn_send(a);
    evtchn_close(b);
    check(!fifo_test_pending(b), "close clears PENDING", "word 0x%x", *fifo_word(b));

    /* EVTCHNOP_reset: every port closed, back to 2-level. */
    struct evtchn_reset r = { .dom = DOMID_SELF };
    irq_disable();
    rc = HYPERVISOR_event_channel_op(EVTCHNOP_reset, &r);
    fifo_forget();
    memset(shared->evtchn_mask, 0, sizeof(shared->evtchn_mask));
    memset(evtchn_stat, 0, sizeof(evtchn_stat));
    irq_enable();
    check_rc("EVTCHNOP_reset", rc, 0);
    check_rc("set_priority after reset -> -ENOSYS (2-level)", set_priority(1, 3), -XEN_ENOSYS);
    rc = pair(&a, &b);
    check(rc == 0 && wait_count(&evtchn_stat[b].hits, 1, 200 * MS) && evtchn_send(a) == 0 &&
              wait_count(&evtchn_stat[b].hits, 2, 200 * MS),
          "2-level delivery after reset", "%s, hits %u", errname(rc), evtchn_stat[b].hits);
}
