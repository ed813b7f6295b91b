/* A bzImage's vmlinux placed while it is decompressed (src/boot/stream.c)
 * must leave guest RAM, the rewritten sites and kernel_info exactly as
 * loading the same vmlinux as a plain ELF does: checked on a three-chunk
 * LZ4 image whose text is dense with hypercall-like bytes, with sites planted
 * across the 8 MiB chunk boundaries. */
#include "unit.h"
#include "boot_test_util.h"

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
};

static int cw_write(void *opaque, uint64_t gpa, const void *src, uint64_t len)
{
    struct counting_ram *c = opaque;
    uint8_t *p = c->ram.mem.at(&c->ram, gpa, len);
    if (!p)
        return -1;
    memcpy(p, src, len);
    if (gpa >= T_TEXT_PADDR && gpa < T_TEXT_PADDR + BIG)
        __atomic_fetch_add(&c->text_writes, 1, __ATOMIC_RELAXED);
    return 0;
}

static int cw_zero(void *opaque, uint64_t gpa, uint64_t len)
{
    struct counting_ram *c = opaque;
    uint8_t *p = c->ram.mem.at(&c->ram, gpa, len);
    if (!p)
        return -1;
    memset(p, 0, len);
    if (gpa >= T_TEXT_PADDR && gpa < T_TEXT_PADDR + BIG)
        __atomic_fetch_add(&c->text_zeros, 1, __ATOMIC_RELAXED);
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

static uint8_t *build_vmlinux(size_t *len)
{
    struct elf_spec s = elf_spec_default(true);
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
    return c.text_writes;
}

TEST(stream_places_as_elf_loading_does)
{
    size_t len, bzlen;
    uint8_t *elf = build_vmlinux(&len);
    uint8_t *bz = bzimage_build("lz4", elf, len, &bzlen);
    static struct kernel_info want, got, got_w;
    uint8_t *ram_want, *ram_got, *ram_got_w;
    unsigned zeros;
    load(elf, len, false, &want, &ram_want, NULL);
    load(bz, bzlen, false, &got, &ram_got, NULL);
    unsigned writes = load(bz, bzlen, true, &got_w, &ram_got_w, &zeros);
    CHECK(writes > 3);  /* the text went in chunk by chunk: the streaming way */
    CHECK_EQ(zeros, 2);  /* the two runs of zero pages */
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
}

/* A text segment that does not fit in RAM: the stream declines at once, and
 * the error is the ELF loader's. */
TEST(stream_declines_what_elf_loading_refuses)
{
    size_t len, bzlen;
    uint8_t *elf = build_vmlinux(&len);
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
