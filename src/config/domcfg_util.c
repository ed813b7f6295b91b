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

const char *domcfg_type_name(enum domcfg_type t) { return t == DOMCFG_PVH ? "pvh" : "pv"; }

int uuid_parse(const char *s, uint8_t u[16])
{
    static const int dash[] = { 8, 13, 18, 23 };
    if (strlen(s) != 36)
        return -1;
    int b = 0, d = 0;
    for (int i = 0; i < 36;) {
        if (d < 4 && i == dash[d]) {
            if (s[i] != '-')
                return -1;
            d++;
            i++;
            continue;
        }
        unsigned v;
        char pair[3] = { s[i], s[i + 1], 0 };
        char *e;
        if (!strchr("0123456789abcdefABCDEF", pair[0]) || !strchr("0123456789abcdefABCDEF", pair[1]) ||
            !pair[0] || !pair[1])
            return -1;
        v = (unsigned)strtoul(pair, &e, 16);
        u[b++] = (uint8_t)v;
        i += 2;
    }
    return 0;
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
    };
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

int domcfg_check_supported(const struct domcfg *dc, struct cfg_diag *d)
{
    size_t before = d->errors;
    char err[256];
    for (size_t i = 0; i < dc->ndisks; i++) {
        const struct domcfg_disk *k = &dc->disks[i];
        if (disk_check_supported(&k->spec, err, sizeof(err)))
            diag_error(d, (struct cfg_loc){ dc->file, k->line }, "disk '%s': %s", k->text, err);
    }
    if (!dc->kernel && !dc->bootloader)
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
    domcfg_init(dc);
}
