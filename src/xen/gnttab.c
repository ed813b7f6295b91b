/* Grant tables: the table's frames (shared, and v2's status frames), where
 * the guest placed them, and the GNTTABOP_* sub-ops that act on the table. */
#include "xen/gnttab.h"
#include "xen/gnttab_entry.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define OWN_PAGES (GNTTAB_MAX_FRAMES + GNTTAB_MAX_STATUS_FRAMES)

static uint8_t *own_status(struct gnttab *gt, unsigned j)
{
    return gt->own + (GNTTAB_MAX_FRAMES + j) * 4096;
}

int gnttab_init(struct gnttab *gt, domid_t domid)
{
    /* gt arrives zeroed with its domain (the pin tables stay unfaulted). */
    gt->domid = domid;
    /* Fresh anonymous pages: zero, and faulted in only when used. */
    gt->own = mmap(NULL, OWN_PAGES * 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (gt->own == MAP_FAILED) {
        gt->own = NULL;
        return -ENOMEM;
    }
    for (unsigned i = 0; i < GNTTAB_MAX_FRAMES; i++) {
        gt->frame[i] = gt->own + i * 4096;
        gt->gfn[i] = ~0ull;
    }
    for (unsigned j = 0; j < GNTTAB_MAX_STATUS_FRAMES; j++) {
        gt->status[j] = own_status(gt, j);
        gt->status_gfn[j] = ~0ull;
    }
    gt->version = 1;
    gt->nr_frames = 1;
    return 0;
}

void gnttab_fini(struct gnttab *gt)
{
    if (gt->own)
        munmap(gt->own, OWN_PAGES * 4096);
    gt->own = NULL;
}

uint64_t gnttab_frame_gfn(struct gnttab *gt, unsigned idx)
{
    return idx < GNTTAB_MAX_FRAMES ? gt->gfn[idx] : ~0ull;
}

/* Xen's gnttab_grow_table: at least n shared frames and, in v2, the status
 * frames that cover their entries (new ones start zeroed). */
static void grow(struct gnttab *gt, unsigned n)
{
    if (n > gt->nr_frames)
        gt->nr_frames = n;
    if (gt->version != 2)
        return;
    unsigned s = GNTTAB_STATUS_FRAMES(gt->nr_frames);
    for (; gt->nr_status < s; gt->nr_status++)
        memset(gt->status[gt->nr_status], 0, 4096);
}

bool gnttab_frame_idx_ok(const struct gnttab *gt, uint64_t idx)
{
    if (idx & XENMAPIDX_grant_table_status)
        return gt->version == 2 && (idx & ~XENMAPIDX_grant_table_status) <
                                       GNTTAB_STATUS_FRAMES(gnttab_max_frames(gt));
    return idx < gnttab_max_frames(gt);   /* the domain's max_grant_frames */
}

int gnttab_place_frame(struct gnttab *gt, uint64_t idx, uint64_t gfn, uint8_t *p)
{
    if (!p || !gnttab_frame_idx_ok(gt, idx))
        return -EINVAL;
    uint8_t **slot;
    uint64_t *slot_gfn;
    if (idx & XENMAPIDX_grant_table_status) {
        idx &= ~XENMAPIDX_grant_table_status;
        /* Mapping status frame idx grows the table until it exists. */
        grow(gt, (idx + 1) * GNTTAB_STATUS_PER_FRAME / GNTTAB_V2_ENTRIES_PER_FRAME);
        slot = &gt->status[idx];
        slot_gfn = &gt->status_gfn[idx];
    } else {
        grow(gt, idx + 1);
        slot = &gt->frame[idx];
        slot_gfn = &gt->gfn[idx];
    }
    if (p != *slot)
        memcpy(p, *slot, 4096);   /* the contents move with the frame */
    *slot = p;
    *slot_gfn = gfn;
    return 0;
}

static bool self(const struct gnttab *gt, domid_t d)
{
    return d == DOMID_SELF || d == gt->domid;
}

/* Status for a domid that is neither this domain nor the host. */
static int16_t other_domain(domid_t d)
{
    return d == 0 ? GNTST_permission_denied : GNTST_bad_domain;
}

static long setup_table(struct gnttab *gt, struct gnttab_setup_table *op)
{
    if (!self(gt, op->dom)) {
        op->status = other_domain(op->dom);
        return 0;
    }
    if (op->nr_frames > gnttab_max_frames(gt)) {
        op->status = GNTST_general_error;
        return 0;
    }
    grow(gt, op->nr_frames);
    op->status = GNTST_okay;
    return 0;
}

static long query_size(struct gnttab *gt, struct gnttab_query_size *op)
{
    if (!self(gt, op->dom)) {
        op->status = other_domain(op->dom);
        return 0;
    }
    op->nr_frames = gt->nr_frames;
    op->max_nr_frames = gnttab_max_frames(gt);
    op->status = GNTST_okay;
    return 0;
}

/* Xen's gnttab_set_version: refused (-EBUSY) while an entry beyond the
 * reserved ones is mapped writable by the host; otherwise every shared frame
 * is cleared, the reserved entries are carried over in the new format, and
 * v2's status frames appear (or, back to v1, leave the guest's physmap). */
static long set_version(struct gnttab *gt, struct gnttab_set_version *op)
{
    long rc = 0;
    unsigned want = op->version;
    if (want != 1 && want != 2) {
        rc = -EINVAL;
        goto out;
    }
    if (want == gt->version)
        goto out;
    unsigned n = gnttab_nr_entries(gt);
    for (unsigned i = GNTTAB_NR_RESERVED; i < n; i++)
        if (gt->pin_rw[i]) {          /* host read-only mappings may stay */
            rc = -EBUSY;
            goto out;
        }
    grant_entry_v1_t keep[GNTTAB_NR_RESERVED];
    rc = gnttab_save_reserved(gt, keep);
    if (rc)
        goto out;
    if (want == 1) {
        for (unsigned j = 0; j < gt->nr_status; j++) {
            gt->status[j] = own_status(gt, j);
            gt->status_gfn[j] = ~0ull;
        }
        gt->nr_status = 0;
    }
    for (unsigned i = 0; i < gt->nr_frames; i++)
        memset(gt->frame[i], 0, 4096);
    gt->version = want;
    grow(gt, gt->nr_frames);          /* v2: the status frames */
    gnttab_restore_reserved(gt, keep);
out:
    op->version = gt->version;        /* written back even on failure */
    return rc;
}

static long get_version(struct gnttab *gt, struct gnttab_get_version *op)
{
    if (!self(gt, op->dom))
        return op->dom == 0 ? -EPERM : -ESRCH;
    op->version = gt->version;
    return 0;
}

unsigned gnttab_op_size(unsigned cmd)
{
    switch (cmd) {
    case GNTTABOP_setup_table: return sizeof(struct gnttab_setup_table);
    case GNTTABOP_query_size:  return sizeof(struct gnttab_query_size);
    case GNTTABOP_set_version: return sizeof(struct gnttab_set_version);
    case GNTTABOP_get_version: return sizeof(struct gnttab_get_version);
    case GNTTABOP_copy:        return sizeof(struct gnttab_copy);
    default:                   return 0;
    }
}

long gnttab_op(struct gnttab *gt, unsigned cmd, void *arg, unsigned count)
{
    switch (cmd) {
    case GNTTABOP_setup_table:
    case GNTTABOP_query_size:
        if (count != 1)
            return -EINVAL;
        return cmd == GNTTABOP_setup_table ? setup_table(gt, arg) : query_size(gt, arg);
    case GNTTABOP_set_version:         /* Xen ignores the count of these */
        return set_version(gt, arg);
    case GNTTABOP_get_version:
        return get_version(gt, arg);
    case GNTTABOP_copy: {
        struct gnttab_copy *c = arg;
        for (unsigned i = 0; i < count; i++)
            gnttab_copy_one(gt, &c[i]);
        return 0;
    }
    default:
        /* map/unmap/transfer are for a domain that maps other domains'
         * grants; a domU here has none to map. get_status_frames is one
         * that Xen's HVM filter refuses: a PVH guest maps its status frames
         * with XENMEM_add_to_physmap. */
        return -ENOSYS;
    }
}
