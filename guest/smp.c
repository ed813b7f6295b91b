/* Per-CPU data and secondary vCPU start (VCPUOP_initialise with a 64-bit
 * vcpu_hvm_context, then VCPUOP_up). */
#include "cpu.h"
#include "events.h"
#include "hypercall.h"
#include "traps.h"

struct percpu percpu[MAX_CPUS];

#define MSR_GS_BASE 0xc0000101

#ifdef __x86_64__
void percpu_init(unsigned id)
{
    percpu[id].self = &percpu[id];
    percpu[id].id = id;
    wrmsr(MSR_GS_BASE, (uintptr_t)&percpu[id]);
}
#else
/* 32-bit: a data segment per vCPU in boot32.S's GDT, based at its percpu. */
extern uint64_t boot_gdt[];

void percpu_init(unsigned id)
{
    percpu[id].self = &percpu[id];
    percpu[id].id = id;
    uint32_t base = (uintptr_t)&percpu[id];
    boot_gdt[3 + id] = 0x00cf92000000ffffull | ((uint64_t)(base & 0xffffff) << 16) |
                       ((uint64_t)(base >> 24) << 56);
    uint16_t sel = (3 + id) * 8;
    asm volatile("mov %0, %%gs" :: "r"(sel) : "memory");
}
#endif

int cpuid_vcpu_id(void)
{
    uint32_t a, b, c, d;
    cpuid(xen_cpuid_base + 4, 0, &a, &b, &c, &d);
    return (a & XEN_HVM_CPUID_VCPU_ID_PRESENT) ? (int)b : -1;
}

#ifdef __x86_64__
extern char ap_start64[];
extern uint64_t boot_pml4[];
#else
extern char ap_start32[];
#endif

static uint8_t ap_stacks[MAX_CPUS][16384] ALIGNED(16);
static void (*ap_fn[MAX_CPUS])(unsigned id);
bool smp_own_delivery;

/* Called from ap_start64 (boot.S) / ap_start32 (boot32.S) with the vCPU id. */
void ap_main(unsigned long id);
void ap_main(unsigned long id)
{
    percpu_init((unsigned)id);
    traps_init();
    if (!smp_own_delivery) {
        apic_init();
        events_init_cpu();
    }
    percpu[id].online = true;
    ap_fn[id]((unsigned)id);
    for (;;) {
        irq_enable();
        asm volatile("hlt");
    }
}

long smp_start_cpu(unsigned id, void (*fn)(unsigned id))
{
    if (id >= MAX_CPUS)
        return -XEN_EINVAL;
    ap_fn[id] = fn;
    unsigned long cr0, cr4;
    asm volatile("mov %%cr0, %0" : "=r"(cr0));
    asm volatile("mov %%cr4, %0" : "=r"(cr4));
#ifdef __x86_64__
    struct vcpu_hvm_context ctx = { .mode = VCPU_HVM_MODE_64B };
    ctx.cpu_regs.x86_64 = (struct vcpu_hvm_x86_64){
        .rip = (uintptr_t)ap_start64,
        .rsp = (uintptr_t)(ap_stacks[id] + sizeof(ap_stacks[id])),
        .rdi = id,
        .rflags = 0x2,
        .cr0 = cr0,
        .cr3 = (uintptr_t)boot_pml4,
        .cr4 = cr4,
        .efer = rdmsr(0xc0000080),
    };
#else
    /* Flat 32-bit segments, paging off: the ar fields are Xen's (type, S,
     * DPL, P, AVL, L, D/B, G bits from bit 0). */
    struct vcpu_hvm_context ctx = { .mode = VCPU_HVM_MODE_32B };
    ctx.cpu_regs.x86_32 = (struct vcpu_hvm_x86_32){
        .eip = (uintptr_t)ap_start32,
        .esp = (uintptr_t)(ap_stacks[id] + sizeof(ap_stacks[id])),
        .edi = id,
        .eflags = 0x2,
        .cr0 = cr0,
        .cr4 = cr4,
        .cs_limit = 0xffffffff, .cs_ar = 0xc9b,
        .ds_limit = 0xffffffff, .ds_ar = 0xc93,
        .ss_limit = 0xffffffff, .ss_ar = 0xc93,
        .es_limit = 0xffffffff, .es_ar = 0xc93,
        .tr_limit = 0x67, .tr_ar = 0x8b,
    };
#endif
    long rc = HYPERVISOR_vcpu_op(VCPUOP_initialise, id, &ctx);
    if (rc)
        return rc;
    return HYPERVISOR_vcpu_op(VCPUOP_up, id, NULL);
}
