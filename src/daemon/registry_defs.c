/* Defined domains (configs kept for `xenkvm start`) and the autostart list:
 *   <statedir>/domains/<name>.json   the config, as `create` sends it
 *   <statedir>/autostart              one name a line */
#include "daemon/registry.h"
#include "toolstack/jsonline.h"
#include "toolstack/paths.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *def_path(char *buf, size_t size, const char *name)
{
    int n = snprintf(buf, size, "%s/domains/%s.json", ts_statedir(), name);
    return n > 0 && (size_t)n < size ? buf : NULL;
}

/* Reads the autostart list into names (at most max); returns the count. */
static int autostart_read(char names[][64], int max)
{
    char path[512], line[256];
    snprintf(path, sizeof(path), "%s/autostart", ts_statedir());
    FILE *f = fopen(path, "re");
    int n = 0;
    while (f && n < max && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (*line && *line != '#' && strlen(line) < 64)
            strcpy(names[n++], line);
    }
    if (f)
        fclose(f);
    return n;
}

static int autostart_write(char names[][64], int n)
{
    char path[512], tmp[520];
    snprintf(path, sizeof(path), "%s/autostart", ts_statedir());
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "we");
    if (!f)
        return -errno;
    for (int i = 0; i < n; i++)
        fprintf(f, "%s\n", names[i]);
    if (fclose(f) || rename(tmp, path))
        return -errno;
    return 0;
}

static int autostart_set(const char *name, bool on)
{
    static char names[256][64];
    int n = autostart_read(names, 256), j = 0;
    bool found = false;
    for (int i = 0; i < n; i++) {
        if (!strcmp(names[i], name)) {
            found = true;
            if (!on)
                continue;
        }
        memmove(names[j++], names[i], 64);
    }
    if (on && !found && j < 256)
        snprintf(names[j++], 64, "%s", name);
    return autostart_write(names, j);
}

static bool autostart_has(const char *name)
{
    static char names[256][64];
    int n = autostart_read(names, 256);
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return true;
    return false;
}

static struct json_object *op_define(struct json_object *req)
{
    struct json_object *cfg;
    if (!json_object_object_get_ex(req, "config", &cfg) || !json_object_is_type(cfg, json_type_object))
        return jl_error("define: no config");
    const char *name = jl_str(cfg, "name", NULL), *bad;
    if (!name)
        return jl_error("the config has no name");
    if ((bad = reg_check_name(name)))
        return jl_error("domain name '%s' %s", name, bad);
    char dir[512], path[512];
    snprintf(dir, sizeof(dir), "%s/domains", ts_statedir());
    int rc = ts_mkdirs(dir, 0700);
    if (rc)
        return jl_error("%s: %s", dir, strerror(-rc));
    if (!def_path(path, sizeof(path), name) ||
        json_object_to_file_ext(path, cfg, JSON_C_TO_STRING_PRETTY) < 0)
        return jl_error("cannot write %s", path);
    reg_log("domain %s defined", name);
    return jl_ok();
}

static struct json_object *load_def(const char *name, struct json_object **cfg)
{
    char path[512];
    if (!def_path(path, sizeof(path), name) || access(path, F_OK))
        return jl_error("domain '%s' is not defined", name);
    *cfg = json_object_from_file(path);
    if (!*cfg || !json_object_is_type(*cfg, json_type_object)) {
        json_object_put(*cfg);
        return jl_error("%s: unreadable", path);
    }
    return NULL;
}

static struct json_object *op_list_defined(void)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/domains", ts_statedir());
    struct json_object *rep = jl_ok(), *arr = json_object_new_array();
    DIR *dh = opendir(dir);
    struct dirent *e;
    while (dh && (e = readdir(dh))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json"))
            continue;
        char name[256];
        snprintf(name, sizeof(name), "%.*s", (int)(n - 5), e->d_name);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "autostart", json_object_new_boolean(autostart_has(name)));
        json_object_array_add(arr, o);
    }
    if (dh)
        closedir(dh);
    json_object_object_add(rep, "defined", arr);
    return rep;
}

struct json_object *reg_defs_handle(struct registry *r, const char *op, struct json_object *req)
{
    const char *name = jl_str(req, "name", "");
    struct json_object *cfg = NULL, *e;
    if (!strcmp(op, "define"))
        return op_define(req);
    if (!strcmp(op, "list-defined"))
        return op_list_defined();
    if (!strcmp(op, "undefine")) {
        char path[512];
        if ((e = load_def(name, &cfg)))
            return e;
        json_object_put(cfg);
        def_path(path, sizeof(path), name);
        unlink(path);
        autostart_set(name, false);
        reg_log("domain %s undefined", name);
        return jl_ok();
    }
    if (!strcmp(op, "start")) {
        if ((e = load_def(name, &cfg)))
            return e;
        char err[1024];
        struct dom *d = reg_spawn_for(r, cfg, jl_bool(req, "paused", false), NULL, r->client,
                                      err, sizeof(err));
        json_object_put(cfg);
        if (!d)
            return jl_error("%s", err);
        if (d->starting) {
            r->client = -1;  /* the reply goes when the process is ready */
            return NULL;
        }
        return reg_created_reply(d);
    }
    if (!strcmp(op, "autostart")) {
        if ((e = load_def(name, &cfg)))
            return e;
        json_object_put(cfg);
        int rc = autostart_set(name, jl_bool(req, "enable", true));
        return rc ? jl_error("%s/autostart: %s", ts_statedir(), strerror(-rc)) : jl_ok();
    }
    return NULL;
}

void reg_autostart(struct registry *r)
{
    char mark[512];
    snprintf(mark, sizeof(mark), "%s/autostart.done", r->o.rundir);
    if (access(mark, F_OK) == 0)
        return;     /* done once since boot (the run directory is a tmpfs) */
    FILE *f = fopen(mark, "we");
    if (f)
        fclose(f);
    static char names[256][64];
    int n = autostart_read(names, 256);
    for (int i = 0; i < n; i++) {
        if (reg_find_name(r, names[i]))
            continue;
        struct json_object *cfg = NULL, *e = load_def(names[i], &cfg);
        char err[1024];
        if (e) {
            reg_log("autostart %s: %s", names[i], jl_str(e, "error", "?"));
            json_object_put(e);
            continue;
        }
        struct dom *d = reg_spawn(r, cfg, false, NULL, err, sizeof(err));
        json_object_put(cfg);
        if (d)
            reg_log("autostart: %s started as domain %u", names[i], d->domid);
        else
            reg_log("autostart %s: %s", names[i], err);
    }
}
