/* Grant tables, versions 1 and 2: the guest's hypercalls and the host-side
 * API with which a backend checks a grant and reaches the granted page. Pure
 * logic; guest memory is reached through callbacks. Caller holds the domain
 * lock. Semantics follow Xen 4.17's xen/common/grant_table.c. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/memory.h>

#define GNTTAB_MAX_FRAMES 64      /* Xen's default max_grant_frames (shared frames) */
#define GNTTAB_ENTRIES_PER_FRAME (4096 / sizeof(grant_entry_v1_t))     /* v1: 512 */
#define GNTTAB_V2_ENTRIES_PER_FRAME (4096 / sizeof(grant_entry_v2_t))  /* v2: 256 */
#define GNTTAB_STATUS_PER_FRAME (4096 / sizeof(grant_status_t))       /* 2048 */
#define GNTTAB_MAX_ENTRIES (GNTTAB_MAX_FRAMES * GNTTAB_ENTRIES_PER_FRAME)
/* v2 status frames for n shared frames, and the most there can be (8). */
#define GNTTAB_STATUS_FRAMES(n) \
    (((n) * GNTTAB_V2_ENTRIES_PER_FRAME + GNTTAB_STATUS_PER_FRAME - 1) / GNTTAB_STATUS_PER_FRAME)
#define GNTTAB_MAX_STATUS_FRAMES GNTTAB_STATUS_FRAMES(GNTTAB_MAX_FRAMES)
/* Entries the toolstack fills (console, xenstore), kept across set_version. */
#define GNTTAB_NR_RESERVED 8

struct gnttab {
    domid_t domid;
    unsigned version;                 /* 1 or 2 (GNTTABOP_set_version) */
    unsigned nr_frames;               /* shared frames in use (grown by setup_table / map) */
    uint8_t *frame[GNTTAB_MAX_FRAMES];/* where shared frame i's entries live now */
    uint64_t gfn[GNTTAB_MAX_FRAMES];  /* where the guest mapped frame i, or ~0 */
    unsigned nr_status;               /* v2 status frames (0 in v1) */
    uint8_t *status[GNTTAB_MAX_STATUS_FRAMES];
    uint64_t status_gfn[GNTTAB_MAX_STATUS_FRAMES];
    uint8_t *own;                     /* xenkvm's own backing: shared then status frames */
    unsigned max_frames;              /* the domain's max_grant_frames; 0: GNTTAB_MAX_FRAMES */
    uint16_t pin_ro[GNTTAB_MAX_ENTRIES], pin_rw[GNTTAB_MAX_ENTRIES];
    uint64_t pin_frame[GNTTAB_MAX_ENTRIES];   /* the frame read at the first pin */
    /* Host pointer to guest frame gfn (one page), or NULL if not guest RAM. */
    uint8_t *(*gfn_page)(void *opaque, uint64_t gfn);
    void *opaque;
};

/* The frames the domain may have: its max_grant_frames (at most GNTTAB_MAX_FRAMES). */
static inline unsigned gnttab_max_frames(const struct gnttab *gt)
{
    return gt->max_frames && gt->max_frames < GNTTAB_MAX_FRAMES ? gt->max_frames : GNTTAB_MAX_FRAMES;
}

/* gt must be zero-filled (it is part of a zeroed domain). */
int gnttab_init(struct gnttab *gt, domid_t domid);
void gnttab_fini(struct gnttab *gt);

/* GNTTABOP_* on count structs already copied in; errors in status fields as
 * Xen reports them; returns 0 or a negative Xen errno. */
long gnttab_op(struct gnttab *gt, unsigned cmd, void *arg, unsigned count);
unsigned gnttab_op_size(unsigned cmd);
/* setup_table's frame list is a guest array: the caller fills it from this. */
uint64_t gnttab_frame_gfn(struct gnttab *gt, unsigned idx);

/* XENMEM_add_to_physmap(XENMAPSPACE_grant_table, idx, gfn): the guest places
 * a shared frame, or with XENMAPIDX_grant_table_status in idx (v2 only) a
 * status frame, at gfn (page pointer p); the table grows to cover it. Returns
 * 0 or -EINVAL. gnttab_frame_idx_ok says beforehand whether idx is placeable. */
int gnttab_place_frame(struct gnttab *gt, uint64_t idx, uint64_t gfn, uint8_t *p);
bool gnttab_frame_idx_ok(const struct gnttab *gt, uint64_t idx);

/* GNTTABOP_copy, one element: copies within this domain between its own frames
 * (gmfn) and frames it granted to itself (gref, v1 or v2 entries). Sets
 * c->status. */
void gnttab_copy_one(struct gnttab *gt, struct gnttab_copy *c);
/* The toolstack's reserved entries (console, xenstore) granting dom 0 access. */
void gnttab_reserve(struct gnttab *gt, grant_ref_t ref, uint64_t gfn);

/* Host side: a backend in dom 0 maps grant ref of this guest. Checks that the
 * entry grants access to dom 0 (and write if !readonly), pins it and returns the
 * host pointer of the granted page, or NULL with *err a GNTST_* code. The
 * in-use bits go to the entry (v1) or its status word (v2). */
uint8_t *gnttab_host_map(struct gnttab *gt, grant_ref_t ref, bool readonly, int16_t *err);
void gnttab_host_unmap(struct gnttab *gt, grant_ref_t ref, bool readonly);
