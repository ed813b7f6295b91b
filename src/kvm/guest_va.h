/* Guest-virtual memory access by walking the guest's own page tables, as a
 * hypervisor's copy_from_guest/copy_to_guest do. Every guest pointer handed to a
 * hypercall goes through here; a missing, non-canonical or read-only mapping, or
 * a frame outside guest memory, is -EFAULT. */
#pragma once
#include "kvm/vm.h"

struct guest_va {
    struct vm *vm;
    uint64_t cr0, cr3, cr4, efer;
};

void guest_va_init(struct guest_va *g, struct vm *vm, const struct kvm_sregs *s);
/* 0 and *gpa, or -EFAULT. */
int guest_va_translate(const struct guest_va *g, uint64_t va, bool write, uint64_t *gpa);
int guest_copy_from(const struct guest_va *g, void *dst, uint64_t va, size_t len);
int guest_copy_to(const struct guest_va *g, uint64_t va, const void *src, size_t len);
