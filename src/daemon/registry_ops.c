/* The registry's requests from the CLI (one JSON object each; see
 * docs/toolstack.md for the list). */
#include "daemon/registry.h"
#include "xenstore/client.h"
#include "toolstack/jsonline.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DOMCTL_TIMEOUT_MS 2000

struct json_object *reg_domctl(struct registry *r, struct dom *d, const char *op,
                               char *err, size_t errlen)
{
    struct json_object *req = json_object_new_object();
    json_object_object_add(req, "op", json_object_new_string(op));
    return reg_domctl_req(r, d, req, err, errlen);
}

struct json_object *reg_domctl_req(struct registry *r, struct dom *d, struct json_object *req,
                                   char *err, size_t errlen)
{
    char sock[512];
    if (d->pidfd < 0 || !reg_path(r, sock, sizeof(sock), d->domid, "sock")) {
        snprintf(err, errlen, "domain %u has no running process", d->domid);
        json_object_put(req);
        return NULL;
    }
    struct json_object *rep = jl_call(sock, req, DOMCTL_TIMEOUT_MS, err, errlen);
    json_object_put(req);
    return rep;
}

/* A write into the domain's xenstore directory, reconnecting once. */
static int dom_xs_write(struct registry *r, struct dom *d, const char *rel, const char *value)
{
    char path[256];
    snprintf(path, sizeof(path), "/local/domain/%u/%s", d->domid, rel);
    for (int attempt = 0; attempt < 2; attempt++) {
        struct xs_client *xs = reg_xs(r);
        if (!xs)
            return -errno;
        int rc = xs_write_str(xs, 0, path, value);
        if (rc != -EPIPE && rc != -ECONNRESET && rc != -EIO)
            return rc;
        xs_close(xs);
        r->xs = NULL;
    }
    return -EIO;
}

static const char *state_letters(struct dom *d, struct json_object *info)
{
    static const char reasons[] = "-rscwS";
    static char s[7];
    memcpy(s, "------", 7);
    if (d->starting) {       /* paused until its process is ready, as xl's incoming domain */
        s[2] = 'p';
        return s;
    }
    if (d->state == DOM_SHUTDOWN) {
        s[3] = 's';
        s[4] = d->reason >= 0 && d->reason < 6 ? reasons[d->reason] : '?';
        return s;
    }
    if (d->state == DOM_DYING || d->destroying) {
        s[5] = 'd';
        return s;
    }
    if (jl_bool(info, "paused", false)) {
        s[2] = 'p';
        return s;
    }
    struct json_object *vs;
    bool running = false;
    if (json_object_object_get_ex(info, "vcpus", &vs))
        for (size_t i = 0; i < json_object_array_length(vs); i++)
            running |= !strcmp(jl_str(json_object_array_get_idx(vs, i), "state", ""), "running");
    s[running ? 0 : 1] = running ? 'r' : 'b';
    return s;
}

static struct json_object *describe(struct registry *r, struct dom *d)
{
    struct json_object *o = json_object_new_object();
    char err[256];
    struct json_object *info = d->pidfd >= 0 ? reg_domctl(r, d, "info", err, sizeof(err)) : NULL;
    long long cpu = 0;
    struct json_object *vs = NULL;
    if (info && json_object_object_get_ex(info, "vcpus", &vs))
        for (size_t i = 0; i < json_object_array_length(vs); i++)
            cpu += jl_int(json_object_array_get_idx(vs, i), "time_ns", 0);
    json_object_object_add(o, "domid", json_object_new_int(d->domid));
    json_object_object_add(o, "name", json_object_new_string(d->name));
    json_object_object_add(o, "uuid", json_object_new_string(d->uuid));
    json_object_object_add(o, "pid", json_object_new_int(d->pid));
    json_object_object_add(o, "start_time", json_object_new_int64(d->start_time));
    json_object_object_add(o, "state", json_object_new_string(state_letters(d, info)));
    json_object_object_add(o, "reason", json_object_new_int(d->reason));
    json_object_object_add(o, "target_kib", json_object_new_int64(d->target_kib));
    /* What the guest holds now (its balloon driver follows the target), from
     * the domain process; the target when there is no process to ask. */
    json_object_object_add(o, "mem_kib", json_object_new_int64(
        info ? jl_int(info, "mem_kib", (long long)d->target_kib) : (long long)d->target_kib));
    json_object_object_add(o, "maxmem_kib", json_object_new_int64(d->maxmem_kib));
    json_object_object_add(o, "vcpus_max",
                           json_object_new_int(jl_int(d->config, "maxvcpus", jl_int(d->config, "vcpus", 1))));
    json_object_object_add(o, "weight", json_object_new_int(d->weight > 0 ? d->weight : 256));
    json_object_object_add(o, "cap", json_object_new_int(d->cap));
    reg_cg_stats(d, o);
    json_object_object_add(o, "cpu_time_ns", json_object_new_int64(cpu));
    if (vs)
        json_object_object_add(o, "vcpus", json_object_get(vs));
    struct json_object *devs, *stats;
    if (info && json_object_object_get_ex(info, "devices", &devs))
        json_object_object_add(o, "devices", json_object_get(devs));
    if (info && json_object_object_get_ex(info, "stats", &stats))
        json_object_object_add(o, "stats", json_object_get(stats));
    json_object_object_add(o, "config", json_object_get(d->config));
    json_object_put(info);
    return o;
}

static struct json_object *op_list(struct registry *r, struct json_object *req)
{
    const char *which = jl_str(req, "dom", NULL);
    struct json_object *rep = jl_ok(), *arr = json_object_new_array();
    /* Ascending domids, as xl lists them. */
    for (unsigned last = 0;;) {
        struct dom *next = NULL;
        for (struct dom *d = r->doms; d; d = d->next)
            if (d->domid > last && (!next || d->domid < next->domid))
                next = d;
        if (!next)
            break;
        last = next->domid;
        if (!which || next == reg_find(r, which))
            json_object_array_add(arr, describe(r, next));
    }
    json_object_object_add(rep, "domains", arr);
    return rep;
}

static struct json_object *op_create(struct registry *r, struct json_object *req)
{
    struct json_object *cfg;
    if (!json_object_object_get_ex(req, "config", &cfg) ||
        !json_object_is_type(cfg, json_type_object))
        return jl_error("create: no config");
    char err[1024];
    const char *restore = jl_str(req, "restore", NULL);
    if (restore && restore[0] != '/')
        return jl_error("restore: the file must be an absolute path");
    struct dom *d = reg_spawn_for(r, cfg, jl_bool(req, "paused", false), restore, r->client,
                                  err, sizeof(err));
    if (!d)
        return jl_error("%s", err);
    if (d->starting) {
        r->client = -1;      /* the reply goes when the process is ready */
        return NULL;
    }
    return reg_created_reply(d);
}

static struct json_object *need_running(struct dom *d)
{
    if (d->pidfd < 0)
        return jl_error("domain %u (%s) is not running", d->domid, d->name);
    return NULL;
}

static struct json_object *op_rename(struct registry *r, struct dom *d, struct json_object *req)
{
    const char *name = jl_str(req, "name", "");
    const char *bad = reg_check_name(name);
    if (bad)
        return jl_error("domain name '%s' %s", name, bad);
    struct dom *other = reg_find_name(r, name);
    if (other && other != d)
        return jl_error("domain name '%s' is already in use", name);
    if (d->pidfd >= 0) {
        char path[128];
        snprintf(path, sizeof(path), "/vm/%s/name", d->uuid);
        struct xs_client *xs = reg_xs(r);
        int rc = dom_xs_write(r, d, "name", name);
        if (!rc && (xs = reg_xs(r)))
            rc = xs_write_str(xs, 0, path, name);
        if (rc)
            return jl_error("xenstore: %s", strerror(-rc));
    }
    reg_log("domain %u: renamed %s to %s", d->domid, d->name, name);
    snprintf(d->name, sizeof(d->name), "%s", name);
    struct json_object *cfg = json_object_get(d->config);
    json_object_object_add(cfg, "name", json_object_new_string(name));
    json_object_put(cfg);
    reg_save(r, d);
    return jl_ok();
}

static struct json_object *op_mem(struct registry *r, struct dom *d, struct json_object *req,
                                  bool max)
{
    long long kib = jl_int(req, "kib", -1);
    if (kib < 1024)
        return jl_error("memory size %lld KiB is too small", kib);
    if (!max && (uint64_t)kib > d->maxmem_kib)
        return jl_error("memory size %lld KiB is above the domain's maximum %llu KiB (mem-max)",
                        kib, (unsigned long long)d->maxmem_kib);
    char v[32];
    snprintf(v, sizeof(v), "%lld", kib);
    int rc = dom_xs_write(r, d, max ? "memory/static-max" : "memory/target", v);
    if (rc)
        return jl_error("xenstore: %s", strerror(-rc));
    if (max)
        d->maxmem_kib = kib;
    else
        d->target_kib = kib;
    reg_save(r, d);
    return jl_ok();
}

/* xenkvm save: the domain process writes the file; without keep it then
 * ends, as after a destroy (no on_* action). The save can take a while:
 * the domain's memory is written meanwhile. dump-core goes the same way
 * (the domain runs on). */
#define SAVE_TIMEOUT_MS 600000

static struct json_object *op_save(struct registry *r, struct dom *d, struct json_object *req)
{
    char sock[512], err[512];
    if (!reg_path(r, sock, sizeof(sock), d->domid, "sock"))
        return jl_error("domain %u: run directory path too long", d->domid);
    bool keep = jl_bool(req, "keep", false);
    struct json_object *fwd = json_object_new_object(), *cfg, *rep;
    if (!strcmp(jl_str(req, "op", ""), "dump-core")) {
        json_object_object_add(fwd, "op", json_object_new_string("dump-core"));
        json_object_object_add(fwd, "file", json_object_new_string(jl_str(req, "file", "")));
        rep = jl_call(sock, fwd, SAVE_TIMEOUT_MS, err, sizeof(err));
        json_object_put(fwd);
        return rep ? rep : jl_error("domain %u: %s", d->domid, err);
    }
    json_object_object_add(fwd, "op", json_object_new_string("save"));
    json_object_object_add(fwd, "file", json_object_new_string(jl_str(req, "file", "")));
    if (!json_object_object_get_ex(req, "config", &cfg))
        cfg = d->config;
    json_object_object_add(fwd, "config", json_object_get(cfg));
    json_object_object_add(fwd, "keep", json_object_new_boolean(keep));
    json_object_object_add(fwd, "paused", json_object_new_boolean(jl_bool(req, "paused", false)));
    rep = jl_call(sock, fwd, SAVE_TIMEOUT_MS, err, sizeof(err));
    json_object_put(fwd);
    if (!rep)
        return jl_error("domain %u: %s", d->domid, err);
    if (!jl_bool(rep, "ok", false) || keep) {
        if (jl_bool(rep, "ok", false))
            reg_log("domain %u (%s) saved to %s (still running)", d->domid, d->name,
                    jl_str(req, "file", ""));
        return rep;
    }
    reg_log("domain %u (%s) saved to %s", d->domid, d->name, jl_str(req, "file", ""));
    d->destroying = true;
    struct pollfd p = { .fd = d->pidfd, .events = POLLIN };
    if (poll(&p, 1, 5000) <= 0) {
        reg_log("domain %u: the process does not stop after its save: killing it", d->domid);
        syscall(SYS_pidfd_send_signal, d->pidfd, SIGKILL, NULL, 0);
        poll(&p, 1, 5000);
    }
    reg_exited(r, d);
    return rep;
}

static struct json_object *op_on_domain(struct registry *r, const char *op, struct dom *d,
                                        struct json_object *req)
{
    struct json_object *e;
    char err[512];
    if (d->starting) {
        if (strcmp(op, "destroy"))
            return jl_error("domain %u (%s) is still starting", d->domid, d->name);
        reg_log("domain %u (%s) destroyed while starting", d->domid, d->name);
        reg_start_abort(r, d, "the domain was destroyed while it started");
        return jl_ok();
    }
    struct json_object *vrep = reg_vcpu_op(r, op, d, req);
    if (vrep)
        return vrep;
    if (!strcmp(op, "destroy")) {
        reg_destroy(r, d);
        return jl_ok();
    }
    if (!strcmp(op, "rename"))
        return op_rename(r, d, req);
    if ((e = need_running(d)))
        return e;
    if (!strcmp(op, "shutdown") || !strcmp(op, "reboot")) {
        int rc = dom_xs_write(r, d, "control/shutdown", !strcmp(op, "reboot") ? "reboot" : "poweroff");
        if (rc)
            return jl_error("xenstore: %s", strerror(-rc));
        reg_log("domain %u (%s): %s requested", d->domid, d->name, op);
        return jl_ok();
    }
    if (!strcmp(op, "sysrq")) {
        const char *key = jl_str(req, "key", "");
        if (strlen(key) != 1)
            return jl_error("sysrq: '%s' is not a single key", key);
        int rc = dom_xs_write(r, d, "control/sysrq", key);
        return rc ? jl_error("xenstore: %s", strerror(-rc)) : jl_ok();
    }
    struct json_object *rep = reg_device_op(r, op, d, req);
    if (rep)
        return rep;
    if (!strcmp(op, "mem-set") || !strcmp(op, "mem-max"))
        return op_mem(r, d, req, !strcmp(op, "mem-max"));
    if (!strcmp(op, "save") || !strcmp(op, "dump-core"))
        return op_save(r, d, req);
    if (!strcmp(op, "pause") || !strcmp(op, "unpause")) {
        struct json_object *rep = reg_domctl(r, d, op, err, sizeof(err));
        if (!rep)
            return jl_error("domain %u: %s", d->domid, err);
        return rep;
    }
    return NULL;
}

static const char *const dom_ops[] = {
    "save", "dump-core", "destroy", "rename", "shutdown", "reboot", "sysrq", "mem-set", "mem-max", "pause", "unpause",
    "block-attach", "block-detach", "network-attach", "network-detach", "devices",
    "vcpu-set", "vcpu-pin", "sched", "trigger",
};

struct json_object *reg_handle(struct registry *r, struct json_object *req)
{
    const char *op = jl_str(req, "op", "");
    if (!strcmp(op, "ping"))
        return jl_ok();
    if (!strcmp(op, "list"))
        return op_list(r, req);
    if (!strcmp(op, "create"))
        return op_create(r, req);
    for (unsigned i = 0; i < sizeof(dom_ops) / sizeof(dom_ops[0]); i++) {
        if (strcmp(op, dom_ops[i]))
            continue;
        const char *what = jl_str(req, "dom", "");
        struct dom *d = reg_find(r, what);
        if (!d && !strcmp(op, "destroy") && reg_cancel_restart(r, what))
            return jl_ok();     /* it was between shutdown and restart */
        if (!d)
            return jl_error("domain '%s' does not exist", what);
        return op_on_domain(r, op, d, req);
    }
    struct json_object *rep = reg_defs_handle(r, op, req);
    return rep ? rep : jl_error("unknown request '%s'", op);
}
