#include "config/domcfg.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const actions[] = {
    "destroy", "restart", "rename-restart", "preserve",
    "coredump-destroy", "coredump-restart", "soft-reset",
};

const char *domcfg_action_name(enum domcfg_action a) { return actions[a]; }

int domcfg_action_parse(const char *s, enum domcfg_action *a)
{
    for (size_t i = 0; i < sizeof(actions) / sizeof(*actions); i++)
        if (!strcmp(s, actions[i])) {
            *a = (enum domcfg_action)i;
            return 0;
        }
    return -1;
}

const char *domcfg_type_name(enum domcfg_type t)
{
    return t == DOMCFG_PVH ? "pvh" : t == DOMCFG_HVM ? "hvm" : "pv";
}

/* The usual 8-4-4-4-12 form, or 32 hex digits with dashes only between
 * pairs (xm files often have none: libvirt accepts them too). */
int uuid_parse(const char *s, uint8_t u[16])
{
    static const char hex[] = "0123456789abcdefABCDEF";
    int b = 0;
    for (const char *p = s; *p;) {
        if (*p == '-' && b > 0 && b < 16 && p[1] != '-') {
            p++;
            continue;
        }
        if (b == 16 || !p[1] || !strchr(hex, p[0]) || !strchr(hex, p[1]))
            return -1;
        char pair[3] = { p[0], p[1], 0 };
        u[b++] = (uint8_t)strtoul(pair, NULL, 16);
        p += 2;
    }
    return b == 16 ? 0 : -1;
}

void uuid_format(const uint8_t u[16], char buf[37])
{
    snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
}

void domcfg_init(struct domcfg *dc)
{
    *dc = (struct domcfg){
        .type = DOMCFG_PV,
        .memory_mib = DOMCFG_DEFAULT_MEMORY_MIB,
        .maxmem_mib = DOMCFG_DEFAULT_MEMORY_MIB,
        .vcpus = 1,
        .maxvcpus = 1,
        .on_poweroff = ACT_DESTROY,
        .on_reboot = ACT_RESTART,
        .on_crash = ACT_DESTROY,
        .on_watchdog = ACT_DESTROY,
        .on_soft_reset = ACT_SOFT_RESET,
        .cpu_weight = -1,
        .cap = -1,
    };
    domcfg_hw_init(&dc->hw);
}

bool domcfg_vcpu_online(const struct domcfg *dc, unsigned i)
{
    if (dc->has_vcpu_avail)
        return i < 64 && (dc->vcpu_avail >> i) & 1;
    return i < dc->vcpus;
}

int strlist_add(struct strlist *l, const char *s)
{
    char **n = realloc(l->v, (l->n + 1) * sizeof(*n));
    if (!n)
        return -1;
    l->v = n;
    if (!(n[l->n] = strdup(s)))
        return -1;
    l->n++;
    return 0;
}

void strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

char *domcfg_join_cmdline(const char *root, const char *extra)
{
    char *s = NULL;
    int r = 0;
    if (root && extra)
        r = asprintf(&s, "root=%s %s", root, extra);
    else if (root)
        r = asprintf(&s, "root=%s", root);
    else if (extra)
        s = strdup(extra);
    return r < 0 ? NULL : s;
}

void domcfg_vif_mac(const struct domcfg *dc, size_t i, uint8_t mac[6])
{
    if (dc->vifs[i].spec.mac_set)
        memcpy(mac, dc->vifs[i].spec.mac, 6);
    else
        vif_default_mac(dc->has_uuid ? dc->uuid : NULL, dc->name, (unsigned)i, mac);
}

/* What a guest would use that xenkvm does not provide: errors when the
 * guest relies on it (a device it would drive), warnings when it merely goes
 * without (a framebuffer, emulated devices of a machine it does not have). */
static void check_hw(const struct domcfg *dc, struct cfg_diag *d)
{
    const struct domcfg_hw *hw = &dc->hw;
#define AT(l) ((struct cfg_loc){ dc->file, (l) })
    if (dc->type == DOMCFG_HVM)
        diag_error(d, AT(hw->line_type), "type: hvm guests are not run by xenkvm (PV and PVH "
                   "only: there is no device model); the config still converts "
                   "(domxml-from-native)");
    const struct { const struct strlist *l; int line; const char *what; } refused[] = {
        { &hw->pci, hw->line_pci, "pci: PCI passthrough is not supported" },
        { &hw->usbctrl, hw->line_usbctrl, "usbctrl: USB controllers are not supported" },
        { &hw->usbdev, hw->line_usbdev, "usbdev: USB passthrough is not supported" },
        { &hw->channel, hw->line_channel, "channel: PV channels are not supported (only the PV "
          "console)" },
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++)
        if (refused[i].l->n)
            diag_error(d, AT(refused[i].line), "%s", refused[i].what);
    if (hw->vfb.n || hw->vnc > 0 || hw->sdl > 0 || hw->spice > 0)
        diag_warn(d, AT(hw->line_gfx), "vfb/vnc/sdl/spice: no framebuffer is provided; the guest "
                  "runs without one (use the PV console)");
    if (dc->type == DOMCFG_HVM)
        return;
    if (hw->serial.n || hw->parallel || hw->soundhw || hw->usbdevice.n)
        diag_warn(d, AT(hw->line_emulated), "serial/parallel/soundhw/usbdevice: devices of an "
                  "HVM guest's device model, ignored for a %s guest", domcfg_type_name(dc->type));
    if (hw->e820_host > 0)
        diag_warn(d, AT(hw->line_e820), "e820_host: ignored (it serves PCI passthrough, which "
                  "xenkvm does not do)");
    if (hw->cpuid || hw->tsc_mode || hw->nestedhvm >= 0 || hw->dm_args.n)
        diag_warn(d, AT(hw->line_cpu), "cpuid/tsc_mode/nestedhvm/device_model_args: ignored (the "
                  "guest sees the host's CPU less the virtualisation leaves)");
#undef AT
}

int domcfg_check_supported(const struct domcfg *dc, struct cfg_diag *d)
{
    size_t before = d->errors;
    char err[256];
    for (size_t i = 0; i < dc->ndisks; i++) {
        const struct domcfg_disk *k = &dc->disks[i];
        if (disk_check_supported(&k->spec, err, sizeof(err)))
            diag_error(d, (struct cfg_loc){ dc->file, k->line }, "disk '%s': %s", k->text, err);
    }
    check_hw(dc, d);
    if (dc->type != DOMCFG_HVM && !dc->kernel && !dc->bootloader)
        diag_error(d, (struct cfg_loc){ dc->file, 0 }, "no kernel and no bootloader: nothing to boot");
    return d->errors > before ? -1 : 0;
}

void domcfg_free(struct domcfg *dc)
{
    for (size_t i = 0; i < dc->ndisks; i++) {
        disk_spec_free(&dc->disks[i].spec);
        free(dc->disks[i].text);
    }
    free(dc->disks);
    for (size_t i = 0; i < dc->nvifs; i++) {
        vif_spec_free(&dc->vifs[i].spec);
        free(dc->vifs[i].text);
    }
    free(dc->vifs);
    for (size_t i = 0; i < dc->nbootloader_args; i++)
        free(dc->bootloader_args[i]);
    free(dc->bootloader_args);
    free(dc->file);
    free(dc->name);
    free(dc->kernel);
    free(dc->ramdisk);
    free(dc->cmdline);
    free(dc->root);
    free(dc->extra);
    free(dc->bootloader);
    free(dc->pvshim_path);
    free(dc->pvshim_cmdline);
    free(dc->pvshim_extra);
    strlist_free(&dc->cpus);
    strlist_free(&dc->cpus_soft);
    domcfg_hw_free(&dc->hw);
    domcfg_init(dc);
}
