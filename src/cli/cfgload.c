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
#include <unistd.h>

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

/* xenkvm's PV mode is Xen's PV shim: a PV domain (type "pv", an xm file's
 * builder "linux", libvirt's os type "linux") runs as xl runs type "pvh" with
 * pvshim = 1, and is shown so (list -l). */
static bool runs_shim(const struct domcfg *dc)
{
    return dc->type == DOMCFG_PV || dc->pvshim;
}

static void add_str(struct json_object *o, const char *key, const char *v)
{
    if (v)
        json_object_object_add(o, key, json_object_new_string(v));
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
    bool shim = runs_shim(dc);
    json_object_object_add(o, "type", json_object_new_string(shim ? "pvh" : domcfg_type_name(dc->type)));
    if (shim) {
        json_object_object_add(o, "pvshim", json_object_new_boolean(true));
        add_str(o, "pvshim_path", dc->pvshim_path ? dc->pvshim_path : DOMCFG_PVSHIM_PATH);
        add_str(o, "pvshim_cmdline", dc->pvshim_cmdline ? dc->pvshim_cmdline : DOMCFG_PVSHIM_CMDLINE);
        add_str(o, "pvshim_extra", dc->pvshim_extra);
    }
    if (dc->bootloader) {
        /* The kernel and ramdisk named beside a bootloader are paths inside
         * the guest's disk, passed on to it as they are. */
        add_str(o, "bootloader", dc->bootloader);
        struct json_object *args = json_object_new_array();
        for (size_t i = 0; i < dc->nbootloader_args; i++)
            json_object_array_add(args, json_object_new_string(dc->bootloader_args[i]));
        json_object_object_add(o, "bootloader_args", args);
        add_str(o, "kernel", dc->kernel);
        add_str(o, "ramdisk", dc->ramdisk);
    } else if (add_path(o, "kernel", dc->kernel, dc, d) || add_path(o, "ramdisk", dc->ramdisk, dc, d)) {
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
    if (runs_shim(dc)) {
        /* The domain process checks again; this names the config file. */
        const char *shim = dc->pvshim_path ? dc->pvshim_path : DOMCFG_PVSHIM_PATH;
        if (access(shim, R_OK) < 0 && dc->pvshim_path)
            diag_error(d, at, "pvshim_path '%s': %s", shim, strerror(errno));
        else if (access(shim, R_OK) < 0)
            diag_error(d, at, "type %s: a PV guest runs through Xen's PV shim, and %s is %s: "
                       "install Debian's %s (or set pvshim_path)", domcfg_type_name(dc->type), shim,
                       errno == ENOENT ? "missing" : strerror(errno), DOMCFG_PVSHIM_PACKAGE);
    }
    if (dc->bootloader && !dc->ndisks)
        diag_error(d, at, "bootloader '%s': no disk to boot from (it reads the first disk)",
                   dc->bootloader);
    for (size_t i = 0; i < dc->nvifs; i++)
        cfg_check_vif(&dc->vifs[i].spec, dc->vifs[i].text, d,
                      (struct cfg_loc){ dc->file, dc->vifs[i].line });
    if (dc->vcpus > 32)
        diag_error(d, at, "vcpus = %u: xenkvm runs at most 32", dc->vcpus);
    int rc = domcfg_check_supported(dc, d);
    return d->errors ? -1 : rc;
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
