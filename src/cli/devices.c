/* Device operations shared by the CLI and xenkvm-web. The domain process
 * owns the backends (src/backend/devices.h) and hot-plugs or unplugs devices
 * when xenkvmd forwards it the request; xenkvmd keeps the domain's stored
 * config in step. */
#include "cli/devices.h"
#include "cli/cfgload.h"
#include "cli/tsclient.h"
#include "config/vif.h"
#include "toolstack/jsonline.h"
#include "toolstack/paths.h"
#include "xenstore/client.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct xs_client *xs_connect(const char *cmd, char *err, size_t errlen)
{
    char sock[4096];
    if (!ts_path(sock, sizeof(sock), "%s/xenstored.sock", ts_rundir())) {
        snprintf(err, errlen, "%s: %s: path too long", cmd, ts_rundir());
        return NULL;
    }
    struct xs_client *xs = xs_open(sock);
    if (!xs)
        snprintf(err, errlen, "%s: cannot reach xenstore at %s", cmd, sock);
    return xs;
}

int dev_check_vif(const char *spec, struct cfg_diag *d)
{
    char err[256];
    struct cfg_loc at = { "network-attach", 0 };
    struct vif_spec v;
    if (vif_parse(&v, spec, err, sizeof(err), NULL) < 0) {
        diag_error(d, at, "vif '%s': %s", spec, err);
        return -1;
    }
    cfg_check_vif(&v, spec, d, at);
    vif_spec_free(&v);
    return d->errors ? -1 : 0;
}

static bool xs_exists(struct xs_client *xs, const char *path)
{
    char *v = NULL;
    size_t len;
    int rc = xs_read(xs, 0, path, &v, &len);
    free(v);
    return rc != -ENOENT;
}

/* Waits until the device's frontend and backend directories are gone. */
static bool wait_gone(struct xs_client *xs, const char *kind, long long domid, long long devid)
{
    char fe[128], be[128];
    snprintf(fe, sizeof(fe), "/local/domain/%lld/device/%s/%lld", domid, kind, devid);
    snprintf(be, sizeof(be), "/local/domain/0/backend/%s/%lld/%lld", kind, domid, devid);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (!xs_exists(xs, fe) && !xs_exists(xs, be))
            return true;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec + (now.tv_nsec - start.tv_nsec) / 1e9 >= DETACH_TIMEOUT_S)
            return false;
        usleep(50 * 1000);
    }
}

int dev_detach(const char *cmd, const char *dom, const char *id, bool force, char *err,
               size_t errlen)
{
    const char *kind = !strcmp(cmd, "block-detach") ? "vbd" : "vif";
    struct json_object *req = ts_req(cmd, dom);
    json_object_object_add(req, "id", json_object_new_string(id));
    json_object_object_add(req, "force", json_object_new_boolean(force));
    struct json_object *rep = ts_call_err(req, err, errlen);
    if (!rep)
        return -1;
    long long domid = jl_int(rep, "domid", -1), devid = jl_int(rep, "devid", -1);
    json_object_put(rep);
    if (domid < 0 || devid < 0)
        return 0;          /* nothing to wait for */
    struct xs_client *xs = xs_connect(cmd, err, errlen);
    if (!xs)
        return -1;
    bool gone = wait_gone(xs, kind, domid, devid);
    xs_close(xs);
    if (gone)
        return 0;
    snprintf(err, errlen,
             "%s: domain %s's %s %s (device %lld) is still there after %d s: its frontend has "
             "not closed it (the guest may still use it); `xenkvm %s -f %s %s` removes it at once",
             cmd, dom, kind, id, devid, DETACH_TIMEOUT_S, cmd, dom, id);
    return -1;
}

/* A frontend node as text ("" when absent), malloc'd. */
static char *fe_text(struct xs_client *xs, const char *dir, const char *dev, const char *node)
{
    char p[256], *v = NULL;
    size_t len;
    snprintf(p, sizeof(p), "%s/%s/%s", dir, dev, node);
    if (xs_read(xs, 0, p, &v, &len) < 0) {
        free(v);
        return strdup("");
    }
    return v;
}

static long fe_num(struct xs_client *xs, const char *dir, const char *dev, const char *node)
{
    char *v = fe_text(xs, dir, dev, node);
    long n = v[0] ? strtol(v, NULL, 10) : -1;
    free(v);
    return n;
}

static int by_number(const void *a, const void *b)
{
    long x = strtol(*(char *const *)a, NULL, 10), y = strtol(*(char *const *)b, NULL, 10);
    return x < y ? -1 : x > y;
}

static void add_num(struct json_object *o, const char *key, long v)
{
    json_object_object_add(o, key, json_object_new_int64(v));
}

static void add_str(struct json_object *o, const char *key, char *v)
{
    json_object_object_add(o, key, json_object_new_string(v));
    free(v);
}

static struct json_object *vif_row(struct xs_client *xs, const char *dir, const char *dev)
{
    struct json_object *o = json_object_new_object();
    char *be = fe_text(xs, dir, dev, "backend"), *mac = fe_text(xs, dir, dev, "mac");
    if (!mac[0]) {         /* libxl keeps it in the backend too */
        char p[300];
        free(mac);
        snprintf(p, sizeof(p), "%s/mac", be);
        size_t len;
        if (!be[0] || xs_read(xs, 0, p, &mac, &len) < 0) {
            free(mac);
            mac = strdup("");
        }
    }
    long devid = strtol(dev, NULL, 10), handle = fe_num(xs, dir, dev, "handle");
    add_num(o, "idx", devid);
    add_num(o, "be", fe_num(xs, dir, dev, "backend-id"));
    add_str(o, "mac", mac);
    add_num(o, "handle", handle >= 0 ? handle : devid);
    add_num(o, "state", fe_num(xs, dir, dev, "state"));
    add_num(o, "evt_ch", fe_num(xs, dir, dev, "event-channel"));
    add_num(o, "tx_ring_ref", fe_num(xs, dir, dev, "tx-ring-ref"));
    add_num(o, "rx_ring_ref", fe_num(xs, dir, dev, "rx-ring-ref"));
    add_str(o, "be_path", be);
    return o;
}

static struct json_object *vbd_row(struct xs_client *xs, const char *dir, const char *dev)
{
    struct json_object *o = json_object_new_object();
    add_str(o, "vdev", strdup(dev));
    add_num(o, "be", fe_num(xs, dir, dev, "backend-id"));
    add_str(o, "handle", strdup(dev));
    add_num(o, "state", fe_num(xs, dir, dev, "state"));
    add_num(o, "evt_ch", fe_num(xs, dir, dev, "event-channel"));
    add_num(o, "ring_ref", fe_num(xs, dir, dev, "ring-ref"));
    add_str(o, "be_path", fe_text(xs, dir, dev, "backend"));
    return o;
}

struct json_object *dev_list(const char *cmd, const char *kind, const char *dom, char *err,
                             size_t errlen)
{
    struct json_object *rep, *arr = ts_list_err(dom, &rep, err, errlen);
    if (!arr)
        return NULL;
    long long domid = jl_int(json_object_array_get_idx(arr, 0), "domid", 0);
    json_object_put(rep);
    struct xs_client *xs = xs_connect(cmd, err, errlen);
    if (!xs)
        return NULL;
    char dir[128];
    snprintf(dir, sizeof(dir), "/local/domain/%lld/device/%s", domid, kind);
    char **names = NULL;
    unsigned n = 0;
    xs_directory(xs, 0, dir, &names, &n);
    if (n)
        qsort(names, n, sizeof(*names), by_number);
    struct json_object *out = json_object_new_array();
    for (unsigned i = 0; i < n; i++)
        json_object_array_add(out, !strcmp(kind, "vbd") ? vbd_row(xs, dir, names[i])
                                                        : vif_row(xs, dir, names[i]));
    free(names);
    xs_close(xs);
    return out;
}
