/* Placing a bzImage's vmlinux in guest RAM while it is decompressed: each
 * 8 MiB chunk's share of the PT_LOAD segments is written (pwrite into the
 * memfd behind guest RAM, through guest_mem.write and ram_put) and scanned
 * for hypercall sites as soon as the chunk is decompressed, so that the
 * host's page allocation for guest RAM (the largest part) runs on one CPU
 * while the decompression and the scan run on the other, instead of one
 * after another. The chunks come in memory that bzimage.c reuses: the whole
 * vmlinux is never in one buffer (53 MiB of fresh pages for Debian's cloud
 * kernel, each zeroed by the host first), so what elf_prepare reads of it,
 * the headers and the PT_NOTE segments, is kept aside in a sparse copy. Sites
 * are only collected here; they are patched at the end, once the image is
 * known good, in elf_place's order. Anything this does not handle (headers
 * outside chunk 0, a segment outside RAM, a failed write, Xen notes outside
 * the PT_NOTE segments) leaves the whole image to the ELF way. */
#include "boot/stream.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static bool seg_write(struct stream *st, unsigned k, uint64_t off, const uint8_t *src, uint64_t n)
{
    const struct guest_mem *mem = st->mem;
    if (mem->write && mem->zero)
        return ram_put(mem, st->seg[k].paddr + off, src, n) == 0;
    memcpy(st->dst[k] + off, src, n);
    return true;
}

static bool seg_zero(struct stream *st, unsigned k, uint64_t off, uint64_t n)
{
    const struct guest_mem *mem = st->mem;
    if (mem->write && mem->zero)
        return mem->zero(mem->opaque, st->seg[k].paddr + off, n) == 0;
    memset(st->dst[k] + off, 0, n);
    return true;
}

static bool begin(void *opaque, const uint8_t *v, size_t avail, size_t total)
{
    struct stream *st = opaque;
    size_t hend = elf_headers_end(v, avail);
    if (!hend || hend > avail)
        return false;
    /* The headers are final: elf_prepare's first checks, on them. */
    int n = elf_load_segments(v, total, st->seg, STREAM_MAX_SEGS, NULL, 0);
    int notes = elf_note_segments(v, total, st->note, STREAM_MAX_SEGS);
    if (n < 0 || n > STREAM_MAX_SEGS || notes < 0 || notes > STREAM_MAX_SEGS)
        return false;
    st->nseg = (unsigned)n;
    st->nnote = (unsigned)notes;
    for (unsigned k = 0; k < st->nseg; k++) {
        st->dst[k] = st->mem->at(st->mem->opaque, st->seg[k].paddr, st->seg[k].memsz);
        if (!st->dst[k])
            return false;
    }
    /* Untouched, the sparse copy costs no memory: only the pages of the
     * headers and notes are ever written. */
    void *sp = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (sp == MAP_FAILED)
        return false;
    st->sparse = sp;
    st->sparse_len = total;
    memcpy(st->sparse, v, hend);
    st->total = total;
    st->began = true;
    return true;
}

struct chunk_ctx {
    struct site_list *list;
    unsigned seg;
    uint64_t shift;             /* the scanned region's offset in the segment */
    bool oom;
};

static void collect(void *opaque, size_t off)
{
    struct chunk_ctx *c = opaque;
    struct site_list *l = c->list;
    if (l->n == l->cap) {
        unsigned cap = l->cap ? 2 * l->cap : 16;
        uint64_t *k = realloc(l->key, cap * sizeof(*k));
        if (!k) {
            c->oom = true;
            return;
        }
        l->key = k;
        l->cap = cap;
    }
    l->key[l->n++] = (uint64_t)c->seg << 32 | (c->shift + off);
}

/* [a, b): the part of [lo, hi) inside [s, s + n); false if empty. */
static bool clip(uint64_t lo, uint64_t hi, uint64_t s, uint64_t n, uint64_t *a, uint64_t *b)
{
    *a = s > lo ? s : lo;
    *b = s + n < hi ? s + n : hi;
    return *a < *b;
}

static void place(void *opaque, const uint8_t *chunk, size_t start, size_t end)
{
    struct stream *st = opaque;
    uint64_t a, b;
    for (unsigned k = 0; k < st->nseg; k++) {
        const struct elf_segment *s = &st->seg[k];
        if (clip(start, end, s->offset, s->filesz, &a, &b) &&
            !seg_write(st, k, a - s->offset, chunk + (a - start), b - a))
            st->place_failed = true;
    }
    for (unsigned k = 0; k < st->nnote; k++)
        if (clip(start, end, st->note[k].offset, st->note[k].filesz, &a, &b))
            memcpy(st->sparse + a, chunk + (a - start), b - a);
    st->placed += end - start;
}

/* Sites are looked for in [lo, hi) of the vmlinux for this chunk: from
 * HCALL_RULE_REACH before its start (where the chunk before stopped) to as
 * far before its end, so that the bytes the rules read are all final. Each
 * segment is scanned as the region of it at hand, [start - STREAM_CARRY,
 * end): the rules read no further than HCALL_RULE_REACH around [lo, hi), so
 * they decide as on the whole segment (only its real start counts as a
 * region start: anywhere else the region starts STREAM_CARRY before lo). */
static void scan(void *opaque, const uint8_t *chunk, size_t start, size_t end)
{
    struct stream *st = opaque;
    size_t lo = start ? start - HCALL_RULE_REACH : 0;
    size_t hi = end == st->total ? end : end - HCALL_RULE_REACH;
    size_t wlo = start ? start - STREAM_CARRY : 0;
    for (unsigned k = 0; k < st->nseg; k++) {
        const struct elf_segment *s = &st->seg[k];
        uint64_t a, b, ra, rb;
        if (!(s->flags & PF_X) || !clip(lo, hi, s->offset, s->filesz, &a, &b))
            continue;
        clip(wlo, end, s->offset, s->filesz, &ra, &rb);
        const uint8_t *region = ra >= start ? chunk + (ra - start) : chunk - (start - ra);
        struct chunk_ctx c = { &st->sites, k, ra - s->offset, false };
        hcall_scan_range(region, rb - ra, s->paddr + (ra - s->offset), a - ra, b - ra, collect, &c);
        st->scan_failed |= c.oom;
    }
    st->scanned += end - start;
}

void stream_init(struct stream *st, const struct guest_mem *mem, struct chunk_sink *sink)
{
    memset(st, 0, sizeof(*st));
    st->mem = mem;
    *sink = (struct chunk_sink){ .opaque = st, .begin = begin, .place = place, .scan = scan };
}

static int key_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

bool stream_finish(struct stream *st, struct kernel_info *info)
{
    if (!st->began || st->place_failed || st->scan_failed || st->placed != st->total ||
        st->scanned != st->total || elf_prepare_phdr_notes(st->sparse, st->total, info, NULL, 0))
        return false;
    for (unsigned k = 0; k < st->nseg; k++)
        if (st->seg[k].memsz > st->seg[k].filesz &&
            !seg_zero(st, k, st->seg[k].filesz, st->seg[k].memsz - st->seg[k].filesz))
            return false;
    struct site_list *l = &st->sites;
    /* From here on it cannot fail: info as elf_place's load_segments and
     * rewrite_segments would have left it. */
    for (unsigned k = 0; k < st->nseg; k++) {
        const struct elf_segment *s = &st->seg[k];
        if (k == 0 || s->paddr < info->paddr_lo)
            info->paddr_lo = s->paddr;
        if (k == 0 || s->paddr + s->memsz > info->paddr_hi)
            info->paddr_hi = s->paddr + s->memsz;
    }
    /* In elf_place's order: by segment, then by offset. */
    if (l->n)
        qsort(l->key, l->n, sizeof(*l->key), key_cmp);
    for (unsigned i = 0; i < l->n; i++) {
        unsigned k = (unsigned)(l->key[i] >> 32);
        uint64_t off = (uint32_t)l->key[i];
        hcall_patch(st->dst[k] + off);
        if (info->rewritten_sites < KERNEL_INFO_MAX_SITES)
            info->site_paddr[info->rewritten_sites] = st->seg[k].paddr + off;
        info->rewritten_sites++;
    }
    return true;
}

void stream_free(struct stream *st)
{
    free(st->sites.key);
    if (st->sparse)
        munmap(st->sparse, st->sparse_len);
}
