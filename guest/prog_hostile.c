/* hostile: malformed calls must get Xen's error codes and leave the VMM
 * running. Each expectation names where Xen 4.17 decides it. */
#include "xtest.h"
#include "hypercall.h"
#include "report.h"
#include "cpu.h"
#include "events.h"

/* Guest-physical 0xF0000000 is identity-mapped by our page tables (boot.S)
 * but is not RAM; 4 GiB is beyond our page tables; the last is
 * non-canonical. copy_{from,to}_guest on any of them fails: -EFAULT. */
static const struct {
    unsigned long va;
    const char *name;
} bad_ptrs[] = {
    { 0xf0000000UL, "non-RAM gpa" },
    { 0x100000000UL, "unmapped va" },
    { 0x8000000000000000UL, "non-canonical va" },
};

#define EXPECT(what, call, want) check_rc(what, (call), (want))

static void unknown_hypercalls(void)
{
    /* hvm_hypercall (arch/x86/hvm/hypercall.c): a number outside the HVM
     * table, or a PV-only one, gets -ENOSYS. */
    static const struct {
        unsigned nr;
        const char *name;
    } nrs[] = {
        { 43, "unused 43" }, { 63, "unused 63" }, { 100, "100" }, { 127, "127 (last page slot)" },
        { __HYPERVISOR_set_trap_table, "PV-only set_trap_table" },
        { __HYPERVISOR_mmu_update, "PV-only mmu_update" },
        { __HYPERVISOR_update_va_mapping, "PV-only update_va_mapping" },
        { __HYPERVISOR_iret, "PV-only iret" },
        { __HYPERVISOR_mmuext_op, "PV-only mmuext_op" },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(nrs); i++) {
        char what[80];
        snprintf(what, sizeof(what), "hypercall %s -> -ENOSYS", nrs[i].name);
        EXPECT(what, hypercall5(nrs[i].nr, 0, 0, 0, 0, 0), -XEN_ENOSYS);
    }
}

static void unknown_subops(void)
{
    char buf[64];
    EXPECT("xen_version sub-op 99 -> -ENOSYS (do_xen_version falls through)",
           HYPERVISOR_xen_version(99, buf), -XEN_ENOSYS);
    EXPECT("memory_op sub-op 99 -> -ENOSYS (arch_memory_op default)",
           HYPERVISOR_memory_op(99, buf), -XEN_ENOSYS);
    /* hvm_memory_op refuses machine-level queries to HVM guests. */
    EXPECT("XENMEM_machine_memory_map from HVM -> -ENOSYS",
           HYPERVISOR_memory_op(XENMEM_machine_memory_map, buf), -XEN_ENOSYS);
    EXPECT("event_channel_op sub-op 99 -> -ENOSYS", HYPERVISOR_event_channel_op(99, buf),
           -XEN_ENOSYS);
    EXPECT("grant_table_op sub-op 99 -> -ENOSYS (HVM filter)",
           HYPERVISOR_grant_table_op(99, buf, 1), -XEN_ENOSYS);
    EXPECT("sched_op sub-op 99 -> -ENOSYS", HYPERVISOR_sched_op(99, buf), -XEN_ENOSYS);
    EXPECT("vcpu_op sub-op 99 -> -ENOSYS (arch_do_vcpu_op default)",
           HYPERVISOR_vcpu_op(99, 0, buf), -XEN_ENOSYS);
    EXPECT("hvm_op sub-op 99 -> -ENOSYS (do_hvm_op default)", HYPERVISOR_hvm_op(99, buf),
           -XEN_ENOSYS);
    EXPECT("console_io sub-op 99 -> -ENOSYS", HYPERVISOR_console_io(99, 0, buf), -XEN_ENOSYS);
}

static void bad_pointers(void)
{
    for (unsigned i = 0; i < ARRAY_SIZE(bad_ptrs); i++) {
        void *p = (void *)bad_ptrs[i].va;
        const char *n = bad_ptrs[i].name;
        char what[96];
#define BAD(op, call) \
    snprintf(what, sizeof(what), "%s with %s -> -EFAULT", op, n); \
    EXPECT(what, call, -XEN_EFAULT)
        BAD("XENVER_extraversion", HYPERVISOR_xen_version(XENVER_extraversion, p));
        BAD("XENVER_get_features", HYPERVISOR_xen_version(XENVER_get_features, p));
        BAD("XENMEM_memory_map", HYPERVISOR_memory_op(XENMEM_memory_map, p));
        BAD("XENMEM_add_to_physmap", HYPERVISOR_memory_op(XENMEM_add_to_physmap, p));
        BAD("EVTCHNOP_send", HYPERVISOR_event_channel_op(EVTCHNOP_send, p));
        BAD("EVTCHNOP_alloc_unbound", HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, p));
        BAD("SCHEDOP_shutdown", HYPERVISOR_sched_op(SCHEDOP_shutdown, p));
        BAD("HVMOP_get_param", HYPERVISOR_hvm_op(HVMOP_get_param, p));
        BAD("VCPUOP_set_singleshot_timer", HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, p));
        BAD("GNTTABOP_query_size", HYPERVISOR_grant_table_op(GNTTABOP_query_size, p, 1));
        BAD("console_io write", HYPERVISOR_console_io(CONSOLEIO_write, 16, p));
#undef BAD
    }
    /* A good structure pointing at a bad buffer: copy_to_guest of the map
     * entries fails. */
    struct xen_memory_map mm = { .nr_entries = 8 };
    set_xen_guest_handle(mm.buffer, (void *)0xf0000000UL);
    EXPECT("XENMEM_memory_map into a non-RAM buffer -> -EFAULT",
           HYPERVISOR_memory_op(XENMEM_memory_map, &mm), -XEN_EFAULT);
    /* gnttab_setup_table: for a translated guest the handle check passes and
     * the failed frame-list copy is reported in status. */
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1 };
    set_xen_guest_handle(st.frame_list, (xen_pfn_t *)0xf0000000UL);
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1);
    check(rc == 0 && st.status == GNTST_bad_virt_addr,
          "setup_table into a non-RAM frame list -> GNTST_bad_virt_addr", "rc %s status %d",
          errname(rc), st.status);
}

static uint64_t ram_top_below_4g(void)
{
    const struct hvm_memmap_table_entry *m = (const void *)(uintptr_t)start_info->memmap_paddr;
    uint64_t top = 0;
    for (unsigned i = 0; start_info->version >= 1 && i < start_info->memmap_entries; i++)
        if (m[i].type == XEN_HVM_MEMMAP_TYPE_RAM && m[i].addr + m[i].size <= (1UL << 32) &&
            m[i].addr + m[i].size > top)
            top = m[i].addr + m[i].size;
    return top;
}

static void console(void)
{
    EXPECT("console_io write of 0 bytes", HYPERVISOR_console_io(CONSOLEIO_write, 0, "x"), 0);
    /* guest_console_write copies in chunks and stops at the first chunk it
     * cannot read: a huge count from a buffer 64 bytes below the end of RAM
     * fails with -EFAULT before printing anything. */
    uint64_t top = ram_top_below_4g();
    uint64_t store, cons;
    hvm_get_param(HVM_PARAM_STORE_PFN, &store);
    hvm_get_param(HVM_PARAM_CONSOLE_PFN, &cons);
    if (top && (top >> 12) != store && (top >> 12) != cons)
        EXPECT("console_io write, huge count across the end of RAM -> -EFAULT",
               HYPERVISOR_console_io(CONSOLEIO_write, 0x7fffffff, (void *)(top - 64)),
               -XEN_EFAULT);
    else
        printf("  (skipped the end-of-RAM console check: RAM top 0x%lx)\n", (unsigned long)top);
    /* do_console_io takes count as unsigned int and CONSOLEIO_write has no
     * size limit: the first unreadable chunk ends it. */
    EXPECT("console_io write, count 0xffffffff from a non-RAM gpa -> -EFAULT",
           HYPERVISOR_console_io(CONSOLEIO_write, 0xffffffffUL, (void *)0xf0000000UL),
           -XEN_EFAULT);
    /* CONSOLEIO_read: "count > INT_MAX" -> -E2BIG, so that a byte count and
     * an error cannot overlap. */
    static char rbuf[16];
    EXPECT("console_io read, count 0x80000000 -> -E2BIG",
           HYPERVISOR_console_io(CONSOLEIO_read, 0x80000000UL, rbuf), -XEN_E2BIG);
}

static void event_channels(void)
{
    /* _evtchn_from_port() fails for ports beyond the domain's valid range:
     * -EINVAL from send, close, unmask, status, bind_vcpu. */
    static const evtchn_port_t ports[] = { 4096, 100000, 0xffffffffu };
    for (unsigned i = 0; i < ARRAY_SIZE(ports); i++) {
        char what[80];
        evtchn_port_t p = ports[i];
        struct evtchn_send s = { .port = p };
        snprintf(what, sizeof(what), "send on port %u -> -EINVAL", p);
        EXPECT(what, HYPERVISOR_event_channel_op(EVTCHNOP_send, &s), -XEN_EINVAL);
        struct evtchn_close c = { .port = p };
        snprintf(what, sizeof(what), "close of port %u -> -EINVAL", p);
        EXPECT(what, HYPERVISOR_event_channel_op(EVTCHNOP_close, &c), -XEN_EINVAL);
        struct evtchn_unmask u = { .port = p };
        snprintf(what, sizeof(what), "unmask of port %u -> -EINVAL", p);
        EXPECT(what, HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &u), -XEN_EINVAL);
        struct evtchn_status st = { .dom = DOMID_SELF, .port = p };
        snprintf(what, sizeof(what), "status of port %u -> -EINVAL", p);
        EXPECT(what, HYPERVISOR_event_channel_op(EVTCHNOP_status, &st), -XEN_EINVAL);
        struct evtchn_bind_vcpu bv = { .port = p, .vcpu = 0 };
        snprintf(what, sizeof(what), "bind_vcpu of port %u -> -EINVAL", p);
        EXPECT(what, HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &bv), -XEN_EINVAL);
    }
    /* rcu_lock_domain_by_any_id() fails for a domain that does not exist. */
    const domid_t nodom = 0x7fef;
    struct evtchn_status st = { .dom = nodom, .port = 1 };
    EXPECT("status in a missing domain -> -ESRCH", HYPERVISOR_event_channel_op(EVTCHNOP_status, &st),
           -XEN_ESRCH);
    struct evtchn_alloc_unbound au = { .dom = nodom, .remote_dom = DOMID_SELF };
    EXPECT("alloc_unbound in a missing domain -> -ESRCH",
           HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au), -XEN_ESRCH);
    struct evtchn_bind_interdomain bi = { .remote_dom = nodom, .remote_port = 1 };
    EXPECT("bind_interdomain to a missing domain -> -ESRCH",
           HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bi), -XEN_ESRCH);
    /* The remote port must be unbound and offered to us: port 0 is not. */
    bi = (struct evtchn_bind_interdomain){ .remote_dom = DOMID_SELF, .remote_port = 0 };
    EXPECT("bind_interdomain to a port that is not unbound -> -EINVAL",
           HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bi), -XEN_EINVAL);
    /* evtchn_bind_virq: virq >= NR_VIRQS -> -EINVAL; a global VIRQ on a vCPU
     * other than 0 -> -EINVAL; a per-vCPU VIRQ on a missing vCPU -> -ENOENT. */
    struct evtchn_bind_virq bv = { .virq = 24, .vcpu = 0 };
    EXPECT("bind_virq 24 (NR_VIRQS) -> -EINVAL", HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv),
           -XEN_EINVAL);
    bv = (struct evtchn_bind_virq){ .virq = 0xffffffffu, .vcpu = 0 };
    EXPECT("bind_virq -1 -> -EINVAL", HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv),
           -XEN_EINVAL);
    bv = (struct evtchn_bind_virq){ .virq = VIRQ_CON_RING, .vcpu = 1 };
    EXPECT("bind_virq of a global VIRQ on vCPU 1 -> -EINVAL",
           HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv), -XEN_EINVAL);
    bv = (struct evtchn_bind_virq){ .virq = VIRQ_TIMER, .vcpu = 77 };
    EXPECT("bind_virq VIRQ_TIMER on a missing vCPU -> -ENOENT",
           HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv), -XEN_ENOENT);
    /* An unbound port swallows sends (evtchn_send, ECS_UNBOUND). */
    evtchn_port_t p;
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = 0 };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a);
    p = a.port;
    check(rc == 0, "alloc_unbound for remote dom 0", "%s", errname(rc));
    struct evtchn_send s = { .port = p };
    EXPECT("send on an unbound port -> 0 (dropped)", HYPERVISOR_event_channel_op(EVTCHNOP_send, &s), 0);
    struct evtchn_close c = { .port = p };
    HYPERVISOR_event_channel_op(EVTCHNOP_close, &c);
}

static long init_control(uint64_t gfn, uint32_t offset, uint32_t vcpu)
{
    struct evtchn_init_control ic = { .control_gfn = gfn, .offset = offset, .vcpu = vcpu };
    return HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &ic);
}

/* FIFO (common/event_fifo.c). Refused set-ups leave the domain on 2-level;
 * the last part switches to FIFO and feeds it garbage event words. */
static void fifo(void)
{
    static uint8_t cb_page[4096] ALIGNED(4096);
    static uint32_t words[1024] ALIGNED(4096);
    uint64_t gfn = (uintptr_t)cb_page >> 12;
    EXPECT("init_control vCPU 0xffffffff -> -ENOENT", init_control(gfn, 0, 0xffffffffu), -XEN_ENOENT);
    EXPECT("init_control offset 0xfffffff8 -> -EINVAL", init_control(gfn, 0xfffffff8u, 0), -XEN_EINVAL);
    EXPECT("init_control offset 4032 (block crosses the page) -> -EINVAL",
           init_control(gfn, 4032, 0), -XEN_EINVAL);
    EXPECT("init_control gfn ~0 -> -EINVAL", init_control(~0ull, 0, 0), -XEN_EINVAL);
    EXPECT("init_control gfn of the console page -> -EINVAL", init_control(0xfeff0, 0, 0), -XEN_EINVAL);
    struct evtchn_expand_array ea = { .array_gfn = ~0ull };
    EXPECT("expand_array gfn ~0 on 2-level -> -EOPNOTSUPP",
           HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &ea), -XEN_EOPNOTSUPP);
    struct evtchn_set_priority sp = { .port = 0xffffffffu, .priority = 0xffffffffu };
    EXPECT("set_priority port 0xffffffff -> -EINVAL",
           HYPERVISOR_event_channel_op(EVTCHNOP_set_priority, &sp), -XEN_EINVAL);

    /* The block in the last 72 bytes of its page (the highest offset Xen
     * takes), then garbage: every word LINKED with a LINK to the largest
     * port, some PENDING; events still go through without harm. */
    irq_disable();
    long rc = init_control(gfn, 4096 - sizeof(struct evtchn_fifo_control_block), 0);
    check_rc("init_control at the last valid offset", rc, 0);
    ea.array_gfn = ~0ull;
    EXPECT("expand_array gfn ~0 -> -EINVAL", HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &ea),
           -XEN_EINVAL);
    for (unsigned i = 0; i < 1024; i++)
        words[i] = (1u << EVTCHN_FIFO_LINKED) | ((i & 1) << EVTCHN_FIFO_PENDING) | 0x1ffff;
    ea.array_gfn = (uintptr_t)words >> 12;
    EXPECT("expand_array", HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &ea), 0);
    EXPECT("the same page again", HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &ea), 0);
    EXPECT("set_priority 16 -> -EINVAL", (sp.port = 1, sp.priority = 16,
           HYPERVISOR_event_channel_op(EVTCHNOP_set_priority, &sp)), -XEN_EINVAL);
    unsigned answered = 0;
    for (unsigned i = 0; i < 8; i++) {
        struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
        struct evtchn_bind_interdomain b = { .remote_dom = DOMID_SELF };
        if (HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a))
            continue;
        b.remote_port = a.port;
        if (HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &b))
            continue;
        words[b.local_port] = 0x1ffff;            /* unmasked, a LINK of garbage */
        struct evtchn_send s = { .port = a.port };
        answered += HYPERVISOR_event_channel_op(EVTCHNOP_send, &s) == 0;
        words[a.port] ^= 0xffffffffu;             /* flip every bit of the other */
        s.port = b.local_port;
        answered += HYPERVISOR_event_channel_op(EVTCHNOP_send, &s) == 0;
    }
    check(answered == 16, "sends on garbage event words are answered", "%u of 16", answered);
    /* Back to 2-level for the rest (and the upcall handler, which is 2-level). */
    struct evtchn_reset r = { .dom = DOMID_SELF };
    EXPECT("EVTCHNOP_reset back to 2-level", HYPERVISOR_event_channel_op(EVTCHNOP_reset, &r), 0);
    for (unsigned i = 0; i < 64; i++)
        shared->evtchn_pending[i] = 0;
    percpu[0].vi->evtchn_pending_sel = 0;
    percpu[0].vi->evtchn_upcall_pending = 0;
    irq_enable();
}

static void grants(void)
{
    xen_pfn_t frames[4];
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 0xffffffffu };
    set_xen_guest_handle(st.frame_list, frames);
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1);
    check(rc == 0 && st.status == GNTST_general_error,
          "setup_table nr_frames 0xffffffff -> GNTST_general_error", "rc %s status %d",
          errname(rc), st.status);
    st = (struct gnttab_setup_table){ .dom = 0x7fef, .nr_frames = 1 };
    set_xen_guest_handle(st.frame_list, frames);
    rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1);
    check(rc == 0 && st.status == GNTST_bad_domain, "setup_table of a missing domain -> GNTST_bad_domain",
          "rc %s status %d", errname(rc), st.status);
    struct gnttab_query_size qs = { .dom = DOMID_SELF };
    EXPECT("query_size with count 0 -> -EINVAL",
           HYPERVISOR_grant_table_op(GNTTABOP_query_size, &qs, 0), -XEN_EINVAL);
    struct gnttab_get_version gv = { .dom = 0x7fef };
    EXPECT("get_version of a missing domain -> -ESRCH",
           HYPERVISOR_grant_table_op(GNTTABOP_get_version, &gv, 1), -XEN_ESRCH);
}

static void memory(void)
{
    static uint8_t page[4096] ALIGNED(4096);
    struct xen_add_to_physmap x = { .domid = DOMID_SELF, .space = 99, .idx = 0,
                                    .gpfn = (uintptr_t)page >> 12 };
    /* x86 xenmem_add_to_physmap_one: an unknown space leaves no frame ->
     * -EINVAL. */
    EXPECT("add_to_physmap with space 99 -> -EINVAL", HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x),
           -XEN_EINVAL);
    x.space = XENMAPSPACE_shared_info;
    x.idx = 1;
    EXPECT("add_to_physmap shared_info idx 1 -> -EINVAL",
           HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x), -XEN_EINVAL);
    /* common/memory.c: foreign mappings only through the batch variant. */
    x.space = XENMAPSPACE_gmfn_foreign;
    x.idx = 0;
    EXPECT("add_to_physmap gmfn_foreign -> -ENOSYS", HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x),
           -XEN_ENOSYS);
    x.space = XENMAPSPACE_shared_info;
    x.domid = 0x7fef;
    EXPECT("add_to_physmap for a missing domain -> -ESRCH",
           HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x), -XEN_ESRCH);
    /* Reservations: a bad argument means 0 extents done, never an error. */
    static xen_pfn_t gfns[2] = { 0xfeff0, 0xfee00 };   /* console page, LAPIC */
    struct xen_memory_reservation r = { .nr_extents = 2, .domid = DOMID_SELF };
    set_xen_guest_handle(r.extent_start, gfns);
    EXPECT("decrease_reservation of non-RAM gfns: 0 done",
           HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r), 0);
    EXPECT("populate_physmap of non-RAM gfns: 0 done",
           HYPERVISOR_memory_op(XENMEM_populate_physmap, &r), 0);
    set_xen_guest_handle(r.extent_start, (xen_pfn_t *)0xf0000000ul);
    EXPECT("decrease_reservation with the list on non-RAM: 0 done",
           HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r), 0);
    r.extent_order = 0xffffffffu;
    EXPECT("populate_physmap with extent order 0xffffffff: 0 done",
           HYPERVISOR_memory_op(XENMEM_populate_physmap, &r), 0);
    EXPECT("reservation op with start extent beyond nr_extents: returns the start",
           HYPERVISOR_memory_op(XENMEM_decrease_reservation | (5u << 6), &r), 5);
    domid_t nodom = 0x7fef;
    EXPECT("current_reservation of a missing domain -> -ESRCH",
           HYPERVISOR_memory_op(XENMEM_current_reservation, &nodom), -XEN_ESRCH);
}

static void hvm_params(void)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = HVM_NR_PARAMS, .value = 1 };
    /* hvmop_set_param / hvmop_get_param: index >= HVM_NR_PARAMS -> -EINVAL. */
    EXPECT("HVMOP_set_param index HVM_NR_PARAMS -> -EINVAL", HYPERVISOR_hvm_op(HVMOP_set_param, &p),
           -XEN_EINVAL);
    p.index = 0xffffffffu;
    EXPECT("HVMOP_get_param index 0xffffffff -> -EINVAL", HYPERVISOR_hvm_op(HVMOP_get_param, &p),
           -XEN_EINVAL);
    p = (struct xen_hvm_param){ .domid = 0x7fef, .index = HVM_PARAM_STORE_PFN };
    EXPECT("HVMOP_get_param of a missing domain -> -ESRCH", HYPERVISOR_hvm_op(HVMOP_get_param, &p),
           -XEN_ESRCH);
    /* hvm_allow_set_param: the toolstack's params are not the guest's to set. */
    p = (struct xen_hvm_param){ .domid = DOMID_SELF, .index = HVM_PARAM_CONSOLE_PFN, .value = 0x1234 };
    EXPECT("guest sets HVM_PARAM_CONSOLE_PFN -> -EPERM", HYPERVISOR_hvm_op(HVMOP_set_param, &p),
           -XEN_EPERM);
    /* hvm_allow_get_param: ioreq pages are hidden from the guest. */
    p = (struct xen_hvm_param){ .domid = DOMID_SELF, .index = HVM_PARAM_IOREQ_PFN };
    EXPECT("guest reads HVM_PARAM_IOREQ_PFN -> -EPERM", HYPERVISOR_hvm_op(HVMOP_get_param, &p),
           -XEN_EPERM);
    /* hvmop_set_evtchn_upcall_vector: vector < 0x10 -> -EINVAL; missing vCPU
     * -> -ENOENT. */
    struct xen_hvm_evtchn_upcall_vector uv = { .vcpu = 0, .vector = 0x0f };
    EXPECT("upcall vector 0x0f -> -EINVAL", HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv),
           -XEN_EINVAL);
    uv = (struct xen_hvm_evtchn_upcall_vector){ .vcpu = 77, .vector = 0xf3 };
    EXPECT("upcall vector for a missing vCPU -> -ENOENT",
           HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv), -XEN_ENOENT);
    /* hvm_set_callback_via cannot fail: any value is taken (an unknown type
     * means no callback, a vector below 0x10 would be injected as it is).
     * With nothing pending and interrupts off nothing is raised meanwhile;
     * then back to no callback. */
    irq_disable();
    percpu[0].vi->evtchn_upcall_pending = 0;
    p = (struct xen_hvm_param){ .domid = DOMID_SELF, .index = HVM_PARAM_CALLBACK_IRQ,
                                .value = 0xffull << 56 };
    EXPECT("HVM_PARAM_CALLBACK_IRQ type 0xff -> 0 (no callback)", HYPERVISOR_hvm_op(HVMOP_set_param, &p), 0);
    p.value = (2ull << 56) | 0x0f;
    EXPECT("HVM_PARAM_CALLBACK_IRQ vector 0x0f -> 0 (Xen does not check)",
           HYPERVISOR_hvm_op(HVMOP_set_param, &p), 0);
    p.value = 0;
    EXPECT("HVM_PARAM_CALLBACK_IRQ 0 (none)", HYPERVISOR_hvm_op(HVMOP_set_param, &p), 0);
    irq_enable();
    /* HVMOP_flush_tlbs: the argument must be NULL. */
    EXPECT("HVMOP_flush_tlbs with an argument -> -EINVAL",
           HYPERVISOR_hvm_op(HVMOP_flush_tlbs, (void *)0x8000000000000000ul), -XEN_EINVAL);
}

static void vcpus(void)
{
    /* do_vcpu_op: domain_vcpu() fails -> -ENOENT. */
    EXPECT("VCPUOP_is_up on vCPU 77 -> -ENOENT", HYPERVISOR_vcpu_op(VCPUOP_is_up, 77, NULL),
           -XEN_ENOENT);
    EXPECT("VCPUOP_up on vCPU 0x7fffffff -> -ENOENT", HYPERVISOR_vcpu_op(VCPUOP_up, 0x7fffffff, NULL),
           -XEN_ENOENT);
    EXPECT("VCPUOP_is_up on vCPU 0 -> 1", HYPERVISOR_vcpu_op(VCPUOP_is_up, 0, NULL), 1);
    /* arch_initialise_vcpu: an initialised vCPU -> -EEXIST. */
    static struct vcpu_hvm_context ctx = { .mode = VCPU_HVM_MODE_64B };
    EXPECT("VCPUOP_initialise of the running vCPU 0 -> -EEXIST",
           HYPERVISOR_vcpu_op(VCPUOP_initialise, 0, &ctx), -XEN_EEXIST);
}

static void scheduling(void)
{
    EXPECT("SCHEDOP_yield", HYPERVISOR_sched_op(SCHEDOP_yield, NULL), 0);
    struct sched_remote_shutdown rs = { .domain_id = 0x7fef, .reason = SHUTDOWN_poweroff };
    EXPECT("SCHEDOP_remote_shutdown of a missing domain -> -ESRCH",
           HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), -XEN_ESRCH);
    /* domain_watchdog: an id beyond the two timers, or one not in use. */
    struct sched_watchdog w = { .id = 0xffffffffu, .timeout = 1 };
    EXPECT("SCHEDOP_watchdog id 0xffffffff -> -EINVAL", HYPERVISOR_sched_op(SCHEDOP_watchdog, &w),
           -XEN_EINVAL);
    w.id = 2;
    EXPECT("SCHEDOP_watchdog ping of an unused timer -> -EINVAL",
           HYPERVISOR_sched_op(SCHEDOP_watchdog, &w), -XEN_EINVAL);
    EXPECT("SCHEDOP_watchdog with a non-canonical argument -> -EFAULT",
           HYPERVISOR_sched_op(SCHEDOP_watchdog, (void *)0x8000000000000000ul), -XEN_EFAULT);
    /* Not tested: SCHEDOP_shutdown with an unknown reason. Xen does not
     * validate it (do_sched_op passes (u8)reason to domain_shutdown), so the
     * domain would really shut down. */
}

void prog_hostile(int argc, char **argv)
{
    (void)argc, (void)argv;
    unknown_hypercalls();
    unknown_subops();
    bad_pointers();
    console();
    event_channels();
    fifo();
    grants();
    memory();
    hvm_params();
    vcpus();
    scheduling();
    /* Still alive and still answering. */
    check(HYPERVISOR_xen_version(XENVER_version, NULL) == 0x00040011,
          "hypervisor still answers after the hostile calls", "xen_version failed");
}
