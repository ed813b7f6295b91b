/* What the blkif ring processing needs from its surroundings: grant mapping
 * and notifying the frontend. Implemented over a real domain (blkback_domain.c)
 * and by the test harness (tests/harness/), so the core never sees KVM. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <xen/grant_table.h>

struct blk_env {
    void *opaque;
    /* Maps n granted pages (read-only or writable) into out[]. All or nothing:
     * returns GNTST_okay, or a GNTST_* error with nothing left mapped. */
    int16_t (*map)(void *opaque, const grant_ref_t *refs, unsigned n, bool readonly, void **out);
    void (*unmap)(void *opaque, const grant_ref_t *refs, unsigned n, bool readonly);
    /* Maps n granted pages writable and virtually contiguous (a multi-page
     * ring); NULL with *err set on failure. */
    void *(*map_ring)(void *opaque, const grant_ref_t *refs, unsigned n, int16_t *err);
    void (*unmap_ring)(void *opaque, void *ring, const grant_ref_t *refs, unsigned n);
    /* Raises queue q's event channel in the frontend. */
    void (*notify)(void *opaque, unsigned q);
};
