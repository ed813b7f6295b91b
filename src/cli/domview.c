/* JSON views of a registry domain record: list -l, top's counters. */
#include "cli/domview.h"
#include "toolstack/jsonline.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_str(struct json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, json_object_new_string(v));
}

static void add_int(struct json_object *o, const char *key, long long v)
{
    json_object_object_add(o, key, json_object_new_int64(v));
}

struct json_object *domview_long(struct json_object *d)
{
    struct json_object *cfg = NULL, *o = json_object_new_object(), *c = json_object_new_object();
    json_object_object_get_ex(d, "config", &cfg);
    struct json_object *ci = json_object_new_object(), *bi = json_object_new_object();
    add_str(ci, "type", jl_str(cfg, "type", "pvh"));
    add_str(ci, "name", jl_str(d, "name", ""));
    add_str(ci, "uuid", jl_str(d, "uuid", ""));
    json_object_object_add(bi, "max_vcpus", json_object_new_int(jl_int(cfg, "vcpus", 1)));
    add_int(bi, "max_memkb", jl_int(d, "maxmem_kib", 0));
    add_int(bi, "target_memkb", jl_int(d, "target_kib", 0));
    static const char *const keys[] = { "kernel", "ramdisk", "cmdline" };
    for (int i = 0; i < 3; i++)
        if (jl_str(cfg, keys[i], NULL))
            add_str(bi, keys[i], jl_str(cfg, keys[i], ""));
    struct json_object *v;
    if (jl_str(cfg, "bootloader", NULL)) {
        add_str(bi, "bootloader", jl_str(cfg, "bootloader", ""));
        if (json_object_object_get_ex(cfg, "bootloader_args", &v))
            json_object_object_add(bi, "bootloader_args", json_object_get(v));
    }
    if (jl_bool(cfg, "pvshim", false)) {
        /* A PV guest in its PVH container, as libxl's JSON shows it. */
        struct json_object *pvh = json_object_new_object();
        add_str(pvh, "pvshim", "True");
        static const char *const shim[] = { "pvshim_path", "pvshim_cmdline", "pvshim_extra" };
        for (int i = 0; i < 3; i++)
            if (jl_str(cfg, shim[i], NULL))
                add_str(pvh, shim[i], jl_str(cfg, shim[i], ""));
        json_object_object_add(bi, "type.pvh", pvh);
    }
    json_object_object_add(c, "c_info", ci);
    json_object_object_add(c, "b_info", bi);
    struct json_object *arr;
    static const char *const lists[][2] = { { "disks", "disks" }, { "vifs", "nics" } };
    for (int i = 0; i < 2; i++) {
        struct json_object *out = json_object_new_array();
        if (json_object_object_get_ex(cfg, lists[i][0], &arr))
            for (size_t j = 0; j < json_object_array_length(arr); j++) {
                struct json_object *e = json_object_new_object();
                json_object_object_add(e, "spec", json_object_get(json_object_array_get_idx(arr, j)));
                json_object_array_add(out, e);
            }
        json_object_object_add(c, lists[i][1], out);
    }
    static const char *const acts[] = { "on_poweroff", "on_reboot", "on_crash", "on_watchdog",
                                        "on_soft_reset" };
    for (int i = 0; i < 5; i++)
        if (jl_str(cfg, acts[i], NULL))
            add_str(c, acts[i], jl_str(cfg, acts[i], ""));
    json_object_object_add(o, "domid", json_object_new_int(jl_int(d, "domid", 0)));
    json_object_object_add(o, "config", c);
    struct json_object *x = json_object_new_object();
    json_object_object_add(x, "pid", json_object_new_int(jl_int(d, "pid", 0)));
    add_str(x, "state", jl_str(d, "state", ""));
    add_int(x, "start_time", jl_int(d, "start_time", 0));
    add_int(x, "cpu_time_ns", jl_int(d, "cpu_time_ns", 0));
    struct json_object *stats;
    if (json_object_object_get_ex(d, "stats", &stats))
        json_object_object_add(x, "stats", json_object_get(stats));
    json_object_object_add(o, "xenkvm", x);
    return o;
}

struct json_object *domview_top(struct json_object *d)
{
    struct json_object *cfg = NULL, *dv = NULL, *l, *o = json_object_new_object();
    json_object_object_get_ex(d, "config", &cfg);
    json_object_object_get_ex(d, "devices", &dv);
    long long vbds = json_object_object_get_ex(cfg, "disks", &l) ? json_object_array_length(l) : 0;
    long long nets = json_object_object_get_ex(cfg, "vifs", &l) ? json_object_array_length(l) : 0;
    add_str(o, "name", jl_str(d, "name", ""));
    add_int(o, "domid", jl_int(d, "domid", 0));
    add_str(o, "state", jl_str(d, "state", "------"));
    add_int(o, "cpu_time_ns", jl_int(d, "cpu_time_ns", 0));
    add_int(o, "mem_kib", jl_int(d, "mem_kib", jl_int(d, "target_kib", 0)));
    add_int(o, "maxmem_kib", jl_int(d, "maxmem_kib", 0));
    add_int(o, "vcpus", jl_int(d, "vcpus_max", 1));
    add_int(o, "nets", jl_int(dv, "nets", nets));
    add_int(o, "net_tx_bytes", jl_int(dv, "net_tx_bytes", 0));
    add_int(o, "net_rx_bytes", jl_int(dv, "net_rx_bytes", 0));
    add_int(o, "vbds", jl_int(dv, "vbds", vbds));
    static const char *const vbd[] = { "vbd_oo", "vbd_rd", "vbd_wr", "vbd_rsect", "vbd_wsect" };
    for (int i = 0; i < 5; i++)
        add_int(o, vbd[i], jl_int(dv, vbd[i], 0));
    return o;
}

long long domview_mem_kib(const char *cmd, const char *s, char *err, size_t errlen)
{
    char *end;
    long long v = strtoll(s, &end, 10), kib = -1;
    if (end != s && v >= 0 && strlen(end) <= 1)
        switch (tolower((unsigned char)*end)) {
        case 't': kib = v << 30; break;
        case 'g': kib = v << 20; break;
        case 'm': case '\0': kib = v << 10; break;
        case 'k': kib = v; break;
        case 'b': kib = v >> 10; break;
        }
    if (kib < 0)
        snprintf(err, errlen,
                 "%s: invalid memory size '%s' (a number with an optional t, g, m, k or b suffix)",
                 cmd, s);
    return kib;
}
