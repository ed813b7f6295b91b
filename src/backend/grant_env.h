/* What a backend's ring processing (blkback, netback) needs from its
 * surroundings: grant mapping and notifying the frontend. Implemented over a
 * real domain (domain_env.c) and by the test harnesses (tests/harness/), so
 * the backend cores never see KVM. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <xen/grant_table.h>

/* Most pages one ring may span; most event channels one device may bind. */
#define GNT_ENV_MAX_RING_PAGES 16u
#define GNT_ENV_MAX_PORTS 16u

struct gnt_env {
    void *opaque;
    /* Maps n granted pages (read-only or writable) into out[]. All or nothing:
     * returns GNTST_okay, or a GNTST_* error with nothing left mapped. */
    int16_t (*map)(void *opaque, const grant_ref_t *refs, unsigned n, bool readonly, void **out);
    void (*unmap)(void *opaque, const grant_ref_t *refs, unsigned n, bool readonly);
    /* Maps n granted pages writable and virtually contiguous (a multi-page
     * ring); NULL with *err set on failure. */
    void *(*map_ring)(void *opaque, const grant_ref_t *refs, unsigned n, int16_t *err);
    void (*unmap_ring)(void *opaque, void *ring, const grant_ref_t *refs, unsigned n);
    /* Raises the device's event channel number q (0 .. GNT_ENV_MAX_PORTS-1)
     * in the frontend: blkback's queue q; netback's queue q/2, tx (even) or
     * rx (odd), which share a port unless the channels are split. */
    void (*notify)(void *opaque, unsigned q);
};
