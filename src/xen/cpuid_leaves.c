/* Xen's CPUID leaves at 0x40000000, as Xen 4.17 presents them to an HVM/PVH guest. */
#include "xen/domain.h"
#include <string.h>
#include <xen/arch-x86/cpuid.h>

void xen_cpuid_leaves(struct vm *vm, domid_t domid)
{
    uint32_t sig[3];
    memcpy(sig, "XenVMMXenVMM", 12);
    vm_cpuid_set(vm, XEN_CPUID_BASE, 0, XEN_CPUID_BASE + 5, sig[0], sig[1], sig[2]);
    vm_cpuid_set(vm, XEN_CPUID_BASE + 1, 0, (XEN_MAJOR << 16) | XEN_MINOR, 0, 0, 0);
    vm_cpuid_set(vm, XEN_CPUID_BASE + 2, 0, 1, XEN_HYPERCALL_MSR, 0, 0);
    /* Time leaf: TSC frequency in kHz (sub-leaves 0 and 2). */
    vm_cpuid_set(vm, XEN_CPUID_BASE + 3, 0, 0, 0, vm->tsc_khz, 0);
    vm_cpuid_set(vm, XEN_CPUID_BASE + 3, 2, vm->tsc_khz, 0, 0, 0);
    /* HVM leaf: ebx = vCPU id (patched per vCPU), ecx = domid. */
    vm_cpuid_set(vm, XEN_CPUID_BASE + 4, 0,
                 XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT |
                 XEN_HVM_CPUID_UPCALL_VECTOR, 0, domid, 0);
    vm_cpuid_set(vm, XEN_CPUID_BASE + 5, 0, 0, 0, 0, 0);
    /* The hypervisor-present bit, for guests that look before scanning. */
    for (uint32_t i = 0; i < vm->cpuid->nent; i++)
        if (vm->cpuid->entries[i].function == 1)
            vm->cpuid->entries[i].ecx |= 1u << 31;
}
