/* The 32-bit hypercall ABI's translations, end to end through the real
 * handlers: a hand-built domain (no /dev/kvm) with 16 MiB of RAM at gpa 0 and
 * a caller in 32-bit protected mode without paging, whose arguments are i386
 * structures (compat_abi.h) written into that RAM; the handlers' results are
 * read back from it. Also the latched 32-bit shared_info layout. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "unit.h"
#include "xen/compat.h"
#include <xen/sched.h>
#include <xen/version.h>

#define RAM (16u << 20)
#define ARG 0x1000u                  /* where the tests put a structure */
#define BUF 0x2000u                  /* ...and the buffers it points to */
#define FX_DOMID 5

static struct domain D;
static uint8_t *ram;

static struct shared_info *fx_shared_info(void *o) { (void)o; return D.shinfo; }
static struct vcpu_info *fx_vcpu_info(void *o, unsigned v) { (void)o; return v ? NULL : D.xv[0].vi; }
static void fx_kick(void *o, unsigned v) { (void)o; (void)v; }
static uint8_t *fx_gfn_page(void *o, uint64_t gfn)
{
    (void)o;
    return gfn < RAM / 4096 ? ram + gfn * 4096 : NULL;
}

static void fx_init(void)
{
    if (ram) {
        gnttab_fini(&D.gt);
        close(D.xv[0].timer_fd);
        free(D.shinfo_own);
        free(ram);
    }
    memset(&D, 0, sizeof(D));
    ram = aligned_alloc(4096, RAM);
    memset(ram, 0, RAM);
    static uint64_t absent[RAM / 4096 / 64];     /* every frame present */
    memset(absent, 0, sizeof(absent));
    D.vm.regions[0] = (struct mem_region){ .gpa = 0, .size = RAM, .host = ram, .ram = true,
                                           .absent = absent };
    D.vm.nr_regions = 1;
    D.vm.nr_vcpus = 1;
    D.vm.ram_size = RAM;
    D.domid = FX_DOMID;
    pthread_mutex_init(&D.lock, NULL);
    D.shinfo_own = aligned_alloc(4096, 4096);
    memset(D.shinfo_own, 0, 4096);
    D.shinfo = (struct shared_info *)D.shinfo_own;
    D.shinfo_gfn = ~0ull;
    D.e820[0] = (struct e820entry){ .addr = 0, .size = RAM, .type = E820_RAM };
    D.e820[1] = (struct e820entry){ .addr = 0xfeff0000, .size = 0x4000, .type = E820_RESERVED };
    D.nr_e820 = 2;
    domain_time_init(&D);
    struct xvcpu *xv = &D.xv[0];
    xv->d = &D;
    /* A vCPU with no KVM fd: its TSC offset reads fail and it keeps offset 0. */
    D.vm.vcpus[0].fd = -1;
    xv->v = &D.vm.vcpus[0];
    xv->vi = &D.shinfo->vcpu_info[0];
    xv->vi_gpa = ~0ull;
    xv->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    atomic_store(&xv->up, true);
    evtchn_init(&D.ev, FX_DOMID, 1);
    D.ev.shared_info = fx_shared_info;
    D.ev.vcpu_info = fx_vcpu_info;
    D.ev.kick = fx_kick;
    CHECK_EQ(gnttab_init(&D.gt, FX_DOMID), 0);
    D.gt.gfn_page = fx_gfn_page;
}

/* A hypercall from vCPU 0 in 32-bit protected mode, paging off. */
static long call32(unsigned nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
    struct hcall h = { .d = &D, .xv = &D.xv[0], .long_mode = false, .arg = { a0, a1, a2 } };
    struct kvm_sregs s = { .cr0 = 1 };
    guest_va_init(&h.va, &D.vm, &s);
    return compat_hypercall_dispatch(&h, nr);
}

#define AT(type, gpa) ((type *)(ram + (gpa)))

/* ---- memory_op ---- */

TEST(compat_memory_map)
{
    fx_init();
    *AT(struct compat_memory_map, ARG) = (struct compat_memory_map){ .nr_entries = 8, .buffer = BUF };
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_memory_map, ARG, 0), 0);
    CHECK_EQ(AT(struct compat_memory_map, ARG)->nr_entries, 2);
    CHECK_EQ(AT(struct compat_memory_map, ARG)->buffer, BUF);
    CHECK(!memcmp(ram + BUF, D.e820, 2 * sizeof(struct e820entry)));
    /* As many as fit; the structure is 8 bytes, so its neighbour is untouched. */
    *AT(uint32_t, ARG + 8) = 0xa5a5a5a5;
    *AT(struct compat_memory_map, ARG) = (struct compat_memory_map){ .nr_entries = 1, .buffer = BUF };
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_memory_map, ARG, 0), 0);
    CHECK_EQ(AT(struct compat_memory_map, ARG)->nr_entries, 1);
    CHECK_EQ(*AT(uint32_t, ARG + 8), 0xa5a5a5a5);
    /* A buffer outside RAM, or the structure itself. */
    AT(struct compat_memory_map, ARG)->buffer = 0xf0000000u;
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_memory_map, ARG, 0), -EFAULT);
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_memory_map, 0xf0000000u, 0), -EFAULT);
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_machine_memory_map, ARG, 0), -ENOSYS);
}

/* The domain's own map replaced, then read back through memory_map. */
TEST(compat_set_memory_map)
{
    fx_init();
    struct e820entry *e = AT(struct e820entry, BUF);
    e[0] = (struct e820entry){ .addr = 0x1000, .size = 0x9f000, .type = E820_RAM };
    e[1] = (struct e820entry){ .addr = 0x100000, .size = 0x300000, .type = E820_RAM };
    e[2] = (struct e820entry){ .addr = 0xfc000000, .size = 0x1000, .type = E820_RESERVED };
    *AT(struct compat_foreign_memory_map, ARG) = (struct compat_foreign_memory_map){
        .domid = DOMID_SELF, .map = { .nr_entries = 3, .buffer = BUF } };
    *AT(uint32_t, ARG + 12) = 0xa5a5a5a5;
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_set_memory_map, ARG, 0), 0);
    CHECK_EQ(D.nr_e820, 3);
    CHECK(!memcmp(D.e820, e, 3 * sizeof(*e)));
    *AT(struct compat_memory_map, ARG) = (struct compat_memory_map){ .nr_entries = 8, .buffer = BUF + 0x400 };
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_memory_map, ARG, 0), 0);
    CHECK_EQ(AT(struct compat_memory_map, ARG)->nr_entries, 3);
    CHECK(!memcmp(ram + BUF + 0x400, e, 3 * sizeof(*e)));
    CHECK_EQ(*AT(uint32_t, ARG + 12), 0xa5a5a5a5);
    /* Xen's errors: too many entries, another domain, a bad buffer (the map
     * kept); an empty map makes memory_map -ENOSYS. */
    struct compat_foreign_memory_map *f = AT(struct compat_foreign_memory_map, ARG);
    *f = (struct compat_foreign_memory_map){ .domid = FX_DOMID, .map = { 1025, BUF } };
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_set_memory_map, ARG, 0), -EINVAL);
    *f = (struct compat_foreign_memory_map){ .domid = 7, .map = { 1, BUF } };
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_set_memory_map, ARG, 0), -ESRCH);
    *f = (struct compat_foreign_memory_map){ .domid = FX_DOMID, .map = { 2, 0xf0000000u } };
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_set_memory_map, ARG, 0), -EFAULT);
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_set_memory_map, 0xf0000000u, 0), -EFAULT);
    CHECK_EQ(D.nr_e820, 3);
    *f = (struct compat_foreign_memory_map){ .domid = FX_DOMID, .map = { 0, BUF } };
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_set_memory_map, ARG, 0), 0);
    *AT(struct compat_memory_map, ARG) = (struct compat_memory_map){ .nr_entries = 8, .buffer = BUF };
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_memory_map, ARG, 0), -ENOSYS);
}

TEST(compat_add_to_physmap_shared_info)
{
    fx_init();
    *AT(struct compat_add_to_physmap, ARG) = (struct compat_add_to_physmap){
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0, .gpfn = 0x10 };
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0), 0);
    CHECK(D.shinfo == (struct shared_info *)(ram + 0x10000));
    CHECK_EQ(D.shinfo_gfn, 0x10);
    AT(struct compat_add_to_physmap, ARG)->idx = 1;
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0), -EINVAL);
    AT(struct compat_add_to_physmap, ARG)->idx = 0;
    AT(struct compat_add_to_physmap, ARG)->domid = 0x7fef;
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0), -ESRCH);
}

/* 32-bit idx and gpfn lists; errs is an int array in both ABIs. */
TEST(compat_add_to_physmap_batch_grant_frames)
{
    fx_init();
    uint32_t *idxs = AT(uint32_t, BUF), *gpfns = AT(uint32_t, BUF + 0x100);
    int *errs = AT(int, BUF + 0x200);
    const uint32_t want_idx[3] = { 0, 1, 70 }, want_gfn[3] = { 0x20, 0x21, 0x22 };
    memcpy(idxs, want_idx, sizeof(want_idx));
    memcpy(gpfns, want_gfn, sizeof(want_gfn));
    memset(errs, 0x55, 3 * sizeof(int));
    *AT(struct compat_add_to_physmap_batch, ARG) = (struct compat_add_to_physmap_batch){
        .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table, .size = 3,
        .idxs = BUF, .gpfns = BUF + 0x100, .errs = BUF + 0x200 };
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_add_to_physmap_batch, ARG, 0), 0);
    CHECK_EQ(errs[0], 0);
    CHECK_EQ(errs[1], 0);
    CHECK_EQ(errs[2], -EINVAL);           /* beyond max_grant_frames */
    CHECK_EQ(gnttab_frame_gfn(&D.gt, 0), 0x20);
    CHECK_EQ(gnttab_frame_gfn(&D.gt, 1), 0x21);
    AT(struct compat_add_to_physmap_batch, ARG)->gpfns = 0xf0000000u;
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_add_to_physmap_batch, ARG, 0), -EFAULT);
}

/* More entries than the translation window holds go in several chunks. */
TEST(compat_add_to_physmap_batch_in_chunks)
{
    fx_init();
    const unsigned n = 1500;
    uint32_t *idxs = AT(uint32_t, 0x100000), *gpfns = AT(uint32_t, 0x102000);
    int *errs = AT(int, 0x104000);
    for (unsigned i = 0; i < n; i++) {
        idxs[i] = i % 2 ? 99 : 0;         /* odd ones: a bad shared_info idx */
        gpfns[i] = 0x30;
        errs[i] = 12345;
    }
    *AT(struct compat_add_to_physmap_batch, ARG) = (struct compat_add_to_physmap_batch){
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .size = n,
        .idxs = 0x100000, .gpfns = 0x102000, .errs = 0x104000 };
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_add_to_physmap_batch, ARG, 0), 0);
    unsigned good = 0;
    for (unsigned i = 0; i < n; i++)
        good += errs[i] == (i % 2 ? -EINVAL : 0);
    CHECK_EQ(good, n);
}

/* A reservation's extent list is 32-bit frame numbers; a fault in it stops
 * the operation with the count done so far; a fault on the structure itself
 * does nothing, as Xen's compat_memory_op does; a continuation's start extent
 * (the command's high bits) is honoured and counted. */
TEST(compat_reservation_extent_list)
{
    fx_init();
    uint32_t *ext = AT(uint32_t, BUF);
    ext[0] = 0x200;
    ext[1] = 0x201;
    *AT(struct compat_memory_reservation, ARG) = (struct compat_memory_reservation){
        .extent_start = BUF, .nr_extents = 2, .extent_order = 0, .domid = DOMID_SELF };
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, ARG, 0), 2);
    CHECK_EQ(vm_ram_present(&D.vm, 0x200), 0);
    CHECK_EQ(vm_ram_present(&D.vm, 0x201), 0);
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, ARG, 0), 0);
    /* From start extent 1: only 0x201 comes back; the count includes the start. */
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_populate_physmap | 1u << MEMOP_EXTENT_SHIFT,
                    ARG, 0), 2);
    CHECK_EQ(vm_ram_present(&D.vm, 0x200), 0);
    CHECK_EQ(vm_ram_present(&D.vm, 0x201), 1);
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_populate_physmap | 5u << MEMOP_EXTENT_SHIFT,
                    ARG, 0), 5);          /* beyond the list: nothing, the start back */
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_populate_physmap, ARG, 0), 1);  /* 0x201 present */
    CHECK_EQ(vm_ram_present(&D.vm, 0x200), 1);
    CHECK_EQ(ext[0], 0x200);              /* copied back unchanged */
    CHECK_EQ(ext[1], 0x201);
    /* The list runs off the end of RAM after its first entry. */
    uint32_t *last = AT(uint32_t, RAM - 4);
    *last = 0x202;
    AT(struct compat_memory_reservation, ARG)->extent_start = RAM - 4;
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, ARG, 0), 1);
    CHECK_EQ(vm_ram_present(&D.vm, 0x202), 0);
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_populate_physmap, 0xf0000000u, 0), 0);
    CHECK_EQ(call32(__HYPERVISOR_memory_op,
                    XENMEM_populate_physmap | 3u << MEMOP_EXTENT_SHIFT, 0xf0000000u, 0), 3);
    AT(struct compat_memory_reservation, ARG)->nr_extents = 0x80000000u;   /* no continuation fits */
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_populate_physmap, ARG, 0), 0);
    CHECK_EQ(vm_ram_present(&D.vm, 0x202), 0);
}

TEST(compat_reservation_in_chunks)
{
    fx_init();
    const unsigned n = 2500;                /* more than two windows' worth */
    uint32_t *ext = AT(uint32_t, 0x100000);
    for (unsigned i = 0; i < n; i++)
        ext[i] = 0x400 + i;
    *AT(struct compat_memory_reservation, ARG) = (struct compat_memory_reservation){
        .extent_start = 0x100000, .nr_extents = n, .domid = DOMID_SELF };
    uint64_t before = vm_ram_present_pages(&D.vm);
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, ARG, 0), n);
    CHECK_EQ(vm_ram_present_pages(&D.vm), before - n);
    CHECK_EQ(vm_ram_present(&D.vm, 0x400 + n - 1), 0);
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_populate_physmap, ARG, 0), n);
    CHECK_EQ(vm_ram_present_pages(&D.vm), before);
    CHECK_EQ(ext[n - 1], 0x400 + n - 1);
}

/* ---- grant_table_op ---- */

TEST(compat_setup_table_frame_list)
{
    fx_init();
    gnttab_place_frame(&D.gt, 0, 0x40, ram + 0x40000);
    uint32_t *list = AT(uint32_t, BUF);
    list[2] = 0xdeadbeef;
    *AT(struct compat_gnttab_setup_table, ARG) = (struct compat_gnttab_setup_table){
        .dom = DOMID_SELF, .nr_frames = 2, .status = 99, .frame_list = BUF };
    CHECK_EQ(call32(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, ARG, 1), 0);
    CHECK_EQ(AT(struct compat_gnttab_setup_table, ARG)->status, GNTST_okay);
    CHECK_EQ(list[0], 0x40);
    CHECK_EQ(list[1], 0xffffffffu);       /* unplaced: ~0 truncated, as Xen 4.17 */
    CHECK_EQ(list[2], 0xdeadbeef);        /* 32-bit entries: nothing beyond */
    CHECK_EQ(D.gt.nr_frames, 2);
    /* Xen's compat loop: count 0 does nothing, more than one is -EINVAL. */
    CHECK_EQ(call32(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, ARG, 0), 0);
    CHECK_EQ(call32(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, ARG, 2), -EINVAL);
    AT(struct compat_gnttab_setup_table, ARG)->frame_list = 0xf0000000u;
    CHECK_EQ(call32(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, ARG, 1), 0);
    CHECK_EQ(AT(struct compat_gnttab_setup_table, ARG)->status, GNTST_bad_virt_addr);
    *AT(struct compat_gnttab_setup_table, ARG) = (struct compat_gnttab_setup_table){
        .dom = DOMID_SELF, .nr_frames = 0xffffffffu, .frame_list = BUF };
    CHECK_EQ(call32(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, ARG, 1), 0);
    CHECK_EQ(AT(struct compat_gnttab_setup_table, ARG)->status, GNTST_general_error);
}

/* An array of 24-byte copies: each element's status lands at its offset 20. */
TEST(compat_gnttab_copy_array)
{
    fx_init();
    for (unsigned i = 0; i < 64; i++)
        ram[0x50000 + 8 + i] = (uint8_t)(i + 1);
    struct compat_gnttab_copy *c = AT(struct compat_gnttab_copy, ARG);
    c[0] = (struct compat_gnttab_copy){
        .source = { .u.gmfn = 0x50, .domid = DOMID_SELF, .offset = 8 },
        .dest = { .u.gmfn = 0x51, .domid = DOMID_SELF, .offset = 16 }, .len = 64, .status = 99 };
    c[1] = c[0];
    c[1].source.u.gmfn = 0xf0000;         /* not RAM */
    c[2] = c[0];
    c[2].dest.offset = 4090;              /* runs off the page */
    CHECK_EQ(call32(__HYPERVISOR_grant_table_op, GNTTABOP_copy, ARG, 3), 0);
    CHECK_EQ(c[0].status, GNTST_okay);
    CHECK(!memcmp(ram + 0x51000 + 16, ram + 0x50000 + 8, 64));
    CHECK_EQ(c[1].status, GNTST_bad_page);
    CHECK_EQ(c[2].status, GNTST_bad_copy_arg);
    CHECK_EQ(c[0].len, 64);               /* only statuses are written back */
    CHECK_EQ(call32(__HYPERVISOR_grant_table_op, GNTTABOP_copy, ARG, 0xffffffffu), -EINVAL);
    CHECK_EQ(call32(__HYPERVISOR_grant_table_op, GNTTABOP_copy, RAM - 30, 2), -EFAULT);
}

/* More copies than the window holds: several batches, statuses for all. */
TEST(compat_gnttab_copy_batches)
{
    fx_init();
    const unsigned n = 700;                 /* 204 native copies fit the window */
    struct compat_gnttab_copy *c = AT(struct compat_gnttab_copy, 0x100000);
    for (unsigned i = 0; i < n; i++)
        c[i] = (struct compat_gnttab_copy){
            .source = { .u.gmfn = 0x60, .domid = DOMID_SELF },
            .dest = { .u.gmfn = i % 3 ? 0x61 : 0xf0000, .domid = DOMID_SELF }, .len = 8,
            .status = 99 };
    CHECK_EQ(call32(__HYPERVISOR_grant_table_op, GNTTABOP_copy, 0x100000, n), 0);
    unsigned right = 0;
    for (unsigned i = 0; i < n; i++)
        right += c[i].status == (i % 3 ? GNTST_okay : GNTST_bad_page);
    CHECK_EQ(right, n);
}

TEST(compat_gnttab_same_layout_ops_pass_through)
{
    fx_init();
    struct gnttab_query_size *q = AT(struct gnttab_query_size, ARG);
    *q = (struct gnttab_query_size){ .dom = DOMID_SELF };
    CHECK_EQ(call32(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, ARG, 1), 0);
    CHECK_EQ(q->max_nr_frames, GNTTAB_MAX_FRAMES);
    struct gnttab_set_version *sv = AT(struct gnttab_set_version, ARG);
    sv->version = 2;
    CHECK_EQ(call32(__HYPERVISOR_grant_table_op, GNTTABOP_set_version, ARG, 1), 0);
    CHECK_EQ(D.gt.version, 2);
    CHECK_EQ(call32(__HYPERVISOR_grant_table_op, GNTTABOP_get_status_frames, ARG, 1), -ENOSYS);
}

/* ---- vcpu_op, sched_op, set_timer_op, xen_version ---- */

TEST(compat_get_runstate_info_layout)
{
    fx_init();
    memset(ram + BUF, 0xee, 64);
    CHECK_EQ(call32(__HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 0, BUF), 0);
    struct compat_vcpu_runstate_info *r = AT(struct compat_vcpu_runstate_info, BUF);
    CHECK_EQ(r->state, RUNSTATE_running);
    CHECK(r->state_entry_time > 0 && r->state_entry_time < (1ull << 50));
    CHECK_EQ(ram[BUF + sizeof(*r)], 0xee);    /* 44 bytes, not 48 */
    CHECK_EQ(call32(__HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 0, 0xf0000000u), -EFAULT);
    CHECK_EQ(call32(__HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 7, BUF), -ENOENT);
}

TEST(compat_register_runstate_area)
{
    fx_init();
    uint32_t *area = AT(uint32_t, ARG);
    area[0] = BUF;
    area[1] = 0x12345678;                     /* not part of a 32-bit caller's handle */
    memset(ram + BUF, 0xee, 64);
    CHECK_EQ(call32(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, ARG), 0);
    struct compat_vcpu_runstate_info *r = AT(struct compat_vcpu_runstate_info, BUF);
    CHECK_EQ(r->state, RUNSTATE_running);
    CHECK_EQ(r->time[RUNSTATE_running], r->state_entry_time);
    CHECK_EQ(ram[BUF + 44], 0xee);
    area[0] = 0xf0000000u;                    /* registered, not written: 0 */
    CHECK_EQ(call32(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, ARG), 0);
    CHECK_EQ(call32(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, 0xf0000000u),
             -EFAULT);
}

TEST(pvclock_stable_bit_only_on_a_host_that_keeps_time_by_its_tsc)
{
    fx_init();
    struct vcpu_time_info *t = &D.xv[0].vi->time;
    D.vm.tsc_reliable = true;
    domain_update_vcpu_time(&D, &D.xv[0]);
    CHECK(t->flags & XEN_PVCLOCK_TSC_STABLE_BIT);
    CHECK(!(t->version & 1));
    D.vm.tsc_reliable = false;     /* e.g. the rig's emulator: TSCs unsynchronised */
    domain_update_vcpu_time(&D, &D.xv[0]);
    CHECK_EQ(t->flags, 0);
    CHECK(!(t->version & 1));
}

TEST(compat_time_area)
{
    fx_init();
    uint32_t *area = AT(uint32_t, ARG);
    area[0] = BUF;
    area[1] = 0xffffffff;                     /* ignored */
    CHECK_EQ(call32(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_time_memory_area, 0, ARG), 0);
    CHECK_EQ(D.xv[0].time_area_va, BUF);
    struct vcpu_time_info *t = AT(struct vcpu_time_info, BUF);
    CHECK_EQ(t->version, D.xv[0].vi->time.version);
    CHECK(!(t->version & 1));
    CHECK_EQ(t->tsc_to_system_mul, D.xv[0].vi->time.tsc_to_system_mul);
    CHECK_EQ(t->flags, D.xv[0].vi->time.flags);
    area[0] = 0;
    CHECK_EQ(call32(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_time_memory_area, 0, ARG), 0);
    CHECK_EQ(D.xv[0].time_area_va, 0);
}

TEST(compat_singleshot_timer_12_bytes)
{
    fx_init();
    uint64_t now = domain_system_time(&D);
    struct compat_vcpu_set_singleshot_timer *t = (void *)(ram + RAM - 12);   /* ends with RAM */
    t->timeout_abs_ns = now + 1000000000ull;
    t->flags = 0;
    CHECK_EQ(call32(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, RAM - 12), 0);
    CHECK_EQ(D.xv[0].timer_deadline, now + 1000000000ull);
    t->timeout_abs_ns = 1;
    t->flags = VCPU_SSHOTTMR_future;
    CHECK_EQ(call32(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, RAM - 12), -ETIME);
}

/* The deadline in two registers: low half, then the high half (signed). */
TEST(compat_set_timer_op_halves)
{
    fx_init();
    uint64_t when = domain_system_time(&D) + (5ull << 32);
    CHECK_EQ(call32(__HYPERVISOR_set_timer_op, (uint32_t)when, (uint32_t)(when >> 32), 0), 0);
    CHECK_EQ(D.xv[0].timer_deadline, when);
    /* A negative deadline: Xen's wrap rule, 100 ms from now. */
    uint64_t before = domain_system_time(&D);
    CHECK_EQ(call32(__HYPERVISOR_set_timer_op, 0, 0x80000000u, 0), 0);
    CHECK(D.xv[0].timer_deadline >= before + 100000000ull &&
          D.xv[0].timer_deadline < before + 1000000000ull);
    CHECK_EQ(call32(__HYPERVISOR_set_timer_op, 0, 0, 0), 0);
    CHECK_EQ(D.xv[0].timer_deadline, 0);
}

TEST(compat_sched_poll)
{
    fx_init();
    *AT(uint32_t, BUF) = 3;
    *AT(struct compat_sched_poll, ARG) = (struct compat_sched_poll){
        .ports = BUF, .nr_ports = 1, .timeout = 1 };       /* already past: returns */
    CHECK_EQ(call32(__HYPERVISOR_sched_op, SCHEDOP_poll, ARG, 0), 0);
    AT(struct compat_sched_poll, ARG)->nr_ports = 129;
    CHECK_EQ(call32(__HYPERVISOR_sched_op, SCHEDOP_poll, ARG, 0), -EINVAL);
    AT(struct compat_sched_poll, ARG)->nr_ports = 1;
    AT(struct compat_sched_poll, ARG)->ports = 0xf0000000u;
    CHECK_EQ(call32(__HYPERVISOR_sched_op, SCHEDOP_poll, ARG, 0), -EFAULT);
}

TEST(compat_platform_parameters_4_bytes)
{
    fx_init();
    memset(ram + ARG, 0xee, 8);
    CHECK_EQ(call32(__HYPERVISOR_xen_version, XENVER_platform_parameters, ARG, 0), 0);
    CHECK_EQ(*AT(uint32_t, ARG), 0);
    CHECK_EQ(*AT(uint32_t, ARG + 4), 0xeeeeeeeeu);
}

/* ---- the 32-bit shared_info ---- */

/* Xen's hvm_latch_shinfo_size: the wall clock moves to the 32-bit layout. */
TEST(compat_latched_wallclock_layout)
{
    fx_init();
    domain_latch_shinfo_size(&D, false);
    struct shared_info_x86_32 *s32 = (struct shared_info_x86_32 *)D.shinfo;
    CHECK_EQ(s32->wc_sec, (uint32_t)D.wall0.tv_sec);
    CHECK_EQ(s32->wc_nsec, D.wall0.tv_nsec);
    CHECK(!(s32->wc_version & 1) && s32->wc_version);
    domain_latch_shinfo_size(&D, true);
    CHECK_EQ(D.shinfo->wc_sec, (uint32_t)D.wall0.tv_sec);
    CHECK(!(D.shinfo->wc_version & 1) && D.shinfo->wc_version);
}

/* 2-level delivery into the 32-bit layout: 32-bit selector words at
 * vcpu_info + 4, the mask array at its own offset, 1024 ports. */
TEST(compat_evtchn_32bit_bitmaps)
{
    fx_init();
    domain_latch_shinfo_size(&D, false);
    struct shared_info_x86_32 *s32 = (struct shared_info_x86_32 *)D.shinfo;
    struct vcpu_info_x86_32 *v32 = &s32->vcpu_info[0];
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
    for (unsigned i = 0; i < 40; i++)
        CHECK_EQ(evtchn_op(&D.ev, EVTCHNOP_alloc_unbound, &a, 0), 0);
    CHECK_EQ(a.port, 40);
    evtchn_set_pending(&D.ev, 40);
    CHECK_EQ(s32->evtchn_pending[1], 1u << 8);
    CHECK_EQ(v32->evtchn_pending_sel, 1u << 1);       /* word 1 of 32-bit words */
    CHECK_EQ(v32->evtchn_upcall_pending, 1);
    CHECK(evtchn_port_pending(&D.ev, 40));
    /* masked: pending without selector bit */
    s32->evtchn_mask[1] |= 1u << 9;
    v32->evtchn_pending_sel = 0;
    a.port = 0;
    CHECK_EQ(evtchn_op(&D.ev, EVTCHNOP_alloc_unbound, &a, 0), 0);
    CHECK_EQ(a.port, 41);
    evtchn_set_pending(&D.ev, 41);
    CHECK_EQ(s32->evtchn_pending[1], 3u << 8);
    CHECK_EQ(v32->evtchn_pending_sel, 0);
    struct evtchn_unmask u = { .port = 41 };
    CHECK_EQ(evtchn_op(&D.ev, EVTCHNOP_unmask, &u, 0), 0);
    CHECK_EQ(s32->evtchn_mask[1], 0);
    CHECK_EQ(v32->evtchn_pending_sel, 1u << 1);
    CHECK_EQ(evtchn_2l_max_ports(&D.ev), 1024);
    CHECK_EQ(evtchn_max_ports(&D.ev), 1024);           /* Xen's max_evtchns: no FIFO */
    /* No port beyond 1024 in this layout. */
    long rc = 0;
    for (unsigned i = 0; i < 1100 && rc == 0; i++)
        rc = evtchn_op(&D.ev, EVTCHNOP_alloc_unbound, &a, 0);
    CHECK_EQ(rc, -ENOSPC);
    CHECK(a.port < 1024);
}

/* Found by fuzz/xen/fuzz_hypercall: an offset not a multiple of 8 put the
 * vcpu_info xenkvm reaches through its native type at a misaligned address
 * (UBSan: misaligned member access). Now refused with -EINVAL, as Xen
 * refuses a misaligned one (XSA-327); the same call aligned succeeds. */
TEST(compat_register_vcpu_info_refuses_a_misaligned_offset)
{
    fx_init();
    D.ev.shinfo32 = true;
    *AT(struct vcpu_register_vcpu_info, ARG) = (struct vcpu_register_vcpu_info){ .mfn = 0x35, .offset = 0x44 };
    CHECK_EQ(call32(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, ARG), -EINVAL);
    CHECK(D.xv[0].vi_gpa == ~0ull);
    AT(struct vcpu_register_vcpu_info, ARG)->offset = 0x41;
    CHECK_EQ(call32(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, ARG), -EINVAL);
    AT(struct vcpu_register_vcpu_info, ARG)->offset = 0x40;
    CHECK_EQ(call32(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, ARG), 0);
    CHECK_EQ(D.xv[0].vi_gpa, 0x35040);
    CHECK(D.xv[0].vi == AT(struct vcpu_info, 0x35040));
}

/* Found by fuzz/xen/fuzz_hypercall: a vcpu_info registered inside shared_info
 * (placed in a RAM page), over its own slot there, was copied with memcpy
 * between overlapping ranges (ASan: memcpy-param-overlap). Its contents move
 * as they would to a place of their own. */
TEST(register_vcpu_info_over_its_own_slot_in_shared_info)
{
    fx_init();
    *AT(struct compat_add_to_physmap, ARG) = (struct compat_add_to_physmap){
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0, .gpfn = 0x10 };
    CHECK_EQ(call32(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0), 0);
    struct vcpu_info *old = D.xv[0].vi;
    CHECK(old == AT(struct vcpu_info, 0x10000));
    old->arch.cr2 = 0x1234;                /* a field the move must carry */
    *AT(struct vcpu_register_vcpu_info, ARG) = (struct vcpu_register_vcpu_info){
        .mfn = 0x10, .offset = 0x28 };
    CHECK_EQ(call32(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, ARG), 0);
    CHECK(D.xv[0].vi == AT(struct vcpu_info, 0x10028));
    CHECK_EQ(D.xv[0].vi->arch.cr2, 0x1234);
    CHECK_EQ(D.xv[0].vi->evtchn_upcall_pending, 1);
}
