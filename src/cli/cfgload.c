/* Config files -> the daemon's JSON config. */
#include "cli/cfgload.h"
#include "common/file.h"
#include "common/log.h"
#include "config/domcfg.h"
#include "config/domxml.h"
#include "config/xlcfg.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_xml(const uint8_t *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isspace(text[i]))
            return text[i] == '<';
    return false;
}

/* Kernel and ramdisk paths as absolute ones: the daemon has another cwd. */
static int add_path(struct json_object *o, const char *key, const char *path,
                    const struct domcfg *dc, struct cfg_diag *d)
{
    if (!path)
        return 0;
    char abs[PATH_MAX];
    if (!realpath(path, abs)) {
        diag_error(d, (struct cfg_loc){ dc->file, 0 }, "%s '%s': %s", key, path, strerror(errno));
        return -1;
    }
    json_object_object_add(o, key, json_object_new_string(abs));
    return 0;
}

static struct json_object *to_json(const struct domcfg *dc, struct cfg_diag *d)
{
    struct json_object *o = json_object_new_object();
    char uuid[37];
    json_object_object_add(o, "name", json_object_new_string(dc->name ? dc->name : ""));
    if (dc->has_uuid) {
        uuid_format(dc->uuid, uuid);
        json_object_object_add(o, "uuid", json_object_new_string(uuid));
    }
    json_object_object_add(o, "type", json_object_new_string(domcfg_type_name(dc->type)));
    if (add_path(o, "kernel", dc->kernel, dc, d) || add_path(o, "ramdisk", dc->ramdisk, dc, d)) {
        json_object_put(o);
        return NULL;
    }
    if (dc->cmdline)
        json_object_object_add(o, "cmdline", json_object_new_string(dc->cmdline));
    json_object_object_add(o, "memory", json_object_new_int64(dc->memory_mib));
    json_object_object_add(o, "maxmem", json_object_new_int64(dc->maxmem_mib));
    json_object_object_add(o, "vcpus", json_object_new_int(dc->vcpus));
    json_object_object_add(o, "maxvcpus", json_object_new_int(dc->maxvcpus));
    static const char *const keys[] = { "on_poweroff", "on_reboot", "on_crash", "on_watchdog",
                                        "on_soft_reset" };
    const enum domcfg_action acts[] = { dc->on_poweroff, dc->on_reboot, dc->on_crash,
                                        dc->on_watchdog, dc->on_soft_reset };
    for (int i = 0; i < 5; i++)
        json_object_object_add(o, keys[i], json_object_new_string(domcfg_action_name(acts[i])));
    struct json_object *disks = json_object_new_array(), *vifs = json_object_new_array();
    for (size_t i = 0; i < dc->ndisks; i++)
        json_object_array_add(disks, json_object_new_string(dc->disks[i].text));
    for (size_t i = 0; i < dc->nvifs; i++)
        json_object_array_add(vifs, json_object_new_string(dc->vifs[i].text));
    json_object_object_add(o, "disks", disks);
    json_object_object_add(o, "vifs", vifs);
    json_object_object_add(o, "source", json_object_new_string(dc->file ? dc->file : ""));
    return o;
}

void cfg_check_vif(const struct vif_spec *v, const char *text, struct cfg_diag *d,
                   struct cfg_loc at)
{
    if (v->type && strcasecmp(v->type, "vif") && strcasecmp(v->type, "netfront"))
        diag_error(d, at, "vif '%s': type=%s is not supported (only vif: xen-netfront)", text,
                   v->type);
    if (v->backend && strcmp(v->backend, "0") && strcmp(v->backend, "Domain-0"))
        diag_error(d, at, "vif '%s': backend=%s: only the host (domain 0) serves devices", text,
                   v->backend);
    if (v->model)
        diag_warn(d, at, "vif '%s': model=%s is ignored (a PVH guest's NIC is xen-netfront)",
                  text, v->model);
    if (v->script && !strstr(v->script, "vif-bridge"))
        diag_warn(d, at, "vif '%s': script=%s is not run: the tap goes on the bridge", text,
                  v->script);
    if (v->rate)
        diag_warn(d, at, "vif '%s': rate=%s is not enforced", text, v->rate);
    if (v->gatewaydev)
        diag_warn(d, at, "vif '%s': gatewaydev=%s is ignored (no vif-route/vif-nat scripts)",
                  text, v->gatewaydev);
}

/* What xenkvm cannot run though the file is valid: errors or warnings. */
static int check_runnable(const struct domcfg *dc, struct cfg_diag *d)
{
    struct cfg_loc at = { dc->file, 0 };
    if (dc->type == DOMCFG_PV && !dc->pvshim)
        diag_warn(d, at, "type pv: xenkvm boots the kernel's PVH entry (there is no PV mode)");
    if (dc->bootloader && !dc->kernel)
        diag_error(d, at, "bootloader '%s': bootloaders are not supported; set kernel=",
                   dc->bootloader);
    for (size_t i = 0; i < dc->nvifs; i++)
        cfg_check_vif(&dc->vifs[i].spec, dc->vifs[i].text, d,
                      (struct cfg_loc){ dc->file, dc->vifs[i].line });
    if (dc->vcpus > 32)
        diag_error(d, at, "vcpus = %u: xenkvm runs at most 32", dc->vcpus);
    return domcfg_check_supported(dc, d);
}

struct json_object *cfg_parse(const char *name, const uint8_t *text, size_t len,
                              char **overrides, int noverrides, struct cfg_diag *d)
{
    struct xlcfg x = { 0 };
    struct domcfg dc;
    int rc;
    if (is_xml(text, len)) {
        if (noverrides) {
            diag_error(d, (struct cfg_loc){ name, 0 },
                       "KEY=VALUE settings apply to xl config files, not domain XML");
            return NULL;
        }
        rc = domxml_read(&dc, (const char *)text, len, name, NATIVE_XL, d);
    } else {
        rc = xlcfg_parse_text(&x, name, (const char *)text, len, d);
        for (int i = 0; !rc && i < noverrides; i++)
            rc = xlcfg_apply_override(&x, overrides[i], d);
        if (!rc)
            rc = domcfg_from_xlcfg(&dc, &x, d);
        else
            domcfg_init(&dc);
    }
    if (!rc)
        rc = check_runnable(&dc, d);
    struct json_object *o = rc ? NULL : to_json(&dc, d);
    xlcfg_free(&x);
    domcfg_free(&dc);
    return o;
}

const char *cfg_display_name(const char *file)
{
    const char *name = getenv("XENKVM_CONFIG_NAME");
    return name && *name ? name : file;
}

struct json_object *cfg_load(const char *file, char **overrides, int noverrides)
{
    uint8_t *text = NULL;
    size_t len = 0;
    char err[512];
    if (file_read_all(file, CFG_MAX, &text, &len, err, sizeof(err)) < 0) {
        log_err("%s", err);
        return NULL;
    }
    struct cfg_diag d = { 0 };
    struct json_object *o = cfg_parse(cfg_display_name(file), text, len, overrides, noverrides, &d);
    free(text);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "xenkvm: %s\n", d.msgs[i].text);
    diag_free(&d);
    return o;
}
