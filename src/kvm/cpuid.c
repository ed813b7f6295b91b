/* The guest's CPUID table: what KVM supports, minus KVM's paravirt signature,
 * plus leaves the layer above adds (Xen's, at 0x40000000). */
#include "kvm/cpuid.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define CPUID_MAX_ENTRIES 256

int cpuid_init(struct vm *vm)
{
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
    if (!c)
        return -1;
    c->nent = CPUID_MAX_ENTRIES;
    if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
        free(c);
        return -1;
    }
    uint32_t out = 0;
    for (uint32_t i = 0; i < c->nent; i++) {
        uint32_t fn = c->entries[i].function;
        if (fn >= 0x40000000u && fn < 0x50000000u)
            continue;     /* no KVM signature: the guest must see only Xen */
        c->entries[out++] = c->entries[i];
    }
    c->nent = out;
    vm->cpuid = c;
    return 0;
}

void vm_cpuid_set(struct vm *vm, uint32_t fn, uint32_t idx, uint32_t eax, uint32_t ebx,
                  uint32_t ecx, uint32_t edx)
{
    struct kvm_cpuid2 *c = vm->cpuid;
    struct kvm_cpuid_entry2 *e = NULL;
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == fn && c->entries[i].index == idx)
            e = &c->entries[i];
    if (!e) {
        if (c->nent == CPUID_MAX_ENTRIES)
            return;
        e = &c->entries[c->nent++];
        memset(e, 0, sizeof(*e));
        e->function = fn;
        e->index = idx;
    }
    e->eax = eax;
    e->ebx = ebx;
    e->ecx = ecx;
    e->edx = edx;
    /* A function with several sub-leaves: KVM matches ecx only when told to. */
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == fn && &c->entries[i] != e && c->entries[i].index != idx) {
            c->entries[i].flags |= KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
            e->flags |= KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
        }
}

struct kvm_cpuid2 *cpuid_for_vcpu(const struct vm *vm, int id)
{
    size_t sz = sizeof(*vm->cpuid) + vm->cpuid->nent * sizeof(vm->cpuid->entries[0]);
    struct kvm_cpuid2 *c = malloc(sz);
    if (!c)
        return NULL;
    memcpy(c, vm->cpuid, sz);
    for (uint32_t i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        switch (e->function) {
        case 1:       /* initial APIC id in ebx[31:24]; logical count */
            e->ebx = (e->ebx & 0x0000ffffu) | ((uint32_t)vm->nr_vcpus << 16) | ((uint32_t)id << 24);
            break;
        case 0xb:     /* x2APIC id */
        case 0x1f:
            e->edx = id;
            break;
        case 0x40000004:   /* Xen HVM leaf: ebx = vcpu_id */
            e->ebx = id;
            break;
        }
    }
    return c;
}
