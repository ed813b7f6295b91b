/* Per-CPU data and secondary vCPU start (VCPUOP_initialise with a 64-bit
 * vcpu_hvm_context, then VCPUOP_up). */
#include "cpu.h"
#include "events.h"
#include "hypercall.h"
#include "traps.h"

struct percpu percpu[MAX_CPUS];

#define MSR_GS_BASE 0xc0000101

void percpu_init(unsigned id)
{
    percpu[id].self = &percpu[id];
    percpu[id].id = id;
    wrmsr(MSR_GS_BASE, (uintptr_t)&percpu[id]);
}

int cpuid_vcpu_id(void)
{
    uint32_t a, b, c, d;
    cpuid(xen_cpuid_base + 4, 0, &a, &b, &c, &d);
    return (a & XEN_HVM_CPUID_VCPU_ID_PRESENT) ? (int)b : -1;
}

extern char ap_start64[];
extern uint64_t boot_pml4[];

static uint8_t ap_stacks[MAX_CPUS][16384] ALIGNED(16);
static void (*ap_fn[MAX_CPUS])(unsigned id);
bool smp_own_delivery;

/* Called from ap_start64 (boot.S) with the vCPU id in %rdi. */
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
    uint64_t cr0, cr4;
    asm volatile("mov %%cr0, %0" : "=r"(cr0));
    asm volatile("mov %%cr4, %0" : "=r"(cr4));
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
    long rc = HYPERVISOR_vcpu_op(VCPUOP_initialise, id, &ctx);
    if (rc)
        return rc;
    return HYPERVISOR_vcpu_op(VCPUOP_up, id, NULL);
}
