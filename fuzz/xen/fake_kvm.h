/* A VM with guest memory and vCPUs but no /dev/kvm, for the hypercall fuzz
 * target: guest RAM is a memfd as vm_create makes it, the region table is
 * src/kvm's own, and the few ioctls the Xen layer makes on the VM (a memory
 * slot for a page placed outside RAM, an upcall vector's MSI, the callback vector queued as an external interrupt, a vCPU's special
 * registers for a TLB flush) are answered by fake_kvm.c instead of KVM; the
 * other vCPU ioctls fail (ENOTTY). */
#pragma once
#include "kvm/vm.h"

/* Above any real fd number (RLIMIT_NOFILE); never closed (fake_vm_destroy). */
#define FAKE_VM_FD 1000000
#define FAKE_VCPU_FD (FAKE_VM_FD + 1)   /* + the vCPU's index */

/* Builds vm (zero-filled) with ram_size bytes of RAM at guest-physical 0. */
void fake_vm_create(struct vm *vm, int nr_vcpus, uint64_t ram_size);
/* Unmaps everything the VM had mapped (also the slots removed meanwhile). */
void fake_vm_destroy(struct vm *vm);
