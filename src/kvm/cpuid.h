#pragma once
#include "kvm/vm.h"
/* Loads the host-supported CPUID into vm->cpuid with KVM's own hypervisor leaves
 * (0x40000000..0x4fffffff) removed. */
int cpuid_init(struct vm *vm);
/* The per-vCPU table: vm->cpuid with the APIC ids of vCPU id filled in.
 * Caller frees. */
struct kvm_cpuid2 *cpuid_for_vcpu(const struct vm *vm, int id);
