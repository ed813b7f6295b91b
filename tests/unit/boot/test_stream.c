/* A bzImage's vmlinux placed while it is decompressed (src/boot/stream.c)
 * must leave guest RAM, the rewritten sites and kernel_info exactly as
 * loading the same vmlinux as a plain ELF does: checked on a three-chunk
 * LZ4 image whose text is dense with hypercall-like bytes, with sites planted
 * across the 8 MiB chunk boundaries (the chunks pass through two reused
 * slots, so the third lands where the first was); and what the stream cannot
 * settle goes the whole way, with the same result. */
#include "unit.h"
#include "boot_test_util.h"

#include <elf.h>
#include <stdlib.h>

#define CHUNK (8u << 20)
#define BIG (2 * CHUNK + 0x12345u)      /* text segment: the vmlinux spans 3 chunks */
#define RAM (32u << 20)

static char err[512];

/* A guest_mem with write/zero (as the domain's, which pwrites the memfd),
 * counting writes into the text segment. */
struct counting_ram {
    struct fake_ram ram;
    unsigned text_writes, text_zeros;
    uint64_t text_bytes;        /* written or zeroed: BIG if the text went in once */
};

static int cw_write(void *opaque, uint64_t gpa, const void *src, uint64_t len)
{
    struct counting_ram *c = opaque;
    uint8_t *p = c->ram.mem.at(&c->ram, gpa, len);
    if (!p)
        return -1;
    memcpy(p, src, len);
    if (gpa >= T_TEXT_PADDR && gpa < T_TEXT_PADDR + BIG) {
        __atomic_fetch_add(&c->text_writes, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&c->text_bytes, len, __ATOMIC_RELAXED);
    }
    return 0;
}

static int cw_zero(void *opaque, uint64_t gpa, uint64_t len)
{
    struct counting_ram *c = opaque;
    uint8_t *p = c->ram.mem.at(&c->ram, gpa, len);
    if (!p)
        return -1;
    memset(p, 0, len);
    if (gpa >= T_TEXT_PADDR && gpa < T_TEXT_PADDR + BIG) {
        __atomic_fetch_add(&c->text_zeros, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&c->text_bytes, len, __ATOMIC_RELAXED);
    }
    return 0;
}

/* Bytes drawn mostly from opcodes the acceptance rules look at. */
static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    static const uint8_t alphabet[] = { 0x0f, 0x01, 0xc1, 0xd9, 0xc3, 0xcc, 0x90, 0xe9, 0xf3, 0xeb,
                                        0x74, 0x66, 0x1f, 0x00, 0x44, 0x02 };
    uint32_t x = seed;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (x >> 28) < 14 ? alphabet[(x >> 16) % sizeof(alphabet)] : (uint8_t)(x >> 8);
    }
}

/* An S1 stub (int3 filler, vmcall, ret) at file offset off (16-aligned in
 * guest-physical terms, as text starts page-aligned). */
static void stub(uint8_t *elf, size_t off, uint8_t op)
{
    const uint8_t b[] = { 0xcc, 0x0f, 0x01, op, 0xc3 };
    memcpy(elf + off - 1, b, sizeof(b));
}

/* sections_only: the Xen notes are described by a SHT_NOTE section alone
 * (no PT_NOTE), which the stream leaves to the whole way. */
static uint8_t *build_vmlinux(size_t *len, bool sections_only)
{
    struct elf_spec s = elf_spec_default(true);
    if (sections_only) {
        s.shdr_notes = true;
        s.seg[1].type = PT_NULL;
    }
    s.seg[0].filesz = s.seg[0].memsz = BIG;
    s.seg[2].paddr = T_TEXT_PADDR + BIG + 0x1000;
    s.seg[2].offset = T_TEXT_OFF + BIG - 0x10;  /* the file's last 16 bytes, then bss */
    uint8_t *small = elf_build(&s);
    *len = T_TEXT_OFF + BIG;
    uint8_t *elf = malloc(*len);
    fill(elf, *len, 7);
    memcpy(elf, small, T_FILE_LEN);
    free(small);
    for (unsigned k = 1; k <= 2; k++)
        for (int d = -64; d <= 64; d += 16)
            stub(elf, (size_t)k * CHUNK + (size_t)d, d & 16 ? 0xd9 : 0xc1);
    /* Whole pages of zeros (left to mem->zero), one run ending at a chunk
     * boundary's page, one inside a chunk. */
    memset(elf + CHUNK - 0x3000, 0, 0x2000);
    memset(elf + CHUNK + 0x5000, 0, 0x3000);
    /* A vendor pair (vmmcall; vmcall) across the second boundary. */
    static const uint8_t pair[] = { 0x90, 0x0f, 0x01, 0xd9, 0x0f, 0x01, 0xc1 };
    memcpy(elf + 2 * CHUNK - 4, pair, sizeof(pair));
    return elf;
}

static uint64_t last_text_bytes;  /* of the last load() */

static unsigned load(const uint8_t *img, size_t len, bool with_write, struct kernel_info *ki, uint8_t **ram_out,
                     unsigned *zeros)
{
    struct counting_ram c = { 0 };
    fake_ram_init(&c.ram, RAM);
    if (with_write)
        c.ram.mem = (struct guest_mem){ .opaque = &c, .at = c.ram.mem.at, .write = cw_write, .zero = cw_zero };
    memset(c.ram.base, 0xa5, RAM);  /* what lies outside the segments stays */
    err[0] = 0;
    CHECK_EQ(kernel_load(img, len, &c.ram.mem, ki, err, sizeof(err)), 0);
    CHECK_STR(err, "");
    *ram_out = c.ram.base;
    if (zeros)
        *zeros = c.text_zeros;
    last_text_bytes = c.text_bytes;
    return c.text_writes;
}

/* Loads the vmlinux as an ELF and as an LZ4 bzImage, with and without the
 * bulk callbacks, and checks that all agree; returns the text bytes the
 * bzImage load with callbacks wrote. */
static uint64_t check_as_elf(bool sections_only)
{
    size_t len, bzlen;
    uint8_t *elf = build_vmlinux(&len, sections_only);
    uint8_t *bz = bzimage_build("lz4", elf, len, &bzlen);
    static struct kernel_info want, got, got_w;
    uint8_t *ram_want, *ram_got, *ram_got_w;
    unsigned zeros;
    load(elf, len, false, &want, &ram_want, NULL);
    load(bz, bzlen, false, &got, &ram_got, NULL);
    unsigned writes = load(bz, bzlen, true, &got_w, &ram_got_w, &zeros);
    uint64_t text_bytes = last_text_bytes;
    CHECK(writes > 3);  /* the text went in chunk by chunk (and maybe whole after) */
    CHECK_EQ(zeros, sections_only ? 4 : 2);  /* the two runs of zero pages, each time placed */
    /* The ELF path with write/zero callbacks: the same bytes, the same holes. */
    static struct kernel_info want_w;
    uint8_t *ram_want_w;
    load(elf, len, true, &want_w, &ram_want_w, &zeros);
    CHECK_EQ(zeros, 2);
    CHECK(!memcmp(ram_want_w, ram_want, RAM));
    free(ram_want_w);
    CHECK(want.rewritten_sites >= 20);  /* the planted ones, and the original stub */
    CHECK_EQ(got.rewritten_sites, want.rewritten_sites);
    CHECK_EQ(got_w.rewritten_sites, want.rewritten_sites);
    unsigned n = want.rewritten_sites < KERNEL_INFO_MAX_SITES ? want.rewritten_sites : KERNEL_INFO_MAX_SITES;
    CHECK(!memcmp(got.site_paddr, want.site_paddr, n * sizeof(want.site_paddr[0])));
    CHECK(!memcmp(got_w.site_paddr, want.site_paddr, n * sizeof(want.site_paddr[0])));
    CHECK_EQ(got.paddr_lo, want.paddr_lo);
    CHECK_EQ(got.paddr_hi, want.paddr_hi);
    CHECK_EQ(got_w.paddr_hi, want.paddr_hi);
    CHECK_EQ(got.pvh_entry, want.pvh_entry);
    CHECK_EQ(got_w.pvh_entry, want.pvh_entry);
    CHECK_STR(got_w.guest_os, want.guest_os);
    CHECK_STR(got_w.compression, "lz4");
    CHECK(got_w.from_bzimage);
    CHECK(!memcmp(ram_got, ram_want, RAM));
    CHECK(!memcmp(ram_got_w, ram_want, RAM));
    /* The planted boundary stubs are among the sites. */
    bool seen = false;
    for (unsigned i = 0; i < n; i++)
        seen |= want.site_paddr[i] == T_TEXT_PADDR + CHUNK - T_TEXT_OFF;
    CHECK(seen);
    free(ram_want);
    free(ram_got);
    free(ram_got_w);
    free(bz);
    free(elf);
    return text_bytes;
}

TEST(stream_places_as_elf_loading_does)
{
    /* Each text byte written once: the stream settled it all. */
    CHECK_EQ(check_as_elf(false), BIG);
}

/* Xen notes that only a section describes: the stream does not read the
 * section headers (they come last), so the image goes the whole way after
 * it (its text written twice), with the same result. */
TEST(stream_leaves_section_notes_to_the_whole_way)
{
    CHECK_EQ(check_as_elf(true), 2 * (uint64_t)BIG);
}

/* A chunk cut short in the middle of the stream: the sequential decoder's
 * message, as bzimage_extract gives it. */
TEST(stream_stops_at_a_short_chunk)
{
    size_t len, bzlen;
    uint8_t *elf = build_vmlinux(&len, false);
    uint8_t *bz = bzimage_build("lz4", elf, len, &bzlen);
    uint32_t c0, c1, c2;
    memcpy(&c0, bz + T_BZ_PAYLOAD + 4, 4);
    memcpy(&c1, bz + T_BZ_PAYLOAD + 8 + c0, 4);
    size_t third = T_BZ_PAYLOAD + 12 + c0 + c1;      /* the third chunk's size word */
    memcpy(&c2, bz + third, 4);
    c2 -= 10;
    memcpy(bz + third, &c2, 4);
    struct fake_ram ram;
    fake_ram_init(&ram, RAM);
    static struct kernel_info ki;
    CHECK_EQ(kernel_load(bz, bzlen, &ram.mem, &ki, err, sizeof(err)), -1);
    char want[96];
    snprintf(want, sizeof(want), "lz4: corrupt chunk at payload offset %zu", third - T_BZ_PAYLOAD);
    CHECK(strstr(err, want));
    fake_ram_free(&ram);
    free(bz);
    free(elf);
}

/* A text segment that does not fit in RAM: the stream declines at once, and
 * the error is the ELF loader's. */
TEST(stream_declines_what_elf_loading_refuses)
{
    size_t len, bzlen;
    uint8_t *elf = build_vmlinux(&len, false);
    uint8_t *bz = bzimage_build("lz4", elf, len, &bzlen);
    struct fake_ram ram;
    fake_ram_init(&ram, 16u << 20);
    static struct kernel_info ki;
    CHECK_EQ(kernel_load(bz, bzlen, &ram.mem, &ki, err, sizeof(err)), -1);
    CHECK(strstr(err, "bzImage's lz4-compressed vmlinux: ELF program header 0 (PT_LOAD): physical range"));
    CHECK(strstr(err, "does not fit in guest RAM"));
    fake_ram_free(&ram);
    free(bz);
    free(elf);
}
