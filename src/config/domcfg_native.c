/* struct domcfg -> xl / xm configuration text, in the order libvirt writes. */
#include "config/domxml.h"
#include "config/strbuf.h"
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

static void kv_list(struct strbuf *b, const char *k, char **items, size_t n)
{
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

char *domcfg_to_native(const struct domcfg *dc, enum native_fmt fmt)
{
    struct strbuf b = { 0 };
    char uuid[37];
    kv_str(&b, "name", dc->name);
    if (dc->has_uuid) {
        uuid_format(dc->uuid, uuid);
        kv_str(&b, "uuid", uuid);
    }
    sb_printf(&b, "maxmem = %llu\nmemory = %llu\n", (unsigned long long)dc->maxmem_mib,
              (unsigned long long)dc->memory_mib);
    if (dc->maxvcpus != dc->vcpus)
        sb_printf(&b, "maxvcpus = %u\n", dc->maxvcpus);
    sb_printf(&b, "vcpus = %u\nlocaltime = %d\n", dc->vcpus, dc->localtime);
    kv_str(&b, "on_poweroff", domcfg_action_name(dc->on_poweroff));
    kv_str(&b, "on_reboot", domcfg_action_name(dc->on_reboot));
    kv_str(&b, "on_crash", domcfg_action_name(dc->on_crash));
    if (dc->type == DOMCFG_PVH)
        kv_str(&b, "type", "pvh");
    if (dc->pvshim) {
        sb_add(&b, "pvshim = 1\n");
        kv_str(&b, "pvshim_path", dc->pvshim_path);
        kv_str(&b, "pvshim_cmdline", dc->pvshim_cmdline);
        kv_str(&b, "pvshim_extra", dc->pvshim_extra);
    }
    if (dc->nvifs) {
        char **v = calloc(dc->nvifs, sizeof(*v));
        for (size_t i = 0; v && i < dc->nvifs; i++)
            v[i] = vif_to_xl(&dc->vifs[i].spec);
        if (v)
            kv_list(&b, "vif", v, dc->nvifs);
        for (size_t i = 0; v && i < dc->nvifs; i++)
            free(v[i]);
        b.failed |= !v;
        free(v);
    }
    kv_str(&b, "bootloader", dc->bootloader);
    if (dc->nbootloader_args)
        kv_list(&b, "bootloader_args", dc->bootloader_args, dc->nbootloader_args);
    kv_str(&b, "kernel", dc->kernel);
    kv_str(&b, "ramdisk", dc->ramdisk);
    kv_str(&b, fmt == NATIVE_XM ? "extra" : "cmdline", dc->cmdline);
    if (dc->ndisks) {
        char **v = calloc(dc->ndisks, sizeof(*v));
        for (size_t i = 0; v && i < dc->ndisks; i++)
            v[i] = fmt == NATIVE_XM ? disk_to_xm(&dc->disks[i].spec) : disk_to_xl(&dc->disks[i].spec);
        if (v)
            kv_list(&b, "disk", v, dc->ndisks);
        for (size_t i = 0; v && i < dc->ndisks; i++)
            free(v[i]);
        b.failed |= !v;
        free(v);
    }
    return sb_take(&b);
}
