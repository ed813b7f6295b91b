/* block-attach/detach/list, network-attach/detach/list. Disks come from the
 * config (blkback in the domain process) and block-attach hot-plugs more;
 * block-detach and network devices are not there yet. block-list reads the
 * vbd nodes in xenstore. */
#include "cli/cli.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include "toolstack/paths.h"
#include "xenstore/client.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int not_yet(const char *cmd, int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "-h"))
        return cli_usage(cmd, true);
    log_err("%s: not supported yet: devices come from the domain's config at create time", cmd);
    return 1;
}

/* xl's form: the spec may come in several arguments, joined with commas. */
int cmd_block_attach(int argc, char **argv)
{
    if (argc < 3 || argv[1][0] == '-')
        return cli_usage("block-attach", argc > 1 && !strcmp(argv[1], "-h"));
    char spec[1024] = "";
    for (int i = 2; i < argc; i++) {
        if (strlen(spec) + strlen(argv[i]) + 2 > sizeof(spec)) {
            log_err("block-attach: disk spec too long");
            return 1;
        }
        if (i > 2)
            strcat(spec, ",");
        strcat(spec, argv[i]);
    }
    struct json_object *req = ts_req("block-attach", argv[1]);
    json_object_object_add(req, "spec", json_object_new_string(spec));
    return ts_simple(req);
}
int cmd_block_detach(int argc, char **argv) { return not_yet("block-detach", argc, argv); }
int cmd_network_attach(int argc, char **argv) { return not_yet("network-attach", argc, argv); }
int cmd_network_detach(int argc, char **argv) { return not_yet("network-detach", argc, argv); }

static long xs_num(struct xs_client *xs, const char *path)
{
    char *v = NULL;
    size_t len;
    long n = xs_read(xs, 0, path, &v, &len) == 0 ? strtol(v, NULL, 10) : -1;
    free(v);
    return n;
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
    char sock[4096], dir[128], p[256];
    if (!ts_path(sock, sizeof(sock), "%s/xenstored.sock", ts_rundir()))
        return 1;
    struct xs_client *xs = xs_open(sock);
    if (!xs) {
        log_err("%s: cannot reach xenstore at %s", cmd, sock);
        return 1;
    }
    if (!strcmp(kind, "vbd"))
        printf("%-5s %-3s %-6s %-5s %-6s %-8s %-30s\n", "Vdev", "BE", "handle", "state", "evt-ch",
               "ring-ref", "BE-path");
    else
        printf("%-3s %-2s %-17s %-6s %-5s %-6s %5s/%-5s %-30s\n", "Idx", "BE", "Mac Addr.",
               "handle", "state", "evt-ch", "tx-", "rx-ring-ref", "BE-path");
    snprintf(dir, sizeof(dir), "/local/domain/%lld/device/%s", domid, kind);
    char **names = NULL;
    unsigned n = 0;
    xs_directory(xs, 0, dir, &names, &n);
    for (unsigned i = 0; i < n; i++) {
        char *be = NULL;
        size_t len;
        snprintf(p, sizeof(p), "%s/%s/backend", dir, names[i]);
        xs_read(xs, 0, p, &be, &len);
        snprintf(p, sizeof(p), "%s/%s/backend-id", dir, names[i]);
        long beid = xs_num(xs, p);
        snprintf(p, sizeof(p), "%s/%s/state", dir, names[i]);
        long state = xs_num(xs, p);
        snprintf(p, sizeof(p), "%s/%s/event-channel", dir, names[i]);
        long evtch = xs_num(xs, p);
        snprintf(p, sizeof(p), "%s/%s/ring-ref", dir, names[i]);
        long ring = xs_num(xs, p);
        if (!strcmp(kind, "vbd"))
            printf("%-5s %-3ld %-6s %-5ld %-6ld %-8ld %-30s\n", names[i], beid, names[i], state,
                   evtch, ring, be ? be : "");
        free(be);
    }
    free(names);
    xs_close(xs);
    return 0;
}

int cmd_block_list(int argc, char **argv) { return device_list("block-list", "vbd", argc, argv); }
int cmd_network_list(int argc, char **argv) { return device_list("network-list", "vif", argc, argv); }
