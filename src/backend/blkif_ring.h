/* Xen's blkif ABI (<xen/io/blkif.h>) with the barriers its ring macros need.
 * Include this instead of the Xen headers directly. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>

#ifndef xen_mb
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif
#include <xen/io/blkif.h>

#define BLK_SECTOR_SHIFT 9                       /* blkif sectors are 512 bytes */
#define BLK_PAGE_SIZE 4096u
#define BLK_SECTORS_PER_PAGE (BLK_PAGE_SIZE >> BLK_SECTOR_SHIFT)
/* Segments in one indirect page. */
#define BLK_SEGS_PER_INDIRECT_PAGE (BLK_PAGE_SIZE / sizeof(struct blkif_request_segment))

/* What this backend offers (written to xenstore as feature-* / max-*). */
#define BLK_MAX_INDIRECT_SEGS 256                /* 1 MiB requests with 4 KiB pages */
#define BLK_MAX_RING_PAGE_ORDER 4                /* up to 16 ring pages */
#define BLK_MAX_RING_PAGES (1u << BLK_MAX_RING_PAGE_ORDER)
#define BLK_MAX_QUEUES 4

_Static_assert(BLK_MAX_RING_PAGES <= 16 && BLK_MAX_QUEUES <= 16, "grant_env.h's limits");
_Static_assert(BLK_MAX_INDIRECT_SEGS <= BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * BLK_SEGS_PER_INDIRECT_PAGE,
               "indirect segments must fit the indirect pages a request can carry");
