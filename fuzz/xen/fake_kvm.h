/* A VM with guest memory and vCPUs but no /dev/kvm, for the hypercall fuzz
 * target: guest RAM is a memfd as vm_create makes it, the region table is
 * src/kvm's own, and the few ioctls the Xen layer makes on the VM (a memory
 * slot for a page placed outside RAM, an upcall vector's MSI) are answered by
 * fake_kvm.c instead of KVM. vCPU registers are not faked: the vCPUs' fds are
 * -1, and an ioctl on them fails as a closed fd's would. */
#pragma once
#include "kvm/vm.h"

#define FAKE_VM_FD 1000000     /* above any real fd number (RLIMIT_NOFILE) */

/* Builds vm (zero-filled) with ram_size bytes of RAM at guest-physical 0. */
void fake_vm_create(struct vm *vm, int nr_vcpus, uint64_t ram_size);
/* Unmaps everything the VM had mapped (also the slots removed meanwhile). */
void fake_vm_destroy(struct vm *vm);
