/* struct domcfg -> libvirt domain XML, element order and attribute quoting
 * as libvirt prints them. */
#include "config/domxml.h"
#include "config/strbuf.h"
#include <stdlib.h>
#include <string.h>

#define XENKVM_NS "urn:xenkvm:domain:1"

static void el(struct strbuf *b, int indent, const char *name, const char *text)
{
    if (!text)
        return;
    sb_printf(b, "%*s<%s>", indent, "", name);
    sb_add_xml(b, text);
    sb_printf(b, "</%s>\n", name);
}

static void attr(struct strbuf *b, const char *name, const char *v)
{
    sb_printf(b, " %s='", name);
    sb_add_xml(b, v);
    sb_addc(b, '\'');
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

static void write_disk(struct strbuf *b, const struct disk_spec *s, enum native_fmt fmt)
{
    const char *driver;
    bool block;
    disk_driver(s, fmt, &driver, &block);
    sb_printf(b, "    <disk type='%s' device='%s'>\n", block ? "block" : "file",
              s->cdrom ? "cdrom" : "disk");
    sb_add(b, "      <driver");
    attr(b, "name", driver);
    attr(b, "type", disk_format_name(s->format));
    sb_add(b, "/>\n");
    if (s->target) {
        sb_add(b, "      <source");
        attr(b, block ? "dev" : "file", s->target);
        sb_add(b, "/>\n");
    }
    sb_add(b, "      <target");
    attr(b, "dev", s->vdev);
    attr(b, "bus", disk_vdev_bus(s->vdev));
    sb_add(b, "/>\n");
    if (s->readonly)
        sb_add(b, "      <readonly/>\n");
    sb_add(b, "    </disk>\n");
}

static void write_vif(struct strbuf *b, const struct domcfg *dc, size_t i, enum native_fmt fmt)
{
    const struct vif_spec *v = &dc->vifs[i].spec;
    uint8_t mac[6];
    char macs[18];
    domcfg_vif_mac(dc, i, mac);
    mac_format(mac, macs);
    sb_printf(b, "    <interface type='%s'>\n", v->bridge ? "bridge" : "ethernet");
    sb_printf(b, "      <mac address='%s'/>\n", macs);
    if (v->bridge) {
        sb_add(b, "      <source");
        attr(b, "bridge", v->bridge);
        sb_add(b, "/>\n");
    }
    if (v->ip) {
        char *copy = strdup(v->ip), *save = NULL;
        b->failed |= !copy;
        for (char *a = copy ? strtok_r(copy, " ", &save) : NULL; a; a = strtok_r(NULL, " ", &save)) {
            sb_add(b, "      <ip");
            attr(b, "address", a);
            attr(b, "family", strchr(a, ':') ? "ipv6" : "ipv4");
            sb_add(b, "/>\n");
        }
        free(copy);
    }
    if (v->rate)
        sb_printf(b, "      <bandwidth>\n        <outbound average='%llu'/>\n      </bandwidth>\n",
                  domxml_rate_kib(v->rate));
    if (v->script) {
        sb_add(b, "      <script");
        attr(b, "path", v->script);
        sb_add(b, "/>\n");
    }
    if (v->backend) {
        sb_add(b, "      <backenddomain");
        attr(b, "name", v->backend);
        sb_add(b, "/>\n");
    }
    if (v->vifname) {
        sb_add(b, "      <target");
        attr(b, "dev", v->vifname);
        sb_add(b, "/>\n");
    }
    const char *model = v->model;
    if (!model && v->type && !strcmp(v->type, fmt == NATIVE_XM ? "netfront" : "vif"))
        model = "netfront";
    if (model) {
        sb_add(b, "      <model");
        attr(b, "type", model);
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
    if (dc->pvshim_path)
        attr(b, "path", dc->pvshim_path);
    if (dc->pvshim_cmdline)
        attr(b, "cmdline", dc->pvshim_cmdline);
    if (dc->pvshim_extra)
        attr(b, "extra", dc->pvshim_extra);
    sb_add(b, "/>\n  </metadata>\n");
}

char *domxml_write(const struct domcfg *dc, enum native_fmt fmt)
{
    struct strbuf b = { 0 };
    char uuid[37];
    sb_add(&b, "<domain type='xen'>\n");
    el(&b, 2, "name", dc->name);
    if (dc->has_uuid) {
        uuid_format(dc->uuid, uuid);
        el(&b, 2, "uuid", uuid);
    }
    write_metadata(&b, dc);
    sb_printf(&b, "  <memory unit='KiB'>%llu</memory>\n", (unsigned long long)dc->maxmem_mib * 1024);
    sb_printf(&b, "  <currentMemory unit='KiB'>%llu</currentMemory>\n",
              (unsigned long long)dc->memory_mib * 1024);
    if (dc->maxvcpus != dc->vcpus)
        sb_printf(&b, "  <vcpu placement='static' current='%u'>%u</vcpu>\n", dc->vcpus, dc->maxvcpus);
    else
        sb_printf(&b, "  <vcpu placement='static'>%u</vcpu>\n", dc->vcpus);
    el(&b, 2, "bootloader", dc->bootloader);
    if (dc->nbootloader_args) {
        struct strbuf a = { 0 };
        for (size_t i = 0; i < dc->nbootloader_args; i++) {
            if (i)
                sb_addc(&a, ' ');
            sb_add(&a, dc->bootloader_args[i]);
        }
        b.failed |= a.failed;
        el(&b, 2, "bootloader_args", a.s ? a.s : "");
        sb_free(&a);
    }
    sb_add(&b, "  <os>\n");
    if (dc->type == DOMCFG_PVH)
        sb_add(&b, "    <type arch='x86_64' machine='xenpvh'>xenpvh</type>\n");
    else
        sb_add(&b, "    <type arch='x86_64' machine='xenpv'>linux</type>\n");
    el(&b, 4, "kernel", dc->kernel);
    el(&b, 4, "initrd", dc->ramdisk);
    el(&b, 4, "cmdline", dc->cmdline);
    sb_add(&b, "  </os>\n");
    sb_printf(&b, "  <clock offset='%s' adjustment='reset'/>\n", dc->localtime ? "localtime" : "utc");
    el(&b, 2, "on_poweroff", domcfg_action_name(dc->on_poweroff));
    el(&b, 2, "on_reboot", domcfg_action_name(dc->on_reboot));
    el(&b, 2, "on_crash", domcfg_action_name(dc->on_crash));
    sb_add(&b, "  <devices>\n");
    for (size_t i = 0; i < dc->ndisks; i++)
        write_disk(&b, &dc->disks[i].spec, fmt);
    sb_add(&b, "    <controller type='xenbus' index='0'/>\n");
    for (size_t i = 0; i < dc->nvifs; i++)
        write_vif(&b, dc, i, fmt);
    sb_add(&b, "    <console type='pty'>\n      <target type='xen' port='0'/>\n    </console>\n"
               "    <input type='mouse' bus='xen'/>\n    <input type='keyboard' bus='xen'/>\n"
               "    <memballoon model='xen'/>\n  </devices>\n</domain>\n");
    return sb_take(&b);
}
