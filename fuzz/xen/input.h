/* The fuzz targets' input: a cursor over libFuzzer's bytes. Once the bytes
 * run out every take returns zeros and fin() is true, so a target's loop
 * simply stops. Small values cost one byte: the fuzzer reaches the
 * interesting ones (ports, refs, lengths) without guessing eight bytes. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct in {
    const uint8_t *p;
    size_t n;
};

static inline bool fin(const struct in *in) { return in->n == 0; }

static inline void take(struct in *in, void *dst, size_t len)
{
    size_t k = len < in->n ? len : in->n;
    memcpy(dst, in->p, k);
    memset((uint8_t *)dst + k, 0, len - k);
    in->p += k;
    in->n -= k;
}

static inline uint8_t u8(struct in *in) { uint8_t v; take(in, &v, 1); return v; }
static inline uint16_t u16(struct in *in) { uint16_t v; take(in, &v, 2); return v; }
static inline uint32_t u32(struct in *in) { uint32_t v; take(in, &v, 4); return v; }
static inline uint64_t u64(struct in *in) { uint64_t v; take(in, &v, 8); return v; }

/* A value of 1, 2, 4 or 8 bytes, by a tag byte's low bits; the tag's bit 2
 * makes it negative (-1, -2, ... for the "all ones" corners). */
static inline uint64_t val(struct in *in)
{
    uint8_t tag = u8(in);
    uint64_t v;
    switch (tag & 3) {
    case 0: v = u8(in); break;
    case 1: v = u16(in); break;
    case 2: v = u32(in); break;
    default: v = u64(in); break;
    }
    return tag & 4 ? -v : v;
}

/* A hypercall's result is 0, a positive count, or -errno of Xen's range. */
#define RESULT_OK(rc) ((rc) > -4096)
