/* boot_plan: where the start-info block and the modules go, for a PVH kernel
 * with a ramdisk and for Xen's PV shim with a PV kernel and its ramdisk. */
#include "unit.h"
#include "boot/layout.h"

#include <stdlib.h>
#include <xen/arch-x86/hvm/start_info.h>

#define MiB (1ull << 20)

static char err[512];

static int plan(const struct boot_plan_in *in, struct boot_plan *out)
{
    err[0] = 0;
    return boot_plan(in, out, err, sizeof(err));
}

/* No two of [a, a+alen) and [b, b+blen) share a byte. */
static bool apart(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a + alen <= b || b + blen <= a;
}

TEST(layout_pvh_with_ramdisk)
{
    struct boot_plan_in in = {
        .ram_end = 256 * MiB, .kernel_lo = 16 * MiB, .kernel_hi = 16 * MiB + 0x12345,
        .cmdline = "console=hvc0", .nr_memmap = 3, .nr_modules = 1,
        .module_size = { 3 * MiB + 17 },
    };
    struct boot_plan p;
    CHECK_EQ(plan(&in, &p), 0);
    CHECK_STR(err, "");
    /* The block on the first page after the kernel, one page here. */
    CHECK_EQ(p.info_gpa, 16 * MiB + 0x13000);
    CHECK_EQ(p.info_size, 4096);
    CHECK(p.memmap_off >= sizeof(struct hvm_start_info));
    CHECK(p.modlist_off >= p.memmap_off + 3 * sizeof(struct hvm_memmap_table_entry));
    CHECK(p.cmdline_off >= p.modlist_off + sizeof(struct hvm_modlist_entry));
    CHECK(p.cmdline_off + sizeof("console=hvc0") <= p.info_size);
    CHECK_EQ(p.memmap_off % 8, 0);
    CHECK_EQ(p.modlist_off % 8, 0);
    CHECK_EQ(p.module_cmdline_off[0], 0);
    /* The ramdisk page-aligned at the very top of RAM. */
    CHECK_EQ(p.module_gpa[0], 256 * MiB - 3 * MiB - 4096);
    CHECK_EQ(p.module_gpa[0] % 4096, 0);
}

TEST(layout_shim_two_modules_with_command_lines)
{
    /* Xen's PV shim at 2 MiB (image to 10 MiB), the PV kernel with the guest's
     * command line, then its ramdisk; [0x1000, 0x11000) must stay free. */
    const char *guest = "root=/dev/xvda ro console=hvc0";
    struct boot_plan_in in = {
        .ram_end = 512 * MiB, .kernel_lo = 2 * MiB, .kernel_hi = 10 * MiB,
        .keep_free_lo = 0x1000, .keep_free_hi = 0x11000,
        .cmdline = "pv-shim console=xen,pv", .nr_memmap = 2, .nr_modules = 2,
        .module_size = { 8 * MiB + 1, 3 * MiB }, .module_cmdline = { guest, NULL },
    };
    struct boot_plan p;
    CHECK_EQ(plan(&in, &p), 0);
    CHECK_EQ(p.info_gpa, 10 * MiB);
    CHECK(p.module_cmdline_off[0] >= p.cmdline_off + sizeof("pv-shim console=xen,pv"));
    CHECK(p.module_cmdline_off[0] + strlen(guest) + 1 <= p.info_size);
    CHECK_EQ(p.module_cmdline_off[1], 0);
    /* The last module highest; each page-aligned; nothing overlaps. */
    CHECK_EQ(p.module_gpa[1], 509 * MiB);
    CHECK_EQ(p.module_gpa[0], 509 * MiB - 8 * MiB - 4096);
    CHECK(apart(p.module_gpa[0], in.module_size[0], p.module_gpa[1], in.module_size[1]));
    CHECK(apart(p.info_gpa, p.info_size, p.module_gpa[0], in.module_size[0]));
    CHECK(apart(p.info_gpa, p.info_size, in.kernel_lo, in.kernel_hi - in.kernel_lo));
    for (int i = 0; i < 2; i++)
        CHECK(apart(0x1000, 0x10000, p.module_gpa[i], in.module_size[i]));
}

TEST(layout_long_command_lines_span_pages)
{
    char *a = malloc(BOOT_CMDLINE_MAX + 1), *b = malloc(BOOT_CMDLINE_MAX + 1);
    memset(a, 'a', BOOT_CMDLINE_MAX);
    a[BOOT_CMDLINE_MAX] = 0;
    memset(b, 'b', BOOT_CMDLINE_MAX);
    b[BOOT_CMDLINE_MAX] = 0;
    struct boot_plan_in in = {
        .ram_end = 64 * MiB, .kernel_lo = MiB, .kernel_hi = 2 * MiB, .cmdline = a,
        .nr_memmap = 2, .nr_modules = 1, .module_size = { 4096 }, .module_cmdline = { b },
    };
    struct boot_plan p;
    CHECK_EQ(plan(&in, &p), 0);
    CHECK_EQ(p.info_size, 3 * 4096);
    CHECK(p.module_cmdline_off[0] >= p.cmdline_off + BOOT_CMDLINE_MAX + 1);
    CHECK(p.module_cmdline_off[0] + BOOT_CMDLINE_MAX + 1 <= p.info_size);
    CHECK_EQ(p.module_gpa[0], 64 * MiB - 4096);
    free(a);
    free(b);
}

TEST(layout_refuses_what_does_not_fit)
{
    struct boot_plan p;
    /* A module larger than the RAM above the kernel. */
    struct boot_plan_in in = {
        .ram_end = 32 * MiB, .kernel_lo = MiB, .kernel_hi = 20 * MiB, .nr_memmap = 2,
        .nr_modules = 1, .module_size = { 16 * MiB }, .module_name = { "ramdisk /r.img" },
    };
    CHECK_EQ(plan(&in, &p), -1);
    CHECK_STR(err, "ramdisk /r.img: 16777216 bytes do not fit in guest RAM above the kernel (raise memory)");
    /* Two that fit alone but not together: the second placed one (module 0) fails. */
    in.module_size[0] = 6 * MiB;
    in.nr_modules = 2;
    in.module_size[1] = 6 * MiB;
    in.module_name[0] = "PV kernel /k";
    CHECK_EQ(plan(&in, &p), -1);
    CHECK(strstr(err, "PV kernel /k: 6291456 bytes do not fit"));
    /* An empty module. */
    in.nr_modules = 1;
    in.module_size[0] = 0;
    CHECK_EQ(plan(&in, &p), -1);
    CHECK_STR(err, "PV kernel /k is empty");
    /* No room for the block after a kernel that ends at the top of RAM. */
    struct boot_plan_in full = { .ram_end = 8 * MiB, .kernel_lo = MiB, .kernel_hi = 8 * MiB, .nr_memmap = 2 };
    CHECK_EQ(plan(&full, &p), -1);
    CHECK(strstr(err, "no room after the kernel (ends at 0x800000) for the start info"));
    /* A command line over the limit, the start info's or a module's. */
    char *big = malloc(BOOT_CMDLINE_MAX + 2);
    memset(big, 'x', BOOT_CMDLINE_MAX + 1);
    big[BOOT_CMDLINE_MAX + 1] = 0;
    struct boot_plan_in lines = { .ram_end = 64 * MiB, .kernel_lo = MiB, .kernel_hi = 2 * MiB,
                                  .cmdline = big, .nr_memmap = 2 };
    CHECK_EQ(plan(&lines, &p), -1);
    CHECK_STR(err, "command line: 4096 bytes is longer than the 4095 allowed");
    lines.cmdline = "ok";
    lines.nr_modules = 1;
    lines.module_size[0] = 4096;
    lines.module_cmdline[0] = big;
    lines.module_name[0] = "PV kernel /k";
    CHECK_EQ(plan(&lines, &p), -1);
    CHECK_STR(err, "PV kernel /k: command line of 4096 bytes is longer than the 4095 allowed");
    free(big);
    /* Too many modules or memory map entries. */
    struct boot_plan_in many = { .ram_end = 64 * MiB, .kernel_hi = 2 * MiB,
                                 .nr_modules = BOOT_MAX_MODULES + 1 };
    CHECK_EQ(plan(&many, &p), -1);
    CHECK(strstr(err, "modules"));
}

TEST(layout_keeps_the_shim_range_free)
{
    /* A kernel loaded low, whose start info would land in [0x1000, 0x11000). */
    struct boot_plan_in in = {
        .ram_end = 64 * MiB, .kernel_lo = 0x1000, .kernel_hi = 0x8000,
        .keep_free_lo = 0x1000, .keep_free_hi = 0x11000, .nr_memmap = 2,
    };
    struct boot_plan p;
    CHECK_EQ(plan(&in, &p), -1);
    CHECK(strstr(err, "which must stay free"));
    /* The same kernel without the constraint is fine. */
    in.keep_free_lo = in.keep_free_hi = 0;
    CHECK_EQ(plan(&in, &p), 0);
    CHECK_EQ(p.info_gpa, 0x8000);
    /* A block right below the range is fine too. */
    in.keep_free_lo = 0x9000;
    in.keep_free_hi = 0x11000;
    CHECK_EQ(plan(&in, &p), 0);
}
