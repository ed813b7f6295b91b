/* Hostile input: truncations and mutations of valid files never crash
 * (the sanitizer build checks memory) and always end in 0 or -1. */
#include "unit.h"
#include "cfg_helpers.h"
#include <stdlib.h>

static const char CFG[] =
    "name = \"fz\"\nuuid = 'c7a5fdb2-cdaf-9455-926a-d65c16db1809'\ntype = \"pvh\"\n"
    "kernel = '/k'; ramdisk = \"/r\\x41\\101\"\nmemory = 0x100\nmaxmem = 512\nvcpus = 2\n"
    "disk = [ 'phy:/dev/vg/a,xvda,w', 'format=raw,vdev=hdc,devtype=cdrom,target=/i,so',\n"
    "         ',hdd:cdrom,r', ]\nvif = [ 'mac=00:16:3e:01:02:03,bridge=b,rate=1MB/s@20ms', '' ]\n"
    "extra += \" quiet\"\nx = [1, [2, ['3']]]\non_crash = 'preserve' # done\n";

static unsigned long long seed = 0x9e3779b97f4a7c15ull;
static unsigned rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return (unsigned)seed;
}

static void run(const char *text, size_t len)
{
    struct xlcfg c = { 0 };
    struct cfg_diag d = { 0 };
    struct domcfg dc;
    domcfg_init(&dc);
    int r = xlcfg_parse_text(&c, "fz.cfg", text, len, &d);
    if (r == 0 && domcfg_from_xlcfg(&dc, &c, &d) == 0 && domxml_check_text(&dc, &d) == 0) {
        domcfg_check_supported(&dc, &d);
        size_t before = d.errors;
        char *x = domxml_write(&dc, NATIVE_XL, &d);
        char *n = x ? domxml_to_native(NATIVE_XM, x, strlen(x), "fz.xml", &d) : NULL;
        /* A device spec libvirt cannot read is a reported error, not a failure. */
        if ((!x || !n) && d.errors == before)
            unit_fail(__FILE__, __LINE__, "a valid domain did not convert: %s\n%.*s",
                      diag_first_error(&d), (int)len, text);
        free(x);
        free(n);
    }
    if (r != 0 && d.errors == 0)
        unit_fail(__FILE__, __LINE__, "failure without an error message");
    domcfg_free(&dc);
    xlcfg_free(&c);
    diag_free(&d);
}

TEST(fuzz_cfg_truncations)
{
    for (size_t n = 0; n <= sizeof(CFG) - 1; n++) {
        char *copy = malloc(n ? n : 1);     /* exact size: overreads are caught */
        memcpy(copy, CFG, n);
        run(copy, n);
        free(copy);
    }
}

TEST(fuzz_cfg_mutations)
{
    static const char junk[] = "[]=,;+'\"\\#\n\0\xff x0";
    char buf[sizeof(CFG)];
    for (int i = 0; i < 4000; i++) {
        memcpy(buf, CFG, sizeof(CFG) - 1);
        for (int k = 1 + rnd() % 4; k > 0; k--)
            buf[rnd() % (sizeof(CFG) - 1)] = junk[rnd() % (sizeof(junk) - 1)];
        char *copy = malloc(sizeof(CFG) - 1);
        memcpy(copy, buf, sizeof(CFG) - 1);
        run(copy, sizeof(CFG) - 1);
        free(copy);
    }
}

TEST(fuzz_disk_and_vif_specs)
{
    static const char *seeds[] = { "tap:qcow2:/x,xvda:cdrom,w!", "format=raw,vdev=xvdzz255,target=/a,b",
                                   "mac=00:16:3e:00:00:01,rate=1Gb/s@100us,mtu=1500,ip=1 2",
                                   ",,hdc,,devtype=cdrom,discard,no-discard" };
    static const char junk[] = ",=:! abxvd0123456789/@";
    char buf[64], err[256], warn[256];
    for (int i = 0; i < 20000; i++) {
        const char *s = seeds[rnd() % 4];
        size_t n = strlen(s);
        memcpy(buf, s, n + 1);
        for (int k = 1 + rnd() % 3; k > 0; k--)
            buf[rnd() % n] = junk[rnd() % (sizeof(junk) - 1)];
        buf[rnd() % (n + 1)] = 0;
        struct disk_spec d;
        if (disk_parse(&d, buf, err, sizeof(err)) == 0) {
            char *a = disk_to_xl(&d), *b = disk_to_xm(&d);
            struct disk_spec e;
            if (!a || disk_parse(&e, a, err, sizeof(err)) != 0)
                unit_fail(__FILE__, __LINE__, "'%s' -> '%s' does not parse back: %s", buf, a, err);
            else
                disk_spec_free(&e);
            free(a);
            free(b);
            disk_spec_free(&d);
        }
        struct vif_spec v;
        if (vif_parse(&v, buf, err, sizeof(err), warn) == 0) {
            char *a = vif_to_xl(&v);
            struct vif_spec w;
            if (!a || vif_parse(&w, a, err, sizeof(err), warn) != 0)
                unit_fail(__FILE__, __LINE__, "'%s' -> '%s' does not parse back: %s", buf, a, err);
            else
                vif_spec_free(&w);
            free(a);
            vif_spec_free(&v);
        }
        disk_vdev_devid(buf);
    }
}

TEST(fuzz_xml_mutations)
{
    struct cfg_diag d = { 0 };
    struct domcfg dc;
    domcfg_init(&dc);
    struct xlcfg c = { 0 };
    CHECK_EQ(t_parse(&c, &d, CFG), 0);
    CHECK_EQ(domcfg_from_xlcfg(&dc, &c, &d), 0);
    char *xml = domxml_write(&dc, NATIVE_XL, &d);
    domcfg_free(&dc);
    xlcfg_free(&c);
    size_t len = strlen(xml);
    static const char junk[] = "<>/='\"&; a\n";
    for (int i = 0; i < 1500; i++) {
        char *m = malloc(len);
        memcpy(m, xml, len);
        size_t n = len;
        if (i % 3 == 0)
            n = rnd() % len;
        else
            for (int k = 1 + rnd() % 3; k > 0; k--)
                m[rnd() % len] = junk[rnd() % (sizeof(junk) - 1)];
        char *t = domxml_to_native(NATIVE_XL, m, n, "fz.xml", &d);
        if (!t && d.errors == 0)
            unit_fail(__FILE__, __LINE__, "failure without an error message");
        free(t);
        free(m);
        diag_free(&d);
    }
    free(xml);
}
