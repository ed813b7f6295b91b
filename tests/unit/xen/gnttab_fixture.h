/* A grant table over a few malloc'd guest RAM pages behind a fake gfn_page:
 * what the unit tests of src/xen/gnttab*.c share. */
#pragma once
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "xen/gnttab.h"

#define GT_DOMID 7
#define RAM_BASE_GFN 0x100
#define RAM_PAGES 4
#define BAD_GFN 0x999

struct gfx {
    struct gnttab *gt;
    uint8_t *ram;
};

static inline uint8_t *fake_gfn_page(void *opaque, uint64_t gfn)
{
    struct gfx *g = opaque;
    if (gfn < RAM_BASE_GFN || gfn >= RAM_BASE_GFN + RAM_PAGES)
        return NULL;
    return g->ram + (gfn - RAM_BASE_GFN) * 4096;
}

static inline struct gfx *gfx_new(void)
{
    struct gfx *g = calloc(1, sizeof(*g));
    g->gt = calloc(1, sizeof(*g->gt));
    CHECK_EQ(gnttab_init(g->gt, GT_DOMID), 0);
    g->gt->gfn_page = fake_gfn_page;
    g->gt->opaque = g;
    g->ram = aligned_alloc(4096, RAM_PAGES * 4096);
    for (unsigned i = 0; i < RAM_PAGES * 4096; i++)
        g->ram[i] = (uint8_t)(i / 4096 * 16 + i % 4096 % 13);
    return g;
}

static inline void gfx_free(struct gfx *g)
{
    gnttab_fini(g->gt);
    free(g->ram);
    free(g->gt);
    free(g);
}

static inline uint8_t *page(struct gfx *g, unsigned i) { return g->ram + i * 4096; }

/* The guest writes grant entry ref (frame and domid first, flags last). */
static inline grant_entry_v1_t *ent(struct gfx *g, grant_ref_t ref)
{
    return (grant_entry_v1_t *)g->gt->frame[ref / GNTTAB_ENTRIES_PER_FRAME] +
           ref % GNTTAB_ENTRIES_PER_FRAME;
}

static inline void grant(struct gfx *g, grant_ref_t ref, domid_t to, uint32_t gfn, uint16_t flags)
{
    grant_entry_v1_t *e = ent(g, ref);
    e->frame = gfn;
    e->domid = to;
    e->flags = flags;
}

static inline struct gnttab_copy gmfn_copy(uint64_t src_gfn, uint16_t src_off, uint64_t dst_gfn,
                                    uint16_t dst_off, uint16_t len)
{
    struct gnttab_copy c = { .len = len };
    c.source.u.gmfn = src_gfn;
    c.source.domid = DOMID_SELF;
    c.source.offset = src_off;
    c.dest.u.gmfn = dst_gfn;
    c.dest.domid = DOMID_SELF;
    c.dest.offset = dst_off;
    c.status = 99;
    return c;
}

