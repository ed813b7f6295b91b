/* libvirt domain XML conversions and round trips. */
#include "unit.h"
#include "cfg_helpers.h"
#include <stdlib.h>

static struct cfg_diag D;

static const char PV_CFG[] =
    "name = \"XenGuest2\"\n"
    "uuid = \"c7a5fdb2-cdaf-9455-926a-d65c16db1809\"\n"
    "maxmem = 579\nmemory = 394\nvcpus = 1\n"
    "on_poweroff = \"destroy\"\non_reboot = \"restart\"\non_crash = \"restart\"\n"
    "vif = [ \"mac=00:16:3e:66:92:9c,bridge=xenbr1,script=vif-bridge\" ]\n"
    "kernel = \"/tmp/vmlinuz\"\nramdisk = \"/tmp/initrd\"\n"
    "root = \"/dev/xvda1\"\nextra = \"console=hvc0\"\n"
    "disk = [ \"/dev/HostVG/XenGuest2,raw,xvda,w,backendtype=qdisk\" ]\n";

static const char PV_XML[] =
    "<domain type='xen'>\n"
    "  <name>XenGuest2</name>\n"
    "  <uuid>c7a5fdb2-cdaf-9455-926a-d65c16db1809</uuid>\n"
    "  <memory unit='KiB'>592896</memory>\n"
    "  <currentMemory unit='KiB'>403456</currentMemory>\n"
    "  <vcpu placement='static'>1</vcpu>\n"
    "  <os>\n"
    "    <type arch='x86_64' machine='xenpv'>linux</type>\n"
    "    <kernel>/tmp/vmlinuz</kernel>\n"
    "    <initrd>/tmp/initrd</initrd>\n"
    "    <cmdline>root=/dev/xvda1 console=hvc0</cmdline>\n"
    "  </os>\n"
    "  <clock offset='utc' adjustment='reset'/>\n"
    "  <on_poweroff>destroy</on_poweroff>\n"
    "  <on_reboot>restart</on_reboot>\n"
    "  <on_crash>restart</on_crash>\n"
    "  <devices>\n"
    "    <disk type='file' device='disk'>\n"
    "      <driver name='qemu' type='raw'/>\n"
    "      <source file='/dev/HostVG/XenGuest2'/>\n"
    "      <target dev='xvda' bus='xen'/>\n"
    "    </disk>\n"
    "    <controller type='xenbus' index='0'/>\n"
    "    <interface type='bridge'>\n"
    "      <mac address='00:16:3e:66:92:9c'/>\n"
    "      <source bridge='xenbr1'/>\n"
    "      <script path='vif-bridge'/>\n"
    "    </interface>\n"
    "    <console type='pty'>\n"
    "      <target type='xen' port='0'/>\n"
    "    </console>\n"
    "    <input type='mouse' bus='xen'/>\n"
    "    <input type='keyboard' bus='xen'/>\n"
    "    <memballoon model='xen'/>\n"
    "  </devices>\n"
    "</domain>\n";

TEST(domxml_from_native_pv_shape)
{
    char *x = t_xml(PV_CFG, NATIVE_XL, &D);
    CHECK_STR(x, PV_XML);
    free(x);
}

TEST(domxml_to_native_pv)
{
    diag_free(&D);
    char *t = domxml_to_native(NATIVE_XL, PV_XML, strlen(PV_XML), "pv.xml", &D);
    CHECK_STR(t,
        "name = \"XenGuest2\"\n"
        "uuid = \"c7a5fdb2-cdaf-9455-926a-d65c16db1809\"\n"
        "maxmem = 579\nmemory = 394\nvcpus = 1\nlocaltime = 0\n"
        "on_poweroff = \"destroy\"\non_reboot = \"restart\"\non_crash = \"restart\"\n"
        "vif = [ \"mac=00:16:3e:66:92:9c,bridge=xenbr1,script=vif-bridge\" ]\n"
        "kernel = \"/tmp/vmlinuz\"\nramdisk = \"/tmp/initrd\"\n"
        "cmdline = \"root=/dev/xvda1 console=hvc0\"\n"
        "disk = [ \"/dev/HostVG/XenGuest2,raw,xvda,w,backendtype=qdisk\" ]\n");
    free(t);
}

TEST(domxml_pvh_type_and_vcpu_current)
{
    char *x = t_xml("name='p'\ntype='pvh'\nkernel='/k'\nvcpus=2\nmaxvcpus=8\nmemory=256\n"
                    "bootloader='/usr/bin/pygrub'\n", NATIVE_XL, &D);
    CHECK(x && strstr(x, "    <type arch='x86_64' machine='xenpvh'>xenpvh</type>\n"));
    CHECK(x && strstr(x, "  <vcpu placement='static' current='2'>8</vcpu>\n"
                         "  <bootloader>/usr/bin/pygrub</bootloader>\n  <os>\n"));
    CHECK(x && strstr(x, "  <devices>\n    <controller type='xenbus' index='0'/>\n"));
    char *t = x ? domxml_to_native(NATIVE_XL, x, strlen(x), "p.xml", &D) : NULL;
    CHECK(t && strstr(t, "maxvcpus = 8\nvcpus = 2\n"));
    CHECK(t && strstr(t, "type = \"pvh\"\n"));
    free(x);
    free(t);
}

TEST(domxml_disk_mappings)
{
    char *x = t_xml("name='d'\ndisk=['/dev/vg/a,raw,xvda,w,backendtype=phy',"
                    "'/i.iso,,hdc,cdrom','/q.img,qcow2,sdb,r']\n", NATIVE_XL, &D);
    CHECK(x && strstr(x, "    <disk type='block' device='disk'>\n      <driver name='phy' type='raw'/>\n"
                         "      <source dev='/dev/vg/a'/>\n      <target dev='xvda' bus='xen'/>\n    </disk>\n"));
    CHECK(x && strstr(x, "    <disk type='file' device='cdrom'>\n      <driver name='qemu' type='raw'/>\n"
                         "      <source file='/i.iso'/>\n      <target dev='hdc' bus='ide'/>\n      <readonly/>\n"));
    CHECK(x && strstr(x, "<driver name='qemu' type='qcow2'/>"));
    CHECK(x && strstr(x, "<target dev='sdb' bus='scsi'/>"));
    char *t = x ? domxml_to_native(NATIVE_XL, x, strlen(x), "d.xml", &D) : NULL;
    CHECK(t && strstr(t, "disk = [ \"/dev/vg/a,raw,xvda,w,backendtype=phy\", "
                         "\"/i.iso,raw,hdc,r,backendtype=qdisk,devtype=cdrom\", "
                         "\"/q.img,qcow2,sdb,r,backendtype=qdisk\" ]\n"));
    free(x);
    free(t);
}

TEST(domxml_xm_disk_drivers)
{
    char *x = t_xml("name='x'\nbuilder='linux'\ndisk=['phy:/dev/vg/a,xvda,w','file:/f.img,xvdb,w',"
                    "'tap:aio:/t.img,xvdc,r','tap:qcow2:/q.img,xvdd,w']\n", NATIVE_XM, &D);
    CHECK(x && strstr(x, "<disk type='block' device='disk'>\n      <driver name='phy' type='raw'/>\n"
                         "      <source dev='/dev/vg/a'/>"));
    CHECK(x && strstr(x, "<disk type='file' device='disk'>\n      <driver name='file' type='raw'/>\n"
                         "      <source file='/f.img'/>"));
    CHECK(x && strstr(x, "<driver name='tap' type='raw'/>\n      <source file='/t.img'/>"));
    CHECK(x && strstr(x, "<driver name='tap' type='qcow2'/>"));
    char *t = x ? domxml_to_native(NATIVE_XM, x, strlen(x), "x.xml", &D) : NULL;
    CHECK(t && strstr(t, "disk = [ \"phy:/dev/vg/a,xvda,w\", \"file:/f.img,xvdb,w\", "
                         "\"tap:aio:/t.img,xvdc,r\", \"tap:qcow2:/q.img,xvdd,w\" ]\n"));
    free(x);
    free(t);
}

TEST(domxml_vif_details)
{
    char *x = t_xml("name='v'\nuuid='c7a5fdb2-cdaf-9455-926a-d65c16db1809'\n"
                    "vif=['bridge=br0,ip=10.0.0.1 2000::1,rate=10MB/s,vifname=web0,model=e1000,mtu=9000',"
                    "'type=vif','script=vif-route']\n", NATIVE_XL, &D);
    CHECK(x && strstr(x, "    <interface type='bridge'>\n      <mac address='00:16:3e:"));
    CHECK(x && strstr(x, "      <source bridge='br0'/>\n"
                         "      <ip address='10.0.0.1' family='ipv4'/>\n"
                         "      <ip address='2000::1' family='ipv6'/>\n"
                         "      <bandwidth>\n        <outbound average='10240'/>\n      </bandwidth>\n"
                         "      <target dev='web0'/>\n      <model type='e1000'/>\n"
                         "      <mtu size='9000'/>\n    </interface>\n"));
    CHECK(x && strstr(x, "<interface type='ethernet'>"));
    CHECK(x && strstr(x, "<model type='netfront'/>"));
    char *t = x ? domxml_to_native(NATIVE_XL, x, strlen(x), "v.xml", &D) : NULL;
    CHECK(t && strstr(t, ",bridge=br0,ip=10.0.0.1 2000::1,model=e1000,vifname=web0,rate=10240KB/s,mtu=9000\""));
    CHECK(t && strstr(t, ",type=vif\""));
    CHECK(t && strstr(t, ",script=vif-route\" ]"));
    free(x);
    free(t);
    CHECK_EQ(domxml_rate_kib("10240KB/s"), 10240);
    CHECK_EQ(domxml_rate_kib("1GB/s"), 1048576);
    CHECK_EQ(domxml_rate_kib("80Mb/s"), 10240);
    CHECK_EQ(domxml_rate_kib("1024B/s"), 1);
}

TEST(domxml_escaping)
{
    char *x = t_xml("name='a&b<c>'\nkernel=\"/k'\\\"x\"\n", NATIVE_XL, &D);
    CHECK(x && strstr(x, "<name>a&amp;b&lt;c&gt;</name>"));
    CHECK(x && strstr(x, "<kernel>/k&apos;&quot;x</kernel>"));
    char *t = x ? domxml_to_native(NATIVE_XL, x, strlen(x), "e.xml", &D) : NULL;
    CHECK(t && strstr(t, "name = \"a&b<c>\"\n"));
    CHECK(t && strstr(t, "kernel = \"/k'\\\"x\"\n"));
    free(x);
    free(t);
}

/* cfg -> XML -> cfg -> XML: the XML is a fixed point and the domain the same. */
static void round_trip(const char *cfg, enum native_fmt fmt, int line)
{
    struct domcfg a, b;
    diag_free(&D);
    if (t_dom(&a, &D, cfg)) {
        unit_fail(__FILE__, line, "config: %s", diag_first_error(&D));
        domcfg_free(&a);
        return;
    }
    char *x1 = domxml_write(&a, fmt);
    char *n1 = x1 ? domxml_to_native(fmt, x1, strlen(x1), "rt.xml", &D) : NULL;
    if (!n1 || t_dom(&b, &D, n1)) {
        unit_fail(__FILE__, line, "round trip failed: %s\n%s", diag_first_error(&D), n1 ? n1 : "");
        domcfg_free(&a);
        free(x1);
        free(n1);
        return;
    }
    char *x2 = domxml_write(&b, fmt);
    if (!x2 || strcmp(x1, x2))
        unit_fail(__FILE__, line, "XML changed:\n%s\n---\n%s", x1, x2 ? x2 : "");
    bool same = !strcmp(a.name, b.name) && a.type == b.type && a.memory_mib == b.memory_mib &&
                a.maxmem_mib == b.maxmem_mib && a.vcpus == b.vcpus && a.maxvcpus == b.maxvcpus &&
                a.ndisks == b.ndisks && a.nvifs == b.nvifs && a.pvshim == b.pvshim &&
                a.has_uuid == b.has_uuid && !memcmp(a.uuid, b.uuid, 16) &&
                a.on_poweroff == b.on_poweroff && a.on_reboot == b.on_reboot && a.on_crash == b.on_crash &&
                !a.cmdline == !b.cmdline && (!a.cmdline || !strcmp(a.cmdline, b.cmdline)) &&
                !a.kernel == !b.kernel && (!a.kernel || !strcmp(a.kernel, b.kernel));
    for (size_t i = 0; same && i < a.ndisks; i++) {
        const struct disk_spec *p = &a.disks[i].spec, *q = &b.disks[i].spec;
        same = p->devid == q->devid && p->format == q->format && p->readonly == q->readonly &&
               p->cdrom == q->cdrom && !p->target == !q->target &&
               (!p->target || !strcmp(p->target, q->target));
    }
    for (size_t i = 0; same && i < a.nvifs; i++) {
        uint8_t m1[6], m2[6];
        domcfg_vif_mac(&a, i, m1);
        domcfg_vif_mac(&b, i, m2);
        same = !memcmp(m1, m2, 6) && !a.vifs[i].spec.bridge == !b.vifs[i].spec.bridge;
    }
    if (a.pvshim && same)
        same = a.pvshim_path && b.pvshim_path && !strcmp(a.pvshim_path, b.pvshim_path);
    if (!same)
        unit_fail(__FILE__, line, "domain changed in the round trip:\n%s", n1);
    domcfg_free(&a);
    domcfg_free(&b);
    free(x1);
    free(x2);
    free(n1);
}

TEST(domxml_round_trip_pv)
{
    round_trip(PV_CFG, NATIVE_XL, __LINE__);
}

TEST(domxml_round_trip_pvh)
{
    round_trip("name='pvh1'\nuuid='45b60f51-88a9-47a8-a3b3-5e66d71b2283'\ntype='pvh'\n"
               "kernel='/boot/vmlinuz'\nramdisk='/boot/initrd'\ncmdline='console=hvc0 root=/dev/xvda'\n"
               "memory=1024\nvcpus=4\non_crash='preserve'\ndisk=['/var/lib/xen/pvh1.img,raw,xvda,rw']\n"
               "vif=['bridge=xenbr0']\n", NATIVE_XL, __LINE__);
}

TEST(domxml_round_trip_pv_with_pvshim)
{
    round_trip("name='shimmed'\ntype='pvh'\npvshim=1\npvshim_path='/usr/lib/xen/boot/xen-shim'\n"
               "pvshim_cmdline='pv-shim console=xen,pv'\nkernel='/boot/vmlinuz-pv'\nmemory=512\n"
               "disk=['/srv/s.img,,xvda']\n", NATIVE_XL, __LINE__);
    char *x = t_xml("name='s'\ntype='pvh'\npvshim=1\npvshim_path='/shim'\n", NATIVE_XL, &D);
    CHECK(x && strstr(x, "  <metadata>\n    <xenkvm:pvshim xmlns:xenkvm='urn:xenkvm:domain:1' path='/shim'/>\n"
                         "  </metadata>\n"));
    free(x);
}

TEST(domxml_round_trip_many_devices)
{
    round_trip("name='busy'\nmemory=2048\nmaxmem=4096\nvcpus=2\nmaxvcpus=4\nkernel='/k'\n"
               "disk=['/d/root.img,raw,xvda,w','/dev/vg/data,raw,xvdb,w,backendtype=phy',\n"
               "'/d/ro.img,raw,xvdc,r','/d/cd.iso,raw,hdc,r,devtype=cdrom','/d/big.img,raw,xvdq,w']\n"
               "vif=['mac=00:16:3e:00:00:01,bridge=br0','bridge=br1,ip=10.1.1.1',"
               "'mac=00:16:3e:00:00:03,vifname=v3,script=vif-nat','rate=1MB/s']\n"
               "on_poweroff='destroy'\non_reboot='restart'\non_crash='coredump-destroy'\n",
               NATIVE_XL, __LINE__);
}

TEST(domxml_round_trip_xm_legacy)
{
    round_trip("kernel = '/boot/vmlinuz-xen'\nramdisk = '/boot/initrd-xen'\nbuilder='linux'\n"
               "memory = 256\nname = 'old'\nvif = [ 'mac=00:16:3e:5a:0b:1c,bridge=xenbr0' ]\n"
               "disk = [ 'phy:/dev/vg/old-disk,xvda2,w', 'file:/srv/old-swap.img,xvda1,w',\n"
               "'tap:aio:/srv/data.img,xvdb,r' ]\nroot = '/dev/xvda2 ro'\n", NATIVE_XM, __LINE__);
    round_trip("name='old2'\nbootloader='/usr/bin/pygrub'\ndisk=['phy:/dev/vg/a,xvda,w']\n",
               NATIVE_XM, __LINE__);
}

TEST(domxml_to_native_xm_uses_extra)
{
    char *x = t_xml(PV_CFG, NATIVE_XM, &D);
    char *t = x ? domxml_to_native(NATIVE_XM, x, strlen(x), "x.xml", &D) : NULL;
    CHECK(t && strstr(t, "extra = \"root=/dev/xvda1 console=hvc0\"\n"));
    CHECK(t && !strstr(t, "cmdline"));
    free(x);
    free(t);
}

TEST(domxml_read_units_and_defaults)
{
    const char *xml = "<domain type='xen'><name>u</name><memory unit='GiB'>1</memory>"
                      "<os><type>linux</type></os></domain>";
    struct domcfg dc;
    diag_free(&D);
    CHECK_EQ(domxml_read(&dc, xml, strlen(xml), "u.xml", NATIVE_XL, &D), 0);
    CHECK_EQ(dc.maxmem_mib, 1024);
    CHECK_EQ(dc.memory_mib, 1024);
    CHECK_EQ(dc.vcpus, 1);
    domcfg_free(&dc);
    xml = "<domain type='xen'><name>u</name><memory unit='MB'>100</memory><currentMemory>2048"
          "</currentMemory><vcpu current='1'>2</vcpu><os><type>xen</type></os>"
          "<clock offset='localtime'/></domain>";
    CHECK_EQ(domxml_read(&dc, xml, strlen(xml), "u.xml", NATIVE_XL, &D), 0);
    CHECK_EQ(dc.maxmem_mib, 96);
    CHECK_EQ(dc.memory_mib, 2);
    CHECK_EQ(dc.maxvcpus, 2);
    CHECK_EQ(dc.vcpus, 1);
    CHECK(dc.localtime);
    domcfg_free(&dc);
}

static void xml_bad(const char *xml, const char *want, int line)
{
    diag_free(&D);
    char *t = domxml_to_native(NATIVE_XL, xml, strlen(xml), "bad.xml", &D);
    if (t || !diag_has(&D, want))
        unit_fail(__FILE__, line, "expected '%s', got '%s'", want,
                  diag_first_error(&D) ? diag_first_error(&D) : "(no error)");
    free(t);
}

#define HEAD "<domain type='xen'>\n<name>g</name>\n<memory>1024</memory>\n<os><type>linux</type></os>\n"

TEST(domxml_errors)
{
    xml_bad("", "bad.xml:1: malformed XML: Document is empty", __LINE__);
    xml_bad("<domain type='xen'>\n<name>x</name>\n<memory>1</memory\n", "bad.xml:4: malformed XML: expected '>'", __LINE__);
    xml_bad("<domain type='xen'>\n<name>x</nam>\n</domain>", "bad.xml:2: malformed XML", __LINE__);
    xml_bad("<domian/>", "bad.xml:1: the root element is <domian>", __LINE__);
    xml_bad("<domain type='kvm'><name>g</name><memory>1024</memory><os><type>linux</type></os></domain>",
            "bad.xml:1: <domain>: type must be 'xen'", __LINE__);
    xml_bad("<domain type='xen'>\n<memory>1024</memory><os><type>linux</type></os></domain>",
            "bad.xml:1: <name> is missing", __LINE__);
    xml_bad("<domain type='xen'>\n<name>g</name>\n<os><type>linux</type></os></domain>",
            "bad.xml:1: <memory> is missing", __LINE__);
    xml_bad("<domain type='xen'>\n<name>g</name>\n<memory>1024</memory></domain>",
            "bad.xml:1: <os><type> is missing", __LINE__);
    xml_bad(HEAD "<uuid>nope</uuid></domain>", "bad.xml:5: <uuid>: 'nope' is not a UUID", __LINE__);
    xml_bad("<domain type='xen'>\n<name>g</name>\n<memory unit='furlong'>1</memory>\n"
            "<os><type>linux</type></os></domain>", "bad.xml:3: <memory>: invalid amount '1' unit furlong",
            __LINE__);
    xml_bad("<domain type='xen'>\n<name>g</name>\n<memory>lots</memory>\n<os><type>linux</type></os></domain>",
            "bad.xml:3: <memory>: invalid amount 'lots'", __LINE__);
    xml_bad(HEAD "<currentMemory>4096</currentMemory></domain>", "<currentMemory> is larger than <memory>", __LINE__);
    xml_bad(HEAD "<vcpu>0</vcpu></domain>", "bad.xml:5: <vcpu>: invalid value '0'", __LINE__);
    xml_bad(HEAD "<vcpu current='3'>2</vcpu></domain>", "<vcpu current>: invalid value '3'", __LINE__);
    xml_bad("<domain type='xen'>\n<name>g</name>\n<memory>1024</memory>\n<os>\n<type>hvm</type></os></domain>",
            "bad.xml:5: <os><type>: hvm guests are not supported", __LINE__);
    xml_bad(HEAD "<on_crash>explode</on_crash></domain>", "bad.xml:5: <on_crash>: invalid action 'explode'", __LINE__);
    xml_bad(HEAD "<devices>\n<disk type='network'/></devices></domain>",
            "bad.xml:6: <disk type='network'>: only file and block", __LINE__);
    xml_bad(HEAD "<devices>\n<disk device='floppy'/></devices></domain>", "only disk and cdrom", __LINE__);
    xml_bad(HEAD "<devices>\n<disk><source file='/x'/></disk></devices></domain>",
            "bad.xml:6: <disk>: <target dev=...> is missing", __LINE__);
    xml_bad(HEAD "<devices>\n<disk><source file='/x'/>\n<target dev='vda'/></disk></devices></domain>",
            "bad.xml:7: <disk>: invalid target dev 'vda'", __LINE__);
    xml_bad(HEAD "<devices>\n<disk><target dev='xvda'/></disk></devices></domain>",
            "<disk>: <source> is missing", __LINE__);
    xml_bad(HEAD "<devices><disk><driver type='vdi'/><source file='/x'/><target dev='xvda'/></disk>"
            "</devices></domain>", "<driver type='vdi'>: unknown disk format", __LINE__);
    xml_bad(HEAD "<devices>\n<interface type='network'/></devices></domain>",
            "bad.xml:6: <interface type='network'>: only bridge and ethernet", __LINE__);
    xml_bad(HEAD "<devices>\n<interface type='bridge'>\n<mac address='nope'/></interface></devices></domain>",
            "bad.xml:7: <mac>: invalid address 'nope'", __LINE__);
    xml_bad(HEAD "<devices><interface type='bridge'><bandwidth><outbound average='x'/></bandwidth>"
            "</interface></devices></domain>", "<outbound>: invalid average 'x'", __LINE__);
    xml_bad(HEAD "<devices><interface type='bridge'><mtu size='99999'/></interface></devices></domain>",
            "<mtu size>: invalid value '99999'", __LINE__);
    xml_bad("<!DOCTYPE d [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><domain type='xen'><name>&e;</name>"
            "<memory>1</memory><os><type>linux</type></os></domain>", "<name> is missing or empty", __LINE__);
    diag_free(&D);
}

TEST(domxml_rejects_text_xml_cannot_hold)
{
    char *x = t_xml("name='g'\nkernel='/k\\x01'\n", NATIVE_XL, &D);
    CHECK(!x);
    CHECK(diag_has(&D, "kernel: control characters or invalid UTF-8 cannot be written to XML"));
    x = t_xml("name='g\xc3('\n", NATIVE_XL, &D);
    CHECK(!x);
    CHECK(diag_has(&D, "name: control characters or invalid UTF-8"));
    x = t_xml("name='gr\xc3\xbc\xc3\x9f" "e'\n", NATIVE_XL, &D);
    CHECK(x && strstr(x, "<name>gr\xc3\xbc\xc3\x9f" "e</name>"));
    free(x);
    diag_free(&D);
}

TEST(domxml_native_fmt_names)
{
    enum native_fmt f;
    CHECK_EQ(native_fmt_parse("xen-xl", &f), 0);
    CHECK_EQ(f, NATIVE_XL);
    CHECK_EQ(native_fmt_parse("xen-xm", &f), 0);
    CHECK_EQ(f, NATIVE_XM);
    CHECK_EQ(native_fmt_parse("xen-sxpr", &f), -1);
}

TEST(domxml_from_native_reports_config_errors)
{
    char *x = t_xml("name='g'\nmemory='lots'\n", NATIVE_XL, &D);
    CHECK(!x);
    CHECK(diag_has(&D, "t.cfg:2: memory: 'lots' is not a number"));
    diag_free(&D);
}
