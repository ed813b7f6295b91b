/* libFuzzer target: grant tables v1 and v2 (src/xen/gnttab*.c). The input is
 * a series of records: a GNTTABOP with its argument (set_version, setup_table,
 * query_size, get_version, copy), the guest placing a shared or status frame
 * at a gfn (XENMEM_add_to_physmap's grant-table space), a write by the guest
 * into any of its pages (grant entries live in the placed frames), and a
 * backend mapping or unmapping a grant ref, reading and writing the whole
 * page it got. Every op must return 0 or a Xen errno, every mapping must be
 * one of the guest's own pages; ASan/UBSan catch the rest. */
#include <stdlib.h>

#include "input.h"
#include "xen/gnttab.h"

#define GFN0 0x100            /* guest RAM: gfns GFN0 .. GFN0 + NPAGES - 1 */
#define NPAGES 8
#define XGFN0 0x80000         /* outside RAM: where a frame gets a page of its own */
#define NXPAGES 8
#define NMAPS 16

struct fx {
    struct gnttab gt;
    uint8_t *page[NPAGES], *xpage[NXPAGES];
    struct { grant_ref_t ref; bool ro; uint8_t *p; } map[NMAPS];
    unsigned nr_maps;
};

static struct fx *fx;

static uint8_t *cb_gfn_page(void *o, uint64_t gfn)
{
    return gfn >= GFN0 && gfn < GFN0 + NPAGES ? ((struct fx *)o)->page[gfn - GFN0] : NULL;
}

static void fx_reset(unsigned max_frames)
{
    if (!fx) {
        fx = calloc(1, sizeof(*fx));
        for (unsigned i = 0; i < NPAGES; i++)
            fx->page[i] = aligned_alloc(4096, 4096);
        for (unsigned i = 0; i < NXPAGES; i++)
            fx->xpage[i] = aligned_alloc(4096, 4096);
    } else {
        gnttab_fini(&fx->gt);
    }
    memset(&fx->gt, 0, sizeof(fx->gt));
    for (unsigned i = 0; i < NPAGES; i++)
        memset(fx->page[i], 0, 4096);
    for (unsigned i = 0; i < NXPAGES; i++)
        memset(fx->xpage[i], 0, 4096);
    fx->nr_maps = 0;
    if (gnttab_init(&fx->gt, 7) < 0)
        abort();
    fx->gt.gfn_page = cb_gfn_page;
    fx->gt.opaque = fx;
    fx->gt.max_frames = max_frames;
    /* As domain_create does: dom 0's console and xenstore entries. */
    gnttab_reserve(&fx->gt, GNTTAB_RESERVED_CONSOLE, GFN0);
    gnttab_reserve(&fx->gt, GNTTAB_RESERVED_XENSTORE, GFN0 + 1);
}

static void check(long rc)
{
    if (!RESULT_OK(rc) || rc > 0)
        abort();
}

/* The page the guest's gfn names: RAM, or one of the pages outside it. */
static uint8_t *page_at(uint64_t gfn)
{
    if (gfn >= GFN0 && gfn < GFN0 + NPAGES)
        return fx->page[gfn - GFN0];
    if (gfn >= XGFN0 && gfn < XGFN0 + NXPAGES)
        return fx->xpage[gfn - XGFN0];
    return NULL;
}

static uint64_t pick_gfn(struct in *in)
{
    uint8_t b = u8(in);
    switch (b >> 6) {
    case 0: return GFN0 + b % (NPAGES + 1);       /* one past the end: not RAM */
    case 1: return XGFN0 + b % NXPAGES;
    default: return val(in);
    }
}

static void op(struct in *in)
{
    union {
        uint8_t raw[64];
        struct gnttab_copy copy[4];
    } arg;
    unsigned cmd = u8(in) % 24, count = u8(in) % 5;
    if (cmd == GNTTABOP_copy) {
        if (!count)
            count = 1;
        for (unsigned i = 0; i < count; i++) {
            struct gnttab_copy *c = &arg.copy[i];
            c->source.u.ref = (uint32_t)val(in);   /* a ref, or a gmfn's low half */
            if (u8(in) & 1)
                c->source.u.gmfn = pick_gfn(in);
            c->source.domid = u8(in) & 1 ? DOMID_SELF : (domid_t)val(in);
            c->source.offset = (uint16_t)val(in);
            c->dest.u.ref = (uint32_t)val(in);
            if (u8(in) & 1)
                c->dest.u.gmfn = pick_gfn(in);
            c->dest.domid = u8(in) & 1 ? DOMID_SELF : (domid_t)val(in);
            c->dest.offset = (uint16_t)val(in);
            c->len = (uint16_t)val(in);
            c->flags = u8(in);
            c->status = 99;
        }
    } else {
        for (unsigned i = 0; i < sizeof(arg.raw) / 4; i++) {
            uint32_t w = (uint32_t)val(in);
            memcpy(arg.raw + i * 4, &w, 4);
        }
    }
    check(gnttab_op(&fx->gt, cmd, &arg, count));
    if (cmd == GNTTABOP_setup_table && arg.raw[0])
        for (unsigned i = 0; i < 4; i++)
            gnttab_frame_gfn(&fx->gt, i);
}

/* XENMEM_add_to_physmap(XENMAPSPACE_grant_table): as memory_op.c does it. */
static void place(struct in *in)
{
    uint64_t idx = val(in);
    if (u8(in) & 1)
        idx |= XENMAPIDX_grant_table_status;
    uint64_t gfn = pick_gfn(in);
    if (!gnttab_frame_idx_ok(&fx->gt, idx))
        return;
    uint8_t *p = page_at(gfn);
    if (p && gnttab_place_frame(&fx->gt, idx, gfn, p) != 0)
        abort();      /* idx was said to be placeable */
}

static void guest_write(struct in *in)
{
    uint8_t *p = page_at(pick_gfn(in));
    unsigned off = u16(in) % 4096, len = u8(in) % 65;
    if (off + len > 4096)
        len = 4096 - off;
    uint8_t buf[64];
    take(in, buf, len);
    if (p)
        memcpy(p + off, buf, len);
}

static bool guest_page(const uint8_t *p)
{
    for (unsigned i = 0; i < NPAGES; i++)
        if (p == fx->page[i])
            return true;
    return false;
}

static void host_map(struct in *in)
{
    grant_ref_t ref = (grant_ref_t)val(in);
    bool ro = u8(in) & 1;
    int16_t err = 0;
    uint8_t *p = gnttab_host_map(&fx->gt, ref, ro, &err);
    if (!p) {
        if (err >= 0)
            abort();   /* a refusal names its GNTST_* */
        return;
    }
    if (!guest_page(p))
        abort();       /* a backend may only ever reach the guest's own RAM */
    volatile uint8_t x = p[0] + p[4095];
    (void)x;
    if (!ro)
        p[0] ^= 1, p[4095] ^= 1;
    if (fx->nr_maps < NMAPS)
        fx->map[fx->nr_maps++] = (typeof(fx->map[0])){ ref, ro, p };
    else
        gnttab_host_unmap(&fx->gt, ref, ro);
}

static void host_unmap(struct in *in)
{
    if (!fx->nr_maps)
        return;
    unsigned i = u8(in) % fx->nr_maps;
    gnttab_host_unmap(&fx->gt, fx->map[i].ref, fx->map[i].ro);
    fx->map[i] = fx->map[--fx->nr_maps];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = { data, size };
    uint8_t h = u8(&in);
    fx_reset(h & 0x80 ? h % 8 : 0);
    if (h & 0x40) {       /* straight to v2, as Linux does when it can */
        struct gnttab_set_version sv = { .version = 2 };
        check(gnttab_op(&fx->gt, GNTTABOP_set_version, &sv, 1));
    }
    while (!fin(&in)) {
        switch (u8(&in) % 6) {
        case 0: op(&in); break;
        case 1: place(&in); break;
        case 2: guest_write(&in); break;
        case 3: host_map(&in); break;
        case 4: host_unmap(&in); break;
        default: {
            struct gnttab_copy c;
            take(&in, &c, sizeof(c));
            gnttab_copy_one(&fx->gt, &c);
            if (c.status > 0 || c.status < GNTST_eagain - 20)
                abort();
        }
        }
    }
    while (fx->nr_maps)   /* the backends let go before the domain ends */
        host_unmap(&in);
    return 0;
}
