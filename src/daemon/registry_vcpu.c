/* vCPU and scheduling requests: vcpu-set (hot-plug through the domain's
 * cpu/N/availability nodes), vcpu-pin, sched (xl's credit weight and cap
 * on the domain's cgroup) and trigger (nmi, init, reset, power, sleep). */
#include "daemon/registry.h"
#include "toolstack/jsonline.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct json_object *forward(struct registry *r, struct dom *d, struct json_object *req)
{
    char err[512];
    struct json_object *rep = reg_domctl_req(r, d, json_object_get(req), err, sizeof(err));
    return rep ? rep : jl_error("domain %u: %s", d->domid, err);
}

/* vcpu-set N: vCPUs 0..N-1 online, the rest offline (libxl_set_vcpuonline). */
static struct json_object *vcpu_set(struct registry *r, struct dom *d, struct json_object *req)
{
    long long n = jl_int(req, "vcpus", -1);
    long long max = jl_int(d->config, "maxvcpus", jl_int(d->config, "vcpus", 1));
    if (n < 1)
        return jl_error("vcpu-set: %lld vCPUs: at least one must stay online", n);
    if (n > max)
        return jl_error("Requested %lld VCPUs, however maxcpus is %lld!", n, max);
    struct json_object *fw = json_object_new_object();
    json_object_object_add(fw, "op", json_object_new_string("vcpu-set"));
    json_object_object_add(fw, "vcpus", json_object_new_int((int)n));
    struct json_object *rep = forward(r, d, fw);
    json_object_put(fw);
    if (jl_bool(rep, "ok", false)) {
        /* The stored config follows, so that a restart keeps the count (as
         * libxl updates the domain's saved configuration). */
        struct json_object *cfg = json_object_get(d->config);
        json_object_object_add(cfg, "vcpus", json_object_new_int((int)n));
        json_object_object_del(cfg, "vcpu_avail");
        json_object_put(cfg);
        reg_save(r, d);
        reg_log("domain %u: %lld of %lld vCPUs online", d->domid, n, max);
    }
    return rep;
}

/* sched: weight/cap when given (-1: unchanged), and the values in force. */
static struct json_object *sched(struct registry *r, struct dom *d, struct json_object *req)
{
    int weight = (int)jl_int(req, "weight", -1), cap = (int)jl_int(req, "cap", -1);
    if (weight != -1 && (weight < 1 || weight > 65535))
        return jl_error("weight %d is out of range (1 to 65535)", weight);
    if (cap != -1 && (cap < 0 || cap > 100 * 512))
        return jl_error("cap %d is out of range (0 to 51200)", cap);
    if (weight != -1 || cap != -1) {
        char err[512];
        int w = weight != -1 ? weight : d->weight, c = cap != -1 ? cap : d->cap;
        if (reg_cg_set(r, d, w > 0 ? w : 256, c, err, sizeof(err)) < 0)
            return jl_error("%s", err);
        /* The stored config follows (as libxl's retrieved configuration
         * carries the scheduler's parameters): a save, a migration or a
         * restart keeps them. */
        struct json_object *cfg = d->config;
        json_object_object_add(cfg, "cpu_weight", json_object_new_int(d->weight));
        if (d->cap > 0)
            json_object_object_add(cfg, "cap", json_object_new_int(d->cap));
        else
            json_object_object_del(cfg, "cap");
        reg_save(r, d);
        reg_log("domain %u: weight %d, cap %d", d->domid, d->weight, d->cap);
    }
    struct json_object *rep = jl_ok();
    json_object_object_add(rep, "weight", json_object_new_int(d->weight > 0 ? d->weight : 256));
    json_object_object_add(rep, "cap", json_object_new_int(d->cap));
    return rep;
}

struct json_object *reg_vcpu_op(struct registry *r, const char *op, struct dom *d,
                                struct json_object *req)
{
    if (!strcmp(op, "sched"))
        return sched(r, d, req);
    bool ours = !strcmp(op, "vcpu-set") || !strcmp(op, "vcpu-pin") || !strcmp(op, "trigger");
    if (ours && d->pidfd < 0)
        return jl_error("domain %u (%s) is not running", d->domid, d->name);
    if (!strcmp(op, "vcpu-set"))
        return vcpu_set(r, d, req);
    return ours ? forward(r, d, req) : NULL;
}
