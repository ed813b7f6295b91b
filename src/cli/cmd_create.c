/* create, and the stored configs: define, undefine, start, autostart,
 * list-defined. */
#include "cli/cli.h"
#include "cli/cfgload.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* -F: stays until no domain of that name is left (restarts included). */
static int follow(const char *name)
{
    for (;;) {
        sleep(1);
        struct json_object *rep, *arr = ts_list(NULL, &rep);
        if (!arr)
            return 1;
        bool there = false;
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            struct json_object *d = json_object_array_get_idx(arr, i);
            there |= !strcmp(jl_str(d, "name", ""), name) && jl_str(d, "state", "---")[3] != 's';
        }
        json_object_put(rep);
        if (!there)
            return 0;
    }
}

/* After create/start: -c attaches the console, -F follows. */
static int after_start(struct json_object *rep, bool console, bool foreground)
{
    long long domid = jl_int(rep, "domid", 0);
    char name[64];
    snprintf(name, sizeof(name), "%s", jl_str(rep, "name", ""));
    json_object_put(rep);
    if (console)
        return console_attach(domid);
    return foreground ? follow(name) : 0;
}

int cmd_create(int argc, char **argv)
{
    bool console = false, paused = false, foreground = false, dryrun = false, quiet = false;
    const char *file = NULL;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "cpFnqef:dVh")) != -1) {
        switch (c) {
        case 'c': console = true; break;
        case 'p': paused = true; break;
        case 'F': foreground = true; break;
        case 'n': dryrun = true; break;
        case 'q': quiet = true; break;
        case 'f': file = optarg; break;
        case 'e': case 'd': case 'V': break;    /* xl's, with no meaning here */
        default: return cli_usage("create", c == 'h');
        }
    }
    if (!file) {
        if (optind >= argc || strchr(argv[optind], '='))
            return cli_usage("create", false);
        file = argv[optind++];
    }
    if (!quiet)
        fprintf(stderr, "Parsing config from %s\n", cfg_display_name(file));
    struct json_object *cfg = cfg_load(file, argv + optind, argc - optind);
    if (!cfg)
        return 1;
    if (dryrun) {
        puts(json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(cfg);
        return 0;
    }
    struct json_object *req = ts_req("create", NULL);
    json_object_object_add(req, "config", cfg);
    json_object_object_add(req, "paused", json_object_new_boolean(paused));
    struct json_object *rep = ts_call(req);
    return rep ? after_start(rep, console, foreground) : 1;
}

int cmd_define(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return cli_usage("define", argc >= 2 && !strcmp(argv[1], "-h"));
    struct json_object *cfg = cfg_load(argv[1], argv + 2, argc - 2);
    if (!cfg)
        return 1;
    struct json_object *req = ts_req("define", NULL);
    json_object_object_add(req, "config", cfg);
    return ts_simple(req);
}

static struct json_object *name_req(const char *op, const char *name)
{
    struct json_object *req = ts_req(op, NULL);
    json_object_object_add(req, "name", json_object_new_string(name));
    return req;
}

int cmd_undefine(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage("undefine", argc == 2 && !strcmp(argv[1], "-h"));
    return ts_simple(name_req("undefine", argv[1]));
}

int cmd_start(int argc, char **argv)
{
    bool console = false, paused = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "cph")) != -1) {
        if (c == 'c')
            console = true;
        else if (c == 'p')
            paused = true;
        else
            return cli_usage("start", c == 'h');
    }
    if (argc - optind != 1)
        return cli_usage("start", false);
    struct json_object *req = name_req("start", argv[optind]);
    json_object_object_add(req, "paused", json_object_new_boolean(paused));
    struct json_object *rep = ts_call(req);
    return rep ? after_start(rep, console, false) : 1;
}

int cmd_autostart(int argc, char **argv)
{
    bool disable = argc == 3 && (!strcmp(argv[2], "--disable") || !strcmp(argv[2], "-d"));
    if ((argc != 2 && !disable) || argv[1][0] == '-')
        return cli_usage("autostart", argc >= 2 && !strcmp(argv[1], "-h"));
    struct json_object *req = name_req("autostart", argv[1]);
    json_object_object_add(req, "enable", json_object_new_boolean(!disable));
    return ts_simple(req);
}

int cmd_list_defined(int argc, char **argv)
{
    if (argc != 1)
        return cli_usage("list-defined", !strcmp(argv[1], "-h"));
    struct json_object *rep = ts_call(ts_req("list-defined", NULL)), *arr;
    if (!rep || !json_object_object_get_ex(rep, "defined", &arr)) {
        json_object_put(rep);
        return 1;
    }
    printf("%-40s %s\n", "Name", "Autostart");
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *d = json_object_array_get_idx(arr, i);
        printf("%-40s %s\n", jl_str(d, "name", ""), jl_bool(d, "autostart", false) ? "yes" : "no");
    }
    json_object_put(rep);
    return 0;
}
