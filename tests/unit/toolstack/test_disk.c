/* Disk specifications and vdev numbers. */
#include "unit.h"
#include "config/disk.h"
#include <stdlib.h>

static struct disk_spec S;
static char E[256];

static int parse(const char *spec)
{
    disk_spec_free(&S);
    E[0] = 0;
    return disk_parse(&S, spec, E, sizeof(E));
}

TEST(vdev_xvd_numbers)
{
    CHECK_EQ(disk_vdev_devid("xvda"), 202 << 8);
    CHECK_EQ(disk_vdev_devid("xvdb"), (202 << 8) | (1 << 4));
    CHECK_EQ(disk_vdev_devid("xvda1"), (202 << 8) | 1);
    CHECK_EQ(disk_vdev_devid("xvdp15"), (202 << 8) | (15 << 4) | 15);
    /* disk 16 and partitions over 15 take the extended form */
    CHECK_EQ(disk_vdev_devid("xvdq"), (1 << 28) | (16 << 8));
    CHECK_EQ(disk_vdev_devid("xvda16"), (1 << 28) | 16);
    CHECK_EQ(disk_vdev_devid("xvdaa"), (1 << 28) | (26 << 8));
    CHECK_EQ(disk_vdev_devid("xvdzz255"), (1 << 28) | (701 << 8) | 255);
    CHECK_EQ(disk_vdev_devid("d0p1"), (202 << 8) | 1);
    CHECK_EQ(disk_vdev_devid("d20"), (1 << 28) | (20 << 8));
    CHECK_EQ(disk_vdev_devid("51712"), 51712);
}

TEST(vdev_hd_sd_numbers)
{
    CHECK_EQ(disk_vdev_devid("hda"), 3 << 8);
    CHECK_EQ(disk_vdev_devid("hdb"), (3 << 8) | 64);
    CHECK_EQ(disk_vdev_devid("hdc"), 22 << 8);
    CHECK_EQ(disk_vdev_devid("hdd2"), (22 << 8) | 64 | 2);
    CHECK_EQ(disk_vdev_devid("sda"), 8 << 8);
    CHECK_EQ(disk_vdev_devid("sdb3"), (8 << 8) | 16 | 3);
}

TEST(vdev_invalid_names)
{
    const char *bad[] = { "", "xvd", "xvdA", "xvda0", "xvda01", "xvda256", "hde", "hda64",
                          "sdq", "sda16", "vda", "xvd1", "d", "dxp1", "d1p", "xvdaaaaaa",
                          "99999999999", "nvme0n1", "xvda-1" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        if (disk_vdev_devid(bad[i]) != -1)
            unit_fail(__FILE__, __LINE__, "vdev '%s' accepted", bad[i]);
    CHECK_STR(disk_vdev_bus("xvda"), "xen");
    CHECK_STR(disk_vdev_bus("hdc"), "ide");
    CHECK_STR(disk_vdev_bus("sda"), "scsi");
}

TEST(disk_positional_full)
{
    CHECK_EQ(parse("/dev/vg/guest-volume,raw,hda,rw"), 0);
    CHECK_STR(S.target, "/dev/vg/guest-volume");
    CHECK_EQ(S.format, DISK_FMT_RAW);
    CHECK_STR(S.vdev, "hda");
    CHECK(!S.readonly);
    CHECK(!S.legacy);
}

TEST(disk_doc_equivalents)
{
    const char *same[] = { "/dev/vg/guest-volume,,hda", "/dev/vg/guest-volume,raw,hda,rw",
                           "format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume",
                           "raw:/dev/vg/guest-volume,hda,w" };
    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ(parse(same[i]), 0);
        CHECK_STR(S.target, "/dev/vg/guest-volume");
        CHECK_STR(S.vdev, "hda");
        CHECK(!S.readonly && !S.cdrom && S.format == DISK_FMT_RAW);
    }
    const char *cd[] = { "/root/image.iso,,hdc,cdrom", "/root/image.iso,,hdc,,cdrom",
                         "/root/image.iso,raw,hdc,devtype=cdrom",
                         "format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/root/image.iso",
                         "raw:/root/image.iso,hdc:cdrom,ro" };
    for (size_t i = 0; i < 5; i++) {
        CHECK_EQ(parse(cd[i]), 0);
        CHECK_STR(S.target, "/root/image.iso");
        CHECK_STR(S.vdev, "hdc");
        CHECK(S.cdrom && S.readonly);
    }
}

TEST(disk_target_last_takes_commas)
{
    CHECK_EQ(parse("vdev=xvda,target=/x/a,b=c, d "), 0);
    CHECK_STR(S.target, "/x/a,b=c, d ");
    CHECK_EQ(parse(",raw,xvda,rw,target=/y"), 0);   /* after an empty positional target */
    CHECK_STR(S.target, "/y");
}

TEST(disk_legacy_prefixes)
{
    CHECK_EQ(parse("phy:/dev/vg/x,xvda,w"), 0);
    CHECK_STR(S.prefix, "phy");
    CHECK_STR(S.target, "/dev/vg/x");
    CHECK(S.legacy);
    CHECK_EQ(S.backend, DISK_BK_AUTO);            /* xl ignores the prefix */
    CHECK_EQ(parse("file:/x.img,xvda,w"), 0);
    CHECK_STR(S.prefix, "file");
    CHECK_EQ(parse("tap:aio:/x.img,xvdb,r"), 0);
    CHECK_STR(S.prefix, "tap:aio");
    CHECK(S.readonly);
    CHECK_EQ(parse("tap:qcow2:/x.qcow2,xvda,w"), 0);
    CHECK_EQ(S.format, DISK_FMT_QCOW2);
    CHECK_EQ(parse("vhd:/x.vhd,xvda,w"), 0);
    CHECK_EQ(S.format, DISK_FMT_VHD);
    CHECK_EQ(parse("iscsi:iqn.2001-05.com.example:disk,xvda,w"), 0);
    CHECK_STR(S.script, "block-iscsi");
    CHECK_STR(S.target, "iqn.2001-05.com.example:disk");
    CHECK_EQ(parse("/x.img,xvda,w"), 0);           /* xm order without a prefix */
    CHECK(S.legacy);
    CHECK_STR(S.vdev, "xvda");
}

/* The forms Xen users' image disks come in (xm/xl prefixes, xl keys). */
TEST(disk_image_format_forms)
{
    struct { const char *spec; enum disk_format fmt; const char *target; } cases[] = {
        { "qcow2:/x.qcow2,xvda,w", DISK_FMT_QCOW2, "/x.qcow2" },
        { "tap:qcow2:/x.qcow2,xvda,w", DISK_FMT_QCOW2, "/x.qcow2" },
        { "tap2:tapdisk:qcow2:/x.qcow2,xvda,w", DISK_FMT_QCOW2, "/x.qcow2" },
        { "vhd:/x.vhd,xvda,w", DISK_FMT_VHD, "/x.vhd" },
        { "tap:vhd:/x.vhd,xvda,w", DISK_FMT_VHD, "/x.vhd" },
        { "tap:qcow:/x.qcow,xvda,w", DISK_FMT_QCOW, "/x.qcow" },
        { "tap:qed:/x.qed,xvda,w", DISK_FMT_QED, "/x.qed" },
        { "vmdk:/x.vmdk,xvda,w", DISK_FMT_VMDK, "/x.vmdk" },
        { "format=vmdk,vdev=xvda,target=/x.vmdk", DISK_FMT_VMDK, "/x.vmdk" },
        { "/x.qcow2,qcow2,xvda,w,backendtype=qdisk", DISK_FMT_QCOW2, "/x.qcow2" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        if (parse(cases[i].spec) != 0) {
            unit_fail(__FILE__, __LINE__, "'%s': %s", cases[i].spec, E);
            continue;
        }
        CHECK_EQ(S.format, cases[i].fmt);
        CHECK_STR(S.target, cases[i].target);
        CHECK_STR(S.vdev, "xvda");
    }
    CHECK_EQ(parse("/x.img,raw,xvda,w,backendtype=qdisk"), 0);
    CHECK_EQ(S.backend, DISK_BK_QDISK);
}

TEST(disk_empty_cdrom)
{
    CHECK_EQ(parse(",hdc:cdrom,r"), 0);
    CHECK(!S.target);
    CHECK(S.cdrom);
    CHECK_STR(S.vdev, "hdc");
    CHECK_EQ(parse(",,hdc,,devtype=cdrom"), 0);
    CHECK(!S.target && S.readonly);
}

TEST(disk_flags_and_keys)
{
    CHECK_EQ(parse("/x,raw,xvda,rw,backendtype=phy,discard,direct-io-safe,untrusted,script=foo,backend=0,specification=xen"), 0);
    CHECK_EQ(S.backend, DISK_BK_PHY);
    CHECK_EQ(S.discard, 1);
    CHECK(S.direct_io_safe && S.untrusted);
    CHECK_STR(S.script, "foo");
    CHECK_STR(S.backend_domain, "0");
    CHECK_EQ(parse("/x,,xvda,,no-discard,trusted"), 0);
    CHECK_EQ(S.discard, 0);
    CHECK(!S.untrusted);
    CHECK_EQ(parse("  /x, qcow2,\txvda"), 0);    /* leading blanks are ignored */
    CHECK_EQ(S.format, DISK_FMT_QCOW2);
}

TEST(disk_access_values)
{
    const char *ro[] = { "r", "ro" }, *rw[] = { "w", "rw", "w!" };
    char buf[64];
    for (size_t i = 0; i < 2; i++) {
        snprintf(buf, sizeof(buf), "/x,,xvda,%s", ro[i]);
        CHECK_EQ(parse(buf), 0);
        CHECK(S.readonly);
    }
    for (size_t i = 0; i < 3; i++) {
        snprintf(buf, sizeof(buf), "/x,,xvda,%s", rw[i]);
        CHECK_EQ(parse(buf), 0);
        CHECK(!S.readonly);
    }
}

TEST(disk_errors)
{
    struct { const char *spec, *err; } cases[] = {
        { "/x,raw", "no vdev specified" },
        { "", "no vdev specified" },
        { "/x,raw,xvdA", "invalid vdev 'xvdA'" },
        { "/x,raw,xvda,rx", "invalid access 'rx'" },
        { "/x,vdi,xvda", "unknown format 'vdi' (raw, qcow, qcow2, vhd, qed or vmdk)" },
        { "/x,raw,xvda,w,extra", "too many positional parameters at 'extra'" },
        { "/x,raw,xvda,w,bogus=1", "unknown parameter 'bogus'" },
        { "/x,raw,xvda,vdev=xvdb", "vdev specified more than once" },
        { "format=raw,/x,qcow2,xvda", "invalid access 'xvda'" },
        { "/x,raw,xvda,format=raw", "format specified more than once" },
        { ",,xvda", "no target specified" },
        { "/x,,xvda,devtype=floppy", "invalid devtype 'floppy'" },
        { "/x,,xvda,backendtype=nbd", "invalid backendtype 'nbd'" },
        { "/x,,xvda,specification=scsi", "invalid specification 'scsi'" },
        { "/x,,xvda:floppy", "invalid device type 'floppy'" },
        { "/x,,xvda,script=a,script=b", "script specified more than once" },
        { "/x,,xvda,A B=1", "invalid parameter name" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        if (parse(cases[i].spec) != -1 || !strstr(E, cases[i].err))
            unit_fail(__FILE__, __LINE__, "'%s': got '%s', expected '%s'", cases[i].spec, E, cases[i].err);
    }
}

TEST(disk_supported_checks)
{
    struct { const char *spec, *err; } cases[] = {
        { "/x,raw,xvda,colo,colo-host=h", "COLO" },
        { "nbd:host:1,xvda,w", "block scripts" },
        { "/x,raw,xvda,backend=dd", "driver domains" },
        { "/x,raw,xvda,specification=virtio", "virtio" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        CHECK_EQ(parse(cases[i].spec), 0);
        if (disk_check_supported(&S, E, sizeof(E)) != -1 || !strstr(E, cases[i].err))
            unit_fail(__FILE__, __LINE__, "'%s': got '%s'", cases[i].spec, E);
    }
    CHECK_EQ(parse("/x,raw,xvda,backend=0"), 0);
    CHECK_EQ(disk_check_supported(&S, E, sizeof(E)), 0);
    /* every image format runs (through qemu-storage-daemon) */
    const char *const formats[] = { "/x.q,qcow2,xvda", "/x.q,qcow,xvda", "/x,vhd,xvda",
                                    "/x,qed,xvda", "format=vmdk,vdev=xvda,target=/x",
                                    "/x,raw,xvda,backendtype=qdisk" };
    for (size_t i = 0; i < sizeof(formats) / sizeof(*formats); i++) {
        CHECK_EQ(parse(formats[i]), 0);
        CHECK_EQ(disk_check_supported(&S, E, sizeof(E)), 0);
    }
}

TEST(disk_canonical_forms)
{
    CHECK_EQ(parse("phy:/dev/vg/x,xvda,w"), 0);
    char *s = disk_to_xl(&S);
    CHECK_STR(s, "/dev/vg/x,raw,xvda,w");
    free(s);
    s = disk_to_xm(&S);
    CHECK_STR(s, "phy:/dev/vg/x,xvda,w");
    free(s);
    CHECK_EQ(parse("target=/a,b,vdev=hdc"), -1);   /* target= takes the rest */
    CHECK_STR(E, "no vdev specified");
    CHECK_EQ(parse("vdev=hdc,devtype=cdrom,backendtype=qdisk,format=raw,target=/a,b"), 0);
    s = disk_to_xl(&S);
    CHECK_STR(s, "format=raw,vdev=hdc,access=ro,backendtype=qdisk,devtype=cdrom,target=/a,b");
    free(s);
    CHECK_EQ(parse("/x.q,qcow2,xvdb,r,backendtype=tap"), 0);
    s = disk_to_xm(&S);
    CHECK_STR(s, "tap:qcow2:/x.q,xvdb,r");
    free(s);
    /* each canonical form parses back to the same disk */
    const char *specs[] = { "/x,raw,xvda,w,discard,direct-io-safe", ",hdc:cdrom,r",
                            "format=qcow2,vdev=xvdc,target=/odd:name", "tap:aio:/i,xvdd,w" };
    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ(parse(specs[i]), 0);
        struct disk_spec a = S;
        S = (struct disk_spec){ 0 };
        char *xl = disk_to_xl(&a), *xm = disk_to_xm(&a);
        CHECK_EQ(parse(xl), 0);
        CHECK(S.devid == a.devid && S.readonly == a.readonly && S.cdrom == a.cdrom &&
              S.format == a.format && S.discard == a.discard);
        CHECK(!a.target ? !S.target : (S.target && !strcmp(S.target, a.target)));
        CHECK_EQ(parse(xm), 0);
        CHECK(S.devid == a.devid && S.format == a.format && S.readonly == a.readonly);
        free(xl);
        free(xm);
        disk_spec_free(&a);
    }
    disk_spec_free(&S);
}
