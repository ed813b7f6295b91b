/* struct domcfg -> xl / xm configuration text: what libvirt's Xen driver
 * writes for a domain (`virsh domxml-to-native`), key for key and in its
 * order: the keys common to xl and xm, then each format's own. */
#include "config/cpumap.h"
#include "config/domxml_priv.h"
#include <stdlib.h>
#include <string.h>

static void kv_str(struct strbuf *b, const char *k, const char *v)
{
    if (!v)
        return;
    sb_printf(b, "%s = ", k);
    sb_add_quoted(b, v);
    sb_addc(b, '\n');
}

static void kv_int(struct strbuf *b, const char *k, long long v)
{
    sb_printf(b, "%s = %lld\n", k, v);
}

static void kv_list(struct strbuf *b, const char *k, char *const *items, size_t n)
{
    if (!n)
        return;
    sb_printf(b, "%s = [ ", k);
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_add(b, ", ");
        if (items[i])
            sb_add_quoted(b, items[i]);
        else
            b->failed = true;
    }
    sb_add(b, " ]\n");
}

/* A list built by fn(dc, i) for i < n (each malloc'd). */
static void kv_built(struct strbuf *b, const char *k, const struct domcfg *dc, size_t n,
                     enum native_fmt fmt, char *(*fn)(const struct domcfg *, size_t, enum native_fmt))
{
    if (!n)
        return;
    char **v = calloc(n, sizeof(*v));
    for (size_t i = 0; v && i < n; i++)
        v[i] = fn(dc, i, fmt);
    if (v)
        kv_list(b, k, v, n);
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    b->failed |= !v;
    free(v);
}

static bool hvm(const struct domcfg *dc) { return dc->type == DOMCFG_HVM; }

/* A NIC as libvirt writes it: mac, bridge (with its VLAN suffix), ip and
 * script (vif-bridge by default for a bridge), model or type, vifname,
 * rate; then what xenkvm keeps beyond libvirt (backend, mtu). */
static char *vif_native(const struct domcfg *dc, size_t i, enum native_fmt fmt)
{
    const struct vif_spec *v = &dc->vifs[i].spec;
    struct strbuf b = { 0 };
    uint8_t mac[6];
    char macs[18];
    domcfg_vif_mac(dc, i, mac);
    mac_format(mac, macs);
    sb_printf(&b, "mac=%s", macs);
    if (v->bridge) {
        sb_printf(&b, ",bridge=%s", v->bridge);
        if (v->ip)
            sb_printf(&b, ",ip=%s", v->ip);
        sb_printf(&b, ",script=%s", v->script ? v->script : "vif-bridge");
    } else {
        if (v->script)
            sb_printf(&b, ",script=%s", v->script);
        if (v->ip)
            sb_printf(&b, ",ip=%s", v->ip);
    }
    if (v->model)
        sb_printf(&b, ",model=%s", v->model);
    else if (v->type)
        sb_printf(&b, ",type=%s", v->type);
    if (v->vifname)
        sb_printf(&b, ",vifname=%s", v->vifname);
    if (v->rate)
        sb_printf(&b, ",rate=%lluKB/s", domxml_rate_kib(v->rate));
    if (v->backend)
        sb_printf(&b, ",backend=%s", v->backend);
    if (v->mtu)
        sb_printf(&b, ",mtu=%u", v->mtu);
    (void)fmt;
    return sb_take(&b);
}

/* xl: libvirt's keyed form, target last ("format=raw,vdev=xvda,access=rw,
 * backendtype=phy,target=/dev/vg/guest"). xm: "PREFIX:TARGET,VDEV[:cdrom],MODE". */
static char *disk_native(const struct domcfg *dc, size_t i, enum native_fmt fmt)
{
    const struct disk_spec *d = &dc->disks[i].spec;
    if (fmt == NATIVE_XM)
        return disk_to_xm(d);
    struct strbuf b = { 0 };
    static const char *const bk[] = { NULL, "phy", "qdisk", "tap", "standalone" };
    sb_printf(&b, "format=%s,vdev=%s,access=%s", disk_format_name(d->format), d->vdev,
              d->readonly ? "ro" : "rw");
    if (bk[d->backend])
        sb_printf(&b, ",backendtype=%s", bk[d->backend]);
    if (d->cdrom)
        sb_add(&b, ",devtype=cdrom");
    if (d->target)
        sb_printf(&b, ",target=%s", d->target);
    return sb_take(&b);
}

static void common_cpu(struct strbuf *b, const struct domcfg *dc)
{
    if (dc->maxvcpus != dc->vcpus)
        kv_int(b, "maxvcpus", dc->maxvcpus);
    kv_int(b, "vcpus", dc->vcpus);
    if (dc->cpus.n == 1 && !dc->cpus_list)
        kv_str(b, "cpus", dc->cpus.v[0]);
}

static void common_features(struct strbuf *b, const struct domcfg *dc)
{
    const struct domcfg_hw *hw = &dc->hw;
    if (hvm(dc)) {
        kv_int(b, "pae", hw->pae > 0);
        kv_int(b, "acpi", hw->acpi > 0);
        kv_int(b, "apic", hw->apic > 0);
        if (hw->hap == 0)
            kv_int(b, "hap", 0);
        kv_int(b, "viridian", hw->viridian > 0);
    } else if (hw->e820_host > 0) {
        kv_int(b, "e820_host", 1);
    }
    if (hw->passthrough && strcmp(hw->passthrough, "disabled"))
        kv_str(b, "passthrough", hw->passthrough);
    kv_str(b, "tsc_mode", hw->tsc_mode);
    if (hvm(dc) && hw->hpet >= 0)
        kv_int(b, "hpet", hw->hpet);
    if (hvm(dc))
        kv_int(b, "rtc_timeoffset", hw->rtc_timeoffset);
    kv_int(b, "localtime", dc->localtime);
}

static void common_vfb(struct strbuf *b, const struct domcfg *dc)
{
    const struct domcfg_hw *hw = &dc->hw;
    if (!hvm(dc)) {
        kv_list(b, "vfb", hw->vfb.v, hw->vfb.n ? 1 : 0);
        return;
    }
    if (hw->spice > 0 || (hw->vnc <= 0 && hw->sdl <= 0))
        return;
    bool vnc = hw->vnc > 0;
    kv_int(b, "sdl", !vnc);
    kv_int(b, "vnc", vnc);
    if (vnc) {
        kv_int(b, "vncunused", hw->vncunused != 0);
        if (hw->vncunused == 0)
            kv_int(b, "vncdisplay", hw->vncdisplay > 0 ? hw->vncdisplay : 0);
        kv_str(b, "vnclisten", hw->vnclisten);
        kv_str(b, "vncpasswd", hw->vncpasswd);
        kv_str(b, "keymap", hw->keymap);
    } else {
        kv_str(b, "display", hw->display);
        kv_str(b, "xauthority", hw->xauthority);
    }
}

static void common_chardevs(struct strbuf *b, const struct domcfg *dc)
{
    const struct domcfg_hw *hw = &dc->hw;
    if (!hvm(dc))
        return;
    kv_str(b, "parallel", hw->parallel ? hw->parallel : "none");
    if (hw->serial_list)
        kv_list(b, "serial", hw->serial.v, hw->serial.n);
    else
        kv_str(b, "serial", hw->serial.n ? hw->serial.v[0] : "none");
    kv_str(b, "soundhw", hw->soundhw);
}

static void hvm_os(struct strbuf *b, const struct domcfg *dc, enum native_fmt fmt)
{
    const struct domcfg_hw *hw = &dc->hw;
    kv_str(b, "builder", "hvm");
    if (fmt == NATIVE_XM) {
        kv_str(b, "kernel", hw->loader);
        kv_str(b, "boot", hw->boot ? hw->boot : "c");
        return;
    }
    kv_str(b, "bios", hw->bios);
    kv_str(b, "bios_path_override", hw->bios_path_override);
    kv_str(b, "acpi_firmware", hw->acpi_firmware);
    kv_str(b, "kernel", dc->kernel);
    kv_str(b, "ramdisk", dc->ramdisk);
    kv_str(b, "cmdline", dc->cmdline);
    kv_str(b, "boot", hw->boot ? hw->boot : "c");
    if (hw->nestedhvm >= 0)
        kv_int(b, "nestedhvm", hw->nestedhvm);
}

static void pv_os(struct strbuf *b, const struct domcfg *dc, enum native_fmt fmt)
{
    if (fmt == NATIVE_XL && dc->type == DOMCFG_PVH)
        kv_str(b, "type", "pvh");
    if (fmt == NATIVE_XL && dc->pvshim) {
        kv_int(b, "pvshim", 1);
        kv_str(b, "pvshim_path", dc->pvshim_path);
        kv_str(b, "pvshim_cmdline", dc->pvshim_cmdline);
        kv_str(b, "pvshim_extra", dc->pvshim_extra);
    }
    kv_str(b, "bootloader", dc->bootloader);
    /* xm's bootargs is one string; xl's bootloader_args a list (libvirt
     * writes bootargs for both, which xl does not read). */
    if (dc->nbootloader_args && fmt == NATIVE_XL) {
        kv_list(b, "bootloader_args", dc->bootloader_args, dc->nbootloader_args);
    } else if (dc->nbootloader_args) {
        struct strbuf a = { 0 };
        for (size_t i = 0; i < dc->nbootloader_args; i++)
            sb_printf(&a, "%s%s", i ? " " : "", dc->bootloader_args[i]);
        b->failed |= a.failed;
        kv_str(b, "bootargs", a.s ? a.s : "");
        sb_free(&a);
    }
    kv_str(b, "kernel", dc->kernel);
    kv_str(b, "ramdisk", dc->ramdisk);
    kv_str(b, fmt == NATIVE_XM ? "extra" : "cmdline", dc->cmdline);
}

static void xl_spice(struct strbuf *b, const struct domcfg *dc)
{
    const struct domcfg_hw *hw = &dc->hw;
    if (!hvm(dc) || hw->spice <= 0)
        return;
    kv_int(b, "sdl", 0);
    kv_int(b, "vnc", 0);
    kv_int(b, "spice", 1);
    kv_str(b, "spicehost", hw->spicehost);
    kv_int(b, "spiceport", hw->spiceport > 0 ? hw->spiceport : 0);
    kv_int(b, "spicetls_port", hw->spicetls_port > 0 ? hw->spicetls_port : 0);
    kv_int(b, "spicedisable_ticketing", !hw->spicepasswd);
    kv_str(b, "spicepasswd", hw->spicepasswd);
    if (hw->spiceagent_mouse >= 0)
        kv_int(b, "spiceagent_mouse", hw->spiceagent_mouse);
    if (hw->spicevdagent > 0)
        kv_int(b, "spicevdagent", 1);
    if (hw->spice_clipboard_sharing > 0)
        kv_int(b, "spice_clipboard_sharing", 1);
}

static void usb_inputs(struct strbuf *b, const struct domcfg *dc, enum native_fmt fmt)
{
    const struct domcfg_hw *hw = &dc->hw;
    if (!hvm(dc) || !hw->usbdevice.n)
        return;
    kv_int(b, "usb", 1);
    if (hw->usbdevice.n == 1 || fmt == NATIVE_XM)
        kv_str(b, "usbdevice", hw->usbdevice.v[0]);
    else
        kv_list(b, "usbdevice", hw->usbdevice.v, hw->usbdevice.n);
}

char *domcfg_to_native(const struct domcfg *dc, enum native_fmt fmt)
{
    const struct domcfg_hw *hw = &dc->hw;
    struct strbuf b = { 0 };
    char uuid[37];
    kv_str(&b, "name", dc->name);
    if (dc->has_uuid) {
        uuid_format(dc->uuid, uuid);
        kv_str(&b, "uuid", uuid);
    }
    kv_int(&b, "maxmem", (long long)dc->maxmem_mib);
    kv_int(&b, "memory", (long long)dc->memory_mib);
    common_cpu(&b, dc);
    common_features(&b, dc);
    kv_str(&b, "on_poweroff", domcfg_action_name(dc->on_poweroff));
    kv_str(&b, "on_reboot", domcfg_action_name(dc->on_reboot));
    kv_str(&b, "on_crash", domcfg_action_name(dc->on_crash));
    kv_str(&b, "device_model_override", hw->device_model);
    common_vfb(&b, dc);
    kv_built(&b, "vif", dc, dc->nvifs, fmt, vif_native);
    kv_list(&b, "pci", hw->pci.v, hw->pci.n);
    common_chardevs(&b, dc);
    if (hvm(dc))
        hvm_os(&b, dc, fmt);
    else
        pv_os(&b, dc, fmt);
    if (fmt == NATIVE_XL) {
        kv_str(&b, "cpuid", hw->cpuid);
        if (dc->max_event_channels)
            kv_int(&b, "max_event_channels", dc->max_event_channels);
        if (dc->max_grant_frames)
            kv_int(&b, "max_grant_frames", dc->max_grant_frames);
    }
    kv_built(&b, "disk", dc, dc->ndisks, fmt, disk_native);
    if (fmt == NATIVE_XL) {
        xl_spice(&b, dc);
        usb_inputs(&b, dc, fmt);
        kv_list(&b, "usbdev", hw->usbdev.v, hw->usbdev.n);
        kv_list(&b, "usbctrl", hw->usbctrl.v, hw->usbctrl.n);
        kv_list(&b, "channel", hw->channel.v, hw->channel.n);
        kv_list(&b, "device_model_args", hw->dm_args.v, hw->dm_args.n);
    } else {
        usb_inputs(&b, dc, fmt);
    }
    return sb_take(&b);
}
