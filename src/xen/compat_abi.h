/* The structures of Xen's 32-bit hypercall ABI ("compat") that differ from
 * the native ones: Xen's public structures as the i386 ABI lays them out
 * (pointers, guest handles, xen_ulong_t and xen_pfn_t are 32 bits; a uint64_t
 * is only 4-byte aligned). Self-contained, so that
 * tests/unit/xen/compat_layout32.c can compile it with -m32 beside Xen's
 * public headers and check every field against them. */
#pragma once
#include <stdint.h>
#include <xen/xen.h>
#include <xen/grant_table.h>

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

struct compat_foreign_memory_map {
    domid_t domid;
    uint16_t _pad;
    struct compat_memory_map map;
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
_Static_assert(sizeof(struct compat_foreign_memory_map) == 12, "compat_foreign_memory_map");
_Static_assert(sizeof(struct compat_memory_reservation) == 20, "compat_memory_reservation");
_Static_assert(sizeof(struct compat_add_to_physmap) == 16, "compat_add_to_physmap");
_Static_assert(sizeof(struct compat_add_to_physmap_batch) == 20, "compat_add_to_physmap_batch");
_Static_assert(sizeof(struct compat_gnttab_setup_table) == 16, "compat_gnttab_setup_table");
_Static_assert(sizeof(struct compat_gnttab_copy) == 24, "compat_gnttab_copy");
_Static_assert(sizeof(struct compat_vcpu_runstate_info) == 44, "compat_vcpu_runstate_info");
_Static_assert(sizeof(struct compat_vcpu_set_singleshot_timer) == 12, "compat_vcpu_set_singleshot_timer");
_Static_assert(sizeof(struct compat_sched_poll) == 16, "compat_sched_poll");
_Static_assert(sizeof(struct compat_platform_parameters) == 4, "compat_platform_parameters");
