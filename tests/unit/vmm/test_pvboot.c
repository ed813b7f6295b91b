/* `xenkvm run`'s boot choices: the modules and command lines a PVH kernel and
 * Xen's PV shim get (pvboot_setup), and the bootloader's simple0 output. */
#include "unit.h"
#include "vmm/pvboot.h"
#include "vmm/bootloader.h"

#include <stdlib.h>
#include <unistd.h>

static char err[512];
static char shim_line[BOOT_CMDLINE_MAX + 1];

/* A readable file standing in for the shim. */
static const char *fake_shim(void)
{
    static char path[] = "/tmp/xenkvm-test-shim-XXXXXX";
    static bool made;
    if (!made) {
        int fd = mkstemp(path);
        if (fd >= 0)
            close(fd);
        made = true;
    }
    return path;
}

TEST(pvboot_pvh_kernel_and_ramdisk)
{
    struct domain_config cfg = { 0 };
    struct pvboot_opts o = { .kernel = "/k", .ramdisk = "/r", .cmdline = "console=hvc0" };
    CHECK_EQ(pvboot_setup(&cfg, &o, shim_line, sizeof(shim_line), err, sizeof(err)), 0);
    CHECK_STR(cfg.kernel, "/k");
    CHECK_STR(cfg.cmdline, "console=hvc0");
    CHECK_EQ(cfg.nr_modules, 1);
    CHECK_STR(cfg.modules[0].path, "/r");
    CHECK(cfg.modules[0].cmdline == NULL);
    CHECK(!cfg.keep_low_free);
    o.ramdisk = NULL;
    CHECK_EQ(pvboot_setup(&cfg, &o, shim_line, sizeof(shim_line), err, sizeof(err)), 0);
    CHECK_EQ(cfg.nr_modules, 0);
}

TEST(pvboot_pv_kernel_through_the_shim)
{
    /* As libxl builds it: the shim is the kernel, with its own command line
     * (pvshim_cmdline, a space, pvshim_extra); the PV kernel is module 0 with
     * the guest's line; the ramdisk module 1 without one. */
    struct domain_config cfg = { 0 };
    struct pvboot_opts o = { .kernel = "/pv/vmlinuz", .ramdisk = "/pv/initrd", .cmdline = "root=/dev/xvda",
                             .pv = true, .shim = fake_shim(), .shim_extra = "loglvl=all" };
    CHECK_EQ(pvboot_setup(&cfg, &o, shim_line, sizeof(shim_line), err, sizeof(err)), 0);
    CHECK_STR(cfg.kernel, fake_shim());
    CHECK_STR(cfg.cmdline, "pv-shim console=xen,pv loglvl=all");
    CHECK_EQ(cfg.nr_modules, 2);
    CHECK_STR(cfg.modules[0].path, "/pv/vmlinuz");
    CHECK_STR(cfg.modules[0].cmdline, "root=/dev/xvda");
    CHECK_STR(cfg.modules[0].what, "PV kernel");
    CHECK_STR(cfg.modules[1].path, "/pv/initrd");
    CHECK(cfg.modules[1].cmdline == NULL);
    CHECK(cfg.keep_low_free);
    /* pvshim_cmdline replaces the default; no extra, no trailing space; an
     * empty guest line is none; no ramdisk, one module. */
    o.shim_cmdline = "pv-shim console=xen";
    o.shim_extra = NULL;
    o.cmdline = "";
    o.ramdisk = NULL;
    CHECK_EQ(pvboot_setup(&cfg, &o, shim_line, sizeof(shim_line), err, sizeof(err)), 0);
    CHECK_STR(cfg.cmdline, "pv-shim console=xen");
    CHECK_EQ(cfg.nr_modules, 1);
    CHECK(cfg.modules[0].cmdline == NULL);
}

TEST(pvboot_shim_errors)
{
    struct domain_config cfg = { 0 };
    struct pvboot_opts o = { .kernel = "/k", .pv = true, .shim = "/nonexistent/xen-shim" };
    CHECK_EQ(pvboot_setup(&cfg, &o, shim_line, sizeof(shim_line), err, sizeof(err)), -1);
    CHECK_STR(err, "PV shim /nonexistent/xen-shim: No such file or directory");
    /* A shim command line longer than the room for it. */
    char small[8];
    o.shim = fake_shim();
    CHECK_EQ(pvboot_setup(&cfg, &o, small, sizeof(small), err, sizeof(err)), -1);
    CHECK_STR(err, "the PV shim's command line is longer than 7 bytes");
}

static int parse(const char *buf, size_t len, struct bootloader_result *r)
{
    memset(r, 0, sizeof(*r));
    err[0] = 0;
    return bootloader_parse_simple0(buf, len, r, err, sizeof(err));
}

static void release(struct bootloader_result *r)
{
    free(r->kernel);
    free(r->ramdisk);
    free(r->args);
}

TEST(bootloader_simple0_output)
{
    /* What pygrub --output-format=simple0 writes (libxl's reading of it). */
    static const char out[] = "kernel /run/x/boot_kernel.abc\0ramdisk /run/x/boot_ramdisk.def\0"
                              "args root=UUID=5b1c ro console=hvc0\0";
    struct bootloader_result r;
    CHECK_EQ(parse(out, sizeof(out) - 1, &r), 0);
    CHECK_STR(r.kernel, "/run/x/boot_kernel.abc");
    CHECK_STR(r.ramdisk, "/run/x/boot_ramdisk.def");
    CHECK_STR(r.args, "root=UUID=5b1c ro console=hvc0");
    release(&r);
    /* No ramdisk, no args, blanks after the key, an unknown item, no final NUL. */
    static const char two[] = "kernel \t/k\0frobnicate x\0args";
    CHECK_EQ(parse(two, sizeof(two) - 1, &r), 0);
    CHECK_STR(r.kernel, "/k");
    CHECK(r.ramdisk == NULL);
    CHECK(r.args == NULL);   /* "args" with nothing after it is not an item */
    release(&r);
}

TEST(bootloader_simple0_refused)
{
    struct bootloader_result r;
    CHECK_EQ(parse("", 0, &r), -1);
    CHECK_STR(err, "bootloader output names no kernel");
    release(&r);
    static const char no_kernel[] = "ramdisk /r\0args x\0";
    CHECK_EQ(parse(no_kernel, sizeof(no_kernel) - 1, &r), -1);
    release(&r);
    /* "kernelfoo /x" is not a kernel item. */
    static const char near[] = "kernelfoo /x\0";
    CHECK_EQ(parse(near, sizeof(near) - 1, &r), -1);
    release(&r);
    /* An item longer than libxl takes. */
    size_t n = 3 * 4096;
    char *big = malloc(n);
    memcpy(big, "kernel ", 7);
    memset(big + 7, 'k', n - 7);
    CHECK_EQ(parse(big, n, &r), -1);
    CHECK(strstr(err, "an item of 12288 bytes"));
    release(&r);
    free(big);
}
