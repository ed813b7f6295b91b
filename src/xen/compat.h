/* Xen's 32-bit hypercall ABI ("compat"): what a caller in 32-bit mode passes
 * (structures in compat_abi.h). The compat_*.c files translate them into the
 * native structures at the hypercall boundary, in the translation window
 * (guest_va_set_xlat), and call the native handlers, as Xen's compat layer
 * does; structures that are the same in both ABIs go through untouched. */
#pragma once
#include "xen/domain.h"
#include <stddef.h>
#include <stdint.h>

#include "xen/compat_abi.h"

/* The translation window: native structures built for a 32-bit caller live
 * here, at a guest-virtual address no 32-bit guest can name (above 4 GiB).
 * The size is Xen's COMPAT_ARG_XLAT_SIZE. */
#define COMPAT_XLAT_VA   0xffff800000000000ull
#define COMPAT_XLAT_SIZE (2 * 4096)

struct compat_xlat {
    struct hcall h;                  /* the native call: args point into buf */
    uint8_t buf[COMPAT_XLAT_SIZE] __attribute__((aligned(8)));
};

/* Starts a native call for compat call h: x->h is h with the window set up;
 * returns x->buf (not cleared). */
void *compat_xlat_begin(struct compat_xlat *x, const struct hcall *h);

/* The guest-virtual address (as a guest handle's value) of p inside x->buf:
 * what a native structure in the window must hold to point into it. */
static inline void *compat_xlat_ptr(const struct compat_xlat *x, const void *p)
{
    return (void *)(uintptr_t)(COMPAT_XLAT_VA + (uint64_t)((const uint8_t *)p - x->buf));
}

/* Entry for a caller in 32-bit mode: translated handlers where Xen has them,
 * the native ones where the structures are the same. */
long compat_hypercall_dispatch(struct hcall *h, unsigned nr);

long compat_memory_op(struct hcall *h);
long compat_grant_table_op(struct hcall *h);
long compat_vcpu_op(struct hcall *h);
long compat_sched_op(struct hcall *h);
long compat_xen_version(struct hcall *h);
long compat_set_timer_op(struct hcall *h);

/* The native vcpu_runstate_info in the i386 layout. */
void compat_runstate_from_native(struct compat_vcpu_runstate_info *c,
                                 const struct vcpu_runstate_info *n);
