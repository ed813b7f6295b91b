/* Guest-virtual memory access by walking the guest's own page tables, as a
 * hypervisor's copy_from_guest/copy_to_guest do. Every guest pointer handed to a
 * hypercall goes through here; a missing, non-canonical or read-only mapping, or
 * a frame outside guest memory, is -EFAULT. An access that touches the
 * translation window must lie wholly inside it. */
#pragma once
#include "kvm/vm.h"

struct guest_va {
    struct vm *vm;
    uint64_t cr0, cr3, cr4, efer;
    /* An argument-translation window (Xen's COMPAT_ARG_XLAT area): while set,
     * [xlat_va, xlat_va + xlat_len) is this host buffer instead of guest
     * memory, so that a handler reads a structure translated for it as if the
     * guest had passed it. xlat_va lies where the guest cannot point. */
    uint8_t *xlat;
    uint64_t xlat_va;
    size_t xlat_len;
};

void guest_va_init(struct guest_va *g, struct vm *vm, const struct kvm_sregs *s);
/* Sets (buf != NULL) or clears the translation window. */
void guest_va_set_xlat(struct guest_va *g, void *buf, uint64_t va, size_t len);
/* 0 and *gpa, or -EFAULT. */
int guest_va_translate(const struct guest_va *g, uint64_t va, bool write, uint64_t *gpa);
int guest_copy_from(const struct guest_va *g, void *dst, uint64_t va, size_t len);
int guest_copy_to(const struct guest_va *g, uint64_t va, const void *src, size_t len);
