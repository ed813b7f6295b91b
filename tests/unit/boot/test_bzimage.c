/* bzImage unwrapping: each supported compressor around a tiny PVH ELF,
 * corrupt and truncated payloads, unsupported formats, bad headers. */
#include "unit.h"
#include "boot_test_util.h"

#include <stdlib.h>

#include <lz4.h>

static char err[512];

static int load_bz(const uint8_t *img, size_t len, struct kernel_info *ki, uint64_t ramsize)
{
    struct fake_ram ram;
    fake_ram_init(&ram, ramsize);
    err[0] = 0;
    int rc = kernel_load(img, len, &ram.mem, ki, err, sizeof(err));
    fake_ram_free(&ram);
    return rc;
}

static void roundtrip(const char *comp)
{
    struct elf_spec s = elf_spec_default(true);
    uint8_t *elf = elf_build(&s);
    size_t len;
    uint8_t *bz = bzimage_build(comp, elf, T_FILE_LEN, &len);
    static struct kernel_info ki;
    CHECK_EQ(load_bz(bz, len, &ki, 4u << 20), 0);
    CHECK_STR(err, "");
    CHECK_EQ(ki.from_bzimage, true);
    CHECK_STR(ki.compression, comp);
    CHECK_EQ(ki.pvh_entry, T_ENTRY);
    CHECK_EQ(ki.rewritten_sites, 1);

    uint8_t *out = NULL;
    size_t outlen = 0;
    char c[8];
    CHECK_EQ(bzimage_extract(bz, len, &out, &outlen, c, err, sizeof(err)), 1);
    CHECK_EQ(outlen, T_FILE_LEN);
    CHECK(out && !memcmp(out, elf, T_FILE_LEN));
    free(out);
    free(bz);
    free(elf);
}

TEST(bz_gzip)
{
    roundtrip("gzip");
}

TEST(bz_xz)
{
    roundtrip("xz");
}

TEST(bz_lz4)
{
    roundtrip("lz4");
}

TEST(bz_zstd)
{
    roundtrip("zstd");
}

TEST(bz_lz4_multichunk)
{
    /* A 9 MiB text segment: two 8 MiB legacy chunks. */
    const size_t big = 9u << 20;
    struct elf_spec s = elf_spec_default(true);
    s.seg[0].filesz = s.seg[0].memsz = big;
    s.seg[2].paddr = T_TEXT_PADDR + big;
    s.seg[2].offset = T_TEXT_OFF + big - 0x10;  /* the file's last 16 bytes */
    uint8_t *small = elf_build(&s);
    uint8_t *elf = calloc(1, T_TEXT_OFF + big);
    memcpy(elf, small, T_FILE_LEN);
    elf[T_TEXT_OFF + big - 1] = 0x77;  /* last byte of the second chunk's data */
    size_t len;
    uint8_t *bz = bzimage_build("lz4", elf, T_TEXT_OFF + big, &len);
    uint8_t *out = NULL;
    size_t outlen = 0;
    char c[8];
    CHECK_EQ(bzimage_extract(bz, len, &out, &outlen, c, err, sizeof(err)), 1);
    CHECK_EQ(outlen, T_TEXT_OFF + big);
    CHECK(out && !memcmp(out, elf, outlen));
    static struct kernel_info ki;
    CHECK_EQ(load_bz(bz, len, &ki, 32u << 20), 0);
    CHECK_STR(err, "");
    free(out);
    free(bz);
    free(elf);
    free(small);
}

/* Two chunks decompress on two threads; a payload that is not exactly as
 * Linux builds it gets the sequential decoder's answer, errors included. */
static uint8_t *two_chunks(size_t *len, size_t *plen_out, uint8_t **elf_out)
{
    const size_t big = 9u << 20;
    struct elf_spec s = elf_spec_default(true);
    s.seg[0].filesz = s.seg[0].memsz = big;
    s.seg[2].paddr = T_TEXT_PADDR + big;
    s.seg[2].offset = T_TEXT_OFF + big - 0x10;
    uint8_t *small = elf_build(&s);
    uint8_t *elf = calloc(1, T_TEXT_OFF + big);
    memcpy(elf, small, T_FILE_LEN);
    for (size_t i = T_FILE_LEN; i < T_TEXT_OFF + big; i++)
        elf[i] = (uint8_t)(i * 2654435761u >> 13);
    free(small);
    uint8_t *bz = bzimage_build("lz4", elf, T_TEXT_OFF + big, len);
    uint32_t plen;
    memcpy(&plen, bz + 0x24c, 4);
    *plen_out = plen;
    *elf_out = elf;
    return bz;
}

TEST(bz_lz4_chunks_in_parallel_match)
{
    size_t len, plen;
    uint8_t *elf, *bz = two_chunks(&len, &plen, &elf);
    uint8_t *out = NULL;
    size_t outlen = 0;
    char c[8];
    CHECK_EQ(bzimage_extract(bz, len, &out, &outlen, c, err, sizeof(err)), 1);
    CHECK_EQ(outlen, T_TEXT_OFF + (9u << 20));
    CHECK(out && !memcmp(out, elf, outlen));
    free(out);
    /* A second chunk cut short (its size word 10 less): the sequential
     * decoder's message. */
    uint32_t c0, c1;
    memcpy(&c0, bz + T_BZ_PAYLOAD + 4, 4);
    size_t second = T_BZ_PAYLOAD + 8 + c0;           /* the second chunk's size word */
    uint8_t *bad = malloc(len);
    memcpy(bad, bz, len);
    memcpy(&c1, bad + second, 4);
    c1 -= 10;
    memcpy(bad + second, &c1, 4);
    CHECK_EQ(bzimage_extract(bad, len, &out, &outlen, c, err, sizeof(err)), -1);
    char want[96];
    snprintf(want, sizeof(want), "lz4: corrupt chunk at payload offset %zu", second - T_BZ_PAYLOAD);
    CHECK(strstr(err, want));
    /* A size trailer that does not add up: also the sequential answer. */
    memcpy(bad, bz, len);
    uint32_t bogus = 12345;
    memcpy(bad + T_BZ_PAYLOAD + plen - 4, &bogus, 4);
    CHECK_EQ(bzimage_extract(bad, len, &out, &outlen, c, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "lz4: decompressed %zu bytes but the size trailer says 12345",
             (size_t)T_TEXT_OFF + (9u << 20));
    CHECK(strstr(err, want));
    free(bad);
    free(bz);
    free(elf);
}

/* Flips bytes in the middle of the compressed stream. */
static void corrupt(const char *comp, const char *want)
{
    struct elf_spec s = elf_spec_default(true);
    uint8_t *elf = elf_build(&s);
    size_t len;
    uint8_t *bz = bzimage_build(comp, elf, T_FILE_LEN, &len);
    uint32_t plen;
    memcpy(&plen, bz + 0x24c, 4);
    for (uint32_t i = 12; i + 4 < plen; i += 7)
        bz[T_BZ_PAYLOAD + i] ^= 0xa5;
    static struct kernel_info ki;
    CHECK_EQ(load_bz(bz, len, &ki, 4u << 20), -1);
    if (!strstr(err, want))
        unit_fail(__FILE__, __LINE__, "%s: error \"%s\" lacks \"%s\"", comp, err, want);
    free(bz);
    free(elf);
}

TEST(bz_corrupt_payloads)
{
    corrupt("gzip", "gzip: corrupt data");
    corrupt("xz", "xz: ");
    corrupt("lz4", "lz4: ");
    corrupt("zstd", "zstd: ");
}

/* Cuts the payload short (payload_length too), dropping the size trailer. */
static void truncated(const char *comp, uint32_t keep_num, uint32_t keep_den, const char *want)
{
    struct elf_spec s = elf_spec_default(true);
    uint8_t *elf = elf_build(&s);
    size_t len;
    uint8_t *bz = bzimage_build(comp, elf, T_FILE_LEN, &len);
    uint32_t plen;
    memcpy(&plen, bz + 0x24c, 4);
    plen = (plen - 4) * keep_num / keep_den;
    memcpy(bz + 0x24c, &plen, 4);
    static struct kernel_info ki;
    CHECK_EQ(load_bz(bz, len, &ki, 4u << 20), -1);
    if (!strstr(err, want))
        unit_fail(__FILE__, __LINE__, "%s: error \"%s\" lacks \"%s\"", comp, err, want);
    free(bz);
    free(elf);
}

TEST(bz_truncated_payloads)
{
    truncated("gzip", 1, 2, "gzip: payload truncated");
    truncated("xz", 1, 2, "xz: payload truncated");
    truncated("lz4", 1, 2, "lz4: payload truncated");
    truncated("zstd", 1, 2, "zstd: payload truncated");
}

TEST(bz_lz4_size_trailer_mismatch)
{
    /* A chunk boundary cut is only visible through Linux's size trailer. */
    struct elf_spec s = elf_spec_default(true);
    uint8_t *elf = elf_build(&s);
    size_t len;
    uint8_t *bz = bzimage_build("lz4", elf, T_FILE_LEN, &len);
    uint32_t plen, bogus = 12345;
    memcpy(&plen, bz + 0x24c, 4);
    memcpy(bz + T_BZ_PAYLOAD + plen - 4, &bogus, 4);
    uint8_t *out = NULL;
    size_t outlen;
    char c[8];
    CHECK_EQ(bzimage_extract(bz, len, &out, &outlen, c, err, sizeof(err)), -1);
    CHECK(strstr(err, "lz4: decompressed 5632 bytes but the size trailer says 12345"));
    free(bz);
    free(elf);
}

TEST(bz_unsupported_compressions)
{
    static const struct { const char *name; const char *magic; size_t n; } u[] = {
        { "lzma", "\x5d\x00\x00\x80\x00\xff\xff\xff", 8 },
        { "bzip2", "BZh91AY&SY", 10 },
        { "lzo", "\x89LZO\x00\r\n\x1a\n", 9 },
    };
    for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
        size_t len;
        uint8_t *bz = bzimage_wrap((const uint8_t *)u[i].magic, u[i].n, &len);
        uint8_t *out = NULL;
        size_t outlen;
        char c[8];
        CHECK_EQ(bzimage_extract(bz, len, &out, &outlen, c, err, sizeof(err)), -1);
        char want[64];
        snprintf(want, sizeof(want), "unsupported compression %s", u[i].name);
        if (!strstr(err, want))
            unit_fail(__FILE__, __LINE__, "error \"%s\" lacks \"%s\"", err, want);
        free(bz);
    }
}

TEST(bz_unknown_compression)
{
    size_t len;
    uint8_t *bz = bzimage_wrap((const uint8_t *)"\x01\x02\x03\x04\x05", 5, &len);
    uint8_t *out = NULL;
    size_t outlen;
    char c[8];
    CHECK_EQ(bzimage_extract(bz, len, &out, &outlen, c, err, sizeof(err)), -1);
    CHECK(strstr(err, "unknown compression (magic 01 02 03 04)"));
    free(bz);
}

TEST(bz_bad_headers)
{
    size_t len;
    uint8_t *bz = bzimage_wrap((const uint8_t *)"\x1f\x8b\x08\x00", 4, &len);
    uint8_t *out = NULL;
    size_t outlen;
    char c[8];
    /* Payload running past the image. */
    uint32_t big = (uint32_t)len;
    memcpy(bz + 0x24c, &big, 4);
    CHECK_EQ(bzimage_extract(bz, len, &out, &outlen, c, err, sizeof(err)), -1);
    CHECK(strstr(err, "extends past the end"));
    uint32_t off = 0xfffffff0;
    memcpy(bz + 0x248, &off, 4);
    CHECK_EQ(bzimage_extract(bz, len, &out, &outlen, c, err, sizeof(err)), -1);
    CHECK(strstr(err, "extends past the end"));
    /* Too-old protocol. */
    bz[0x206] = 0x06;
    CHECK_EQ(bzimage_extract(bz, len, &out, &outlen, c, err, sizeof(err)), -1);
    CHECK(strstr(err, "boot protocol 2.06 is older than 2.08"));
    /* Zero payload length. */
    bz[0x206] = 0x0f;
    memset(bz + 0x248, 0, 8);
    CHECK_EQ(bzimage_extract(bz, len, &out, &outlen, c, err, sizeof(err)), -1);
    CHECK(strstr(err, "payload_length is 0"));
    /* Truncated in the header; and no HdrS at all: not a bzImage. */
    CHECK_EQ(bzimage_extract(bz, 0x220, &out, &outlen, c, err, sizeof(err)), -1);
    CHECK(strstr(err, "truncated inside its setup header"));
    CHECK_EQ(bzimage_extract(bz, 0x100, &out, &outlen, c, err, sizeof(err)), 0);
    free(bz);
}

TEST(bz_payload_not_elf)
{
    static const uint8_t junk[64] = "this is not an ELF file at all";
    size_t len;
    uint8_t *bz = bzimage_build("gzip", junk, sizeof(junk), &len);
    static struct kernel_info ki;
    CHECK_EQ(load_bz(bz, len, &ki, 4u << 20), -1);
    CHECK(strstr(err, "bzImage's gzip-compressed vmlinux: not an ELF file"));
    free(bz);
}

TEST(bz_lz4_size_limit)
{
    /* 65 legacy chunks of 8 MiB of zeros: 520 MiB, over LOADER_MAX_VMLINUX. */
    const int zchunk = 8 << 20;
    char *zeros = calloc(1, (size_t)zchunk);
    int bound = LZ4_compressBound(zchunk);
    char *c = malloc((size_t)bound);
    int clen = LZ4_compress_default(zeros, c, zchunk, bound);
    CHECK(clen > 0);
    const int nchunks = 65;
    size_t rawlen = 4 + (size_t)nchunks * (4 + (size_t)clen);
    uint8_t *raw = malloc(rawlen);
    uint32_t magic = 0x184c2102, c32 = (uint32_t)clen;
    memcpy(raw, &magic, 4);
    for (int i = 0; i < nchunks; i++) {
        memcpy(raw + 4 + (size_t)i * (4 + (size_t)clen), &c32, 4);
        memcpy(raw + 8 + (size_t)i * (4 + (size_t)clen), c, (size_t)clen);
    }
    size_t len;
    uint8_t *bz = bzimage_wrap(raw, rawlen, &len);
    uint8_t *out = NULL;
    size_t outlen;
    char comp[8];
    CHECK_EQ(bzimage_extract(bz, len, &out, &outlen, comp, err, sizeof(err)), -1);
    CHECK(strstr(err, "lz4: decompressed vmlinux exceeds the 512 MiB limit"));
    free(bz);
    free(raw);
    free(c);
    free(zeros);
}

TEST(bz_garbage_never_crashes)
{
    /* Random damage to each format's stream: an error or a result, never a
     * crash or an out-of-bounds access (run under ASan). */
    static const char *comps[] = { "gzip", "xz", "lz4", "zstd" };
    struct elf_spec s = elf_spec_default(true);
    uint8_t *elf = elf_build(&s);
    uint32_t x = 99;
    for (size_t k = 0; k < 4; k++) {
        size_t len;
        uint8_t *orig = bzimage_build(comps[k], elf, T_FILE_LEN, &len);
        uint8_t *bz = malloc(len);
        uint32_t plen;
        memcpy(&plen, orig + 0x24c, 4);
        for (int round = 0; round < 300; round++) {
            memcpy(bz, orig, len);
            for (int j = 0; j < 3; j++) {
                x = x * 1103515245 + 12345;
                bz[T_BZ_PAYLOAD + (x >> 8) % plen] = (uint8_t)(x >> 24);
            }
            uint8_t *out = NULL;
            size_t outlen;
            char comp[8];
            if (bzimage_extract(bz, len, &out, &outlen, comp, err, sizeof(err)) == 1)
                free(out);
        }
        free(bz);
        free(orig);
    }
    free(elf);
    CHECK(1);
}
