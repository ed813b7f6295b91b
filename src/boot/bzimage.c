/* Linux bzImage unwrapping: find the compressed vmlinux inside a bzImage
 * (boot protocol >= 2.08 payload fields) and decompress it. The image is
 * hostile input: every offset and length is checked before use, and the
 * decompressed size is capped at LOADER_MAX_VMLINUX. */
#include "boot/loader.h"
#include "boot/seterr.h"
#include "boot/stream.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

/* Boot protocol header fields (Documentation/arch/x86/boot.rst). */
#define BZ_SETUP_SECTS   0x1f1
#define BZ_HEADER_MAGIC  0x202   /* "HdrS" */
#define BZ_VERSION       0x206
#define BZ_PAYLOAD_OFF   0x248
#define BZ_PAYLOAD_LEN   0x24c
#define BZ_HEADER_END    0x250

/* LZ4 legacy frame: magic, then chunks of (u32 compressed size, data), each
 * decompressing to at most 8 MiB. */
#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_LEGACY_CHUNK (8u << 20)

/* liblzma's decoder memory cap: far above what a kernel's xz dictionary needs. */
#define XZ_MEMLIMIT (256ull << 20)


static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

#define HUGE_PAGE (2u << 20)

/* A growable output buffer capped at LOADER_MAX_VMLINUX. */
struct outbuf {
    uint8_t *p;
    size_t len, cap;
};

/* Makes room for at least `more` bytes past len (more may be 0 to get any
 * room). Returns false when the cap is reached or memory runs out. */
static bool out_reserve(struct outbuf *o, size_t more)
{
    if (more == 0)
        more = 1;
    if (more > LOADER_MAX_VMLINUX - o->len)
        return false;
    if (o->cap - o->len >= more)
        return true;
    size_t want = o->cap ? o->cap : (4u << 20);
    while (want - o->len < more)
        want *= 2;
    if (want > LOADER_MAX_VMLINUX)
        want = LOADER_MAX_VMLINUX;
    uint8_t *np = realloc(o->p, want);
    if (!np)
        return false;
    o->p = np;
    o->cap = want;
    /* Tens of MiB written once: in 2 MiB pages where the host allows it,
     * rather than a fault per 4 KiB page. */
    uintptr_t lo = ((uintptr_t)np + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    uintptr_t hi = ((uintptr_t)np + want) & ~(uintptr_t)(HUGE_PAGE - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
    return true;
}

static int out_full(const char *comp, char *err, size_t errlen)
{
    boot_seterr(err, errlen, "%s: decompressed vmlinux exceeds the %u MiB limit (or out of memory)",
           comp, LOADER_MAX_VMLINUX >> 20);
    return -1;
}

static int gunzip(const uint8_t *in, size_t inlen, struct outbuf *o, char *err, size_t errlen)
{
    z_stream s;
    memset(&s, 0, sizeof(s));
    if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) {  /* 16+: gzip header only */
        boot_seterr(err, errlen, "gzip: inflateInit2 failed");
        return -1;
    }
    s.next_in = (Bytef *)in;
    s.avail_in = (uInt)inlen;  /* inlen <= LOADER_MAX_IMAGE */
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        if (!out_reserve(o, 0)) {
            inflateEnd(&s);
            return out_full("gzip", err, errlen);
        }
        size_t room = o->cap - o->len;
        uInt chunk = room > (1u << 30) ? (1u << 30) : (uInt)room;
        s.next_out = o->p + o->len;
        s.avail_out = chunk;
        rc = inflate(&s, Z_NO_FLUSH);
        o->len += chunk - s.avail_out;
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_BUF_ERROR && s.avail_in == 0) {
            inflateEnd(&s);
            boot_seterr(err, errlen, "gzip: payload truncated (stream ends before the gzip trailer)");
            return -1;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            boot_seterr(err, errlen, "gzip: corrupt data: %s", s.msg ? s.msg : zError(rc));
            inflateEnd(&s);
            return -1;
        }
    }
    inflateEnd(&s);
    return 0;
}

static const char *lzma_what(lzma_ret rc)
{
    switch (rc) {
    case LZMA_FORMAT_ERROR: return "not an xz stream";
    case LZMA_OPTIONS_ERROR: return "unsupported options";
    case LZMA_DATA_ERROR: return "corrupt data";
    case LZMA_BUF_ERROR: return "payload truncated";
    case LZMA_MEMLIMIT_ERROR: return "dictionary exceeds memory limit";
    case LZMA_MEM_ERROR: return "out of memory";
    default: return "decoder error";
    }
}

static int unxz(const uint8_t *in, size_t inlen, struct outbuf *o, char *err, size_t errlen)
{
    lzma_stream s = LZMA_STREAM_INIT;
    /* Single stream: Linux appends a 4-byte size after it, which we ignore. */
    lzma_ret rc = lzma_stream_decoder(&s, XZ_MEMLIMIT, 0);
    if (rc != LZMA_OK) {
        boot_seterr(err, errlen, "xz: decoder init failed (%d)", (int)rc);
        return -1;
    }
    s.next_in = in;
    s.avail_in = inlen;
    for (;;) {
        if (!out_reserve(o, 0)) {
            lzma_end(&s);
            return out_full("xz", err, errlen);
        }
        size_t room = o->cap - o->len;
        s.next_out = o->p + o->len;
        s.avail_out = room;
        rc = lzma_code(&s, LZMA_FINISH);
        o->len += room - s.avail_out;
        if (rc == LZMA_STREAM_END)
            break;
        if (rc == LZMA_OK)  /* liblzma says LZMA_BUF_ERROR once it cannot progress */
            continue;
        lzma_end(&s);
        boot_seterr(err, errlen, "xz: %s", lzma_what(rc));
        return -1;
    }
    lzma_end(&s);
    return 0;
}

static int unzstd(const uint8_t *in, size_t inlen, struct outbuf *o, char *err, size_t errlen)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (!ds) {
        boot_seterr(err, errlen, "zstd: out of memory");
        return -1;
    }
    ZSTD_inBuffer ib = { in, inlen, 0 };
    size_t rc = 1;
    int ret = 0;
    /* One frame only: stop at its end (rc == 0), ignoring Linux's size trailer. */
    while (rc != 0) {
        if (!out_reserve(o, 0)) {
            ret = out_full("zstd", err, errlen);
            break;
        }
        ZSTD_outBuffer ob = { o->p + o->len, o->cap - o->len, 0 };
        rc = ZSTD_decompressStream(ds, &ob, &ib);
        o->len += ob.pos;
        if (ZSTD_isError(rc)) {
            boot_seterr(err, errlen, "zstd: corrupt data: %s", ZSTD_getErrorName(rc));
            ret = -1;
            break;
        }
        /* All input used and output not full, yet the frame is unfinished:
         * the decoder needs input that is not there. */
        if (rc != 0 && ib.pos == ib.size && ob.pos < ob.size) {
            boot_seterr(err, errlen, "zstd: payload truncated (frame incomplete)");
            ret = -1;
            break;
        }
    }
    ZSTD_freeDStream(ds);
    return ret;
}

/* ---- LZ4 legacy chunks on two threads ----
 * The chunks are independent, and in the payloads Linux builds every one but
 * the last holds exactly LZ4_LEGACY_CHUNK bytes, so chunk i's output starts at
 * i * LZ4_LEGACY_CHUNK: two threads can decompress chunks at once. Only a
 * payload that is exactly so takes this way (lz4_parallel checks every
 * chunk); anything else, well-formed or not, goes the sequential way below,
 * which alone gives answers and error messages.
 * Without a sink, chunk i goes to its place in the output buffer. With one,
 * each chunk is decompressed into one of a few slots of memory reused from
 * chunk to chunk (fresh memory costs the host a zeroed page each: 16 MiB of
 * them instead of 53 MiB for Debian's cloud kernel, about a tenth of the
 * loading process's CPU time here) and handed over once it
 * and every chunk before it decompressed to their full size: to be placed, one
 * chunk at a time, in order (the sink writes into one file, whose writes the
 * host serialises anyway), and to be scanned, likewise, alongside; its slot is
 * free again once both are done. Each thread takes the next chunk to place
 * when there is one and nobody is placing, else the next chunk to decompress
 * when a slot is free, else the next to scan: one thread places while the
 * other decompresses, then scans. If the sink declines or a chunk falls short,
 * the chunks are gone: the payload is decompressed again the sequential way. */

#define LZ4_SLOTS 2  /* one being decompressed while the other is placed and scanned */

struct lz4_run {
    const uint8_t *in;
    uint8_t *out;               /* without a sink: the whole output */
    unsigned n;
    size_t total;
    size_t pos[STREAM_MAX_CHUNKS];
    uint32_t csize[STREAM_MAX_CHUNKS];
    int got[STREAM_MAX_CHUNKS];
    const struct chunk_sink *sink;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool done[STREAM_MAX_CHUNKS];
    unsigned next;              /* next chunk to decompress */
    unsigned placed, scanned;   /* chunks [0, placed) given (or being given) to sink->place, and scan */
    bool placing, scanning;     /* a thread is in sink->place / sink->scan */
    bool began;                 /* sink->begin said yes */
    bool stopped;               /* no more hand-overs: no sink, a chunk fell short, the sink declined */
    /* With a sink: each slot's mapping (NULL until first used) and chunk
     * area, with room for STREAM_CARRY bytes before it; the slot chunk i is
     * in; which chunks are through with place and scan. */
    uint8_t *slot_map[LZ4_SLOTS], *slot[LZ4_SLOTS];
    bool slot_busy[LZ4_SLOTS];
    int slot_of[STREAM_MAX_CHUNKS];
    bool place_done[STREAM_MAX_CHUNKS], scan_done[STREAM_MAX_CHUNKS];
    uint8_t carry[STREAM_CARRY];  /* the last bytes of the last chunk scanned */
};

/* A slot's mapping: the chunk area 2 MiB aligned (for huge pages), a page
 * before it for the carried bytes. */
#define SLOT_MAP_LEN (LZ4_LEGACY_CHUNK + 2 * HUGE_PAGE)

static size_t lz4_chunk_want(const struct lz4_run *r, unsigned i)
{
    return i + 1 < r->n ? LZ4_LEGACY_CHUNK : r->total - (size_t)i * LZ4_LEGACY_CHUNK;
}

static bool lz4_chunk_ok(const struct lz4_run *r, unsigned i)
{
    return r->got[i] >= 0 && (size_t)r->got[i] == lz4_chunk_want(r, i);
}

static uint8_t *lz4_chunk(const struct lz4_run *r, unsigned i)
{
    return r->sink ? r->slot[r->slot_of[i]] : r->out + (size_t)i * LZ4_LEGACY_CHUNK;
}

/* With the lock held: a free slot for the next chunk (the lowest, so that a
 * slot is mapped only when the others are all busy), or -1 for none now. */
static int lz4_take_slot(struct lz4_run *r)
{
    if (!r->sink)
        return 0;
    for (int s = 0; s < LZ4_SLOTS; s++) {
        if (r->slot_busy[s])
            continue;
        if (!r->slot_map[s]) {
            void *m = mmap(NULL, SLOT_MAP_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED) {
                r->stopped = true;
                return -1;
            }
            r->slot_map[s] = m;
            r->slot[s] = (uint8_t *)(((uintptr_t)m + 4096 + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
            madvise(r->slot[s], LZ4_LEGACY_CHUNK, MADV_HUGEPAGE);
        }
        r->slot_busy[s] = true;
        return s;
    }
    return -1;
}

/* With the lock held: chunk k's slot is free once it is placed and scanned. */
static void lz4_release(struct lz4_run *r, unsigned k)
{
    if (r->place_done[k] && r->scan_done[k])
        r->slot_busy[r->slot_of[k]] = false;
}

/* With the lock held: the next chunk to place, or -1 for none now. */
static int lz4_next_place(struct lz4_run *r)
{
    if (r->stopped || r->placing || r->placed == r->n || !r->done[r->placed])
        return -1;
    unsigned k = r->placed;
    if (!lz4_chunk_ok(r, k) ||
        (k == 0 && !r->sink->begin(r->sink->opaque, lz4_chunk(r, 0), LZ4_LEGACY_CHUNK, r->total))) {
        r->stopped = true;
        return -1;
    }
    r->began = true;
    r->placed++;
    r->placing = true;
    return (int)k;
}

/* With the lock held: the next chunk to scan (one already placed or being
 * placed: its bytes and all before are final), or -1. Its slot gets the
 * bytes before it that the scan may read. */
static int lz4_next_scan(struct lz4_run *r)
{
    if (r->stopped || !r->began || r->scanning || r->scanned == r->placed)
        return -1;
    r->scanning = true;
    unsigned k = r->scanned++;
    if (k > 0)
        memcpy(lz4_chunk(r, k) - STREAM_CARRY, r->carry, STREAM_CARRY);
    return (int)k;
}

/* With the lock held: gives chunk k to the sink's place or scan without it,
 * then marks it done (keeping what the next scan needs of it). */
static void lz4_hand_over(struct lz4_run *r, int k, bool scan)
{
    pthread_mutex_unlock(&r->lock);
    size_t start = (size_t)k * LZ4_LEGACY_CHUNK, n = lz4_chunk_want(r, (unsigned)k);
    (scan ? r->sink->scan : r->sink->place)(r->sink->opaque, lz4_chunk(r, (unsigned)k), start, start + n);
    pthread_mutex_lock(&r->lock);
    if (scan) {
        if (n >= STREAM_CARRY)  /* every chunk but the last: 8 MiB */
            memcpy(r->carry, lz4_chunk(r, (unsigned)k) + n - STREAM_CARRY, STREAM_CARRY);
        r->scanning = false;
        r->scan_done[k] = true;
    } else {
        r->placing = false;
        r->place_done[k] = true;
    }
    lz4_release(r, (unsigned)k);
    pthread_cond_broadcast(&r->changed);
}

static void *lz4_worker(void *arg)
{
    struct lz4_run *r = arg;
    int k, s;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        if ((k = lz4_next_place(r)) >= 0) {
            lz4_hand_over(r, k, false);
        } else if (r->next < r->n && !(r->sink && r->stopped) && (s = lz4_take_slot(r)) >= 0) {
            unsigned i = r->next++;
            r->slot_of[i] = s;
            pthread_mutex_unlock(&r->lock);
            int got = LZ4_decompress_safe((const char *)r->in + r->pos[i], (char *)lz4_chunk(r, i),
                                          (int)r->csize[i], LZ4_LEGACY_CHUNK);
            pthread_mutex_lock(&r->lock);
            r->got[i] = got;
            r->done[i] = true;
            pthread_cond_broadcast(&r->changed);
        } else if ((k = lz4_next_scan(r)) >= 0) {
            lz4_hand_over(r, k, true);
        } else if ((r->stopped && (r->sink || r->next == r->n)) ||
                   (r->placed == r->n && r->scanned == r->n)) {
            break;
        } else {
            pthread_cond_wait(&r->changed, &r->lock);  /* the other thread has the rest */
        }
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* 0: not the parallel way (the sequential way is next); 1: the payload was
 * decompressed into o; 2: every chunk went to the sink, o->len is the size. */
static int lz4_parallel(const uint8_t *in, size_t inlen, struct outbuf *o, const struct chunk_sink *sink)
{
    struct lz4_run run = { 0 }, *r = &run;
    const size_t max_chunk_in = (size_t)LZ4_compressBound(LZ4_LEGACY_CHUNK);
    size_t pos = 4;
    /* The chunk table: one frame, then the 4-byte size trailer. */
    while (inlen - pos > 4) {
        uint32_t csize = rd32(in + pos);
        if (csize == 0 || csize == LZ4_LEGACY_MAGIC || csize > max_chunk_in ||
            csize > inlen - pos - 4 || r->n == STREAM_MAX_CHUNKS)
            return 0;
        r->pos[r->n] = pos + 4;
        r->csize[r->n++] = csize;
        pos += 4 + (size_t)csize;
    }
    if (inlen - pos != 4 || r->n < 2)
        return 0;
    r->total = rd32(in + pos);
    if (r->total <= (uint64_t)(r->n - 1) * LZ4_LEGACY_CHUNK || r->total > (uint64_t)r->n * LZ4_LEGACY_CHUNK ||
        (!sink && !out_reserve(o, (size_t)r->n * LZ4_LEGACY_CHUNK)))
        return 0;
    r->in = in;
    r->out = o->p;
    r->sink = sink;
    r->stopped = !sink;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->changed, NULL);
    pthread_t t;
    bool threaded = pthread_create(&t, NULL, lz4_worker, r) == 0;
    lz4_worker(r);
    if (threaded)
        pthread_join(t, NULL);
    pthread_cond_destroy(&r->changed);
    pthread_mutex_destroy(&r->lock);
    for (int s = 0; s < LZ4_SLOTS; s++)
        if (r->slot_map[s])
            munmap(r->slot_map[s], SLOT_MAP_LEN);
    for (unsigned i = 0; i < r->n; i++)
        if (!r->done[i] || !lz4_chunk_ok(r, i) || (sink && !(r->place_done[i] && r->scan_done[i])))
            return 0;
    o->len = r->total;
    return sink ? 2 : 1;
}

/* 0, 1 (all of it went to the sink: o->len is its size, o->p holds none of
 * it) or -1. */
static int unlz4(const uint8_t *in, size_t inlen, struct outbuf *o, const struct chunk_sink *sink,
                 char *err, size_t errlen)
{
    int par = lz4_parallel(in, inlen, o, sink);
    if (par)
        return par - 1;
    o->len = 0;
    size_t pos = 4;  /* past the magic */
    const size_t max_chunk_in = (size_t)LZ4_compressBound(LZ4_LEGACY_CHUNK);
    while (inlen - pos >= 4) {
        uint32_t csize = rd32(in + pos);
        if (csize == LZ4_LEGACY_MAGIC) {  /* concatenated legacy frames */
            pos += 4;
            continue;
        }
        if (inlen - pos == 4) {
            /* Linux appends the uncompressed size: use it to catch a payload
             * cut exactly at a chunk boundary. */
            if (csize != (uint32_t)o->len) {
                boot_seterr(err, errlen, "lz4: decompressed %zu bytes but the size trailer says %u "
                       "(payload truncated?)", o->len, csize);
                return -1;
            }
            return 0;
        }
        if (csize == 0)
            return 0;
        pos += 4;
        if (csize > max_chunk_in) {
            boot_seterr(err, errlen, "lz4: chunk at payload offset %zu has invalid size %u", pos - 4, csize);
            return -1;
        }
        if (csize > inlen - pos) {
            boot_seterr(err, errlen, "lz4: payload truncated (chunk at offset %zu needs %u bytes, %zu left)",
                   pos - 4, csize, inlen - pos);
            return -1;
        }
        if (!out_reserve(o, 0))
            return out_full("lz4", err, errlen);
        size_t room = LOADER_MAX_VMLINUX - o->len;
        if (room > LZ4_LEGACY_CHUNK)
            room = LZ4_LEGACY_CHUNK;
        if (!out_reserve(o, room))
            return out_full("lz4", err, errlen);
        int n = LZ4_decompress_safe((const char *)in + pos, (char *)o->p + o->len, (int)csize, (int)room);
        if (n < 0 && room < LZ4_LEGACY_CHUNK)
            return out_full("lz4", err, errlen);  /* may just not fit under the cap */
        if (n < 0) {
            boot_seterr(err, errlen, "lz4: corrupt chunk at payload offset %zu", pos - 4);
            return -1;
        }
        o->len += (size_t)n;
        pos += csize;
    }
    return 0;
}

/* The payload's format, by magic. Returns the name, or NULL if unknown. */
static const char *payload_format(const uint8_t *p, size_t n)
{
    static const struct { const char *name; uint8_t len; uint8_t magic[6]; } fmts[] = {
        { "gzip",  2, { 0x1f, 0x8b } },
        { "xz",    6, { 0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00 } },
        { "lz4",   4, { 0x02, 0x21, 0x4c, 0x18 } },
        { "zstd",  4, { 0x28, 0xb5, 0x2f, 0xfd } },
        { "bzip2", 3, { 'B', 'Z', 'h' } },
        { "lzo",   4, { 0x89, 'L', 'Z', 'O' } },
        { "lzma",  3, { 0x5d, 0x00, 0x00 } },  /* properties byte, then dict size */
    };
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
        if (n >= fmts[i].len && !memcmp(p, fmts[i].magic, fmts[i].len))
            return fmts[i].name;
    return NULL;
}

/* Locates the payload. Returns 1 with *pl and *pllen set, 0 if not a bzImage, -1. */
static int find_payload(const uint8_t *image, size_t len, const uint8_t **pl, size_t *pllen,
                        char *err, size_t errlen)
{
    if (len < BZ_VERSION + 2 || memcmp(image + BZ_HEADER_MAGIC, "HdrS", 4))
        return 0;
    uint16_t version = rd16(image + BZ_VERSION);
    if (version < 0x208) {
        boot_seterr(err, errlen, "bzImage boot protocol %u.%02u is older than 2.08 (no payload fields)",
               version >> 8, version & 0xff);
        return -1;
    }
    if (len < BZ_HEADER_END) {
        boot_seterr(err, errlen, "bzImage truncated inside its setup header (%zu bytes)", len);
        return -1;
    }
    uint64_t setup_sects = image[BZ_SETUP_SECTS] ? image[BZ_SETUP_SECTS] : 4;
    uint64_t start = (setup_sects + 1) * 512;  /* protected-mode code starts here */
    uint64_t off = rd32(image + BZ_PAYLOAD_OFF), plen = rd32(image + BZ_PAYLOAD_LEN);
    if (plen == 0) {
        boot_seterr(err, errlen, "bzImage header: payload_length is 0");
        return -1;
    }
    if (start > len || off > len - start || plen > len - start - off) {
        boot_seterr(err, errlen, "bzImage header: payload (offset %#" PRIx64 ", length %#" PRIx64
               ") extends past the end of the %zu-byte image",
               start + off, plen, len);
        return -1;
    }
    *pl = image + start + off;
    *pllen = (size_t)plen;
    return 1;
}

int bzimage_extract(const uint8_t *image, size_t len, uint8_t **out, size_t *outlen,
                    char comp[8], char *err, size_t errlen)
{
    return bzimage_extract_to(image, len, out, outlen, comp, err, errlen, NULL);
}

int bzimage_extract_to(const uint8_t *image, size_t len, uint8_t **out, size_t *outlen,
                       char comp[8], char *err, size_t errlen, const struct chunk_sink *sink)
{
    const uint8_t *pl;
    size_t pllen;
    if (len > LOADER_MAX_IMAGE) {
        boot_seterr(err, errlen, "image is %zu bytes, larger than the %u MiB limit", len, LOADER_MAX_IMAGE >> 20);
        return -1;
    }
    int found = find_payload(image, len, &pl, &pllen, err, errlen);
    if (found <= 0)
        return found;

    const char *fmt = payload_format(pl, pllen);
    if (!fmt) {
        boot_seterr(err, errlen, "bzImage payload: unknown compression (magic %02x %02x %02x %02x)",
               pl[0], pllen > 1 ? pl[1] : 0, pllen > 2 ? pl[2] : 0, pllen > 3 ? pl[3] : 0);
        return -1;
    }
    snprintf(comp, 8, "%s", fmt);

    /* Linux appends the vmlinux's size to every payload (gzip's own trailer
     * for gzip): room for that much at once, when it is plausible. */
    struct outbuf o = { 0 };
    uint32_t hint = pllen >= 8 ? rd32(pl + pllen - 4) : 0;
    if (hint && hint <= LOADER_MAX_VMLINUX && !out_reserve(&o, hint))
        return out_full(fmt, err, errlen);
    int rc;
    if (!strcmp(fmt, "gzip"))
        rc = gunzip(pl, pllen, &o, err, errlen);
    else if (!strcmp(fmt, "xz"))
        rc = unxz(pl, pllen, &o, err, errlen);
    else if (!strcmp(fmt, "lz4"))
        rc = unlz4(pl, pllen, &o, sink, err, errlen);
    else if (!strcmp(fmt, "zstd"))
        rc = unzstd(pl, pllen, &o, err, errlen);
    else {
        boot_seterr(err, errlen, "bzImage payload: unsupported compression %s "
               "(xenkvm supports gzip, xz, lz4, zstd)", fmt);
        rc = -1;
    }
    if (rc == 1) {  /* streamed to the sink */
        free(o.p);
        *out = NULL;
        *outlen = o.len;
        return 2;
    }
    if (rc == 0 && o.len == 0) {
        boot_seterr(err, errlen, "%s: payload decompresses to nothing", fmt);
        rc = -1;
    }
    if (rc < 0) {
        free(o.p);
        return -1;
    }
    *out = o.p;
    *outlen = o.len;
    return 1;
}
