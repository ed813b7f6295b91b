/* The API's routes over the CLI's client library. */
#include "web/api.h"
#include "cli/cfgload.h"
#include "cli/devices.h"
#include "cli/domview.h"
#include "cli/hostinfo.h"
#include "cli/tsclient.h"
#include "toolstack/jsonline.h"
#include "toolstack/paths.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DMESG_MAX (1 << 20)    /* the log's tail that GET /api/dmesg returns */
#define DOM_MAX 128

/* The POST actions on one domain. */
static const char *const actions[] = {
    "shutdown", "reboot", "destroy", "pause", "unpause", "mem-set", "mem-max",
    "block-attach", "block-detach", "network-attach", "network-detach",
};

static char *text_of(struct json_object *o)
{
    char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return s;
}

char *api_error_body(const char *msg)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_string(msg));
    return text_of(o);
}

static void reply(struct api_response *rs, int status, struct json_object *o)
{
    rs->status = status;
    rs->body = text_of(o);
}

/* An error from the client library: its status follows from what failed. */
static void fail(struct api_response *rs, const char *msg)
{
    int status = strstr(msg, "does not exist") ? 404
                 : !strncmp(msg, "xenkvmd", 7) || strstr(msg, "xenkvmd.sock") ? 503 : 400;
    rs->status = status;
    rs->body = api_error_body(msg);
}

static void ok(struct api_response *rs)
{
    reply(rs, 200, json_object_new_object());
}

/* A domain as the API lists it: list -l's element plus the figures the page
 * shows. */
static struct json_object *domain_json(struct json_object *d)
{
    struct json_object *o = domview_long(d);
    json_object_object_add(o, "name", json_object_new_string(jl_str(d, "name", "")));
    json_object_object_add(o, "state", json_object_new_string(jl_str(d, "state", "------")));
    json_object_object_add(o, "reason", json_object_new_int(jl_int(d, "reason", 0)));
    json_object_object_add(o, "memory_kib", json_object_new_int64(jl_int(d, "mem_kib", jl_int(d, "target_kib", 0))));
    json_object_object_add(o, "maxmem_kib", json_object_new_int64(jl_int(d, "maxmem_kib", 0)));
    json_object_object_add(o, "vcpus", json_object_new_int(jl_int(d, "vcpus_max", 1)));
    json_object_object_add(o, "cpu_time_ns", json_object_new_int64(jl_int(d, "cpu_time_ns", 0)));
    return o;
}

static void list(struct api_response *rs, const char *dom, bool top)
{
    char err[1024];
    struct json_object *rep, *arr = ts_list_err(dom, &rep, err, sizeof(err));
    if (!arr) {
        fail(rs, err);
        return;
    }
    struct json_object *out = json_object_new_array(), *o = json_object_new_object();
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *d = json_object_array_get_idx(arr, i);
        json_object_array_add(out, top ? domview_top(d) : domain_json(d));
    }
    json_object_put(rep);
    if (dom) {
        json_object_object_add(o, "domain", json_object_get(json_object_array_get_idx(out, 0)));
        json_object_put(out);
    } else {
        if (top) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            json_object_object_add(o, "time_ns",
                                   json_object_new_int64(t.tv_sec * 1000000000LL + t.tv_nsec));
        }
        json_object_object_add(o, "domains", out);
    }
    reply(rs, 200, o);
}

static void dmesg(struct api_response *rs, bool clear)
{
    char path[4096];
    if (!ts_path(path, sizeof(path), "%s/xenkvmd.log", ts_logdir())) {
        fail(rs, "the log's path is too long");
        return;
    }
    struct json_object *o = json_object_new_object();
    int fd = open(path, (clear ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT) {
        char err[4200];
        snprintf(err, sizeof(err), "%s: %s", path, strerror(errno));
        json_object_put(o);
        fail(rs, err);
        return;
    }
    struct stat st;
    off_t size = fd >= 0 && fstat(fd, &st) == 0 ? st.st_size : 0;
    off_t from = size > DMESG_MAX ? size - DMESG_MAX : 0;
    char *buf = malloc(size - from + 1);
    ssize_t n = fd >= 0 && buf ? pread(fd, buf, size - from, from) : 0;
    if (n < 0)
        n = 0;
    json_object_object_add(o, "log", json_object_new_string_len(buf ? buf : "", buf ? n : 0));
    json_object_object_add(o, "truncated", json_object_new_boolean(from > 0));
    free(buf);
    if (clear && fd >= 0 && ftruncate(fd, 0) < 0) {
        json_object_put(o);
        fail(rs, strerror(errno));
        close(fd);
        return;
    }
    if (fd >= 0)
        close(fd);
    reply(rs, 200, o);
}

/* The body as a JSON object (an empty body: {}), or NULL after a 400. */
static struct json_object *body_object(const struct api_request *rq, struct api_response *rs)
{
    if (!rq->body_len)
        return json_object_new_object();
    struct json_object *o = json_tokener_parse(rq->body);
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        fail(rs, "the request body is not a JSON object");
        return NULL;
    }
    return o;
}

static struct json_object *diag_list(const struct cfg_diag *d, bool warnings)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < d->n; i++)
        if (d->msgs[i].warning == warnings)
            json_object_array_add(a, json_object_new_string(d->msgs[i].text));
    return a;
}

/* POST /api/domains: a config (xl.cfg, xm or domain XML) as text/plain, or
 * {"config": TEXT, "name": FILE-NAME, "overrides": ["KEY=VALUE"...],
 *  "paused": bool}. */
static void create(const struct api_request *rq, struct api_response *rs)
{
    struct json_object *args = NULL, *ov;
    const char *text = rq->body, *name = "config";
    size_t len = rq->body_len;
    bool paused = false;
    char *overrides[64];
    int nov = 0;
    if (rq->body_is_json) {
        if (!(args = body_object(rq, rs)))
            return;
        text = jl_str(args, "config", NULL);
        name = jl_str(args, "name", "config");
        paused = jl_bool(args, "paused", false);
        if (!text) {
            json_object_put(args);
            fail(rs, "create: the body has no \"config\" (the config file's text)");
            return;
        }
        len = strlen(text);
        if (json_object_object_get_ex(args, "overrides", &ov) &&
            json_object_is_type(ov, json_type_array))
            for (size_t i = 0; i < json_object_array_length(ov) && nov < 64; i++)
                overrides[nov++] = (char *)json_object_get_string(json_object_array_get_idx(ov, i));
    }
    struct cfg_diag d = { 0 };
    struct json_object *cfg = len <= CFG_MAX
        ? cfg_parse(name, (const uint8_t *)text, len, overrides, nov, &d) : NULL;
    json_object_put(args);
    struct json_object *warnings = diag_list(&d, true);
    if (!cfg) {
        struct json_object *o = json_object_new_object();
        const char *first = len > CFG_MAX ? "create: the config is larger than 1 MiB"
                                          : diag_first_error(&d);
        json_object_object_add(o, "error", json_object_new_string(first ? first : "bad config"));
        json_object_object_add(o, "errors", diag_list(&d, false));
        json_object_object_add(o, "warnings", warnings);
        diag_free(&d);
        reply(rs, 400, o);
        return;
    }
    diag_free(&d);
    struct json_object *req = ts_req("create", NULL);
    json_object_object_add(req, "config", cfg);
    json_object_object_add(req, "paused", json_object_new_boolean(paused));
    char err[1024];
    struct json_object *rep = ts_call_err(req, err, sizeof(err));
    if (!rep) {
        json_object_put(warnings);
        fail(rs, err);
        return;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "domid", json_object_new_int64(jl_int(rep, "domid", 0)));
    json_object_object_add(o, "name", json_object_new_string(jl_str(rep, "name", "")));
    json_object_object_add(o, "warnings", warnings);
    json_object_put(rep);
    reply(rs, 201, o);
}

/* POST /api/domains/DOM/ACTION. */
static void action(const struct api_request *rq, struct api_response *rs, const char *dom,
                   const char *act)
{
    struct json_object *args = body_object(rq, rs), *req = NULL, *rep;
    if (!args)
        return;
    char err[1024];
    err[0] = 0;
    if (!strcmp(act, "destroy") && ts_destroy_refused(dom, err, sizeof(err))) {
    } else if (!strncmp(act, "mem-", 4)) {
        /* "size": xl's SIZE text, or a number of MiB. */
        struct json_object *sz;
        char text[64] = "";
        if (json_object_object_get_ex(args, "size", &sz))
            snprintf(text, sizeof(text), "%s", json_object_get_string(sz));
        long long kib = domview_mem_kib(act, text, err, sizeof(err));
        if (kib >= 0) {
            req = ts_req(act, dom);
            json_object_object_add(req, "kib", json_object_new_int64(kib));
        }
    } else if (!strcmp(act, "block-attach") || !strcmp(act, "network-attach")) {
        const char *spec = jl_str(args, "spec", "");
        struct cfg_diag d = { 0 };
        if (!strcmp(act, "network-attach") && dev_check_vif(spec, &d) < 0)
            snprintf(err, sizeof(err), "%s", diag_first_error(&d));
        else {
            req = ts_req(act, dom);
            json_object_object_add(req, "spec", json_object_new_string(spec));
        }
        diag_free(&d);
    } else if (!strcmp(act, "block-detach") || !strcmp(act, "network-detach")) {
        if (dev_detach(act, dom, jl_str(args, "id", ""), jl_bool(args, "force", false), err,
                       sizeof(err)) == 0)
            ok(rs);
    } else {
        req = ts_req(act, dom);
    }
    json_object_put(args);
    if (err[0]) {
        json_object_put(req);
        fail(rs, err);
        return;
    }
    if (!req)
        return;      /* answered above */
    if (!(rep = ts_call_err(req, err, sizeof(err)))) {
        fail(rs, err);
        return;
    }
    json_object_object_del(rep, "ok");
    reply(rs, 200, rep);
}

static void devices(struct api_response *rs, const char *dom, const char *kind)
{
    char err[1024];
    struct json_object *rows = dev_list(!strcmp(kind, "vbd") ? "block-list" : "network-list",
                                        kind, dom, err, sizeof(err));
    if (!rows) {
        fail(rs, err);
        return;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "devices", rows);
    reply(rs, 200, o);
}

static bool is_action(const char *s)
{
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (!strcmp(s, actions[i]))
            return true;
    return false;
}

/* Splits "/api/domains/DOM/REST" into dom and rest ("" when absent). */
static bool domain_path(const char *path, char dom[DOM_MAX], const char **rest)
{
    static const char prefix[] = "/api/domains/";
    if (strncmp(path, prefix, sizeof(prefix) - 1))
        return false;
    const char *p = path + sizeof(prefix) - 1, *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (!n || n >= DOM_MAX)
        return false;
    memcpy(dom, p, n);
    dom[n] = 0;
    *rest = slash ? slash + 1 : "";
    return true;
}

void api_handle(const struct api_request *rq, struct api_response *rs)
{
    const char *p = rq->path, *rest;
    char dom[DOM_MAX], msg[300];
    rs->status = 0;
    rs->body = NULL;
    if ((!strcmp(p, "/api/info") || !strcmp(p, "/api/top")) && rq->post) {
        snprintf(msg, sizeof(msg), "POST %s: use GET", p);
        rs->status = 405;
        rs->body = api_error_body(msg);
    } else if (!strcmp(p, "/api/info"))
        reply(rs, 200, hostinfo_xl_info());
    else if (!strcmp(p, "/api/domains"))
        rq->post ? create(rq, rs) : list(rs, NULL, false);
    else if (!strcmp(p, "/api/top"))
        list(rs, NULL, true);
    else if (!strcmp(p, "/api/dmesg")) {
        struct json_object *args = rq->post ? body_object(rq, rs) : NULL;
        if (!rq->post || args)
            dmesg(rs, jl_bool(args, "clear", false));
        json_object_put(args);
    } else if (domain_path(p, dom, &rest)) {
        if (!*rest && !rq->post)
            list(rs, dom, false);
        else if (!strcmp(rest, "block") && !rq->post)
            devices(rs, dom, "vbd");
        else if (!strcmp(rest, "network") && !rq->post)
            devices(rs, dom, "vif");
        else if (is_action(rest) && rq->post)
            action(rq, rs, dom, rest);
        else if (is_action(rest) || !*rest || !strcmp(rest, "block") || !strcmp(rest, "network")) {
            snprintf(msg, sizeof(msg), "%s %s: use %s", rq->post ? "POST" : "GET", p,
                     rq->post ? "GET" : "POST (it changes state)");
            rs->status = 405;
            rs->body = api_error_body(msg);
        }
    }
    if (!rs->status && !rs->body) {
        snprintf(msg, sizeof(msg), "%s %.200s: no such API call (see docs/api.md)",
                 rq->post ? "POST" : "GET", p);
        rs->status = 404;
        rs->body = api_error_body(msg);
    }
}
