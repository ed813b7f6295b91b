/* destroy, shutdown, reboot, pause, unpause, rename, mem-set, mem-max, sysrq. */
#include "cli/cli.h"
#include "cli/domview.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One domain argument and no options (but -h). */
static const char *one_dom(const char *cmd, int argc, char **argv, int nargs)
{
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "h")) != -1) {
        cli_usage(cmd, c == 'h');
        return NULL;
    }
    if (argc - optind != nargs) {
        cli_usage(cmd, false);
        return NULL;
    }
    return argv[optind];
}

int cmd_destroy(int argc, char **argv)
{
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "fh")) != -1)
        if (c != 'f')
            return cli_usage("destroy", c == 'h');
    if (argc - optind != 1)
        return cli_usage("destroy", false);
    const char *dom = argv[optind];
    char err[128];
    if (ts_destroy_refused(dom, err, sizeof(err))) {
        log_err("%s", err);
        return 1;
    }
    return ts_simple(ts_req("destroy", dom));
}

int cmd_pause(int argc, char **argv)
{
    const char *dom = one_dom("pause", argc, argv, 1);
    return dom ? ts_simple(ts_req("pause", dom)) : 1;
}

int cmd_unpause(int argc, char **argv)
{
    const char *dom = one_dom("unpause", argc, argv, 1);
    return dom ? ts_simple(ts_req("unpause", dom)) : 1;
}

int cmd_rename(int argc, char **argv)
{
    const char *dom = one_dom("rename", argc, argv, 2);
    if (!dom)
        return 1;
    struct json_object *req = ts_req("rename", dom);
    json_object_object_add(req, "name", json_object_new_string(argv[optind + 1]));
    return ts_simple(req);
}

int cmd_sysrq(int argc, char **argv)
{
    const char *dom = one_dom("sysrq", argc, argv, 2);
    if (!dom)
        return 1;
    struct json_object *req = ts_req("sysrq", dom);
    json_object_object_add(req, "key", json_object_new_string(argv[optind + 1]));
    return ts_simple(req);
}

static int mem_cmd(const char *cmd, int argc, char **argv)
{
    const char *dom = one_dom(cmd, argc, argv, 2);
    if (!dom)
        return 1;
    char err[256];
    long long kib = domview_mem_kib(cmd, argv[optind + 1], err, sizeof(err));
    if (kib < 0) {
        log_err("%s", err);
        return 1;
    }
    struct json_object *req = ts_req(cmd, dom);
    json_object_object_add(req, "kib", json_object_new_int64(kib));
    return ts_simple(req);
}

int cmd_mem_set(int argc, char **argv) { return mem_cmd("mem-set", argc, argv); }
int cmd_mem_max(int argc, char **argv) { return mem_cmd("mem-max", argc, argv); }

/* Waits until each domid is gone or shut down (preserved). */
static int wait_domains(long long *ids, int n)
{
    fprintf(stderr, "Waiting for %d domains\n", n);
    int left = n;
    while (left) {
        usleep(200 * 1000);
        struct json_object *rep, *arr = ts_list(NULL, &rep);
        if (!arr)
            return 1;
        for (int i = 0; i < n; i++) {
            if (ids[i] < 0)
                continue;
            struct json_object *found = NULL;
            for (size_t j = 0; j < json_object_array_length(arr); j++)
                if (jl_int(json_object_array_get_idx(arr, j), "domid", -1) == ids[i])
                    found = json_object_array_get_idx(arr, j);
            if (found && jl_str(found, "state", "------")[3] != 's')
                continue;
            if (found)
                fprintf(stderr, "Domain %lld has been shut down, reason code %lld\n", ids[i],
                        jl_int(found, "reason", 0));
            else
                fprintf(stderr, "Domain %lld has been destroyed\n", ids[i]);
            ids[i] = -1;
            left--;
        }
        json_object_put(rep);
    }
    if (n > 1)
        fprintf(stderr, "All domains have been shut down\n");
    return 0;
}

static int shutdown_or_reboot(const char *cmd, int argc, char **argv)
{
    bool wait = false, all = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "awFh")) != -1) {
        if (c == 'a')
            all = true;
        else if (c == 'w')
            wait = true;
        else if (c != 'F')   /* no ACPI fallback needed: the PV path is always there */
            return cli_usage(cmd, c == 'h');
    }
    if ((!all && argc - optind != 1) || (all && argc != optind)) {
        if (!all && argc == optind)
            log_err("%s: you must specify -a or a domain", cmd);
        return cli_usage(cmd, false);
    }
    struct json_object *rep, *arr = ts_list(all ? NULL : argv[optind], &rep);
    if (!arr)
        return 1;
    size_t n = json_object_array_length(arr);
    long long *ids = calloc(n + 1, sizeof(*ids));
    int nids = 0, status = 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *d = json_object_array_get_idx(arr, i);
        if (jl_str(d, "state", "------")[3] == 's')
            continue;   /* already shut down */
        long long id = jl_int(d, "domid", 0);
        fprintf(stderr, "%s domain %lld\n", !strcmp(cmd, "reboot") ? "Rebooting" : "Shutting down", id);
        char dom[24];
        snprintf(dom, sizeof(dom), "%lld", id);
        if (ts_simple(ts_req(cmd, dom)))
            status = 1;
        else
            ids[nids++] = id;
    }
    json_object_put(rep);
    if (wait && nids && !status)
        status = wait_domains(ids, nids);
    free(ids);
    return status;
}

int cmd_shutdown(int argc, char **argv) { return shutdown_or_reboot("shutdown", argc, argv); }
int cmd_reboot(int argc, char **argv) { return shutdown_or_reboot("reboot", argc, argv); }
