/* Device hot-plug requests: forwarded to the domain process, which owns the
 * backends; the registry keeps the domain's stored config in step, so a
 * reboot or restart brings back exactly the devices the domain had (as
 * libxl keeps attached devices in the domain's config). */
#include "daemon/registry.h"
#include "config/disk.h"
#include "config/vif.h"
#include "toolstack/jsonline.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The config's array under key, created when absent. */
static struct json_object *config_list(struct dom *d, const char *key)
{
    struct json_object *arr;
    if (json_object_object_get_ex(d->config, key, &arr) &&
        json_object_is_type(arr, json_type_array))
        return arr;
    arr = json_object_new_array();
    json_object_object_add(d->config, key, arr);
    return arr;
}

/* Sends the domain process op with the request's fields named in keys. */
static struct json_object *forward(struct registry *r, struct dom *d, const char *op,
                                   struct json_object *req, const char *const *keys)
{
    struct json_object *fwd = json_object_new_object(), *v;
    json_object_object_add(fwd, "op", json_object_new_string(op));
    for (; *keys; keys++)
        if (json_object_object_get_ex(req, *keys, &v))
            json_object_object_add(fwd, *keys, json_object_get(v));
    char err[512];
    struct json_object *rep = reg_domctl_req(r, d, fwd, err, sizeof(err));
    if (!rep)
        return jl_error("domain %u: %s", d->domid, err);
    if (jl_bool(rep, "ok", false))
        json_object_object_add(rep, "domid", json_object_new_int(d->domid));
    return rep;
}

static struct json_object *block_attach(struct registry *r, struct dom *d, struct json_object *req)
{
    static const char *const keys[] = { "spec", NULL };
    const char *spec = jl_str(req, "spec", "");
    struct json_object *rep = forward(r, d, "block-attach", req, keys);
    if (jl_bool(rep, "ok", false)) {
        json_object_array_add(config_list(d, "disks"), json_object_new_string(spec));
        reg_save(r, d);
        reg_log("domain %u (%s): disk '%s' attached", d->domid, d->name, spec);
    }
    return rep;
}

/* A detached device leaves the stored config: entry i of list (-1: it was
 * not there, e.g. attached by hand to `xenkvm run`). */
static void forget(struct registry *r, struct dom *d, struct json_object *list, int i,
                   const char *what, struct json_object *req)
{
    if (i < 0) {
        reg_log("domain %u (%s): %s %s detached (not in the config)", d->domid, d->name, what,
                jl_str(req, "id", "?"));
        return;
    }
    reg_log("domain %u (%s): %s '%s' detached", d->domid, d->name, what,
            json_object_get_string(json_object_array_get_idx(list, i)));
    json_object_array_del_idx(list, i, 1);
    reg_save(r, d);
}

/* The stored disk spec that made device number devid: its index, or -1. */
static int find_disk(struct json_object *disks, long long devid)
{
    for (size_t i = 0; i < json_object_array_length(disks); i++) {
        struct disk_spec ds;
        char err[256];
        const char *spec = json_object_get_string(json_object_array_get_idx(disks, i));
        if (!spec || disk_parse(&ds, spec, err, sizeof(err)) < 0)
            continue;
        bool match = ds.devid == devid;
        disk_spec_free(&ds);
        if (match)
            return (int)i;
    }
    return -1;
}

static struct json_object *block_detach(struct registry *r, struct dom *d, struct json_object *req)
{
    static const char *const keys[] = { "id", "force", NULL };
    struct json_object *rep = forward(r, d, "block-detach", req, keys);
    if (!jl_bool(rep, "ok", false))
        return rep;
    struct json_object *disks = config_list(d, "disks");
    forget(r, d, disks, find_disk(disks, jl_int(rep, "devid", -1)), "disk", req);
    return rep;
}

/* Whether a vif spec names its devid / its MAC itself. */
static void vif_fixed(const char *spec, int *devid, bool *mac_set, uint8_t mac[6])
{
    struct vif_spec v;
    char err[256];
    *devid = -1;
    *mac_set = false;
    if (vif_parse(&v, spec, err, sizeof(err), NULL) < 0)
        return;
    *devid = v.devid;
    *mac_set = v.mac_set;
    memcpy(mac, v.mac, 6);
    vif_spec_free(&v);
}

/* A hot-plugged NIC is stored with the devid (and MAC) the domain process
 * chose, so a restart recreates the same device with the same address. */
static struct json_object *network_attach(struct registry *r, struct dom *d,
                                          struct json_object *req)
{
    static const char *const keys[] = { "spec", NULL };
    const char *spec = jl_str(req, "spec", "");
    struct json_object *rep = forward(r, d, "network-attach", req, keys);
    if (!jl_bool(rep, "ok", false))
        return rep;
    int devid;
    bool mac_set;
    uint8_t mac[6];
    vif_fixed(spec, &devid, &mac_set, mac);
    size_t n = strlen(spec) + 64;
    char *stored = malloc(n);
    if (!stored)
        return rep;
    snprintf(stored, n, "%s", spec);
    if (devid < 0 && jl_int(rep, "devid", -1) >= 0)
        snprintf(stored + strlen(stored), n - strlen(stored), "%sdevid=%lld",
                 stored[0] ? "," : "", jl_int(rep, "devid", -1));
    const char *m = jl_str(rep, "mac", "");
    if (!mac_set && strlen(m) == 17)
        snprintf(stored + strlen(stored), n - strlen(stored), "%smac=%s",
                 stored[0] ? "," : "", m);
    json_object_array_add(config_list(d, "vifs"), json_object_new_string(stored));
    reg_save(r, d);
    reg_log("domain %u (%s): nic '%s' attached", d->domid, d->name, stored);
    free(stored);
    return rep;
}

/* The stored vif spec behind NIC devid (or with that MAC): the domain
 * process numbers NICs without devid= with the lowest free one, in config
 * order. Its index, or -1. */
static int find_vif(struct json_object *vifs, long long devid, const char *mac_text)
{
    enum { MAXV = 256 };
    bool used[MAXV] = { false };
    uint8_t want[6];
    bool by_mac = mac_parse(mac_text, want) == 0;
    size_t n = json_object_array_length(vifs);
    int fixed[MAXV];
    for (size_t i = 0; i < n && i < MAXV; i++) {
        bool mac_set;
        uint8_t mac[6];
        vif_fixed(json_object_get_string(json_object_array_get_idx(vifs, i)), &fixed[i],
                  &mac_set, mac);
        if (by_mac && mac_set && !memcmp(mac, want, 6))
            return (int)i;
    }
    for (size_t i = 0; i < n && i < MAXV; i++) {
        int id = fixed[i];
        if (id < 0)
            for (id = 0; id < MAXV && used[id]; id++)
                ;
        if (id >= 0 && id < MAXV)
            used[id] = true;
        if (id == devid)
            return (int)i;
    }
    return -1;
}

static struct json_object *network_detach(struct registry *r, struct dom *d,
                                          struct json_object *req)
{
    static const char *const keys[] = { "id", "force", NULL };
    struct json_object *rep = forward(r, d, "network-detach", req, keys);
    if (!jl_bool(rep, "ok", false))
        return rep;
    struct json_object *vifs = config_list(d, "vifs");
    forget(r, d, vifs, find_vif(vifs, jl_int(rep, "devid", -1), jl_str(rep, "mac", "")), "nic",
           req);
    return rep;
}

struct json_object *reg_device_op(struct registry *r, const char *op, struct dom *d,
                                  struct json_object *req)
{
    static const char *const none[] = { NULL };
    if (!strcmp(op, "block-attach"))
        return block_attach(r, d, req);
    if (!strcmp(op, "block-detach"))
        return block_detach(r, d, req);
    if (!strcmp(op, "network-attach"))
        return network_attach(r, d, req);
    if (!strcmp(op, "network-detach"))
        return network_detach(r, d, req);
    if (!strcmp(op, "devices"))
        return forward(r, d, "devices", req, none);
    return NULL;
}
