/* xl.cfg settings -> struct domcfg, with xl's defaults and rules. */
#include "config/domcfg.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct build {
    struct domcfg *dc;
    const struct xlcfg *cfg;
    struct cfg_diag *d;
};

static struct cfg_loc at(const struct xlset *s) { return (struct cfg_loc){ s->file, s->line }; }

static bool bad(struct build *b, const struct xlset *s, const char *what)
{
    diag_error(b->d, at(s), "%s: %s", s->key, what);
    return false;
}

/* A string setting: returns it (not owned), or NULL when absent or wrong. */
static const char *get_str(struct build *b, const char *key, const struct xlset **where)
{
    const struct xlset *s = xlcfg_find(b->cfg, key);
    if (where)
        *where = s;
    if (!s)
        return NULL;
    char what[160];
    if (s->val->kind == XLV_NUMBER) {
        snprintf(what, sizeof(what), "expected a quoted string, not the number %.40s", s->val->str);
        bad(b, s, what);
        return NULL;
    }
    if (s->val->kind == XLV_LIST) {
        bad(b, s, "expected a quoted string, not a list");
        return NULL;
    }
    return s->val->str;
}

static bool dup_str(struct build *b, const char *key, char **dst)
{
    const struct xlset *s;
    const char *v = get_str(b, key, &s);
    if (!v)
        return true;
    free(*dst);
    if (!(*dst = strdup(v)))
        return bad(b, s, "out of memory");
    return true;
}

/* A number (or a string holding one, as xl reads both) in [min, max]. */
static bool get_num(struct build *b, const char *key, long long min, long long max, long long *out,
                    const struct xlset **where)
{
    const struct xlset *s = xlcfg_find(b->cfg, key);
    if (where)
        *where = s;
    if (!s)
        return false;
    char what[200];
    if (s->val->kind == XLV_LIST)
        return bad(b, s, "expected a number, not a list");
    if (s->append)
        return bad(b, s, "can't use += with numbers");
    const char *t = s->val->str;
    char *e;
    errno = 0;
    long long v = strtoll(t, &e, 0);
    if (e == t || *e || errno) {
        snprintf(what, sizeof(what), "'%.60s' is not a %snumber", t, errno == ERANGE ? "valid " : "");
        return bad(b, s, what);
    }
    if (v < min || v > max) {
        snprintf(what, sizeof(what), "%lld is out of range (%lld to %lld)", v, min, max);
        return bad(b, s, what);
    }
    *out = v;
    return true;
}

static void get_bool(struct build *b, const char *key, bool *out)
{
    long long v;
    if (get_num(b, key, 0, 1LL << 31, &v, NULL))
        *out = v != 0;
}

static void get_action(struct build *b, const char *key, enum domcfg_action *a)
{
    const struct xlset *s;
    const char *v = get_str(b, key, &s);
    char what[300];
    if (v && domcfg_action_parse(v, a)) {
        snprintf(what, sizeof(what), "invalid action '%.60s' (destroy, restart, rename-restart, "
                 "preserve, coredump-destroy, coredump-restart or soft-reset)", v);
        bad(b, s, what);
    }
}

static void get_type(struct build *b)
{
    const struct xlset *ts, *bs;
    const char *type = get_str(b, "type", &ts), *builder = get_str(b, "builder", &bs);
    char what[200];
    if (type && builder) {
        bad(b, bs, "can't specify both \"type\" and \"builder\" (builder is deprecated)");
        return;
    }
    const char *v = type ? type : builder;
    const struct xlset *s = type ? ts : bs;
    if (!v)
        return;
    if (!strcmp(v, "hvm")) {
        snprintf(what, sizeof(what), "\"hvm\" guests are not supported by xenkvm (use \"pv\" or \"pvh\")");
        bad(b, s, what);
    } else if (type && !strcmp(v, "pv")) {
        b->dc->type = DOMCFG_PV;
    } else if (type && !strcmp(v, "pvh")) {
        b->dc->type = DOMCFG_PVH;
    } else if (builder && (!strcmp(v, "generic") || !strcmp(v, "linux"))) {
        b->dc->type = DOMCFG_PV;
    } else {
        snprintf(what, sizeof(what), "invalid %s '%.60s' (%s)", s->key, v,
                 type ? "pv or pvh" : "generic or linux");
        bad(b, s, what);
    }
}

/* A list of strings: calls fn for each item. */
static void each_string(struct build *b, const char *key,
                        void (*fn)(struct build *, const struct xlset *, const struct xlv *))
{
    const struct xlset *s = xlcfg_find(b->cfg, key);
    if (!s)
        return;
    if (s->val->kind != XLV_LIST) {
        bad(b, s, "expected a [list] of quoted strings");
        return;
    }
    for (size_t i = 0; i < s->val->n; i++) {
        const struct xlv *it = s->val->items[i];
        if (it->kind != XLV_STRING) {
            char what[120];
            snprintf(what, sizeof(what), "item %zu: expected a quoted string, not a %s", i + 1,
                     xlv_kind_name(it->kind));
            diag_error(b->d, (struct cfg_loc){ s->file, it->line }, "%s: %s", key, what);
            continue;
        }
        fn(b, s, it);
    }
}

static void add_disk(struct build *b, const struct xlset *s, const struct xlv *it)
{
    struct domcfg *dc = b->dc;
    char err[256];
    struct disk_spec spec;
    if (disk_parse(&spec, it->str, err, sizeof(err))) {
        diag_error(b->d, (struct cfg_loc){ s->file, it->line }, "disk '%s': %s", it->str, err);
        return;
    }
    struct domcfg_disk *n = realloc(dc->disks, (dc->ndisks + 1) * sizeof(*n));
    char *text = strdup(it->str);
    if (!n || !text) {
        if (n)
            dc->disks = n;
        free(text);
        disk_spec_free(&spec);
        bad(b, s, "out of memory");
        return;
    }
    dc->disks = n;
    for (size_t i = 0; i < dc->ndisks; i++)
        if (n[i].spec.devid == spec.devid)
            diag_error(b->d, (struct cfg_loc){ s->file, it->line },
                       "disk '%s': vdev %s is already used by disk '%s'", it->str, spec.vdev, n[i].text);
    n[dc->ndisks++] = (struct domcfg_disk){ .spec = spec, .text = text, .line = it->line };
}

static void add_vif(struct build *b, const struct xlset *s, const struct xlv *it)
{
    struct domcfg *dc = b->dc;
    char err[256], warn[256];
    struct vif_spec spec;
    struct cfg_loc loc = { s->file, it->line };
    if (vif_parse(&spec, it->str, err, sizeof(err), warn)) {
        diag_error(b->d, loc, "vif '%s': %s", it->str, err);
        return;
    }
    if (warn[0])
        diag_warn(b->d, loc, "vif '%s': %s", it->str, warn);
    struct domcfg_vif *n = realloc(dc->vifs, (dc->nvifs + 1) * sizeof(*n));
    char *text = strdup(it->str);
    if (!n || !text) {
        if (n)
            dc->vifs = n;
        free(text);
        vif_spec_free(&spec);
        bad(b, s, "out of memory");
        return;
    }
    dc->vifs = n;
    n[dc->nvifs++] = (struct domcfg_vif){ .spec = spec, .text = text, .line = it->line };
}

static void add_bootarg(struct build *b, const struct xlset *s, const struct xlv *it)
{
    struct domcfg *dc = b->dc;
    char **n = realloc(dc->bootloader_args, (dc->nbootloader_args + 1) * sizeof(*n));
    if (!n) {
        bad(b, s, "out of memory");
        return;
    }
    dc->bootloader_args = n;
    if ((n[dc->nbootloader_args] = strdup(it->str)))
        dc->nbootloader_args++;
}

/* bootloader_args: a list, or (deprecated) one string split at spaces. */
static void get_bootargs(struct build *b)
{
    const struct xlset *s = xlcfg_find(b->cfg, "bootloader_args");
    if (!s || s->val->kind == XLV_LIST) {
        each_string(b, "bootloader_args", add_bootarg);
        return;
    }
    const char *v = get_str(b, "bootloader_args", NULL);
    char *copy = v ? strdup(v) : NULL, *save = NULL;
    for (char *w = copy ? strtok_r(copy, " \t", &save) : NULL; w; w = strtok_r(NULL, " \t", &save))
        add_bootarg(b, s, &(struct xlv){ .kind = XLV_STRING, .str = w, .line = s->line });
    free(copy);
}

static void get_name(struct build *b, const char *file)
{
    const struct xlset *s;
    const char *v = get_str(b, "name", &s);
    if (!s) {
        diag_error(b->d, (struct cfg_loc){ file, 0 }, "name: the domain needs a name (name = \"NAME\")");
        return;
    }
    if (!v)
        return;
    if (!*v) {
        bad(b, s, "the name is empty");
        return;
    }
    for (const char *c = v; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            bad(b, s, "control characters are not allowed in the name");
            return;
        }
    if (!(b->dc->name = strdup(v)))
        bad(b, s, "out of memory");
}

static void get_memory(struct build *b)
{
    struct domcfg *dc = b->dc;
    const struct xlset *ms, *xs;
    long long v;
    bool has_mem = get_num(b, "memory", 1, DOMCFG_MAX_MEMORY_MIB, &v, &ms);
    if (has_mem)
        dc->memory_mib = dc->maxmem_mib = (uint64_t)v;
    if (get_num(b, "maxmem", 1, DOMCFG_MAX_MEMORY_MIB, &v, &xs)) {
        if (has_mem && (uint64_t)v < dc->memory_mib) {
            char what[120];
            snprintf(what, sizeof(what), "%lld MiB is less than memory (%llu MiB)", v,
                     (unsigned long long)dc->memory_mib);
            bad(b, xs, what);
        } else {
            dc->maxmem_mib = (uint64_t)v;
            if (!has_mem)               /* libxl: the target defaults to the maximum */
                dc->memory_mib = dc->maxmem_mib;
        }
    }
}

static void get_vcpus(struct build *b)
{
    struct domcfg *dc = b->dc;
    const struct xlset *vs, *ms;
    long long v;
    if (get_num(b, "vcpus", 1, DOMCFG_MAX_VCPUS, &v, &vs))
        dc->vcpus = dc->maxvcpus = (unsigned)v;
    if (get_num(b, "maxvcpus", 1, DOMCFG_MAX_VCPUS, &v, &ms)) {
        if ((unsigned)v < dc->vcpus) {
            char what[120];
            snprintf(what, sizeof(what), "%lld is less than vcpus (%u)", v, dc->vcpus);
            bad(b, ms, what);
        } else {
            dc->maxvcpus = (unsigned)v;
        }
    }
}

static void get_uuid(struct build *b)
{
    const struct xlset *s;
    const char *v = get_str(b, "uuid", &s);
    if (!v)
        return;
    if (uuid_parse(v, b->dc->uuid)) {
        char what[160];
        snprintf(what, sizeof(what), "'%.60s' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", v);
        bad(b, s, what);
        return;
    }
    b->dc->has_uuid = true;
}

static void get_cmdline(struct build *b)
{
    struct domcfg *dc = b->dc;
    const struct xlset *cs;
    dup_str(b, "root", &dc->root);
    dup_str(b, "extra", &dc->extra);
    const char *cmd = get_str(b, "cmdline", &cs);
    if (cmd) {
        if (dc->root || dc->extra)
            diag_warn(b->d, at(cs), "ignoring root= and extra= in favour of cmdline=");
        dc->cmdline = strdup(cmd);
    } else {
        dc->cmdline = domcfg_join_cmdline(dc->root, dc->extra);
    }
}

static void get_pvshim(struct build *b)
{
    struct domcfg *dc = b->dc;
    const struct xlset *s = xlcfg_find(b->cfg, "pvshim");
    get_bool(b, "pvshim", &dc->pvshim);
    dup_str(b, "pvshim_path", &dc->pvshim_path);
    dup_str(b, "pvshim_cmdline", &dc->pvshim_cmdline);
    dup_str(b, "pvshim_extra", &dc->pvshim_extra);
    /* xl runs a PV guest natively; xenkvm always through the shim, so the
     * pvshim_* keys apply to type "pv" too, and pvshim = 0 cannot be had. */
    if (s && !dc->pvshim && dc->type == DOMCFG_PV)
        diag_warn(b->d, at(s), "pvshim = 0: a PV guest runs through Xen's PV shim here "
                  "(xenkvm has no other PV mode)");
}

/* Keys xl knows that xenkvm reads. */
static const char *const used_keys[] = {
    "name", "uuid", "type", "builder", "kernel", "ramdisk", "cmdline", "root", "extra",
    "memory", "maxmem", "vcpus", "maxvcpus", "disk", "vif", "on_poweroff", "on_reboot",
    "on_crash", "on_watchdog", "on_soft_reset", "bootloader", "bootloader_args", "pvshim",
    "pvshim_path", "pvshim_cmdline", "pvshim_extra", "localtime",
};

/* Keys xl knows that xenkvm ignores. */
static const char *const ignored_keys[] = {
    "vfb", "vkb", "pci", "usb", "usbctrl", "usbdev", "usbdevice", "cpus", "cpus_soft",
    "cpu_weight", "cap", "pool", "vnc", "vnclisten", "vncunused", "vncdisplay", "vncpasswd",
    "sdl", "serial", "parallel", "boot", "device_model", "device_model_version",
    "device_model_override", "acpi", "apic", "pae", "hap", "viridian", "rtc_timeoffset",
    "nestedhvm", "channel", "vtpm", "p9", "vdispl", "vsnd", "seclabel", "max_grant_frames",
    "max_maptrack_frames", "max_event_channels", "e820_host", "driver_domain", "firmware",
    "keymap", "stdvga", "videoram", "soundhw", "xen_platform_pci", "shadow_memory",
    "nomigrate", "tsc_mode", "vnuma", "claim_mode", "cpuid", "spice", "gfx_passthru",
    "dtdev", "iomem", "ioports", "irqs", "rdm", "gic_version", "vuart", "ramdisk_offset",
    "altp2m", "vpmu", "passthrough", "hpet", "timer_mode", "vcpu_hard_affinity",
};

static bool in(const char *key, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(key, list[i]))
            return true;
    return false;
}

static void warn_keys(struct build *b)
{
    const struct xlcfg *c = b->cfg;
    for (size_t i = 0; i < c->n; i++) {
        const struct xlset *s = &c->sets[i];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(c->sets[j].key, s->key);
        if (seen || in(s->key, used_keys, sizeof(used_keys) / sizeof(*used_keys)))
            continue;
        if (in(s->key, ignored_keys, sizeof(ignored_keys) / sizeof(*ignored_keys)))
            diag_warn(b->d, at(s), "%s: not supported by xenkvm, ignored", s->key);
        else
            diag_warn(b->d, at(s), "%s: unknown key, ignored", s->key);
    }
}

int domcfg_from_xlcfg(struct domcfg *dc, const struct xlcfg *cfg, struct cfg_diag *d)
{
    domcfg_init(dc);
    size_t before = d->errors;
    struct build b = { .dc = dc, .cfg = cfg, .d = d };
    const char *file = cfg->nfiles ? cfg->files[0] : "config";
    dc->file = strdup(file);
    get_name(&b, file);
    get_uuid(&b);
    get_type(&b);
    dup_str(&b, "kernel", &dc->kernel);
    dup_str(&b, "ramdisk", &dc->ramdisk);
    get_cmdline(&b);
    get_memory(&b);
    get_vcpus(&b);
    get_action(&b, "on_poweroff", &dc->on_poweroff);
    get_action(&b, "on_reboot", &dc->on_reboot);
    get_action(&b, "on_crash", &dc->on_crash);
    get_action(&b, "on_watchdog", &dc->on_watchdog);
    get_action(&b, "on_soft_reset", &dc->on_soft_reset);
    dup_str(&b, "bootloader", &dc->bootloader);
    get_bootargs(&b);
    get_pvshim(&b);
    get_bool(&b, "localtime", &dc->localtime);
    each_string(&b, "disk", add_disk);
    each_string(&b, "vif", add_vif);
    warn_keys(&b);
    if (!dc->file)
        diag_error(d, (struct cfg_loc){ file, 0 }, "out of memory");
    return d->errors > before ? -1 : 0;
}
