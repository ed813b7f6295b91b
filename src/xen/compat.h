/* Xen's 32-bit hypercall ABI ("compat"): what a caller in 32-bit mode passes.
 * Its structures are Xen's public ones laid out by the i386 ABI (pointers,
 * guest handles, xen_ulong_t and xen_pfn_t are 32 bits; a uint64_t is only
 * 4-byte aligned). The compat_*.c files translate them into the native
 * structures at the hypercall boundary, in the translation window
 * (guest_va_set_xlat), and call the native handlers, as Xen's compat layer
 * does; structures that are the same in both ABIs go through untouched.
 * tests/unit/xen/compat_layout32.c checks every structure here against the
 * public headers compiled for i386. */
#pragma once
#include "xen/domain.h"
#include <stddef.h>
#include <stdint.h>

/* A uint64_t as i386 aligns it inside structures (Xen's uint64_compat_t). */
typedef uint64_t compat_u64 __attribute__((aligned(4)));
typedef uint32_t compat_ptr_t;       /* a guest handle or pointer */
typedef uint32_t compat_ulong_t;     /* xen_ulong_t, unsigned long */
typedef uint32_t compat_pfn_t;       /* xen_pfn_t */

/* ---- memory_op ---- */
struct compat_memory_map {
    uint32_t nr_entries;
    compat_ptr_t buffer;
};

struct compat_memory_reservation {
    compat_ptr_t extent_start;       /* compat_pfn_t[] */
    compat_ulong_t nr_extents;
    uint32_t extent_order;
    uint32_t mem_flags;
    domid_t domid;
};

struct compat_add_to_physmap {
    domid_t domid;
    uint16_t size;
    uint32_t space;
    compat_ulong_t idx;
    compat_pfn_t gpfn;
};

struct compat_add_to_physmap_batch {
    domid_t domid;
    uint16_t space;
    uint16_t size;
    uint16_t foreign_domid;          /* union u: res0 / foreign_domid */
    compat_ptr_t idxs;               /* compat_ulong_t[] */
    compat_ptr_t gpfns;              /* compat_pfn_t[] */
    compat_ptr_t errs;               /* int[] */
};

/* ---- grant_table_op ---- */
struct compat_gnttab_setup_table {
    domid_t dom;
    uint32_t nr_frames;
    int16_t status;
    compat_ptr_t frame_list;         /* compat_pfn_t[] */
};

struct compat_gnttab_copy_ptr {
    union {
        grant_ref_t ref;
        compat_pfn_t gmfn;
    } u;
    domid_t domid;
    uint16_t offset;
};

struct compat_gnttab_copy {
    struct compat_gnttab_copy_ptr source, dest;
    uint16_t len;
    uint16_t flags;
    int16_t status;
};

/* ---- vcpu_op ---- */
struct compat_vcpu_runstate_info {
    int32_t state;
    compat_u64 state_entry_time;
    compat_u64 time[4];
};

struct compat_vcpu_set_singleshot_timer {
    compat_u64 timeout_abs_ns;
    uint32_t flags;
};

/* ---- sched_op ---- */
struct compat_sched_poll {
    compat_ptr_t ports;              /* evtchn_port_t[] */
    uint32_t nr_ports;
    compat_u64 timeout;
};

/* ---- xen_version ---- */
struct compat_platform_parameters {
    compat_ulong_t virt_start;
};

/* Sizes by the i386 ABI, also checked here for this (64-bit) build. */
_Static_assert(sizeof(struct compat_memory_map) == 8, "compat_memory_map");
_Static_assert(sizeof(struct compat_memory_reservation) == 20, "compat_memory_reservation");
_Static_assert(sizeof(struct compat_add_to_physmap) == 16, "compat_add_to_physmap");
_Static_assert(sizeof(struct compat_add_to_physmap_batch) == 20, "compat_add_to_physmap_batch");
_Static_assert(sizeof(struct compat_gnttab_setup_table) == 16, "compat_gnttab_setup_table");
_Static_assert(sizeof(struct compat_gnttab_copy) == 24, "compat_gnttab_copy");
_Static_assert(sizeof(struct compat_vcpu_runstate_info) == 44, "compat_vcpu_runstate_info");
_Static_assert(sizeof(struct compat_vcpu_set_singleshot_timer) == 12, "compat_vcpu_set_singleshot_timer");
_Static_assert(sizeof(struct compat_sched_poll) == 16, "compat_sched_poll");
_Static_assert(sizeof(struct compat_platform_parameters) == 4, "compat_platform_parameters");

/* The translation window: native structures built for a 32-bit caller live
 * here, at a guest-virtual address no 32-bit guest can name (above 4 GiB).
 * The size is Xen's COMPAT_ARG_XLAT_SIZE. */
#define COMPAT_XLAT_VA   0xffff800000000000ull
#define COMPAT_XLAT_SIZE (2 * 4096)

struct compat_xlat {
    struct hcall h;                  /* the native call: args point into buf */
    uint8_t buf[COMPAT_XLAT_SIZE] __attribute__((aligned(8)));
};

/* Starts a native call for compat call h: x->h is h with the window set up
 * (x->buf zeroed); returns x->buf. */
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
