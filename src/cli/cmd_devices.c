/* block-attach/detach/list, network-attach/detach/list: argument handling
 * and xl's output around src/cli/devices.c. */
#include "cli/cli.h"
#include "cli/devices.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include <getopt.h>
#include <stdio.h>
#include <string.h>

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
    char spec[1024];
    if (!join_spec("network-attach", argv + 2, argc - 2, spec, sizeof(spec)))
        return 1;
    struct cfg_diag d = { 0 };
    int rc = dev_check_vif(spec, &d);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "xenkvm: %s\n", d.msgs[i].text);
    diag_free(&d);
    if (rc < 0)
        return 1;
    struct json_object *req = ts_req("network-attach", argv[1]);
    json_object_object_add(req, "spec", json_object_new_string(spec));
    return ts_simple(req);
}

/* block-detach [-f] DOM VDEV, network-detach [-f] DOM DEVID|MAC. */
static int detach(const char *cmd, int argc, char **argv)
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
    char err[1024];
    if (dev_detach(cmd, argv[optind], argv[optind + 1], force, err, sizeof(err)) == 0)
        return 0;
    log_err("%s", err);
    return 1;
}

int cmd_block_detach(int argc, char **argv) { return detach("block-detach", argc, argv); }
int cmd_network_detach(int argc, char **argv) { return detach("network-detach", argc, argv); }

static void vif_row(struct json_object *r)
{
    /* xl: "%-3d %-2d " MAC "%6d %5d %6d %5d/%-11d %-30s\n" */
    printf("%-3lld %-2lld %-17s%6lld %5lld %6lld %5lld/%-11lld %-30s\n", jl_int(r, "idx", -1),
           jl_int(r, "be", -1), jl_str(r, "mac", ""), jl_int(r, "handle", -1),
           jl_int(r, "state", -1), jl_int(r, "evt_ch", -1), jl_int(r, "tx_ring_ref", -1),
           jl_int(r, "rx_ring_ref", -1), jl_str(r, "be_path", ""));
}

static void vbd_row(struct json_object *r)
{
    printf("%-5s %-3lld %-6s %-5lld %-6lld %-8lld %-30s\n", jl_str(r, "vdev", ""),
           jl_int(r, "be", -1), jl_str(r, "handle", ""), jl_int(r, "state", -1),
           jl_int(r, "evt_ch", -1), jl_int(r, "ring_ref", -1), jl_str(r, "be_path", ""));
}

static int device_list(const char *cmd, const char *kind, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage(cmd, argc == 2 && !strcmp(argv[1], "-h"));
    char err[1024];
    struct json_object *rows = dev_list(cmd, kind, argv[1], err, sizeof(err));
    if (!rows) {
        log_err("%s", err);
        return 1;
    }
    bool vbd = !strcmp(kind, "vbd");
    if (vbd)
        printf("%-5s %-3s %-6s %-5s %-6s %-8s %-30s\n", "Vdev", "BE", "handle", "state", "evt-ch",
               "ring-ref", "BE-path");
    else
        printf("%-3s %-2s %-17s %-6s %-5s %-6s %5s/%-5s %-30s\n", "Idx", "BE", "Mac Addr.",
               "handle", "state", "evt-ch", "tx-", "rx-ring-ref", "BE-path");
    for (size_t i = 0; i < json_object_array_length(rows); i++)
        (vbd ? vbd_row : vif_row)(json_object_array_get_idx(rows, i));
    json_object_put(rows);
    return 0;
}

int cmd_block_list(int argc, char **argv) { return device_list("block-list", "vbd", argc, argv); }
int cmd_network_list(int argc, char **argv) { return device_list("network-list", "vif", argc, argv); }
