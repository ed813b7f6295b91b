/* Grant entries as the table's current version lays them out (internal to
 * gnttab*.c). v1: flags, domid and a 32-bit frame in 8 bytes, the in-use bits
 * (GTF_reading/GTF_writing) among the flags. v2: a 16-byte entry whose header
 * holds flags and domid, the frame (64 bits) or a sub-page or transitive
 * grant after it, and the in-use bits in a separate status word. */
#pragma once
#include "xen/gnttab.h"

static inline unsigned gnttab_per_frame(const struct gnttab *gt)
{
    return gt->version == 2 ? GNTTAB_V2_ENTRIES_PER_FRAME : GNTTAB_ENTRIES_PER_FRAME;
}

static inline unsigned gnttab_nr_entries(const struct gnttab *gt)
{
    return gt->nr_frames * gnttab_per_frame(gt);
}

static inline grant_entry_v1_t *gnttab_v1(struct gnttab *gt, grant_ref_t ref)
{
    return (grant_entry_v1_t *)gt->frame[ref / GNTTAB_ENTRIES_PER_FRAME] +
           ref % GNTTAB_ENTRIES_PER_FRAME;
}

static inline grant_entry_v2_t *gnttab_v2(struct gnttab *gt, grant_ref_t ref)
{
    return (grant_entry_v2_t *)gt->frame[ref / GNTTAB_V2_ENTRIES_PER_FRAME] +
           ref % GNTTAB_V2_ENTRIES_PER_FRAME;
}

static inline grant_status_t *gnttab_status(struct gnttab *gt, grant_ref_t ref)
{
    return (grant_status_t *)gt->status[ref / GNTTAB_STATUS_PER_FRAME] +
           ref % GNTTAB_STATUS_PER_FRAME;
}

/* set_version's carrying of the reserved entries: saved in v1 form (a v2
 * entry that v1 cannot express: -ERANGE), then written in the new format. */
int gnttab_save_reserved(struct gnttab *gt, grant_entry_v1_t keep[GNTTAB_NR_RESERVED]);
void gnttab_restore_reserved(struct gnttab *gt, const grant_entry_v1_t keep[GNTTAB_NR_RESERVED]);
