/* The 32-bit ABI's structures against Xen's public headers compiled for i386
 * (what Xen generates its compat headers from): compiled with -m32 by
 * tests/test_compat_layout.py (and the build), every compat structure xenkvm
 * translates must have the i386 size and every field the i386 offset and
 * size. Compiled for x86-64 instead, the same checks must fail: the layouts
 * differ there, which shows that they check something. Debian ships the i386
 * shared_info and vcpu_info as <xen/foreign/x86_32.h>: those are checked the
 * same way. Nothing here runs; it only has to compile. */
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/memory.h>
#include <xen/grant_table.h>
#include <xen/vcpu.h>
#include <xen/sched.h>
#include <xen/version.h>
#include <xen/io/blkif.h>
#include <xen/foreign/x86_32.h>

#include "xen/compat_abi.h"
#include "backend/blkif_abi32.h"

#define SAME_SIZE(c, n) \
    _Static_assert(sizeof(c) == sizeof(n), "size of " #c " != i386 " #n)
#define SAME_FIELD(c, cf, n, nf) \
    _Static_assert(offsetof(c, cf) == offsetof(n, nf) && \
                   sizeof(((c *)0)->cf) == sizeof(((n *)0)->nf), \
                   #c "." #cf " != i386 " #n "." #nf)
#define FIELD(c, n, f) SAME_FIELD(c, f, n, f)

/* memory_op */
SAME_SIZE(struct compat_memory_map, struct xen_memory_map);
FIELD(struct compat_memory_map, struct xen_memory_map, nr_entries);
FIELD(struct compat_memory_map, struct xen_memory_map, buffer);

SAME_SIZE(struct compat_foreign_memory_map, struct xen_foreign_memory_map);
FIELD(struct compat_foreign_memory_map, struct xen_foreign_memory_map, domid);
SAME_FIELD(struct compat_foreign_memory_map, map.nr_entries, struct xen_foreign_memory_map,
           map.nr_entries);
SAME_FIELD(struct compat_foreign_memory_map, map.buffer, struct xen_foreign_memory_map, map.buffer);

SAME_SIZE(struct compat_memory_reservation, struct xen_memory_reservation);
FIELD(struct compat_memory_reservation, struct xen_memory_reservation, extent_start);
FIELD(struct compat_memory_reservation, struct xen_memory_reservation, nr_extents);
FIELD(struct compat_memory_reservation, struct xen_memory_reservation, extent_order);
FIELD(struct compat_memory_reservation, struct xen_memory_reservation, mem_flags);
FIELD(struct compat_memory_reservation, struct xen_memory_reservation, domid);

SAME_SIZE(struct compat_add_to_physmap, struct xen_add_to_physmap);
FIELD(struct compat_add_to_physmap, struct xen_add_to_physmap, domid);
FIELD(struct compat_add_to_physmap, struct xen_add_to_physmap, size);
FIELD(struct compat_add_to_physmap, struct xen_add_to_physmap, space);
FIELD(struct compat_add_to_physmap, struct xen_add_to_physmap, idx);
FIELD(struct compat_add_to_physmap, struct xen_add_to_physmap, gpfn);

SAME_SIZE(struct compat_add_to_physmap_batch, struct xen_add_to_physmap_batch);
FIELD(struct compat_add_to_physmap_batch, struct xen_add_to_physmap_batch, domid);
FIELD(struct compat_add_to_physmap_batch, struct xen_add_to_physmap_batch, space);
FIELD(struct compat_add_to_physmap_batch, struct xen_add_to_physmap_batch, size);
SAME_FIELD(struct compat_add_to_physmap_batch, foreign_domid,
           struct xen_add_to_physmap_batch, u.foreign_domid);
FIELD(struct compat_add_to_physmap_batch, struct xen_add_to_physmap_batch, idxs);
FIELD(struct compat_add_to_physmap_batch, struct xen_add_to_physmap_batch, gpfns);
FIELD(struct compat_add_to_physmap_batch, struct xen_add_to_physmap_batch, errs);

/* grant_table_op */
SAME_SIZE(struct compat_gnttab_setup_table, struct gnttab_setup_table);
FIELD(struct compat_gnttab_setup_table, struct gnttab_setup_table, dom);
FIELD(struct compat_gnttab_setup_table, struct gnttab_setup_table, nr_frames);
FIELD(struct compat_gnttab_setup_table, struct gnttab_setup_table, status);
FIELD(struct compat_gnttab_setup_table, struct gnttab_setup_table, frame_list);

SAME_SIZE(struct compat_gnttab_copy, struct gnttab_copy);
FIELD(struct compat_gnttab_copy, struct gnttab_copy, source.u.ref);
FIELD(struct compat_gnttab_copy, struct gnttab_copy, source.u.gmfn);
FIELD(struct compat_gnttab_copy, struct gnttab_copy, source.domid);
FIELD(struct compat_gnttab_copy, struct gnttab_copy, source.offset);
FIELD(struct compat_gnttab_copy, struct gnttab_copy, dest.u.gmfn);
FIELD(struct compat_gnttab_copy, struct gnttab_copy, dest.domid);
FIELD(struct compat_gnttab_copy, struct gnttab_copy, dest.offset);
FIELD(struct compat_gnttab_copy, struct gnttab_copy, len);
FIELD(struct compat_gnttab_copy, struct gnttab_copy, flags);
FIELD(struct compat_gnttab_copy, struct gnttab_copy, status);

/* vcpu_op */
SAME_SIZE(struct compat_vcpu_runstate_info, struct vcpu_runstate_info);
FIELD(struct compat_vcpu_runstate_info, struct vcpu_runstate_info, state);
FIELD(struct compat_vcpu_runstate_info, struct vcpu_runstate_info, state_entry_time);
FIELD(struct compat_vcpu_runstate_info, struct vcpu_runstate_info, time);

SAME_SIZE(struct compat_vcpu_set_singleshot_timer, struct vcpu_set_singleshot_timer);
FIELD(struct compat_vcpu_set_singleshot_timer, struct vcpu_set_singleshot_timer, timeout_abs_ns);
FIELD(struct compat_vcpu_set_singleshot_timer, struct vcpu_set_singleshot_timer, flags);

/* sched_op */
SAME_SIZE(struct compat_sched_poll, struct sched_poll);
FIELD(struct compat_sched_poll, struct sched_poll, ports);
FIELD(struct compat_sched_poll, struct sched_poll, nr_ports);
FIELD(struct compat_sched_poll, struct sched_poll, timeout);

/* xen_version */
SAME_SIZE(struct compat_platform_parameters, struct xen_platform_parameters);
FIELD(struct compat_platform_parameters, struct xen_platform_parameters, virt_start);

/* blkif's x86_32-abi ring */
SAME_SIZE(struct blkif_x86_32_request, struct blkif_request);
FIELD(struct blkif_x86_32_request, struct blkif_request, operation);
FIELD(struct blkif_x86_32_request, struct blkif_request, nr_segments);
FIELD(struct blkif_x86_32_request, struct blkif_request, handle);
FIELD(struct blkif_x86_32_request, struct blkif_request, id);
FIELD(struct blkif_x86_32_request, struct blkif_request, sector_number);
FIELD(struct blkif_x86_32_request, struct blkif_request, seg);
SAME_SIZE(struct blkif_x86_32_request_discard, struct blkif_request_discard);
FIELD(struct blkif_x86_32_request_discard, struct blkif_request_discard, flag);
FIELD(struct blkif_x86_32_request_discard, struct blkif_request_discard, id);
FIELD(struct blkif_x86_32_request_discard, struct blkif_request_discard, sector_number);
FIELD(struct blkif_x86_32_request_discard, struct blkif_request_discard, nr_sectors);
SAME_SIZE(struct blkif_x86_32_request_indirect, struct blkif_request_indirect);
FIELD(struct blkif_x86_32_request_indirect, struct blkif_request_indirect, indirect_op);
FIELD(struct blkif_x86_32_request_indirect, struct blkif_request_indirect, nr_segments);
FIELD(struct blkif_x86_32_request_indirect, struct blkif_request_indirect, id);
FIELD(struct blkif_x86_32_request_indirect, struct blkif_request_indirect, sector_number);
FIELD(struct blkif_x86_32_request_indirect, struct blkif_request_indirect, handle);
FIELD(struct blkif_x86_32_request_indirect, struct blkif_request_indirect, indirect_grefs);
SAME_SIZE(struct blkif_x86_32_response, struct blkif_response);
FIELD(struct blkif_x86_32_response, struct blkif_response, id);
FIELD(struct blkif_x86_32_response, struct blkif_response, operation);
FIELD(struct blkif_x86_32_response, struct blkif_response, status);
SAME_SIZE(union blkif_x86_32_sring_entry, union blkif_sring_entry);

/* The 32-bit shared_info and vcpu_info (Debian's foreign header). */
SAME_SIZE(struct shared_info_x86_32, struct shared_info);
FIELD(struct shared_info_x86_32, struct shared_info, vcpu_info);
FIELD(struct shared_info_x86_32, struct shared_info, evtchn_pending);
FIELD(struct shared_info_x86_32, struct shared_info, evtchn_mask);
FIELD(struct shared_info_x86_32, struct shared_info, wc_version);
FIELD(struct shared_info_x86_32, struct shared_info, wc_sec);
FIELD(struct shared_info_x86_32, struct shared_info, wc_nsec);
FIELD(struct shared_info_x86_32, struct shared_info, arch);
FIELD(struct shared_info_x86_32, struct shared_info, arch.wc_sec_hi);
SAME_SIZE(struct vcpu_info_x86_32, struct vcpu_info);
FIELD(struct vcpu_info_x86_32, struct vcpu_info, evtchn_upcall_pending);
FIELD(struct vcpu_info_x86_32, struct vcpu_info, evtchn_pending_sel);
FIELD(struct vcpu_info_x86_32, struct vcpu_info, arch);
FIELD(struct vcpu_info_x86_32, struct vcpu_info, time);
