#pragma once
#include "kvm/vm.h"
/* Loads the host-supported CPUID into vm->cpuid with KVM's own hypervisor leaves
 * (0x40000000..0x4fffffff) removed. With cache (a file path, or NULL), KVM's
 * answer is kept there and reused while the same KVM modules are loaded in the
 * same boot: KVM_GET_SUPPORTED_CPUID runs CPUID on the host for every leaf,
 * which costs a third of a millisecond when the host is itself a VM. */
int cpuid_init(struct vm *vm, const char *cache);
/* The per-vCPU table: vm->cpuid with the APIC ids of vCPU id filled in.
 * Caller frees. */
struct kvm_cpuid2 *cpuid_for_vcpu(const struct vm *vm, int id);
