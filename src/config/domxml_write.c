/* struct domcfg -> libvirt domain XML, element order and attribute quoting
 * as libvirt prints them (its Xen driver's parse of an xl/xm config). */
#include "config/cpumap.h"
#include "config/domxml_priv.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xw_start(struct strbuf *b, int indent, const char *name)
{
    sb_printf(b, "%*s<%s", indent, "", name);
}

void xw_attr(struct strbuf *b, const char *k, const char *v)
{
    if (!v)
        return;
    sb_printf(b, " %s='", k);
    sb_add_xml(b, v);
    sb_addc(b, '\'');
}

void xw_attrf(struct strbuf *b, const char *k, const char *fmt, ...)
{
    char v[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    xw_attr(b, k, v);
}

void xw_text(struct strbuf *b, int indent, const char *name, const char *text)
{
    if (!text)
        return;
    sb_printf(b, "%*s<%s>", indent, "", name);
    sb_add_xml(b, text);
    sb_printf(b, "</%s>\n", name);
}

unsigned long long domxml_rate_kib(const char *rate)
{
    if (!rate)
        return 0;
    char *e;
    unsigned long long n = strtoull(rate, &e, 10), kib;
    switch (*e) {
    case 'G': kib = n * 1024 * 1024; e++; break;
    case 'M': kib = n * 1024; e++; break;
    case 'K': kib = n; e++; break;
    default: kib = (n + 1023) / 1024;
    }
    if (*e == 'b')
        kib /= 8;
    return kib;
}

const char *domxml_cpu_feature(const char *name, bool from_libxl)
{
    static const char *const names[][2] = {   /* libvirt, libxl */
        { "cx16", "cmpxchg16" }, { "cid", "cntxid" }, { "ds_cpl", "dscpl" },
        { "pclmuldq", "pclmulqdq" }, { "pni", "sse3" }, { "ht", "htt" }, { "pn", "psn" },
        { "clflush", "clfsh" }, { "sep", "sysenter" }, { "cx8", "cmpxchg8" },
        { "nodeid_msr", "nodeid" }, { "cr8legacy", "altmovcr8" }, { "lahf_lm", "lahfsahf" },
        { "cmp_legacy", "cmplegacy" }, { "fxsr_opt", "ffxsr" }, { "pdpe1gb", "page1gb" },
        { "spec-ctrl", "ibrsb" },
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
        if (!strcmp(names[i][from_libxl], name))
            return names[i][!from_libxl];
    return name;
}

/* Driver name and disk type as libvirt shows a disk read from fmt. */
static void disk_driver(const struct disk_spec *s, enum native_fmt fmt, const char **driver,
                        bool *block)
{
    const char *p = fmt == NATIVE_XM ? s->prefix : NULL;
    if (p && !strncmp(p, "phy", 3)) {
        *driver = "phy";
        *block = true;
    } else if (p && !strncmp(p, "file", 4)) {
        *driver = "file";
        *block = false;
    } else if (p && !strncmp(p, "tap2", 4)) {
        *driver = "tap2";
        *block = false;
    } else if (p && !strncmp(p, "tap", 3)) {
        *driver = "tap";
        *block = false;
    } else if (s->cdrom) {
        *driver = "qemu";     /* libvirt: a cdrom is always a qemu file */
        *block = false;
    } else if (s->backend == DISK_BK_PHY) {
        *driver = "phy";
        *block = true;
    } else if (s->backend == DISK_BK_TAP) {
        *driver = "tap";
        *block = false;
    } else {
        *driver = "qemu";
        *block = false;
    }
}

static const char *disk_bus(const struct domcfg *dc, const char *vdev)
{
    if (dc->type != DOMCFG_HVM || !strncmp(vdev, "xvd", 3))
        return "xen";
    return !strncmp(vdev, "sd", 2) ? "scsi" : "ide";
}

static void write_disk(struct strbuf *b, const struct domcfg *dc, const struct disk_spec *s,
                       enum native_fmt fmt)
{
    const char *driver;
    bool block;
    disk_driver(s, fmt, &driver, &block);
    sb_printf(b, "    <disk type='%s' device='%s'>\n", block ? "block" : "file",
              s->cdrom ? "cdrom" : "disk");
    xw_start(b, 6, "driver");
    xw_attr(b, "name", driver);
    if (s->target || !s->cdrom)
        xw_attr(b, "type", disk_format_name(s->format));
    sb_add(b, "/>\n");
    if (s->target) {
        xw_start(b, 6, "source");
        xw_attr(b, block ? "dev" : "file", s->target);
        sb_add(b, "/>\n");
    }
    xw_start(b, 6, "target");
    xw_attr(b, "dev", s->vdev);
    xw_attr(b, "bus", disk_bus(dc, s->vdev));
    sb_add(b, "/>\n");
    if (s->readonly)
        sb_add(b, "      <readonly/>\n");
    domxml_write_disk_address(b, dc, s->vdev);
    sb_add(b, "    </disk>\n");
}

/* "ovsbr0.42" (one VLAN tag) or "ovsbr0:42:43" (trunk): libxl's extended
 * bridge names, which libvirt shows as an Open vSwitch port with <vlan>. */
static void write_bridge(struct strbuf *b, const char *bridge)
{
    size_t n = strcspn(bridge, ".:");
    char *name = strndup(bridge, n);
    xw_start(b, 6, "source");
    xw_attr(b, "bridge", name ? name : bridge);
    sb_add(b, "/>\n");
    free(name);
    if (!bridge[n])
        return;
    bool trunk = bridge[n] == ':';
    sb_printf(b, "      <vlan%s>\n", trunk ? " trunk='yes'" : "");
    for (const char *p = bridge + n; *p;) {
        p++;
        size_t len = strcspn(p, ":");
        sb_printf(b, "        <tag id='%.*s'/>\n", (int)len, p);
        p += len;
        if (!trunk)
            break;
    }
    sb_add(b, "      </vlan>\n      <virtualport type='openvswitch'/>\n");
}

static void write_vif(struct strbuf *b, const struct domcfg *dc, size_t i, enum native_fmt fmt)
{
    const struct vif_spec *v = &dc->vifs[i].spec;
    uint8_t mac[6];
    char macs[18];
    domcfg_vif_mac(dc, i, mac);
    mac_format(mac, macs);
    /* libvirt: a bridge, or the bridge script without one, makes a bridge interface. */
    bool bridge = v->bridge || (v->script && (!strcmp(v->script, "vif-bridge") ||
                                              !strcmp(v->script, "vif-vnic")));
    sb_printf(b, "    <interface type='%s'>\n", bridge ? "bridge" : "ethernet");
    sb_printf(b, "      <mac address='%s'/>\n", macs);
    if (v->bridge)
        write_bridge(b, v->bridge);
    if (v->rate)
        sb_printf(b, "      <bandwidth>\n        <outbound average='%llu'/>\n      </bandwidth>\n",
                  domxml_rate_kib(v->rate));
    if (v->ip) {
        char *copy = strdup(v->ip), *save = NULL;
        b->failed |= !copy;
        for (char *a = copy ? strtok_r(copy, " ", &save) : NULL; a; a = strtok_r(NULL, " ", &save)) {
            xw_start(b, 6, "ip");
            xw_attr(b, "address", a);
            xw_attr(b, "family", strchr(a, ':') ? "ipv6" : "ipv4");
            sb_add(b, "/>\n");
        }
        free(copy);
    }
    if (v->script && v->script[0]) {
        xw_start(b, 6, "script");
        xw_attr(b, "path", v->script);
        sb_add(b, "/>\n");
    }
    if (v->backend) {
        xw_start(b, 6, "backenddomain");
        xw_attr(b, "name", v->backend);
        sb_add(b, "/>\n");
    }
    if (v->vifname && v->vifname[0]) {
        xw_start(b, 6, "target");
        xw_attr(b, "dev", v->vifname);
        sb_add(b, "/>\n");
    }
    const char *model = v->model;
    if (!model && v->type && !strcmp(v->type, fmt == NATIVE_XM ? "netfront" : "vif"))
        model = "netfront";
    if (model) {
        xw_start(b, 6, "model");
        xw_attr(b, "type", model);
        sb_add(b, "/>\n");
    }
    if (v->mtu)
        sb_printf(b, "      <mtu size='%u'/>\n", v->mtu);
    sb_add(b, "    </interface>\n");
}

static void write_metadata(struct strbuf *b, const struct domcfg *dc)
{
    if (!dc->pvshim)
        return;
    sb_add(b, "  <metadata>\n    <xenkvm:pvshim xmlns:xenkvm='" XENKVM_NS "'");
    xw_attr(b, "path", dc->pvshim_path);
    xw_attr(b, "cmdline", dc->pvshim_cmdline);
    xw_attr(b, "extra", dc->pvshim_extra);
    sb_add(b, "/>\n  </metadata>\n");
}

static void write_vcpu(struct strbuf *b, const struct domcfg *dc)
{
    sb_add(b, "  <vcpu placement='static'");
    /* One CPU list for every vCPU becomes libvirt's cpuset (which has no
     * "all" and no NUMA node terms). */
    if (dc->cpus.n == 1 && !dc->cpus_list && !cpumap_is_symbolic(dc->cpus.v[0])) {
        struct cpumap m;
        char err[128], set[512];
        if (cpumap_parse(dc->cpus.v[0], &m, 0, NULL, NULL, err, sizeof(err)) == 0) {
            cpumap_format(&m, CPUMAP_MAX, false, set, sizeof(set));
            xw_attr(b, "cpuset", set);
        }
    }
    if (dc->maxvcpus != dc->vcpus)
        sb_printf(b, " current='%u'", dc->vcpus);
    sb_printf(b, ">%u</vcpu>\n", dc->maxvcpus);
}

static void write_boot(struct strbuf *b, const char *boot)
{
    for (const char *c = boot && *boot ? boot : "c"; *c; c++) {
        const char *dev = *c == 'a' ? "fd" : *c == 'd' ? "cdrom" : *c == 'n' ? "network" : "hd";
        sb_printf(b, "    <boot dev='%s'/>\n", dev);
    }
}

static void write_os(struct strbuf *b, const struct domcfg *dc, enum native_fmt fmt)
{
    const struct domcfg_hw *hw = &dc->hw;
    sb_add(b, "  <os>\n");
    if (dc->type == DOMCFG_PVH)
        sb_add(b, "    <type arch='x86_64' machine='xenpvh'>xenpvh</type>\n");
    else if (dc->type == DOMCFG_PV)
        sb_add(b, "    <type arch='x86_64' machine='xenpv'>linux</type>\n");
    if (dc->type != DOMCFG_HVM) {
        xw_text(b, 4, "kernel", dc->kernel);
        xw_text(b, 4, "initrd", dc->ramdisk);
        xw_text(b, 4, "cmdline", dc->cmdline);
        sb_add(b, "  </os>\n");
        return;
    }
    sb_add(b, "    <type arch='x86_64' machine='xenfv'>hvm</type>\n");
    if (fmt == NATIVE_XL && hw->bios && !strcmp(hw->bios, "ovmf")) {
        sb_add(b, "    <loader readonly='yes' type='pflash' format='raw'>");
        sb_add_xml(b, hw->bios_path_override ? hw->bios_path_override : LIBVIRT_OVMF);
    } else {
        sb_add(b, "    <loader type='rom' format='raw'>");
        /* xm: the HVM guest's kernel= is its firmware. */
        sb_add_xml(b, fmt == NATIVE_XM ? (dc->kernel ? dc->kernel : "") : LIBVIRT_HVMLOADER);
    }
    sb_add(b, "</loader>\n");
    if (fmt == NATIVE_XL) {
        xw_text(b, 4, "kernel", dc->kernel);
        xw_text(b, 4, "initrd", dc->ramdisk);
        xw_text(b, 4, "cmdline", dc->cmdline);
        if (hw->acpi_firmware) {
            sb_add(b, "    <acpi>\n");
            xw_start(b, 6, "table");
            xw_attr(b, "type", "slic");
            sb_add(b, ">");
            sb_add_xml(b, hw->acpi_firmware);
            sb_add(b, "</table>\n    </acpi>\n");
        }
    }
    write_boot(b, hw->boot);
    sb_add(b, "  </os>\n");
}

static void write_features(struct strbuf *b, const struct domcfg *dc)
{
    const struct domcfg_hw *hw = &dc->hw;
    struct strbuf f = { 0 };
    bool hvm = dc->type == DOMCFG_HVM;
    if (hvm) {
        if (hw->acpi != 0)
            sb_add(&f, "    <acpi/>\n");
        if (hw->apic != 0)
            sb_add(&f, "    <apic/>\n");
        if (hw->pae != 0)
            sb_add(&f, "    <pae/>\n");
        if (hw->hap == 0)
            sb_add(&f, "    <hap state='off'/>\n");
        if (hw->viridian > 0)
            sb_add(&f, "    <viridian/>\n");
    }
    const char *pt = hw->passthrough;
    bool e820 = !hvm && hw->e820_host > 0;
    bool pt_on = pt && (!strcmp(pt, "enabled") || !strcmp(pt, "sync_pt") || !strcmp(pt, "share_pt"));
    bool pt_off = pt && !strcmp(pt, "disabled");
    if (e820 || pt_on || pt_off) {
        sb_add(&f, "    <xen>\n");
        if (e820)
            sb_add(&f, "      <e820_host state='on'/>\n");
        if (pt_on && strcmp(pt, "enabled"))
            sb_printf(&f, "      <passthrough state='on' mode='%s'/>\n", pt);
        else if (pt)
            sb_printf(&f, "      <passthrough state='%s'/>\n", pt_on ? "on" : "off");
        sb_add(&f, "    </xen>\n");
    }
    if (f.len)
        sb_printf(b, "  <features>\n%s  </features>\n", f.s);
    b->failed |= f.failed;
    sb_free(&f);
}

/* nestedhvm and cpuid= as a host-passthrough CPU with feature policies. */
static int write_cpu(struct strbuf *b, const struct domcfg *dc, struct cfg_diag *d)
{
    const struct domcfg_hw *hw = &dc->hw;
    bool nested = dc->type == DOMCFG_HVM && hw->nestedhvm >= 0;
    if (!nested && !hw->cpuid)
        return 0;
    struct strbuf f = { 0 };
    if (nested && hw->nestedhvm == 0)
        sb_add(&f, "    <feature policy='disable' name='vmx'/>\n");
    if (hw->cpuid) {
        char *copy = strdup(hw->cpuid), *save = NULL;
        char *item = copy ? strtok_r(copy, ",", &save) : NULL;
        if (!item || strcmp(item, "host")) {
            diag_error(d, (struct cfg_loc){ dc->file, 0 }, "cpuid: '%s': only libxl's "
                       "\"host,FEATURE=V,...\" form is converted", hw->cpuid);
            free(copy);
            sb_free(&f);
            return -1;
        }
        while ((item = strtok_r(NULL, ",", &save))) {
            char *eq = strchr(item, '=');
            const char *pol = !eq ? NULL : !strcmp(eq + 1, "1") ? "force"
                            : !strcmp(eq + 1, "0") ? "disable"
                            : strchr("xks", eq[1]) && eq[1] && !eq[2] ? "optional" : NULL;
            if (!pol || eq == item) {
                diag_error(d, (struct cfg_loc){ dc->file, 0 }, "cpuid: invalid element '%s' "
                           "(FEATURE=1, 0, x, k or s)", item);
                free(copy);
                sb_free(&f);
                return -1;
            }
            *eq = 0;
            xw_start(&f, 4, "feature");
            xw_attr(&f, "policy", pol);
            xw_attr(&f, "name", domxml_cpu_feature(item, true));
            sb_add(&f, "/>\n");
        }
        free(copy);
    }
    if (f.len)
        sb_printf(b, "  <cpu mode='host-passthrough'>\n%s  </cpu>\n", f.s);
    else
        sb_add(b, "  <cpu mode='host-passthrough'/>\n");
    b->failed |= f.failed;
    sb_free(&f);
    return 0;
}

static void write_clock(struct strbuf *b, const struct domcfg *dc)
{
    const struct domcfg_hw *hw = &dc->hw;
    bool hvm = dc->type == DOMCFG_HVM;
    if (hvm)
        sb_printf(b, "  <clock offset='variable' adjustment='%lld' basis='%s'",
                  hw->rtc_timeoffset, dc->localtime ? "localtime" : "utc");
    else
        sb_printf(b, "  <clock offset='%s' adjustment='reset'", dc->localtime ? "localtime" : "utc");
    if (!hw->tsc_mode && !(hvm && hw->hpet >= 0)) {
        sb_add(b, "/>\n");
        return;
    }
    sb_add(b, ">\n");
    if (hw->tsc_mode) {
        const char *m = hw->tsc_mode, *mode = !strcmp(m, "always_emulate") ? "emulate"
                      : !strcmp(m, "native") ? "native"
                      : !strcmp(m, "native_paravirt") ? "paravirt" : "auto";
        sb_printf(b, "    <timer name='tsc' present='yes' mode='%s'/>\n", mode);
    }
    if (hvm && hw->hpet >= 0)
        sb_printf(b, "    <timer name='hpet' present='%s'/>\n", hw->hpet ? "yes" : "no");
    sb_add(b, "  </clock>\n");
}

static void write_commandline(struct strbuf *b, const struct domcfg *dc)
{
    if (!dc->hw.dm_args.n)
        return;
    sb_add(b, "  <xen:commandline>\n");
    for (size_t i = 0; i < dc->hw.dm_args.n; i++) {
        xw_start(b, 4, "xen:arg");
        xw_attr(b, "value", dc->hw.dm_args.v[i]);
        sb_add(b, "/>\n");
    }
    sb_add(b, "  </xen:commandline>\n");
}

char *domxml_write(const struct domcfg *dc, enum native_fmt fmt, struct cfg_diag *d)
{
    struct strbuf b = { 0 };
    char uuid[37];
    sb_add(&b, "<domain type='xen'");
    if (fmt == NATIVE_XL && dc->hw.dm_args.n)
        sb_add(&b, " xmlns:xen='" LIBVIRT_XEN_NS "'");
    sb_add(&b, ">\n");
    xw_text(&b, 2, "name", dc->name);
    if (dc->has_uuid) {
        uuid_format(dc->uuid, uuid);
        xw_text(&b, 2, "uuid", uuid);
    }
    write_metadata(&b, dc);
    sb_printf(&b, "  <memory unit='KiB'>%llu</memory>\n", (unsigned long long)dc->maxmem_mib * 1024);
    sb_printf(&b, "  <currentMemory unit='KiB'>%llu</currentMemory>\n",
              (unsigned long long)dc->memory_mib * 1024);
    write_vcpu(&b, dc);
    if (dc->type != DOMCFG_HVM) {
        xw_text(&b, 2, "bootloader", dc->bootloader);
        if (dc->nbootloader_args) {
            struct strbuf a = { 0 };
            for (size_t i = 0; i < dc->nbootloader_args; i++) {
                if (i)
                    sb_addc(&a, ' ');
                sb_add(&a, dc->bootloader_args[i]);
            }
            b.failed |= a.failed;
            xw_text(&b, 2, "bootloader_args", a.s ? a.s : "");
            sb_free(&a);
        }
    }
    write_os(&b, dc, fmt);
    write_features(&b, dc);
    if (write_cpu(&b, dc, d) < 0) {
        sb_free(&b);
        return NULL;
    }
    write_clock(&b, dc);
    xw_text(&b, 2, "on_poweroff", domcfg_action_name(dc->on_poweroff));
    xw_text(&b, 2, "on_reboot", domcfg_action_name(dc->on_reboot));
    xw_text(&b, 2, "on_crash", domcfg_action_name(dc->on_crash));
    sb_add(&b, "  <devices>\n");
    xw_text(&b, 4, "emulator", dc->hw.device_model);
    for (size_t i = 0; i < dc->ndisks; i++)
        write_disk(&b, dc, &dc->disks[i].spec, fmt);
    domxml_write_controllers(&b, dc, fmt);
    for (size_t i = 0; i < dc->nvifs; i++)
        write_vif(&b, dc, i, fmt);
    domxml_write_chardevs(&b, dc, fmt, d);
    domxml_write_inputs_graphics(&b, dc, fmt, d);
    domxml_write_hostdevs(&b, dc, fmt, d);
    sb_add(&b, "    <memballoon model='xen'/>\n  </devices>\n");
    if (fmt == NATIVE_XL)
        write_commandline(&b, dc);
    sb_add(&b, "</domain>\n");
    return sb_take(&b);
}
