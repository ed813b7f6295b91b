/* block-attach/detach/list, network-attach/detach/list. The domain process
 * owns the backends (src/backend/devices.h) and hot-plugs or unplugs
 * devices when xenkvmd forwards it the request; xenkvmd keeps the domain's
 * stored config in step. The lists read the frontend nodes in xenstore, as
 * libxl does. */
#include "cli/cfgload.h"
#include "cli/cli.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "config/vif.h"
#include "toolstack/jsonline.h"
#include "toolstack/paths.h"
#include "xenstore/client.h"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DETACH_TIMEOUT_S 10     /* xl's (libxl's LIBXL_DESTROY_TIMEOUT) */

static struct xs_client *xs_connect(const char *cmd)
{
    char sock[4096];
    if (!ts_path(sock, sizeof(sock), "%s/xenstored.sock", ts_rundir()))
        return NULL;
    struct xs_client *xs = xs_open(sock);
    if (!xs)
        log_err("%s: cannot reach xenstore at %s", cmd, sock);
    return xs;
}

/* xl's form: the spec may come in several arguments, joined with commas. */
static bool join_spec(const char *cmd, char **args, int n, char *spec, size_t size)
{
    spec[0] = 0;
    for (int i = 0; i < n; i++) {
        if (strlen(spec) + strlen(args[i]) + 2 > size) {
            log_err("%s: spec too long", cmd);
            return false;
        }
        if (i)
            strcat(spec, ",");
        strcat(spec, args[i]);
    }
    return true;
}

int cmd_block_attach(int argc, char **argv)
{
    if (argc < 3 || argv[1][0] == '-')
        return cli_usage("block-attach", argc > 1 && !strcmp(argv[1], "-h"));
    char spec[1024];
    if (!join_spec("block-attach", argv + 2, argc - 2, spec, sizeof(spec)))
        return 1;
    struct json_object *req = ts_req("block-attach", argv[1]);
    json_object_object_add(req, "spec", json_object_new_string(spec));
    return ts_simple(req);
}

int cmd_network_attach(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return cli_usage("network-attach", argc > 1 && !strcmp(argv[1], "-h"));
    char spec[1024], err[256];
    if (!join_spec("network-attach", argv + 2, argc - 2, spec, sizeof(spec)))
        return 1;
    /* Checked here too, so warnings reach the user, not only the log. */
    struct vif_spec v;
    if (vif_parse(&v, spec, err, sizeof(err), NULL) < 0) {
        log_err("network-attach: vif '%s': %s", spec, err);
        return 1;
    }
    struct cfg_diag d = { 0 };
    cfg_check_vif(&v, spec, &d, (struct cfg_loc){ "network-attach", 0 });
    vif_spec_free(&v);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "xenkvm: %s\n", d.msgs[i].text);
    bool bad = d.errors;
    diag_free(&d);
    if (bad)
        return 1;
    struct json_object *req = ts_req("network-attach", argv[1]);
    json_object_object_add(req, "spec", json_object_new_string(spec));
    return ts_simple(req);
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

/* block-detach [-f] DOM VDEV, network-detach [-f] DOM DEVID|MAC: the domain
 * process starts the unplug (the frontend is asked to close; -f: the device
 * goes at once), then we wait, as xl does, until it is gone. */
static int detach(const char *cmd, const char *kind, int argc, char **argv)
{
    static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
                                          { "help", no_argument, NULL, 'h' }, { 0 } };
    bool force = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
        if (c == 'f')
            force = true;
        else
            return cli_usage(cmd, c == 'h');
    }
    if (argc - optind != 2)
        return cli_usage(cmd, false);
    const char *dom = argv[optind], *id = argv[optind + 1];
    struct json_object *req = ts_req(cmd, dom);
    json_object_object_add(req, "id", json_object_new_string(id));
    json_object_object_add(req, "force", json_object_new_boolean(force));
    struct json_object *rep = ts_call(req);
    if (!rep)
        return 1;
    long long domid = jl_int(rep, "domid", -1), devid = jl_int(rep, "devid", -1);
    json_object_put(rep);
    if (domid < 0 || devid < 0)
        return 0;          /* nothing to wait for */
    struct xs_client *xs = xs_connect(cmd);
    if (!xs)
        return 1;
    bool gone = wait_gone(xs, kind, domid, devid);
    xs_close(xs);
    if (gone)
        return 0;
    log_err("%s: domain %s's %s %s (device %lld) is still there after %d s: its frontend has "
            "not closed it (the guest may still use it); `xenkvm %s -f %s %s` removes it at once",
            cmd, dom, kind, id, devid, DETACH_TIMEOUT_S, cmd, dom, id);
    return 1;
}

int cmd_block_detach(int argc, char **argv) { return detach("block-detach", "vbd", argc, argv); }
int cmd_network_detach(int argc, char **argv)
{
    return detach("network-detach", "vif", argc, argv);
}

static long xs_num(struct xs_client *xs, const char *path)
{
    char *v = NULL;
    size_t len;
    long n = xs_read(xs, 0, path, &v, &len) == 0 ? strtol(v, NULL, 10) : -1;
    free(v);
    return n;
}

/* A frontend node as text ("" when absent), malloc'd. */
static char *xs_text(struct xs_client *xs, const char *dir, const char *dev, const char *node)
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
    char p[256];
    snprintf(p, sizeof(p), "%s/%s/%s", dir, dev, node);
    return xs_num(xs, p);
}

static int by_number(const void *a, const void *b)
{
    long x = strtol(*(char *const *)a, NULL, 10), y = strtol(*(char *const *)b, NULL, 10);
    return x < y ? -1 : x > y;
}

static void vif_row(struct xs_client *xs, const char *dir, const char *dev)
{
    char *be = xs_text(xs, dir, dev, "backend"), *mac = xs_text(xs, dir, dev, "mac");
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
    /* xl: "%-3d %-2d " MAC "%6d %5d %6d %5d/%-11d %-30s\n" */
    printf("%-3ld %-2ld %-17s%6ld %5ld %6ld %5ld/%-11ld %-30s\n", devid,
           fe_num(xs, dir, dev, "backend-id"), mac, handle >= 0 ? handle : devid,
           fe_num(xs, dir, dev, "state"), fe_num(xs, dir, dev, "event-channel"),
           fe_num(xs, dir, dev, "tx-ring-ref"), fe_num(xs, dir, dev, "rx-ring-ref"), be);
    free(be);
    free(mac);
}

static void vbd_row(struct xs_client *xs, const char *dir, const char *dev)
{
    char *be = xs_text(xs, dir, dev, "backend");
    printf("%-5s %-3ld %-6s %-5ld %-6ld %-8ld %-30s\n", dev, fe_num(xs, dir, dev, "backend-id"),
           dev, fe_num(xs, dir, dev, "state"), fe_num(xs, dir, dev, "event-channel"),
           fe_num(xs, dir, dev, "ring-ref"), be);
    free(be);
}

static int device_list(const char *cmd, const char *kind, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage(cmd, argc == 2 && !strcmp(argv[1], "-h"));
    struct json_object *rep, *arr = ts_list(argv[1], &rep);
    if (!arr)
        return 1;
    long long domid = jl_int(json_object_array_get_idx(arr, 0), "domid", 0);
    json_object_put(rep);
    struct xs_client *xs = xs_connect(cmd);
    if (!xs)
        return 1;
    bool vbd = !strcmp(kind, "vbd");
    if (vbd)
        printf("%-5s %-3s %-6s %-5s %-6s %-8s %-30s\n", "Vdev", "BE", "handle", "state", "evt-ch",
               "ring-ref", "BE-path");
    else
        printf("%-3s %-2s %-17s %-6s %-5s %-6s %5s/%-5s %-30s\n", "Idx", "BE", "Mac Addr.",
               "handle", "state", "evt-ch", "tx-", "rx-ring-ref", "BE-path");
    char dir[128];
    snprintf(dir, sizeof(dir), "/local/domain/%lld/device/%s", domid, kind);
    char **names = NULL;
    unsigned n = 0;
    xs_directory(xs, 0, dir, &names, &n);
    if (n)
        qsort(names, n, sizeof(*names), by_number);
    for (unsigned i = 0; i < n; i++) {
        if (vbd)
            vbd_row(xs, dir, names[i]);
        else
            vif_row(xs, dir, names[i]);
    }
    free(names);
    xs_close(xs);
    return 0;
}

int cmd_block_list(int argc, char **argv) { return device_list("block-list", "vbd", argc, argv); }
int cmd_network_list(int argc, char **argv) { return device_list("network-list", "vif", argc, argv); }
