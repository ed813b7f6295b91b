/* xkcfg-dump: reads a domain configuration and prints what xenkvm makes of
 * it, for tests and for looking. Not installed.
 *
 *   xkcfg-dump [--check] FILE [KEY=VALUE...]   settings + domain as JSON
 *   xkcfg-dump --to-xml xen-xl|xen-xm FILE [KEY=VALUE...]   libvirt XML
 *   xkcfg-dump --to-native xen-xl|xen-xm FILE.xml           config text
 *
 * Diagnostics go to stderr (and into the JSON); exit 1 when any is an error. */
#include "common/file.h"
#include "config/domxml.h"
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_object *jstr(const char *s) { return s ? json_object_new_string(s) : NULL; }

static json_object *value_json(const struct xlv *v)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "kind", jstr(xlv_kind_name(v->kind)));
    json_object_object_add(o, "line", json_object_new_int(v->line));
    if (v->kind == XLV_LIST) {
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < v->n; i++)
            json_object_array_add(a, value_json(v->items[i]));
        json_object_object_add(o, "value", a);
    } else {
        json_object_object_add(o, "value", jstr(v->str));
    }
    return o;
}

static json_object *settings_json(const struct xlcfg *c)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < c->n; i++) {
        const struct xlset *s = &c->sets[i];
        json_object *o = value_json(s->val);
        json_object_object_add(o, "key", jstr(s->key));
        json_object_object_add(o, "op", jstr(s->append ? "+=" : "="));
        json_object_object_add(o, "file", jstr(s->file));
        json_object_object_add(o, "line", json_object_new_int(s->line));
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *disk_json(const struct domcfg_disk *k)
{
    const struct disk_spec *s = &k->spec;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "spec", jstr(k->text));
    json_object_object_add(o, "line", json_object_new_int(k->line));
    json_object_object_add(o, "target", jstr(s->target));
    json_object_object_add(o, "format", jstr(disk_format_name(s->format)));
    json_object_object_add(o, "vdev", jstr(s->vdev));
    json_object_object_add(o, "devid", json_object_new_int(s->devid));
    json_object_object_add(o, "access", jstr(s->readonly ? "ro" : "rw"));
    json_object_object_add(o, "devtype", jstr(s->cdrom ? "cdrom" : "disk"));
    json_object_object_add(o, "backendtype", jstr(disk_backend_name(s->backend)));
    json_object_object_add(o, "script", jstr(s->script));
    json_object_object_add(o, "backend", jstr(s->backend_domain));
    json_object_object_add(o, "discard", s->discard < 0 ? NULL : json_object_new_boolean(s->discard));
    json_object_object_add(o, "direct_io_safe", json_object_new_boolean(s->direct_io_safe));
    json_object_object_add(o, "trusted", json_object_new_boolean(!s->untrusted));
    json_object_object_add(o, "legacy_prefix", jstr(s->prefix));
    return o;
}

static json_object *vif_json(const struct domcfg *dc, size_t i)
{
    const struct vif_spec *v = &dc->vifs[i].spec;
    json_object *o = json_object_new_object();
    uint8_t mac[6];
    char macs[18];
    domcfg_vif_mac(dc, i, mac);
    mac_format(mac, macs);
    json_object_object_add(o, "spec", jstr(dc->vifs[i].text));
    json_object_object_add(o, "line", json_object_new_int(dc->vifs[i].line));
    json_object_object_add(o, "mac", jstr(macs));
    json_object_object_add(o, "mac_generated", json_object_new_boolean(!v->mac_set));
    const char *strs[][2] = { { "bridge", v->bridge }, { "ip", v->ip }, { "type", v->type },
                              { "model", v->model }, { "vifname", v->vifname }, { "script", v->script },
                              { "backend", v->backend }, { "rate", v->rate },
                              { "gatewaydev", v->gatewaydev } };
    for (size_t k = 0; k < sizeof(strs) / sizeof(*strs); k++)
        json_object_object_add(o, strs[k][0], jstr(strs[k][1]));
    json_object_object_add(o, "rate_bytes_per_s", json_object_new_int64((int64_t)v->rate_bytes_per_s));
    json_object_object_add(o, "mtu", v->mtu ? json_object_new_int((int)v->mtu) : NULL);
    return o;
}

static json_object *domain_json(const struct domcfg *dc)
{
    json_object *o = json_object_new_object();
    char uuid[37];
    json_object_object_add(o, "name", jstr(dc->name));
    if (dc->has_uuid)
        uuid_format(dc->uuid, uuid);
    json_object_object_add(o, "uuid", dc->has_uuid ? jstr(uuid) : NULL);
    json_object_object_add(o, "type", jstr(domcfg_type_name(dc->type)));
    const char *strs[][2] = { { "kernel", dc->kernel }, { "ramdisk", dc->ramdisk },
                              { "cmdline", dc->cmdline }, { "root", dc->root }, { "extra", dc->extra },
                              { "bootloader", dc->bootloader } };
    for (size_t k = 0; k < sizeof(strs) / sizeof(*strs); k++)
        json_object_object_add(o, strs[k][0], jstr(strs[k][1]));
    json_object_object_add(o, "memory", json_object_new_int64((int64_t)dc->memory_mib));
    json_object_object_add(o, "maxmem", json_object_new_int64((int64_t)dc->maxmem_mib));
    json_object_object_add(o, "vcpus", json_object_new_int((int)dc->vcpus));
    json_object_object_add(o, "maxvcpus", json_object_new_int((int)dc->maxvcpus));
    const struct { const char *k; enum domcfg_action a; } acts[] = {
        { "on_poweroff", dc->on_poweroff }, { "on_reboot", dc->on_reboot },
        { "on_crash", dc->on_crash }, { "on_watchdog", dc->on_watchdog },
        { "on_soft_reset", dc->on_soft_reset } };
    for (size_t k = 0; k < sizeof(acts) / sizeof(*acts); k++)
        json_object_object_add(o, acts[k].k, jstr(domcfg_action_name(acts[k].a)));
    json_object *args = json_object_new_array();
    for (size_t k = 0; k < dc->nbootloader_args; k++)
        json_object_array_add(args, jstr(dc->bootloader_args[k]));
    json_object_object_add(o, "bootloader_args", args);
    json_object *shim = json_object_new_object();
    json_object_object_add(shim, "enabled", json_object_new_boolean(dc->pvshim));
    json_object_object_add(shim, "path", jstr(dc->pvshim_path));
    json_object_object_add(shim, "cmdline", jstr(dc->pvshim_cmdline));
    json_object_object_add(shim, "extra", jstr(dc->pvshim_extra));
    json_object_object_add(o, "pvshim", shim);
    json_object_object_add(o, "localtime", json_object_new_boolean(dc->localtime));
    json_object *disks = json_object_new_array(), *vifs = json_object_new_array();
    for (size_t k = 0; k < dc->ndisks; k++)
        json_object_array_add(disks, disk_json(&dc->disks[k]));
    for (size_t k = 0; k < dc->nvifs; k++)
        json_object_array_add(vifs, vif_json(dc, k));
    json_object_object_add(o, "disks", disks);
    json_object_object_add(o, "vifs", vifs);
    return o;
}

static json_object *msgs_json(const struct cfg_diag *d, bool warnings)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < d->n; i++)
        if (d->msgs[i].warning == warnings)
            json_object_array_add(a, jstr(d->msgs[i].text));
    return a;
}

static int usage(void)
{
    fprintf(stderr, "usage: xkcfg-dump [--check] FILE [KEY=VALUE...]\n"
                    "       xkcfg-dump --to-xml xen-xl|xen-xm FILE [KEY=VALUE...]\n"
                    "       xkcfg-dump --to-native xen-xl|xen-xm FILE.xml\n");
    return 2;
}

static int read_cfg(struct xlcfg *c, int argc, char **argv, struct cfg_diag *d)
{
    return xlcfg_parse_with_overrides(c, argv[0], argc - 1, argv + 1, d);
}

static int to_native(const char *fmtname, const char *path, struct cfg_diag *d)
{
    enum native_fmt fmt;
    if (native_fmt_parse(fmtname, &fmt))
        return usage();
    char *out = domxml_to_native_file(fmt, path, d);
    diag_print(d, stderr);
    if (out)
        fputs(out, stdout);
    free(out);
    return out ? 0 : 1;
}

static int to_xml(const char *fmtname, int argc, char **argv, struct cfg_diag *d)
{
    enum native_fmt fmt;
    if (native_fmt_parse(fmtname, &fmt) || argc < 1)
        return usage();
    char *xml = domxml_from_native_file(fmt, argv[0], argc - 1, argv + 1, d);
    diag_print(d, stderr);
    if (xml)
        fputs(xml, stdout);
    free(xml);
    return xml ? 0 : 1;
}

static int dump(bool check, int argc, char **argv, struct cfg_diag *d)
{
    struct xlcfg c = { 0 };
    struct domcfg dc;
    domcfg_init(&dc);
    json_object *o = json_object_new_object();
    bool parsed = read_cfg(&c, argc, argv, d) == 0;
    json_object_object_add(o, "settings", settings_json(&c));
    if (parsed && domcfg_from_xlcfg(&dc, &c, d) == 0) {
        if (check)
            domcfg_check_supported(&dc, d);
        json_object_object_add(o, "domain", domain_json(&dc));
    }
    json_object_object_add(o, "errors", msgs_json(d, false));
    json_object_object_add(o, "warnings", msgs_json(d, true));
    diag_print(d, stderr);
    puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    domcfg_free(&dc);
    xlcfg_free(&c);
    return d->errors ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct cfg_diag d = { 0 };
    int r;
    if (argc >= 4 && !strcmp(argv[1], "--to-native"))
        r = to_native(argv[2], argv[3], &d);
    else if (argc >= 4 && !strcmp(argv[1], "--to-xml"))
        r = to_xml(argv[2], argc - 3, argv + 3, &d);
    else if (argc >= 3 && !strcmp(argv[1], "--check"))
        r = dump(true, argc - 2, argv + 2, &d);
    else if (argc >= 2 && argv[1][0] != '-')
        r = dump(false, argc - 1, argv + 1, &d);
    else
        r = usage();
    diag_free(&d);
    return r;
}
