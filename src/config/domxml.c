#include "config/domxml.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int native_fmt_parse(const char *name, enum native_fmt *fmt)
{
    if (!strcmp(name, "xen-xl") || !strcmp(name, "xl"))
        *fmt = NATIVE_XL;
    else if (!strcmp(name, "xen-xm") || !strcmp(name, "xm"))
        *fmt = NATIVE_XM;
    else
        return -1;
    return 0;
}

/* Valid UTF-8 with no C0 controls or DEL (XML 1.0 cannot carry them, and
 * attributes would fold tabs and newlines; element text keeps them: lines
 * lets newlines and tabs through). */
static bool xml_ok_text(const char *s, bool lines)
{
    const unsigned char *p = (const unsigned char *)s;
    while (p && *p) {
        unsigned c = *p, n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
                               : (c & 0xf8) == 0xf0 ? 3 : 9;
        if ((c < 0x20 && !(lines && (c == '\n' || c == '\t'))) || c == 0x7f || n == 9 || (n == 1 && c < 0xc2) || (n == 3 && c > 0xf4))
            return false;
        for (unsigned i = 1; i <= n; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        if ((n == 2 && c == 0xe0 && p[1] < 0xa0) || (n == 2 && c == 0xed && p[1] >= 0xa0) ||
            (n == 3 && c == 0xf0 && p[1] < 0x90) || (n == 3 && c == 0xf4 && p[1] >= 0x90))
            return false;
        p += n + 1;
    }
    return true;
}

static bool check(struct cfg_diag *d, const struct domcfg *dc, int line, const char *key, const char *v)
{
    /* The command line is element text (<cmdline>), the rest attributes or names. */
    if (xml_ok_text(v, !strcmp(key, "cmdline")))
        return true;
    diag_error(d, (struct cfg_loc){ dc->file, line },
               "%s: control characters or invalid UTF-8 cannot be written to XML", key);
    return false;
}

int domxml_check_text(const struct domcfg *dc, struct cfg_diag *d)
{
    bool ok = true;
    const struct { const char *k, *v; } top[] = {
        { "name", dc->name }, { "kernel", dc->kernel }, { "ramdisk", dc->ramdisk },
        { "cmdline", dc->cmdline }, { "bootloader", dc->bootloader }, { "pvshim_path", dc->pvshim_path },
        { "pvshim_cmdline", dc->pvshim_cmdline }, { "pvshim_extra", dc->pvshim_extra },
    };
    for (size_t i = 0; i < sizeof(top) / sizeof(*top); i++)
        ok &= check(d, dc, 0, top[i].k, top[i].v);
    for (size_t i = 0; i < dc->nbootloader_args; i++)
        ok &= check(d, dc, 0, "bootloader_args", dc->bootloader_args[i]);
    for (size_t i = 0; i < dc->ndisks; i++) {
        const struct disk_spec *s = &dc->disks[i].spec;
        ok &= check(d, dc, dc->disks[i].line, "disk", s->target) &&
              check(d, dc, dc->disks[i].line, "disk", s->vdev);
    }
    for (size_t i = 0; i < dc->nvifs; i++) {
        const struct vif_spec *v = &dc->vifs[i].spec;
        const char *f[] = { v->bridge, v->ip, v->script, v->vifname, v->model, v->backend, v->rate };
        for (size_t k = 0; k < sizeof(f) / sizeof(*f); k++)
            ok &= check(d, dc, dc->vifs[i].line, "vif", f[k]);
    }
    return ok ? 0 : -1;
}

/* libvirt's defaults where they differ from xl's (docs/config.md): with no
 * memory= or maxmem= libvirt gives 128 MiB (xl 32), with no on_crash=
 * "restart" (xl "destroy"). Conversion follows libvirt; running follows xl. */
static void libvirt_defaults(struct domcfg *dc, const struct xlcfg *cfg)
{
    if (!xlcfg_find(cfg, "memory") && !xlcfg_find(cfg, "maxmem"))
        dc->memory_mib = dc->maxmem_mib = DOMCFG_LIBVIRT_MEMORY_MIB;
    if (!xlcfg_find(cfg, "on_crash"))
        dc->on_crash = ACT_RESTART;
}

char *domxml_from_native(enum native_fmt fmt, const struct xlcfg *cfg, struct cfg_diag *d)
{
    struct domcfg dc;
    char *xml = NULL;
    size_t before = d->errors;
    if (domcfg_from_xlcfg(&dc, cfg, d) == 0 && domxml_check_text(&dc, d) == 0) {
        libvirt_defaults(&dc, cfg);
        xml = domxml_write(&dc, fmt, d);
        if (d->errors > before) {
            free(xml);
            xml = NULL;
        }
    }
    domcfg_free(&dc);
    return xml;
}

char *domxml_to_native(enum native_fmt fmt, const char *xml, size_t len, const char *file,
                       struct cfg_diag *d)
{
    struct domcfg dc;
    char *text = NULL;
    if (domxml_read(&dc, xml, len, file, fmt, d) == 0)
        text = domcfg_to_native(&dc, fmt);
    domcfg_free(&dc);
    return text;
}
