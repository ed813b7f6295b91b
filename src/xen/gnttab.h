/* Grant tables v1: the guest's hypercalls and the host-side API with which a
 * backend checks a grant and reaches the granted page. Pure logic; guest
 * memory is reached through callbacks. Caller holds the domain lock. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/grant_table.h>

#define GNTTAB_MAX_FRAMES 64      /* Xen's default max_grant_frames */
#define GNTTAB_ENTRIES_PER_FRAME (4096 / sizeof(grant_entry_v1_t))
#define GNTTAB_MAX_ENTRIES (GNTTAB_MAX_FRAMES * GNTTAB_ENTRIES_PER_FRAME)

struct gnttab {
    domid_t domid;
    unsigned nr_frames;               /* frames in use (grown by setup_table / map) */
    uint8_t *frame[GNTTAB_MAX_FRAMES];/* where frame i's entries live now */
    uint64_t gfn[GNTTAB_MAX_FRAMES];  /* where the guest mapped frame i, or ~0 */
    uint8_t *own;                     /* xenkvm's own backing, max frames pages */
    unsigned max_frames;              /* the domain's max_grant_frames; 0: GNTTAB_MAX_FRAMES */
    uint16_t pin_ro[GNTTAB_MAX_ENTRIES], pin_rw[GNTTAB_MAX_ENTRIES];
    uint32_t pin_frame[GNTTAB_MAX_ENTRIES];   /* the frame read at the first pin */
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
 * frame idx at gfn (page pointer p). Returns 0 or -EINVAL. */
int gnttab_place_frame(struct gnttab *gt, unsigned idx, uint64_t gfn, uint8_t *p);

/* GNTTABOP_copy, one element: copies within this domain between its own frames
 * (gmfn) and frames it granted to itself (gref). Sets c->status. */
void gnttab_copy_one(struct gnttab *gt, struct gnttab_copy *c);
/* The toolstack's reserved entries (console, xenstore) granting dom 0 access. */
void gnttab_reserve(struct gnttab *gt, grant_ref_t ref, uint64_t gfn);

/* Host side: a backend in dom 0 maps grant ref of this guest. Checks that the
 * entry grants access to dom 0 (and write if !readonly), pins it and returns the
 * host pointer of the granted page, or NULL with *err a GNTST_* code. */
uint8_t *gnttab_host_map(struct gnttab *gt, grant_ref_t ref, bool readonly, int16_t *err);
void gnttab_host_unmap(struct gnttab *gt, grant_ref_t ref, bool readonly);
