/* save, restore and dump-core (xl's), over the registry and the domain
 * process (docs/save-restore.md). */
#include "cli/cli.h"
#include "cli/cfgload.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include "vmm/snapshot_file.h"
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The file as an absolute path (the domain process and the daemon have
 * their own working directories); its directory must exist. */
static char *absolute(const char *file)
{
    char *a = strdup(file), *b = strdup(file), dir[PATH_MAX], *out = NULL;
    if (a && b && realpath(dirname(a), dir)) {
        const char *base = basename(b);
        if (asprintf(&out, "%s/%s", strcmp(dir, "/") ? dir : "", base) < 0)
            out = NULL;
    } else
        log_err("%s: %s", file, strerror(errno ? errno : ENOMEM));
    free(a);
    free(b);
    return out;
}

int cmd_save(int argc, char **argv)
{
    bool keep = false, paused = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "cph")) != -1) {
        if (c == 'c')
            keep = true;
        else if (c == 'p')
            paused = true;
        else
            return cli_usage("save", c == 'h');
    }
    if (argc - optind < 2 || argc - optind > 3)
        return cli_usage("save", false);
    const char *dom = argv[optind], *file = argv[optind + 1];
    struct json_object *cfg = NULL;
    if (argc - optind == 3) {
        fprintf(stderr, "Parsing config from %s\n", cfg_display_name(argv[optind + 2]));
        if (!(cfg = cfg_load(argv[optind + 2], NULL, 0)))
            return 1;
    }
    char *path = absolute(file);
    if (!path) {
        json_object_put(cfg);
        return 1;
    }
    struct json_object *req = ts_req("save", dom);
    json_object_object_add(req, "file", json_object_new_string(path));
    json_object_object_add(req, "keep", json_object_new_boolean(keep));
    json_object_object_add(req, "paused", json_object_new_boolean(paused));
    if (cfg)
        json_object_object_add(req, "config", cfg);
    fprintf(stderr, "Saving to %s new xl format\n", file);
    free(path);
    struct json_object *rep = ts_call(req);
    if (!rep)
        return 1;
    fprintf(stderr, "Domain %s saved (%lld ms)%s\n", dom, jl_int(rep, "ms", 0),
            keep ? (paused ? "; left paused" : "; still running") : "");
    json_object_put(rep);
    return 0;
}

int cmd_restore(int argc, char **argv)
{
    bool console = false, paused = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "cpedVh")) != -1) {
        switch (c) {
        case 'c': console = true; break;
        case 'p': paused = true; break;
        case 'e': case 'd': case 'V': break;   /* xl's; nothing waits here anyway */
        default: return cli_usage("restore", c == 'h');
        }
    }
    if (argc - optind < 1 || argc - optind > 2)
        return cli_usage("restore", false);
    const char *file = argv[optind];
    char err[512];
    char *path = absolute(file);
    if (!path)
        return 1;
    fprintf(stderr, "Loading new save file %s (new xl fmt)\n", file);
    /* Every record is checked before anything is created. */
    char *saved = snap_verify(path, err, sizeof(err));
    if (!saved) {
        log_err("%s", err);
        free(path);
        return 1;
    }
    struct json_object *cfg;
    if (argc - optind == 2) {
        fprintf(stderr, "Parsing config from %s\n", cfg_display_name(argv[optind + 1]));
        cfg = cfg_load(argv[optind + 1], NULL, 0);
    } else {
        fprintf(stderr, " Savefile contains xl domain config in JSON format\n"
                        "Parsing config from <saved>\n");
        cfg = json_tokener_parse(saved);
        if (!cfg || !json_object_is_type(cfg, json_type_object)) {
            log_err("%s: corrupt: the saved domain config is not a JSON object", file);
            json_object_put(cfg);
            cfg = NULL;
        }
    }
    free(saved);
    if (!cfg) {
        free(path);
        return 1;
    }
    struct json_object *req = ts_req("create", NULL);
    json_object_object_add(req, "config", cfg);
    json_object_object_add(req, "paused", json_object_new_boolean(paused));
    json_object_object_add(req, "restore", json_object_new_string(path));
    free(path);
    struct json_object *rep = ts_call(req);
    if (!rep)
        return 1;
    long long domid = jl_int(rep, "domid", 0);
    fprintf(stderr, "Domain %lld (%s) restored%s\n", domid, jl_str(rep, "name", ""),
            paused ? ", paused" : "");
    json_object_put(rep);
    return console ? console_attach(domid) : 0;
}

int cmd_dump_core(int argc, char **argv)
{
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "h")) != -1)
        return cli_usage("dump-core", c == 'h');
    if (argc - optind != 2)
        return cli_usage("dump-core", false);
    char *path = absolute(argv[optind + 1]);
    if (!path)
        return 1;
    struct json_object *req = ts_req("dump-core", argv[optind]);
    json_object_object_add(req, "file", json_object_new_string(path));
    free(path);
    return ts_simple(req);
}
