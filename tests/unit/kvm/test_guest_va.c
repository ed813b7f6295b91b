/* Guest-virtual to guest-physical translation by walking page tables that the
 * tests build in a hand-made struct vm's RAM (no /dev/kvm): 4- and 5-level
 * long mode, PAE, 2-level 32-bit with PSE, paging off; large pages, canonical
 * checks, CR0.WP, non-present entries, tables outside memory, page-crossing
 * copies. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/guest_va.h"
#include "unit.h"

#define RAM_SIZE   0x400000ull          /* 4 MiB at gpa 0 */
#define HIGH_GPA   0x100000000ull       /* a second RAM region above 4 GiB */
#define HIGH_SIZE  0x10000ull
#define TABLES     0x100000ull          /* page tables are bump-allocated from here */

#define P   (1ull << 0)
#define RW  (1ull << 1)
#define US  (1ull << 2)
#define PS  (1ull << 7)
#define PAT4K (1ull << 7)               /* bit 7 of a 4 KiB PTE is PAT, not PS */
#define PAT_LARGE (1ull << 12)          /* bit 12 of a 2 MiB / 1 GiB entry is PAT */
#define NX  (1ull << 63)

#define CR0_PE (1ull << 0)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

struct gfx {
    struct vm *vm;
    uint8_t *ram, *high;
    uint64_t next_table;
    int levels;                 /* 4 or 5 in long mode */
    uint64_t root;
    struct guest_va va;
};

static struct gfx *gfx_new(void)
{
    struct gfx *g = calloc(1, sizeof(*g));
    g->vm = calloc(1, sizeof(*g->vm));
    g->ram = aligned_alloc(4096, RAM_SIZE);
    memset(g->ram, 0, RAM_SIZE);
    g->high = aligned_alloc(4096, HIGH_SIZE);
    memset(g->high, 0, HIGH_SIZE);
    g->vm->regions[0] = (struct mem_region){ .gpa = 0, .size = RAM_SIZE, .host = g->ram, .ram = true };
    g->vm->regions[1] = (struct mem_region){ .gpa = HIGH_GPA, .size = HIGH_SIZE, .host = g->high, .ram = true };
    g->vm->nr_regions = 2;
    g->next_table = TABLES;
    return g;
}

static void gfx_free(struct gfx *g)
{
    free(g->ram);
    free(g->high);
    free(g->vm);
    free(g);
}

static uint64_t alloc_table(struct gfx *g)
{
    uint64_t t = g->next_table;
    g->next_table += 4096;
    CHECK(g->next_table <= RAM_SIZE);
    return t;
}

static uint64_t *e64(struct gfx *g, uint64_t gpa) { return (uint64_t *)(g->ram + gpa); }
static uint32_t *e32(struct gfx *g, uint64_t gpa) { return (uint32_t *)(g->ram + gpa); }

static void set_mode(struct gfx *g, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
    struct kvm_sregs s;
    memset(&s, 0, sizeof(s));
    s.cr0 = cr0;
    s.cr3 = cr3;
    s.cr4 = cr4;
    s.efer = efer;
    guest_va_init(&g->va, g->vm, &s);
}

/* ---- long mode ---- */

static void long_mode(struct gfx *g, int levels, bool wp)
{
    g->levels = levels;
    g->root = alloc_table(g);
    set_mode(g, CR0_PE | CR0_PG | (wp ? CR0_WP : 0), g->root, CR4_PAE | (levels == 5 ? CR4_LA57 : 0),
             EFER_LME | EFER_LMA);
}

/* The entry for va at level lvl (levels..1), creating the tables above it. */
static uint64_t *lm_entry(struct gfx *g, uint64_t va, int lvl)
{
    uint64_t table = g->root;
    for (int l = g->levels; ; l--) {
        uint64_t *e = e64(g, table + ((va >> (12 + 9 * (l - 1))) & 511) * 8);
        if (l == lvl)
            return e;
        if (!(*e & P))
            *e = alloc_table(g) | P | RW | US;
        table = *e & 0x000ffffffffff000ull;
    }
}

/* Maps va to gpa with a leaf at level lvl (1: 4 KiB, 2: 2 MiB, 3: 1 GiB). */
static void lm_map(struct gfx *g, uint64_t va, uint64_t gpa, int lvl, uint64_t flags)
{
    *lm_entry(g, va, lvl) = gpa | flags | (lvl > 1 ? PS : 0);
}

static uint64_t xlate(struct gfx *g, uint64_t va, bool write, int *rc)
{
    uint64_t gpa = 0xbad;
    *rc = guest_va_translate(&g->va, va, write, &gpa);
    return gpa;
}

TEST(gva_paging_off_is_identity_on_32_bits)
{
    struct gfx *g = gfx_new();
    set_mode(g, CR0_PE, 0, 0, 0);
    int rc;
    CHECK_EQ(xlate(g, 0x12345678, true, &rc), 0x12345678);
    CHECK_EQ(rc, 0);
    CHECK_EQ(xlate(g, 0x100001234ull, false, &rc), 0x1234);
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

TEST(gva_long4_4k_page)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    lm_map(g, 0x00007f0000401000ull, 0x20000, 1, P | RW);
    int rc;
    CHECK_EQ(xlate(g, 0x00007f0000401abcull, false, &rc), 0x20abc);
    CHECK_EQ(rc, 0);
    CHECK_EQ(xlate(g, 0x00007f0000401fffull, true, &rc), 0x20fff);
    CHECK_EQ(rc, 0);
    xlate(g, 0x00007f0000402000ull, false, &rc);          /* next page: not mapped */
    CHECK_EQ(rc, -EFAULT);
    gfx_free(g);
}

TEST(gva_long4_high_half_kernel_address)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    lm_map(g, 0xffffffff81000000ull, 0x30000, 1, P | RW);
    int rc;
    CHECK_EQ(xlate(g, 0xffffffff81000010ull, false, &rc), 0x30010);
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

TEST(gva_long4_2m_page)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    lm_map(g, 0x40000000ull, 0x200000, 2, P | RW);
    int rc;
    CHECK_EQ(xlate(g, 0x40000000ull + 0x1abcde, false, &rc), 0x200000 + 0x1abcde);
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

TEST(gva_long4_1g_page)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    lm_map(g, 0x8000000000ull, 0x40000000ull, 3, P | RW);
    int rc;
    CHECK_EQ(xlate(g, 0x8000000000ull + 0x3fedcba9, false, &rc), 0x40000000ull + 0x3fedcba9);
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

/* Bit 12 of a large-page entry is PAT, not an address bit. */
TEST(gva_large_page_pat_bit_is_not_address)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    lm_map(g, 0x40000000ull, 0x200000, 2, P | RW | PAT_LARGE);
    lm_map(g, 0x8000000000ull, 0x40000000ull, 3, P | RW | PAT_LARGE);
    int rc;
    CHECK_EQ(xlate(g, 0x40000123ull, false, &rc), 0x200123);
    CHECK_EQ(rc, 0);
    CHECK_EQ(xlate(g, 0x8000000123ull, false, &rc), 0x40000123ull);
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

/* Bit 7 of a 4 KiB PTE is PAT: the PTE is still a 4 KiB leaf. */
TEST(gva_pte_pat_bit_is_not_a_large_page)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    lm_map(g, 0x401000ull, 0x21000, 1, P | RW | PAT4K);
    int rc;
    CHECK_EQ(xlate(g, 0x401234ull, false, &rc), 0x21234);
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

TEST(gva_nx_bit_is_not_address)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    lm_map(g, 0x401000ull, 0x21000, 1, P | RW | NX);
    int rc;
    CHECK_EQ(xlate(g, 0x401008ull, false, &rc), 0x21008);
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

TEST(gva_long4_non_canonical_efault)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    /* map PML4 slot 256 so only the canonical check can refuse */
    lm_map(g, 0xffff800000000000ull, 0x20000, 1, P | RW);
    int rc;
    xlate(g, 0x0000800000000000ull, false, &rc);
    CHECK_EQ(rc, -EFAULT);
    xlate(g, 0x8000800000000000ull, false, &rc);
    CHECK_EQ(rc, -EFAULT);
    xlate(g, 0xfff0000000000000ull, false, &rc);
    CHECK_EQ(rc, -EFAULT);
    CHECK_EQ(xlate(g, 0xffff800000000004ull, false, &rc), 0x20004);
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

TEST(gva_la57_five_level_walk)
{
    struct gfx *g = gfx_new();
    long_mode(g, 5, true);
    /* canonical only with 57 bits: bit 47 set, 63..57 clear */
    lm_map(g, 0x0000800000001000ull, 0x22000, 1, P | RW);
    lm_map(g, 0x00ff000000003000ull, 0x23000, 1, P | RW);
    int rc;
    CHECK_EQ(xlate(g, 0x0000800000001010ull, false, &rc), 0x22010);
    CHECK_EQ(rc, 0);
    CHECK_EQ(xlate(g, 0x00ff000000003020ull, false, &rc), 0x23020);
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

TEST(gva_la57_non_canonical_efault)
{
    struct gfx *g = gfx_new();
    long_mode(g, 5, true);
    lm_map(g, 0xff00000000000000ull, 0x20000, 1, P | RW);
    int rc;
    xlate(g, 0x0100000000000000ull, false, &rc);    /* bit 56 set, 63..57 clear */
    CHECK_EQ(rc, -EFAULT);
    CHECK_EQ(xlate(g, 0xff00000000000008ull, false, &rc), 0x20008);
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

TEST(gva_long4_not_present_at_each_level_efault)
{
    for (int lvl = 4; lvl >= 1; lvl--) {
        struct gfx *g = gfx_new();
        long_mode(g, 4, true);
        uint64_t va = 0x00007f0000401000ull;
        lm_map(g, va, 0x20000, 1, P | RW);
        *lm_entry(g, va, lvl) &= ~P;
        int rc;
        xlate(g, va, false, &rc);
        CHECK_EQ(rc, -EFAULT);
        gfx_free(g);
    }
}

TEST(gva_readonly_pte_refuses_writes_only_with_cr0_wp)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    lm_map(g, 0x401000ull, 0x20000, 1, P);
    int rc;
    CHECK_EQ(xlate(g, 0x401010ull, false, &rc), 0x20010);
    CHECK_EQ(rc, 0);
    xlate(g, 0x401010ull, true, &rc);
    CHECK_EQ(rc, -EFAULT);
    g->va.cr0 &= ~CR0_WP;           /* supervisor writes ignore R/W */
    CHECK_EQ(xlate(g, 0x401010ull, true, &rc), 0x20010);
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

/* R/W is the AND over all levels: a read-only PDPT entry makes the leaf
 * read-only even if the PTE says writable. */
TEST(gva_readonly_upper_level_refuses_writes)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    lm_map(g, 0x401000ull, 0x20000, 1, P | RW);
    *lm_entry(g, 0x401000ull, 3) &= ~RW;
    int rc;
    xlate(g, 0x401000ull, false, &rc);
    CHECK_EQ(rc, 0);
    xlate(g, 0x401000ull, true, &rc);
    CHECK_EQ(rc, -EFAULT);
    gfx_free(g);
}

TEST(gva_readonly_2m_page_refuses_writes)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    lm_map(g, 0x40000000ull, 0x200000, 2, P);
    int rc;
    xlate(g, 0x40000000ull, true, &rc);
    CHECK_EQ(rc, -EFAULT);
    xlate(g, 0x40000000ull, false, &rc);
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

TEST(gva_page_table_outside_guest_memory_efault)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    lm_map(g, 0x401000ull, 0x20000, 1, P | RW);
    *lm_entry(g, 0x401000ull, 2) = 0x80000000ull | P | RW;   /* PT in the hole */
    int rc;
    xlate(g, 0x401000ull, false, &rc);
    CHECK_EQ(rc, -EFAULT);
    set_mode(g, CR0_PE | CR0_PG, 0x7ffff000ull, CR4_PAE, EFER_LME | EFER_LMA);  /* CR3 too */
    xlate(g, 0x401000ull, false, &rc);
    CHECK_EQ(rc, -EFAULT);
    gfx_free(g);
}

/* A leaf may point outside RAM (MMIO): translation succeeds, the copy fails. */
TEST(gva_leaf_outside_memory_translates_but_copy_efaults)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    lm_map(g, 0x401000ull, 0xfee00000ull, 1, P | RW);
    int rc;
    CHECK_EQ(xlate(g, 0x401000ull, false, &rc), 0xfee00000ull);
    CHECK_EQ(rc, 0);
    uint32_t v;
    CHECK_EQ(guest_copy_from(&g->va, &v, 0x401000ull, sizeof(v)), -EFAULT);
    gfx_free(g);
}

/* ---- copies ---- */

TEST(gva_copy_across_pages_follows_each_mapping)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    /* virtually contiguous, physically apart and in reverse order */
    lm_map(g, 0x500000ull, 0x31000, 1, P | RW);
    lm_map(g, 0x501000ull, 0x30000, 1, P | RW);
    memcpy(g->ram + 0x31ff8, "ABCDEFGH", 8);
    memcpy(g->ram + 0x30000, "ijklmnop", 8);
    char buf[17] = { 0 };
    CHECK_EQ(guest_copy_from(&g->va, buf, 0x500ff8ull, 16), 0);
    CHECK_STR(buf, "ABCDEFGHijklmnop");
    CHECK_EQ(guest_copy_to(&g->va, 0x500ffcull, "0123456789", 10), 0);
    CHECK(!memcmp(g->ram + 0x31ffc, "0123", 4));
    CHECK(!memcmp(g->ram + 0x30000, "456789", 6));
    gfx_free(g);
}

TEST(gva_copy_into_unmapped_next_page_efaults)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    lm_map(g, 0x500000ull, 0x31000, 1, P | RW);
    char buf[16];
    CHECK_EQ(guest_copy_from(&g->va, buf, 0x500ff8ull, 16), -EFAULT);
    CHECK_EQ(guest_copy_to(&g->va, 0x500ff8ull, buf, 16), -EFAULT);
    CHECK_EQ(guest_copy_from(&g->va, buf, 0x500ff0ull, 16), 0);     /* up to the edge */
    gfx_free(g);
}

TEST(gva_copy_to_readonly_page_efaults_copy_from_works)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    lm_map(g, 0x500000ull, 0x31000, 1, P);
    memcpy(g->ram + 0x31100, "ro", 2);
    char buf[2];
    CHECK_EQ(guest_copy_to(&g->va, 0x500100ull, "xx", 2), -EFAULT);
    CHECK(!memcmp(g->ram + 0x31100, "ro", 2));
    CHECK_EQ(guest_copy_from(&g->va, buf, 0x500100ull, 2), 0);
    CHECK(!memcmp(buf, "ro", 2));
    gfx_free(g);
}

TEST(gva_copy_into_second_ram_region)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    lm_map(g, 0x600000ull, HIGH_GPA + 0x1000, 1, P | RW);
    CHECK_EQ(guest_copy_to(&g->va, 0x600010ull, "high", 4), 0);
    CHECK(!memcmp(g->high + 0x1010, "high", 4));
    gfx_free(g);
}

TEST(gva_copy_zero_length_touches_nothing)
{
    struct gfx *g = gfx_new();
    long_mode(g, 4, true);
    char buf[1];
    CHECK_EQ(guest_copy_from(&g->va, buf, 0x123456ull, 0), 0);
    CHECK_EQ(guest_copy_to(&g->va, 0x0000800000000000ull, buf, 0), 0);
    gfx_free(g);
}

TEST(gva_copy_with_paging_off_reaches_physical_memory)
{
    struct gfx *g = gfx_new();
    set_mode(g, CR0_PE, 0, 0, 0);
    CHECK_EQ(guest_copy_to(&g->va, 0x8ffe, "span", 4), 0);
    CHECK(!memcmp(g->ram + 0x8ffe, "span", 4));
    char buf[4];
    CHECK_EQ(guest_copy_from(&g->va, buf, RAM_SIZE - 2, 4), -EFAULT);   /* runs off RAM */
    gfx_free(g);
}

/* ---- PAE ---- */

static uint64_t pdpt_gpa;

/* PAE: a 4-entry PDPT (no R/W bit in PDPTEs), then PD and PT of 8-byte entries. */
static void pae_mode(struct gfx *g, bool wp)
{
    pdpt_gpa = alloc_table(g) + 0x40;      /* 32-byte aligned, not page aligned */
    set_mode(g, CR0_PE | CR0_PG | (wp ? CR0_WP : 0), pdpt_gpa | 0x18 /* PWT|PCD */, CR4_PAE, 0);
}

static uint64_t *pae_entry(struct gfx *g, uint32_t va, int lvl)
{
    uint64_t *pdpte = e64(g, pdpt_gpa + (va >> 30) * 8);
    if (lvl == 3)
        return pdpte;
    if (!(*pdpte & P))
        *pdpte = alloc_table(g) | P;
    uint64_t *pde = e64(g, (*pdpte & 0x000ffffffffff000ull) + ((va >> 21) & 511) * 8);
    if (lvl == 2)
        return pde;
    if (!(*pde & P))
        *pde = alloc_table(g) | P | RW;
    return e64(g, (*pde & 0x000ffffffffff000ull) + ((va >> 12) & 511) * 8);
}

TEST(gva_pae_4k_page)
{
    struct gfx *g = gfx_new();
    pae_mode(g, true);
    *pae_entry(g, 0xc0101000u, 1) = 0x25000 | P | RW;
    int rc;
    CHECK_EQ(xlate(g, 0xc0101abcu, false, &rc), 0x25abc);
    CHECK_EQ(rc, 0);
    CHECK_EQ(xlate(g, 0x1c0101abcull, false, &rc), 0x25abc);   /* upper bits ignored */
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

TEST(gva_pae_2m_page_above_4g)
{
    struct gfx *g = gfx_new();
    pae_mode(g, true);
    *pae_entry(g, 0x80000000u, 2) = (HIGH_GPA + 0x200000) | P | RW | PS;
    int rc;
    CHECK_EQ(xlate(g, 0x80012345u, false, &rc), HIGH_GPA + 0x212345);
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

TEST(gva_pae_not_present_and_readonly)
{
    struct gfx *g = gfx_new();
    pae_mode(g, true);
    *pae_entry(g, 0x00401000u, 1) = 0x25000 | P;
    int rc;
    xlate(g, 0x00401000u, true, &rc);
    CHECK_EQ(rc, -EFAULT);
    xlate(g, 0x00401000u, false, &rc);
    CHECK_EQ(rc, 0);
    xlate(g, 0x40401000u, false, &rc);                     /* PDPTE 1 not present */
    CHECK_EQ(rc, -EFAULT);
    *pae_entry(g, 0x00401000u, 2) &= ~P;
    xlate(g, 0x00401000u, false, &rc);
    CHECK_EQ(rc, -EFAULT);
    gfx_free(g);
}

/* ---- 2-level 32-bit ---- */

static uint64_t pd32_gpa;

static void mode32(struct gfx *g, uint64_t cr4, bool wp)
{
    pd32_gpa = alloc_table(g);
    set_mode(g, CR0_PE | CR0_PG | (wp ? CR0_WP : 0), pd32_gpa, cr4, 0);
}

static uint32_t *pde32(struct gfx *g, uint32_t va) { return e32(g, pd32_gpa + (va >> 22) * 4); }

static uint32_t *pte32(struct gfx *g, uint32_t va)
{
    uint32_t *pde = pde32(g, va);
    if (!(*pde & P))
        *pde = (uint32_t)alloc_table(g) | P | RW;
    return e32(g, (*pde & 0xfffff000u) + ((va >> 12) & 1023) * 4);
}

TEST(gva_32bit_4k_page)
{
    struct gfx *g = gfx_new();
    mode32(g, 0, true);
    *pte32(g, 0xc0101000u) = 0x26000 | P | RW;
    int rc;
    CHECK_EQ(xlate(g, 0xc0101234u, true, &rc), 0x26234);
    CHECK_EQ(rc, 0);
    xlate(g, 0xc0102000u, false, &rc);
    CHECK_EQ(rc, -EFAULT);
    gfx_free(g);
}

TEST(gva_32bit_4m_page_with_pse)
{
    struct gfx *g = gfx_new();
    mode32(g, CR4_PSE, true);
    *pde32(g, 0xc0000000u) = 0x00400000u | P | RW | PS;
    int rc;
    CHECK_EQ(xlate(g, 0xc0123456u, false, &rc), 0x00523456);
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

/* Without CR4.PSE the PS bit of a PDE is ignored: it points to a page table. */
TEST(gva_32bit_ps_bit_ignored_without_cr4_pse)
{
    struct gfx *g = gfx_new();
    mode32(g, 0, true);
    uint32_t pt = (uint32_t)alloc_table(g);
    *pde32(g, 0xc0000000u) = pt | P | RW | PS;
    *e32(g, pt + 0x123 * 4) = 0x27000 | P | RW;
    int rc;
    CHECK_EQ(xlate(g, 0xc0123456u, false, &rc), 0x27456);
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

TEST(gva_32bit_readonly_pde_refuses_writes_with_wp)
{
    struct gfx *g = gfx_new();
    mode32(g, 0, true);
    *pte32(g, 0x00401000u) = 0x26000 | P | RW;
    *pde32(g, 0x00401000u) &= ~RW;
    int rc;
    xlate(g, 0x00401000u, true, &rc);
    CHECK_EQ(rc, -EFAULT);
    g->va.cr0 &= ~CR0_WP;
    xlate(g, 0x00401000u, true, &rc);
    CHECK_EQ(rc, 0);
    gfx_free(g);
}

TEST(gva_32bit_copy_across_pages)
{
    struct gfx *g = gfx_new();
    mode32(g, 0, true);
    *pte32(g, 0x00800000u) = 0x29000 | P | RW;
    *pte32(g, 0x00801000u) = 0x28000 | P | RW;
    CHECK_EQ(guest_copy_to(&g->va, 0x00800ffeu, "wxyz", 4), 0);
    CHECK(!memcmp(g->ram + 0x29ffe, "wx", 2));
    CHECK(!memcmp(g->ram + 0x28000, "yz", 2));
    gfx_free(g);
}

/* The argument-translation window: a host buffer standing in for a range of
 * guest-virtual addresses (the 32-bit ABI's translated structures). */
TEST(gva_xlat_window)
{
    struct gfx *g = gfx_new();
    mode32(g, 0, true);
    *pte32(g, 0x00800000u) = 0x29000 | P | RW;
    static uint8_t buf[64];
    const uint64_t win = 0xffff800000000000ull;
    guest_va_set_xlat(&g->va, buf, win, sizeof(buf));
    CHECK_EQ(guest_copy_to(&g->va, win + 8, "abcd", 4), 0);
    CHECK(!memcmp(buf + 8, "abcd", 4));
    char out[4];
    CHECK_EQ(guest_copy_from(&g->va, out, win + 8, 4), 0);
    CHECK(!memcmp(out, "abcd", 4));
    CHECK_EQ(guest_copy_from(&g->va, out, win + 62, 4), -EFAULT);    /* runs out of it */
    CHECK_EQ(guest_copy_from(&g->va, out, win - 2, 4), -EFAULT);     /* starts before it */
    CHECK_EQ(guest_copy_from(&g->va, out, ~0ull - 1, 4), -EFAULT);   /* wraps */
    /* Guest memory still goes through the page tables. */
    CHECK_EQ(guest_copy_to(&g->va, 0x00800010u, "efgh", 4), 0);
    CHECK(!memcmp(g->ram + 0x29010, "efgh", 4));
    guest_va_set_xlat(&g->va, NULL, 0, 0);
    CHECK_EQ(guest_copy_from(&g->va, out, win + 8, 4), -EFAULT);
    gfx_free(g);
}
