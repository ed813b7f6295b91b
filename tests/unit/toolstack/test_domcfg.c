/* Settings -> domain configuration: defaults, rules, every error path. */
#include "unit.h"
#include "cfg_helpers.h"
#include <stdlib.h>

static struct domcfg DC;
static struct cfg_diag D;

static int dom(const char *text)
{
    domcfg_free(&DC);
    return t_dom(&DC, &D, text);
}

/* Expects an error containing want. */
static void bad(const char *text, const char *want, int line)
{
    if (dom(text) != -1 || !diag_has(&D, want))
        unit_fail(__FILE__, line, "'%s': expected '%s', got '%s'", text, want,
                  diag_first_error(&D) ? diag_first_error(&D) : "(no error)");
}

TEST(domcfg_defaults)
{
    CHECK_EQ(dom("name = \"g\"\nkernel = \"/k\"\n"), 0);
    CHECK_STR(DC.name, "g");
    CHECK_EQ(DC.type, DOMCFG_PV);
    CHECK_EQ(DC.memory_mib, 32);
    CHECK_EQ(DC.maxmem_mib, 32);
    CHECK_EQ(DC.vcpus, 1);
    CHECK_EQ(DC.maxvcpus, 1);
    CHECK_EQ(DC.on_poweroff, ACT_DESTROY);
    CHECK_EQ(DC.on_reboot, ACT_RESTART);
    CHECK_EQ(DC.on_crash, ACT_DESTROY);
    CHECK_EQ(DC.on_soft_reset, ACT_SOFT_RESET);
    CHECK(!DC.has_uuid && !DC.cmdline && !DC.pvshim);
    CHECK_EQ(D.n, 0);
    domcfg_free(&DC);
    diag_free(&D);
}

TEST(domcfg_full_pvh)
{
    CHECK_EQ(dom("name='web'\nuuid='C7A5FDB2-cdaf-9455-926a-d65c16db1809'\ntype='pvh'\n"
                 "kernel='/k'\nramdisk='/r'\ncmdline='console=hvc0'\nmemory=0x200\nmaxmem=1024\n"
                 "vcpus=2\nmaxvcpus=4\ndisk=['/a.img,raw,xvda,w','/b.img,,xvdb,r']\n"
                 "vif=['bridge=br0','mac=00:16:3e:01:02:03']\non_poweroff='preserve'\n"
                 "on_reboot='rename-restart'\non_crash='coredump-restart'\non_watchdog='coredump-destroy'\n"
                 "on_soft_reset='soft-reset'\nlocaltime=1\n"), 0);
    char u[37];
    uuid_format(DC.uuid, u);
    CHECK_STR(u, "c7a5fdb2-cdaf-9455-926a-d65c16db1809");
    CHECK_EQ(DC.type, DOMCFG_PVH);
    CHECK_EQ(DC.memory_mib, 512);
    CHECK_EQ(DC.maxmem_mib, 1024);
    CHECK_EQ(DC.vcpus, 2);
    CHECK_EQ(DC.maxvcpus, 4);
    CHECK_EQ(DC.ndisks, 2);
    CHECK_EQ(DC.disks[1].line, 11);
    CHECK(DC.disks[1].spec.readonly);
    CHECK_EQ(DC.nvifs, 2);
    CHECK_EQ(DC.on_poweroff, ACT_PRESERVE);
    CHECK_EQ(DC.on_reboot, ACT_RENAME_RESTART);
    CHECK_EQ(DC.on_crash, ACT_COREDUMP_RESTART);
    CHECK_EQ(DC.on_watchdog, ACT_COREDUMP_DESTROY);
    CHECK(DC.localtime);
    CHECK_STR(DC.cmdline, "console=hvc0");
    CHECK_EQ(D.n, 0);
    CHECK_EQ(domcfg_check_supported(&DC, &D), 0);
}

TEST(domcfg_cmdline_from_root_extra)
{
    CHECK_EQ(dom("name='g'\nroot='/dev/xvda1'\nextra='console=hvc0 quiet'\n"), 0);
    CHECK_STR(DC.cmdline, "root=/dev/xvda1 console=hvc0 quiet");
    CHECK_EQ(dom("name='g'\nroot='/dev/xvda1'\n"), 0);
    CHECK_STR(DC.cmdline, "root=/dev/xvda1");
    CHECK_EQ(dom("name='g'\nextra='single'\n"), 0);
    CHECK_STR(DC.cmdline, "single");
    CHECK_EQ(dom("name='g'\nroot='/dev/sda'\ncmdline='ro'\n"), 0);
    CHECK_STR(DC.cmdline, "ro");
    CHECK(diag_has(&D, "t.cfg:3: warning: ignoring root= and extra= in favour of cmdline="));
}

TEST(domcfg_builder_means_pv)
{
    CHECK_EQ(dom("name='g'\nbuilder='linux'\n"), 0);
    CHECK_EQ(DC.type, DOMCFG_PV);
    CHECK_EQ(dom("name='g'\nbuilder='generic'\n"), 0);
    CHECK_EQ(DC.type, DOMCFG_PV);
}

TEST(domcfg_maxmem_alone_sets_memory)
{
    CHECK_EQ(dom("name='g'\nmaxmem=256\n"), 0);
    CHECK_EQ(DC.memory_mib, 256);
    CHECK_EQ(DC.maxmem_mib, 256);
    CHECK_EQ(dom("name='g'\nmemory='64'\n"), 0);     /* a quoted number reads as xl reads it */
    CHECK_EQ(DC.memory_mib, 64);
}

TEST(domcfg_pvshim)
{
    CHECK_EQ(dom("name='g'\ntype='pvh'\npvshim=1\npvshim_path='/usr/lib/xen/boot/xen-shim'\n"
                 "pvshim_cmdline='pv-shim console=xen,pv'\npvshim_extra='loglvl=all'\n"), 0);
    CHECK(DC.pvshim);
    CHECK_STR(DC.pvshim_path, "/usr/lib/xen/boot/xen-shim");
    CHECK_STR(DC.pvshim_cmdline, "pv-shim console=xen,pv");
    CHECK_STR(DC.pvshim_extra, "loglvl=all");
    /* type pv (the default) always runs through the shim here: pvshim = 1 is
     * quiet, pvshim = 0 warned about. */
    CHECK_EQ(dom("name='g'\npvshim=1\n"), 0);
    CHECK_EQ(D.n, 0);
    CHECK_EQ(dom("name='g'\npvshim=0\npvshim_path='/x/shim'\n"), 0);
    CHECK(diag_has(&D, "t.cfg:2: warning: pvshim = 0: a PV guest runs through Xen's PV shim here"));
    CHECK_STR(DC.pvshim_path, "/x/shim");
}

TEST(domcfg_bootloader_args)
{
    CHECK_EQ(dom("name='g'\nbootloader='pygrub'\nbootloader_args=['-q','--entry=1']\n"), 0);
    CHECK_EQ(DC.nbootloader_args, 2);
    CHECK_STR(DC.bootloader_args[1], "--entry=1");
    CHECK_EQ(dom("name='g'\nbootloader='pygrub'\nbootloader_args='-q  --x'\n"), 0);
    CHECK_EQ(DC.nbootloader_args, 2);
    CHECK_STR(DC.bootloader_args[1], "--x");
}

TEST(domcfg_unknown_keys_warn)
{
    CHECK_EQ(dom("name='g'\nfrobnicate=1\nvfb=['vnc=1']\nfrobnicate=2\n"), 0);
    CHECK(diag_has(&D, "t.cfg:2: warning: frobnicate: unknown key, ignored"));
    CHECK(diag_has(&D, "t.cfg:3: warning: vfb: not supported by xenkvm, ignored"));
    CHECK_EQ(D.warnings, 2);
    CHECK_EQ(D.errors, 0);
}

TEST(domcfg_errors_name)
{
    bad("memory=1\n", "t.cfg: name: the domain needs a name", __LINE__);
    bad("name=''\n", "t.cfg:1: name: the name is empty", __LINE__);
    bad("name='a\\tb'\n", "t.cfg:1: name: control characters", __LINE__);
    bad("name=5\n", "t.cfg:1: name: expected a quoted string, not the number 5", __LINE__);
    bad("name=['a']\n", "t.cfg:1: name: expected a quoted string, not a list", __LINE__);
}

TEST(domcfg_errors_numbers)
{
    bad("name='g'\nmemory=\"lots\"\n", "t.cfg:2: memory: 'lots' is not a number", __LINE__);
    bad("name='g'\nmemory=0\n", "t.cfg:2: memory: 0 is out of range", __LINE__);
    bad("name='g'\nmemory=0x\n", "t.cfg:2: memory: '0x' is not a number", __LINE__);
    bad("name='g'\nmemory=99999999999999999999\n", "t.cfg:2: memory: '99999999999999999999' is not a valid number", __LINE__);
    bad("name='g'\nmemory=[1]\n", "t.cfg:2: memory: expected a number, not a list", __LINE__);
    bad("name='g'\nmemory=1\nmemory+=2\n", "t.cfg:3: memory: can't use += with numbers", __LINE__);
    bad("name='g'\nvcpus=0\n", "t.cfg:2: vcpus: 0 is out of range (1 to 512)", __LINE__);
    bad("name='g'\nvcpus=513\n", "vcpus: 513 is out of range", __LINE__);
    bad("name='g'\nmemory=512\nmaxmem=256\n", "t.cfg:3: maxmem: 256 MiB is less than memory (512 MiB)", __LINE__);
    bad("name='g'\nvcpus=4\nmaxvcpus=2\n", "t.cfg:3: maxvcpus: 2 is less than vcpus (4)", __LINE__);
    bad("name='g'\nlocaltime='yes'\n", "t.cfg:2: localtime: 'yes' is not a number", __LINE__);
    bad("name='g'\npvshim='x1'\n", "t.cfg:2: pvshim: 'x1' is not a number", __LINE__);
    bad("name='g'\npvshim='-1'\n", "pvshim: -1 is out of range", __LINE__);
}

TEST(domcfg_errors_strings_and_enums)
{
    bad("name='g'\nkernel=5\n", "t.cfg:2: kernel: expected a quoted string, not the number 5", __LINE__);
    bad("name='g'\non_crash='explode'\n", "t.cfg:2: on_crash: invalid action 'explode'", __LINE__);
    bad("name='g'\non_reboot=1\n", "on_reboot: expected a quoted string", __LINE__);
    bad("name='g'\ntype='hvm'\n", "t.cfg:2: type: \"hvm\" guests are not supported by xenkvm", __LINE__);
    bad("name='g'\nbuilder='hvm'\n", "t.cfg:2: builder: \"hvm\" guests are not supported", __LINE__);
    bad("name='g'\ntype='pvhx'\n", "t.cfg:2: type: invalid type 'pvhx' (pv or pvh)", __LINE__);
    bad("name='g'\nbuilder='xen'\n", "t.cfg:2: builder: invalid builder 'xen'", __LINE__);
    bad("name='g'\ntype='pv'\nbuilder='linux'\n", "t.cfg:3: builder: can't specify both", __LINE__);
    bad("name='g'\nuuid='1234'\n", "t.cfg:2: uuid: '1234' is not a UUID", __LINE__);
    bad("name='g'\nuuid='c7a5fdb2-cdaf-9455-926a-d65c16db180g'\n", "is not a UUID", __LINE__);
}

TEST(domcfg_errors_devices)
{
    bad("name='g'\ndisk='/x,raw,xvda'\n", "t.cfg:2: disk: expected a [list] of quoted strings", __LINE__);
    bad("name='g'\ndisk=[\n'/x,raw,xvda',\n 5]\n", "t.cfg:4: disk: item 2: expected a quoted string, not a number", __LINE__);
    bad("name='g'\ndisk=[\n'/x,raw,xvda',\n'/y,raw,xvdz9999']\n", "t.cfg:4: disk '/y,raw,xvdz9999': invalid vdev", __LINE__);
    bad("name='g'\ndisk=['/x,,xvda','/y,,xvda']\n", "disk '/y,,xvda': vdev xvda is already used by disk '/x,,xvda'", __LINE__);
    bad("name='g'\nvif=['mac=zz']\n", "t.cfg:2: vif 'mac=zz': invalid MAC address 'zz'", __LINE__);
    bad("name='g'\nvif=[['bridge=x']]\n", "vif: item 1: expected a quoted string, not a list", __LINE__);
}

TEST(domcfg_vif_obsolete_key_warning)
{
    CHECK_EQ(dom("name='g'\nvif=['bridge=x,accel=y']\n"), 0);
    CHECK(diag_has(&D, "t.cfg:2: warning: vif 'bridge=x,accel=y': parameter 'accel' is obsolete"));
}

TEST(domcfg_check_supported_formats)
{
    CHECK_EQ(dom("name='g'\nkernel='/k'\ndisk=[\n'/a,raw,xvda',\n'/b.qcow2,qcow2,xvdb']\n"), 0);
    CHECK_EQ(domcfg_check_supported(&DC, &D), 0);
    CHECK_EQ(dom("name='g'\nkernel='/k'\ndisk=[\n'/a,raw,xvda',\n'/b,raw,xvdb,specification=virtio']\n"), 0);
    CHECK_EQ(domcfg_check_supported(&DC, &D), -1);
    CHECK_STR(diag_first_error(&D), "t.cfg:5: disk '/b,raw,xvdb,specification=virtio': virtio disks are not supported (specification=xen only)");
    CHECK_EQ(dom("name='g'\n"), 0);
    CHECK_EQ(domcfg_check_supported(&DC, &D), -1);
    CHECK(diag_has(&D, "no kernel and no bootloader"));
}

TEST(domcfg_many_errors_reported_together)
{
    CHECK_EQ(dom("memory='x'\nvcpus=0\non_crash='boom'\n"), -1);
    CHECK_EQ(D.errors, 4);
    domcfg_free(&DC);
    diag_free(&D);
}

TEST(domcfg_xm_legacy_file)
{
    /* A typical xm-era file: python-ish, but the xl syntax. */
    const char *xm =
        "#  -*- mode: python; -*-\n"
        "kernel = \"/boot/vmlinuz-2.6.32-5-xen-amd64\"\n"
        "ramdisk = \"/boot/initrd.img-2.6.32-5-xen-amd64\"\n"
        "builder = 'linux'\n"
        "memory = 256\n"
        "name = \"squeeze\"\n"
        "vcpus = 1\n"
        "vif = [ 'ip=192.168.1.10,mac=00:16:3E:5A:0B:1C,bridge=xenbr0' ]\n"
        "disk = [ 'file:/srv/xen/domains/squeeze/disk.img,xvda2,w',\n"
        "         'file:/srv/xen/domains/squeeze/swap.img,xvda1,w' ]\n"
        "root = \"/dev/xvda2 ro\"\n"
        "extra = \"console=hvc0 xencons=tty\"\n"
        "on_poweroff = 'destroy'\non_reboot   = 'restart'\non_crash    = 'restart'\n";
    CHECK_EQ(dom(xm), 0);
    CHECK_EQ(DC.type, DOMCFG_PV);
    CHECK_STR(DC.cmdline, "root=/dev/xvda2 ro console=hvc0 xencons=tty");
    CHECK_EQ(DC.ndisks, 2);
    CHECK_STR(DC.disks[0].spec.vdev, "xvda2");
    CHECK_EQ(DC.disks[0].spec.devid, (202 << 8) | 2);
    CHECK_STR(DC.disks[1].spec.target, "/srv/xen/domains/squeeze/swap.img");
    CHECK_EQ(DC.disks[1].line, 10);
    CHECK_STR(DC.vifs[0].spec.ip, "192.168.1.10");
    CHECK_EQ(D.n, 0);
    CHECK_EQ(domcfg_check_supported(&DC, &D), 0);
}
