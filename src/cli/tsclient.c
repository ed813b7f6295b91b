/* Talking to xenkvmd; starting it when it is not running. */
#include "cli/tsclient.h"
#include "common/log.h"
#include "toolstack/daemon.h"
#include "toolstack/jsonline.h"
#include "toolstack/paths.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CALL_TIMEOUT_MS 60000

struct json_object *ts_call_err(struct json_object *req, char *err, size_t errlen)
{
    return ts_call_wait(req, CALL_TIMEOUT_MS, err, errlen);
}

struct json_object *ts_call_wait(struct json_object *req, int timeout_ms, char *err,
                                 size_t errlen)
{
    char sock[4096];
    if (!ts_path(sock, sizeof(sock), "%s/xenkvmd.sock", ts_rundir())) {
        snprintf(err, errlen, "%s: path too long", ts_rundir());
        json_object_put(req);
        return NULL;
    }
    int fd = jl_connect(sock);
    if (fd == -ENOENT || fd == -ECONNREFUSED) {
        if (ts_start_daemon(err, errlen) < 0) {
            json_object_put(req);
            return NULL;
        }
        fd = jl_connect(sock);
    }
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s%s", sock, strerror(-fd),
                 fd == -EACCES ? " (xenkvm needs root)" : "");
        json_object_put(req);
        return NULL;
    }
    int rc = jl_send(fd, req);
    json_object_put(req);
    struct json_object *rep = rc < 0 ? NULL : jl_recv(fd, timeout_ms);
    if (!rep)
        snprintf(err, errlen, "xenkvmd: no reply: %s", rc < 0 ? strerror(-rc) :
                 errno == ECONNRESET ? "connection closed" : strerror(errno));
    close(fd);
    if (!rep)
        return NULL;
    const char *why;
    if (!jl_reply_ok(rep, &why)) {
        snprintf(err, errlen, "%s", why);
        json_object_put(rep);
        return NULL;
    }
    return rep;
}

void (*ts_report)(const char *msg);

static void report(const char *msg)
{
    if (ts_report)
        ts_report(msg);
    else
        log_err("%s", msg);
}

struct json_object *ts_call(struct json_object *req)
{
    char err[1024];
    struct json_object *rep = ts_call_err(req, err, sizeof(err));
    if (!rep)
        report(err);
    return rep;
}

struct json_object *ts_req(const char *op, const char *dom)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "op", json_object_new_string(op));
    if (dom)
        json_object_object_add(o, "dom", json_object_new_string(dom));
    return o;
}

int ts_simple(struct json_object *req)
{
    struct json_object *rep = ts_call(req);
    json_object_put(rep);
    return rep ? 0 : 1;
}

struct json_object *ts_list_err(const char *dom, struct json_object **reply, char *err,
                                size_t errlen)
{
    *reply = ts_call_err(ts_req("list", dom), err, errlen);
    struct json_object *arr;
    if (!*reply)
        return NULL;
    if (!json_object_object_get_ex(*reply, "domains", &arr)) {
        snprintf(err, errlen, "xenkvmd: a list reply without domains");
        json_object_put(*reply);
        *reply = NULL;
        return NULL;
    }
    if (dom && !json_object_array_length(arr)) {
        snprintf(err, errlen, "domain '%s' does not exist", dom);
        json_object_put(*reply);
        *reply = NULL;
        return NULL;
    }
    return arr;
}

struct json_object *ts_list(const char *dom, struct json_object **reply)
{
    char err[1024];
    struct json_object *arr = ts_list_err(dom, reply, err, sizeof(err));
    if (!arr)
        report(err);
    return arr;
}

bool ts_is_dom0(const char *dom)
{
    return dom && (!strcmp(dom, "0") || !strcmp(dom, "Domain-0"));
}

bool ts_destroy_refused(const char *dom, char *err, size_t errlen)
{
    if (!ts_is_dom0(dom))
        return false;
    snprintf(err, errlen, "not destroying domain 0: it is the host");
    return true;
}

int ts_console_open(long long domid, char *err, size_t errlen)
{
    char sock[4096];
    if (!ts_path(sock, sizeof(sock), "%s/dom-%lld.sock", ts_rundir(), domid)) {
        snprintf(err, errlen, "domain %lld: no console: path too long", domid);
        return -1;
    }
    int fd = jl_connect(sock);
    struct json_object *req = json_object_new_object(), *rep = NULL;
    json_object_object_add(req, "op", json_object_new_string("console"));
    if (fd >= 0 && jl_send(fd, req) == 0)
        rep = jl_recv(fd, 5000);
    json_object_put(req);
    const char *why = NULL;
    if (!rep || !jl_reply_ok(rep, &why)) {
        snprintf(err, errlen, "domain %lld: no console: %s", domid,
                 why ? why : fd < 0 ? strerror(-fd) : strerror(errno));
        json_object_put(rep);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    json_object_put(rep);
    return fd;
}

long long ts_vcpus_online(struct json_object *d)
{
    struct json_object *vs, *cfg = NULL;
    long long n = 0;
    if (json_object_object_get_ex(d, "vcpus", &vs) && json_object_is_type(vs, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(vs); i++)
            n += jl_bool(json_object_array_get_idx(vs, i), "online", false);
        return n;
    }
    json_object_object_get_ex(d, "config", &cfg);
    return jl_int(cfg, "vcpus", 1);
}
