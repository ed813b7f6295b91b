/* Internal to the loader. A bzImage's vmlinux is handed over chunk by chunk
 * while it is being decompressed (bzimage.c's two-thread LZ4 path), so that
 * stream.c places the segments in guest RAM and scans them for hypercall
 * sites on one thread while the other decompresses, instead of in passes
 * after the whole image; and the steps of elf.c and ram_put.c it shares. */
#pragma once
#include "boot/loader.h"

/* Most chunks an LZ4 legacy payload can have (LOADER_MAX_VMLINUX / 8 MiB). */
#define STREAM_MAX_CHUNKS 64

/* How far around a candidate site the acceptance rule reads (it reads
 * [i - 10, i + 11]): a range scan reads nothing outside
 * [from - HCALL_RULE_REACH, to + HCALL_RULE_REACH). */
#define HCALL_RULE_REACH 16

/* Bytes of the vmlinux before a chunk that its scan may read: the scan of
 * [start, end) looks for sites from start - HCALL_RULE_REACH. */
#define STREAM_CARRY (2 * HCALL_RULE_REACH)

/* A chunk is handed over in memory of its own, which is reused for a later
 * chunk once it has been placed and scanned: chunk points at the byte at
 * vmlinux offset start, and only [start, end) is there (for scan, also the
 * STREAM_CARRY bytes before start, when start > 0). */
struct chunk_sink {
    void *opaque;
    /* Chunk 0 (the first avail bytes of a total-byte vmlinux) is decompressed
     * and complete: may the rest be streamed? Called once, under a lock. */
    bool (*begin)(void *opaque, const uint8_t *chunk, size_t avail, size_t total);
    /* Bytes [start, end) of the vmlinux are final. Each is called only after
     * begin said yes, for chunk 0, 1, ... in order, one call at a time (from
     * either thread); a place and a scan call may run at once. */
    void (*place)(void *opaque, const uint8_t *chunk, size_t start, size_t end);
    void (*scan)(void *opaque, const uint8_t *chunk, size_t start, size_t end);
};

/* bzimage_extract, streaming to sink where the payload allows it (an LZ4
 * legacy payload of whole 8 MiB chunks, as Linux builds them); sink may be
 * NULL. Returns 2 when every chunk went to the sink (placed and scanned) and
 * the whole vmlinux was never in one buffer: *out is NULL, *outlen its size.
 * Otherwise the result and errors are bzimage_extract's (the sink may have
 * seen some chunks). */
int bzimage_extract_to(const uint8_t *image, size_t len, uint8_t **out, size_t *outlen,
                       char comp[8], char *err, size_t errlen, const struct chunk_sink *sink);

/* hcall_scan's decisions for the sites that start in [from, to) of the
 * len-byte region code (rules look at the region's bytes around them, as
 * hcall_scan does): site(opaque, offset) for each, in order, at once (the
 * caller must not patch the region while it is scanned). Returns their
 * number. Scanning a region in adjoining ranges gives exactly hcall_scan's
 * sites. */
unsigned hcall_scan_range(const uint8_t *code, size_t len, uint64_t base, size_t from, size_t to,
                          void (*site)(void *opaque, size_t off), void *opaque);

/* elf.c's steps, for kernel.c and stream.c. elf_prepare validates an ELF image
 * and reads its Xen notes into info (every check kernel_load makes before it
 * places anything); elf_place then puts its PT_LOAD segments in guest RAM and
 * rewrites the hypercall sites of the executable ones. elf_prepare_phdr_notes
 * is elf_prepare reading nothing but the ELF header, the program headers and
 * the PT_NOTE segments' bytes: it refuses an image whose PT_NOTE segments hold
 * no Xen note (elf_prepare would look for them in SHT_NOTE sections), and
 * accepts any other image exactly as elf_prepare does. elf_note_segments
 * lists the non-empty PT_NOTE segments of an image elf_load_segments accepts
 * (-1 for one it refuses). elf_headers_end: where the ELF header and program
 * header table of an image end (0 if its first avail bytes do not say), to
 * know they lie in the bytes at hand. */
int elf_prepare(const uint8_t *img, size_t len, struct kernel_info *info, char *err, size_t errlen);
int elf_prepare_phdr_notes(const uint8_t *img, size_t len, struct kernel_info *info, char *err, size_t errlen);
int elf_place(const uint8_t *img, size_t len, const struct guest_mem *mem, struct kernel_info *info,
              char *err, size_t errlen);
int elf_note_segments(const uint8_t *img, size_t len, struct elf_segment *notes, unsigned max);
size_t elf_headers_end(const uint8_t *img, size_t avail);

/* ram_put.c: mem->write of [src, src + len) to gpa, except that runs of whole
 * guest pages of zeros go to mem->zero (which leaves holes in the memfd
 * behind guest RAM). Needs both callbacks; returns 0 or -1 as they do. */
int ram_put(const struct guest_mem *mem, uint64_t gpa, const uint8_t *src, uint64_t len);

/* stream.c: the sink that places a vmlinux while it is decompressed. */
#define STREAM_MAX_SEGS 16

struct site_list {
    uint64_t *key;              /* segment index << 32 | offset in the segment */
    unsigned n, cap;
};

struct stream {
    const struct guest_mem *mem;
    size_t total;
    unsigned nseg, nnote;
    struct elf_segment seg[STREAM_MAX_SEGS];
    struct elf_segment note[STREAM_MAX_SEGS];  /* PT_NOTE segments */
    uint8_t *dst[STREAM_MAX_SEGS];       /* at() of each segment */
    /* The vmlinux as elf_prepare_phdr_notes reads it: its headers and
     * PT_NOTE bytes, zeros (untouched pages) elsewhere. */
    uint8_t *sparse;
    size_t sparse_len;
    bool began;
    bool place_failed, scan_failed;      /* a write failed; out of memory for sites */
    size_t placed, scanned;              /* bytes of the vmlinux placed, scanned */
    struct site_list sites;              /* in the order found */
};

void stream_init(struct stream *st, const struct guest_mem *mem, struct chunk_sink *sink);
/* After bzimage_extract_to streamed the whole vmlinux (returned 2): if the
 * stream placed and scanned all of it and elf_prepare_phdr_notes accepts it,
 * finishes what elf_place would do (zeroed tails, sites patched, info's
 * notes, extent and sites, as elf_prepare and elf_place leave them) and
 * returns true; false leaves the image to the whole way (decompressed again,
 * elf_prepare, elf_place: which places every segment again and alone gives
 * errors), info to be cleared. */
bool stream_finish(struct stream *st, struct kernel_info *info);
void stream_free(struct stream *st);
