/* tlb: HVMOP_flush_tlbs (Xen's hvmop_flush_tlb_all: every vCPU's TLB flushed,
 * the argument must be NULL). A page at a virtual address of its own is
 * remapped by changing its PTE without INVLPG; after HVMOP_flush_tlbs both
 * vCPUs must see the new page. Run with two vCPUs. */
#include "xtest.h"
#include "cpu.h"
#include "hypercall.h"
#include "pvclock.h"
#include "report.h"

#define MS 1000000ULL
#define VA 0x8000000000ul           /* PML4 slot 1: nothing else there */

extern uint64_t boot_pml4[512];
static uint64_t pdpt[512] ALIGNED(4096), pd[512] ALIGNED(4096), pt[512] ALIGNED(4096);
static volatile uint32_t page_a[1024] ALIGNED(4096), page_b[1024] ALIGNED(4096);

static volatile uint32_t ap_seen, ap_round, ap_done;

static uint32_t read_va(void)
{
    return *(volatile uint32_t *)VA;
}

/* vCPU 1: reads the page whenever vCPU 0 asks (ap_round), and keeps reading
 * in between so that its TLB holds the translation. */
static void ap_work(unsigned id)
{
    (void)id;
    uint32_t done = 0;
    for (;;) {
        uint32_t v = read_va();
        if (ap_round != done) {
            ap_seen = read_va();
            done = ap_round;
            ap_done = done;
        }
        (void)v;
        cpu_relax();
    }
}

static bool ap_read(uint32_t *seen)
{
    uint32_t r = ap_round + 1;
    ap_round = r;
    uint64_t end = xen_time_ns() + 500 * MS;
    while (ap_done != r && xen_time_ns() < end)
        cpu_relax();
    *seen = ap_seen;
    return ap_done == r;
}

void prog_tlb(int argc, char **argv)
{
    (void)argc, (void)argv;
    check_rc("HVMOP_flush_tlbs with a non-NULL argument -> -EINVAL",
             HYPERVISOR_hvm_op(HVMOP_flush_tlbs, (void *)page_a), -XEN_EINVAL);
    check_rc("HVMOP_flush_tlbs", HYPERVISOR_hvm_op(HVMOP_flush_tlbs, NULL), 0);

    page_a[0] = 0xaaaaaaaa;
    page_b[0] = 0xbbbbbbbb;
    pt[0] = (uintptr_t)page_a | 0x3;
    pd[0] = (uintptr_t)pt | 0x3;
    pdpt[0] = (uintptr_t)pd | 0x3;
    boot_pml4[1] = (uintptr_t)pdpt | 0x3;
    asm volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
    check(read_va() == 0xaaaaaaaa, "page mapped at 512 GiB", "0x%x", read_va());

    bool smp = HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL) >= 0 && smp_start_cpu(1, ap_work) == 0;
    uint32_t seen = 0;
    if (smp)
        check(ap_read(&seen) && seen == 0xaaaaaaaa, "vCPU 1 reads it too", "0x%x", seen);

    /* Remap to page B without INVLPG. */
    __atomic_store_n(&pt[0], (uintptr_t)page_b | 0x3, __ATOMIC_SEQ_CST);
    uint32_t stale = read_va();
    printf("  before the flush vCPU 0 reads 0x%x (%s)\n", stale,
           stale == 0xaaaaaaaa ? "a stale TLB entry" : "no stale entry here");
    check_rc("HVMOP_flush_tlbs after the remap", HYPERVISOR_hvm_op(HVMOP_flush_tlbs, NULL), 0);
    check(read_va() == 0xbbbbbbbb, "vCPU 0 sees the new page after the flush", "0x%x", read_va());
    if (smp)
        check(ap_read(&seen) && seen == 0xbbbbbbbb, "vCPU 1 sees the new page after the flush",
              "0x%x", seen);
    /* Back, for good measure, and once more through the flush. */
    __atomic_store_n(&pt[0], (uintptr_t)page_a | 0x3, __ATOMIC_SEQ_CST);
    HYPERVISOR_hvm_op(HVMOP_flush_tlbs, NULL);
    check(read_va() == 0xaaaaaaaa && (!smp || (ap_read(&seen) && seen == 0xaaaaaaaa)),
          "every vCPU follows a second remap", "vCPU 0 0x%x, vCPU 1 0x%x", read_va(), seen);
}
