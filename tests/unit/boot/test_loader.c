/* kernel_load on synthetic ELF32/ELF64 PVH images: notes, validation of every
 * header field, placement in guest RAM, hypercall-site rewriting. */
#include "unit.h"
#include "boot_test_util.h"

#include <elf.h>
#include <stdlib.h>
#include <xen/elfnote.h>

#define RAM_SIZE (4u << 20)

static char err[512];

/* Loads img into a fresh fake RAM; returns kernel_load's result. */
static int load(const uint8_t *img, size_t len, struct kernel_info *ki, struct fake_ram *ram)
{
    fake_ram_init(ram, RAM_SIZE);
    err[0] = 0;
    return kernel_load(img, len, &ram->mem, ki, err, sizeof(err));
}

static int load_spec(const struct elf_spec *s, struct kernel_info *ki)
{
    uint8_t *img = elf_build(s);
    struct fake_ram ram;
    int rc = load(img, T_FILE_LEN, ki, &ram);
    fake_ram_free(&ram);
    free(img);
    return rc;
}

static void check_loaded(bool is64)
{
    struct elf_spec s = elf_spec_default(is64);
    uint8_t *img = elf_build(&s);
    struct fake_ram ram;
    static struct kernel_info ki;
    CHECK_EQ(load(img, T_FILE_LEN, &ki, &ram), 0);
    CHECK_STR(err, "");
    CHECK_EQ(ki.elf64, is64);
    CHECK_EQ(ki.from_bzimage, false);
    CHECK_STR(ki.compression, "none");
    CHECK_EQ(ki.pvh_entry, T_ENTRY);
    CHECK_STR(ki.guest_os, "linux");
    CHECK_EQ(ki.has_hypercall_page_note, false);
    CHECK_EQ(ki.paddr_lo, T_TEXT_PADDR);
    CHECK_EQ(ki.paddr_hi, T_DATA_PADDR + 0x1000);
    CHECK_EQ(ki.rewritten_sites, 1);
    CHECK_EQ(ki.site_paddr[0], T_TEXT_PADDR + T_SITE);
    /* Text copied, the site rewritten, the near miss intact, bss zeroed. */
    const uint8_t *t = ram.base + T_TEXT_PADDR;
    CHECK(!memcmp(t, img + T_TEXT_OFF, T_SITE));
    CHECK(!memcmp(t + T_SITE, "\xe7\x5e\x90\xc3", 4));
    CHECK(!memcmp(t + T_SITE + 4, img + T_TEXT_OFF + T_SITE + 4, T_TEXT_LEN - T_SITE - 4));
    CHECK(!memcmp(t + 0x80, "\xb8\x0f\x01\xc1\x00", 5));
    bool zero = true;
    for (unsigned i = T_TEXT_LEN; i < 0x200; i++)
        zero = zero && t[i] == 0;
    CHECK(zero);
    CHECK(!memcmp(ram.base + T_DATA_PADDR, img + T_DATA_OFF, 0x10));
    fake_ram_free(&ram);
    free(img);
}

TEST(loader_elf64_pvh)
{
    check_loaded(true);
}

TEST(loader_elf32_pvh)
{
    check_loaded(false);
}

TEST(loader_notes_in_sections_only)
{
    for (int is64 = 0; is64 < 2; is64++) {
        struct elf_spec s = elf_spec_default(is64);
        s.nseg = 3;
        s.seg[1].type = PT_NULL;  /* no PT_NOTE: notes only reachable via SHT_NOTE */
        s.shdr_notes = true;
        struct kernel_info ki;
        CHECK_EQ(load_spec(&s, &ki), 0);
        CHECK_EQ(ki.pvh_entry, T_ENTRY);
        CHECK_STR(ki.guest_os, "linux");
    }
}

TEST(loader_missing_pvh_note)
{
    struct elf_spec s = elf_spec_default(true);
    s.entry_note = false;
    struct kernel_info ki;
    CHECK_EQ(load_spec(&s, &ki), -1);
    CHECK_STR(err, "no XEN_ELFNOTE_PHYS32_ENTRY note: not a PVH kernel");
}

TEST(loader_entry_note_8_bytes)
{
    struct elf_spec s = elf_spec_default(true);
    s.entry_descsz = 8;  /* Linux's vmlinux uses an 8-byte value */
    struct kernel_info ki;
    CHECK_EQ(load_spec(&s, &ki), 0);
    CHECK_EQ(ki.pvh_entry, T_ENTRY);
}

TEST(loader_entry_outside_segments)
{
    struct elf_spec s = elf_spec_default(true);
    s.entry = 0x300000;
    struct kernel_info ki;
    CHECK_EQ(load_spec(&s, &ki), -1);
    CHECK(strstr(err, "XEN_ELFNOTE_PHYS32_ENTRY 0x300000 is not inside"));
}

TEST(loader_no_sites_no_hypercall_page)
{
    struct elf_spec s = elf_spec_default(true);
    s.with_site = false;
    struct kernel_info ki;
    CHECK_EQ(load_spec(&s, &ki), -1);
    CHECK_STR(err, "no vmcall/vmmcall hypercall sites found and no XEN_ELFNOTE_HYPERCALL_PAGE note: "
                   "xenkvm cannot route this kernel's hypercalls");
}

TEST(loader_hypercall_page_note_without_sites)
{
    struct elf_spec s = elf_spec_default(true);
    s.with_site = false;
    s.hpage_note = true;
    struct kernel_info ki;
    CHECK_EQ(load_spec(&s, &ki), 0);
    CHECK_EQ(ki.has_hypercall_page_note, true);
    CHECK_EQ(ki.hypercall_page, 0xffffffff80101000ull);
    CHECK_EQ(ki.rewritten_sites, 0);
}

TEST(loader_truncated_file)
{
    struct elf_spec s = elf_spec_default(true);
    uint8_t *img = elf_build(&s);
    struct kernel_info ki;
    struct fake_ram ram;
    static const size_t cuts[] = { 0, 3, 16, 40, 63, 64 + 56 * 2, T_TEXT_OFF + 8, T_DATA_OFF + 8 };
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        CHECK_EQ(load(img, cuts[i], &ki, &ram), -1);
        CHECK(err[0] != 0);
        fake_ram_free(&ram);
    }
    CHECK_EQ(load(img, 40, &ki, &ram), -1);
    CHECK(strstr(err, "ELF header: file truncated"));
    fake_ram_free(&ram);
    CHECK_EQ(load(img, 64 + 56 * 2, &ki, &ram), -1);
    CHECK(strstr(err, "program header table"));
    fake_ram_free(&ram);
    CHECK_EQ(load(img, T_DATA_OFF + 8, &ki, &ram), -1);
    CHECK(strstr(err, "ELF program header 2 (PT_LOAD): p_offset 0x1200 + p_filesz 0x10 exceeds file size"));
    fake_ram_free(&ram);
    free(img);
}

TEST(loader_segment_beyond_file)
{
    struct elf_spec s = elf_spec_default(false);
    s.seg[0].offset = 0xfffffff0;  /* 32-bit: offset + filesz wraps */
    struct kernel_info ki;
    CHECK_EQ(load_spec(&s, &ki), -1);
    CHECK(strstr(err, "ELF program header 0 (PT_LOAD): p_offset 0xfffffff0"));
    s = elf_spec_default(true);
    s.seg[0].offset = UINT64_MAX - 8;  /* 64-bit: would overflow */
    CHECK_EQ(load_spec(&s, &ki), -1);
    CHECK(strstr(err, "ELF program header 0 (PT_LOAD)"));
    s = elf_spec_default(true);
    s.seg[1].offset = T_FILE_LEN - 4;  /* note segment past the end */
    CHECK_EQ(load_spec(&s, &ki), -1);
    CHECK(strstr(err, "ELF program header 1 (PT_NOTE)"));
}

TEST(loader_filesz_exceeds_memsz)
{
    struct elf_spec s = elf_spec_default(true);
    s.seg[2].memsz = 0x8;
    struct kernel_info ki;
    CHECK_EQ(load_spec(&s, &ki), -1);
    CHECK_STR(err, "ELF program header 2 (PT_LOAD): p_filesz 0x10 exceeds p_memsz 0x8");
}

TEST(loader_phnum_overflow)
{
    struct elf_spec s = elf_spec_default(true);
    s.phnum = 0xfffe;  /* table would run far past the file */
    struct kernel_info ki;
    CHECK_EQ(load_spec(&s, &ki), -1);
    CHECK(strstr(err, "ELF header: program header table"));
    s.phnum = 0xffff;  /* PN_XNUM */
    CHECK_EQ(load_spec(&s, &ki), -1);
    CHECK(strstr(err, "PN_XNUM"));
    s = elf_spec_default(true);
    s.phentsize = 8;
    CHECK_EQ(load_spec(&s, &ki), -1);
    CHECK(strstr(err, "e_phentsize = 8"));
    s = elf_spec_default(true);
    s.nseg = 0;
    CHECK_EQ(load_spec(&s, &ki), -1);
    CHECK(strstr(err, "e_phnum = 0"));
}

TEST(loader_bad_ident_and_machine)
{
    struct elf_spec s = elf_spec_default(true);
    s.machine = EM_386;  /* ELF64 must be x86-64 */
    struct kernel_info ki;
    CHECK_EQ(load_spec(&s, &ki), -1);
    CHECK(strstr(err, "e_machine = 3"));
    s = elf_spec_default(true);
    uint8_t *img = elf_build(&s);
    struct fake_ram ram;
    img[EI_CLASS] = 7;
    CHECK_EQ(load(img, T_FILE_LEN, &ki, &ram), -1);
    CHECK(strstr(err, "EI_CLASS"));
    fake_ram_free(&ram);
    img[EI_CLASS] = ELFCLASS64;
    img[EI_DATA] = ELFDATA2MSB;
    CHECK_EQ(load(img, T_FILE_LEN, &ki, &ram), -1);
    CHECK(strstr(err, "EI_DATA"));
    fake_ram_free(&ram);
    img[0] = 0;
    CHECK_EQ(load(img, T_FILE_LEN, &ki, &ram), -1);
    CHECK(strstr(err, "bad magic"));
    fake_ram_free(&ram);
    free(img);
}

TEST(loader_segment_outside_ram)
{
    struct elf_spec s = elf_spec_default(true);
    s.seg[2].paddr = RAM_SIZE - 0x800;  /* straddles the end of RAM */
    struct kernel_info ki;
    CHECK_EQ(load_spec(&s, &ki), -1);
    CHECK_STR(err, "ELF program header 2 (PT_LOAD): physical range [0x3ff800, 0x400800) does not fit in guest RAM");
    s = elf_spec_default(true);
    s.seg[2].paddr = UINT64_MAX - 0x10;
    CHECK_EQ(load_spec(&s, &ki), -1);
    CHECK(strstr(err, "overflows"));
}

TEST(loader_overlapping_segments)
{
    struct elf_spec s = elf_spec_default(true);
    s.seg[2].paddr = T_TEXT_PADDR + 0x100;
    struct kernel_info ki;
    CHECK_EQ(load_spec(&s, &ki), -1);
    CHECK(strstr(err, "overlaps program header 0"));
}

TEST(loader_malformed_note)
{
    struct elf_spec s = elf_spec_default(true);
    uint8_t *img = elf_build(&s);
    uint32_t huge = 0xfffffff0;
    memcpy(img + T_NOTE_OFF + 4, &huge, 4);  /* first note's descsz */
    struct kernel_info ki;
    struct fake_ram ram;
    CHECK_EQ(load(img, T_FILE_LEN, &ki, &ram), -1);
    CHECK(strstr(err, "ELF program header 1 (PT_NOTE): malformed note"));
    fake_ram_free(&ram);
    free(img);
}

TEST(loader_bad_entry_note_size)
{
    struct elf_spec s = elf_spec_default(true);
    s.entry_descsz = 2;
    struct kernel_info ki;
    CHECK_EQ(load_spec(&s, &ki), -1);
    CHECK(strstr(err, "XEN_ELFNOTE_PHYS32_ENTRY note has 2-byte value"));
}

TEST(loader_garbage_never_crashes)
{
    /* Random mutations of a valid image must fail or load, never crash. */
    struct elf_spec s = elf_spec_default(true);
    uint8_t *orig = elf_build(&s);
    uint8_t *img = malloc(T_FILE_LEN);
    struct fake_ram ram;
    fake_ram_init(&ram, RAM_SIZE);
    static struct kernel_info ki;
    uint32_t x = 12345;
    for (int round = 0; round < 3000; round++) {
        memcpy(img, orig, T_FILE_LEN);
        for (int k = 0; k < 4; k++) {
            x = x * 1103515245 + 12345;
            size_t at = (x >> 8) % 0x140;  /* headers live in the first 0x140 bytes */
            if (k == 3)
                at = T_NOTE_OFF + (x >> 8) % 0x60;
            img[at] = (uint8_t)(x >> 24);
        }
        kernel_load(img, T_FILE_LEN, &ram.mem, &ki, err, sizeof(err));
    }
    CHECK(1);
    fake_ram_free(&ram);
    free(img);
    free(orig);
}

/* A PT_NOTE segment aligned to 8 (as GRUB's Xen images have): each note's
 * descriptor starts 8-aligned from the note's start, header and name padded
 * together. A 5-byte guest-OS string, then the entry note. */
TEST(loader_notes_aligned_to_8)
{
    struct elf_spec s = elf_spec_default(true);
    uint8_t *img = elf_build(&s);
    uint8_t *n = img + T_NOTE_OFF;
    memset(n, 0, 0x100);
    uint32_t h1[3] = { 4, 5, XEN_ELFNOTE_GUEST_OS };
    memcpy(n, h1, 12);
    memcpy(n + 12, "Xen", 4);
    memcpy(n + 16, "GRUB", 5);               /* desc at 16, padded to 24 */
    uint32_t h2[3] = { 4, 4, XEN_ELFNOTE_PHYS32_ENTRY }, entry = T_ENTRY;
    memcpy(n + 24, h2, 12);
    memcpy(n + 36, "Xen", 4);
    memcpy(n + 40, &entry, 4);               /* desc at 24 + 16 */
    Elf64_Ehdr eh;
    memcpy(&eh, img, sizeof(eh));
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type == PT_NOTE) {
            ph.p_align = 8;
            ph.p_filesz = ph.p_memsz = 48;
            memcpy(img + eh.e_phoff + i * sizeof(ph), &ph, sizeof(ph));
        }
    }
    struct fake_ram ram;
    static struct kernel_info ki;
    CHECK_EQ(load(img, T_FILE_LEN, &ki, &ram), 0);
    CHECK_STR(err, "");
    CHECK_STR(ki.guest_os, "GRUB");
    CHECK_EQ(ki.pvh_entry, T_ENTRY);
    fake_ram_free(&ram);
    free(img);
}
