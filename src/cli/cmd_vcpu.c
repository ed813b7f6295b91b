/* vcpu-list, vcpu-set, vcpu-pin, sched-credit, sched-credit2, trigger:
 * xl's formats and messages (tools/xl/xl_vcpu.c, xl_sched.c, xl_misc.c). */
#include "cli/cli.h"
#include "cli/hostinfo.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "config/cpumap.h"
#include "toolstack/jsonline.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void vcpu_row(const char *name, long long domid, struct json_object *v)
{
    printf("%-32s %5lld %5lld", name, domid, jl_int(v, "id", 0));
    const char *st = jl_str(v, "state", "offline");
    if (!jl_bool(v, "online", false))
        printf("%5c %3c%cp ", '-', '-', '-');
    else
        printf("%5lld %3c%c- ", jl_int(v, "cpu", 0), !strcmp(st, "running") ? 'r' : '-',
               !strcmp(st, "blocked") ? 'b' : '-');
    printf("%9.1f  %s / %s\n", jl_int(v, "time_ns", 0) / 1e9, jl_str(v, "hard", "all"),
           jl_str(v, "soft", "all"));
}

static void dom0_rows(void)
{
    struct hostinfo h;
    hostinfo_get(&h);
    for (unsigned i = 0; i < h.nr_cpus; i++) {
        struct json_object *v = json_object_new_object();
        json_object_object_add(v, "id", json_object_new_int(i));
        json_object_object_add(v, "cpu", json_object_new_int(i));
        json_object_object_add(v, "online", json_object_new_boolean(1));
        json_object_object_add(v, "state", json_object_new_string("running"));
        json_object_object_add(v, "time_ns", json_object_new_int64(hostinfo_cpu_time(i) * 1e9));
        vcpu_row("Domain-0", 0, v);
        json_object_put(v);
    }
}

int cmd_vcpu_list(int argc, char **argv)
{
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "h")) != -1)
        return cli_usage("vcpu-list", c == 'h');
    struct json_object *rep, *arr = ts_list(NULL, &rep);
    if (!arr)
        return 1;
    printf("%-32s %5s %5s %5s %5s %9s %s\n", "Name", "ID", "VCPU", "CPU", "State", "Time(s)",
           "Affinity (Hard / Soft)");
    int status = 0;
    for (int a = optind; a <= argc; a++) {
        const char *want = a < argc ? argv[a] : NULL;
        if (a == argc && argc > optind)
            break;
        bool found = false;
        if (!want || ts_is_dom0(want)) {
            dom0_rows();
            found = true;
        }
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            struct json_object *d = json_object_array_get_idx(arr, i), *vs;
            char id[16];
            snprintf(id, sizeof(id), "%lld", jl_int(d, "domid", 0));
            if (want && strcmp(want, id) && strcmp(want, jl_str(d, "name", "")))
                continue;
            found = true;
            if (json_object_object_get_ex(d, "vcpus", &vs))
                for (size_t j = 0; j < json_object_array_length(vs); j++)
                    vcpu_row(jl_str(d, "name", ""), jl_int(d, "domid", 0),
                             json_object_array_get_idx(vs, j));
        }
        if (!found) {
            cli_no_domain(want);
            status = 1;
        }
    }
    json_object_put(rep);
    return status;
}

/* xl vcpu-set [-i] DOM N */
int cmd_vcpu_set(int argc, char **argv)
{
    static const struct option opts[] = { { "ignore-host", no_argument, NULL, 'i' },
        { "help", no_argument, NULL, 'h' }, { 0 } };
    bool check_host = true;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ih", opts, NULL)) != -1) {
        if (c == 'i')
            check_host = false;
        else
            return cli_usage("vcpu-set", c == 'h');
    }
    if (argc - optind != 2)
        return cli_usage("vcpu-set", false);
    const char *dom = argv[optind], *arg = argv[optind + 1];
    char *end;
    unsigned long n = strtoul(arg, &end, 10);
    if (end == arg) {
        fprintf(stderr, "Error: Invalid argument.\n");
        return 1;
    }
    struct json_object *lrep, *arr = ts_list(dom, &lrep);
    if (!arr)
        return 1;
    struct json_object *d = json_object_array_get_idx(arr, 0);
    long long domid = jl_int(d, "domid", 0), online = ts_vcpus_online(d);
    json_object_put(lrep);
    if (check_host) {
        struct hostinfo h;
        hostinfo_get(&h);
        if ((long long)n > online && n > h.nr_cpus) {
            fprintf(stderr, "You are overcommmitting! You have %u physical CPUs and want %lu "
                    "vCPUs! Aborting, use --ignore-host to continue\n", h.nr_cpus, n);
            return 1;
        }
    }
    char id[24];
    snprintf(id, sizeof(id), "%lld", domid);
    struct json_object *req = ts_req("vcpu-set", id);
    json_object_object_add(req, "vcpus", json_object_new_int64((long long)n));
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "libxl: error: Domain %lld:", domid);
    char err[1024];
    struct json_object *rep = ts_call_err(req, err, sizeof(err));
    if (!rep)
        cli_report(err, prefix);
    if (!rep) {
        fprintf(stderr, "libxl_set_vcpuonline failed domid=%lld max_vcpus=%lu, rc: -3\n", domid, n);
        return 1;
    }
    json_object_put(rep);
    return 0;
}

/* xl vcpu-pin [-f] DOM VCPU|all HARD [SOFT] */
int cmd_vcpu_pin(int argc, char **argv)
{
    static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' }, { 0 } };
    bool force = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        if (c == 'f')
            force = true;
        else
            return cli_usage("vcpu-pin", c == 'h');
    }
    if (argc - optind < 3 || argc - optind > 4)
        return cli_usage("vcpu-pin", false);
    const char *dom = argv[optind], *vcpu = argv[optind + 1], *hard = argv[optind + 2],
               *soft = argc - optind > 3 ? argv[optind + 3] : NULL;
    char *end;
    long id = strtol(vcpu, &end, 10);
    if (vcpu == end || id < 0 || *end) {
        if (strcmp(vcpu, "all")) {
            fprintf(stderr, "Error: Invalid argument %s as VCPU.\n", vcpu);
            return 1;
        }
        if (force) {
            fprintf(stderr, "Error: --force and 'all' as VCPU not allowed.\n");
            return 1;
        }
        id = -1;
    }
    /* The lists' syntax is checked here; the domain process resolves them
     * against the host (NUMA nodes, "all"). */
    const char *lists[2] = { hard, soft };
    for (int i = 0; i < 2; i++) {
        struct cpumap m;
        char err[160];
        if (lists[i] && strcmp(lists[i], "-") &&
            cpumap_parse(lists[i], &m, CPUMAP_MAX, NULL, NULL, err, sizeof(err)) < 0) {
            fprintf(stderr, "Invalid argument %s as cpu range: %s\n", lists[i], err);
            return 1;
        }
    }
    struct json_object *req = ts_req("vcpu-pin", dom);
    json_object_object_add(req, "vcpu", json_object_new_int((int)id));
    if (strcmp(hard, "-"))
        json_object_object_add(req, "hard", json_object_new_string(hard));
    if (soft && strcmp(soft, "-"))
        json_object_object_add(req, "soft", json_object_new_string(soft));
    struct json_object *rep = ts_call(req);
    if (!rep) {
        if (id >= 0)
            fprintf(stderr, "Could not set affinity for vcpu `%ld'.\n", id);
        else
            fprintf(stderr, "Could not set affinity.\n");
        return 1;
    }
    json_object_put(rep);
    return 0;
}

/* sched-credit / sched-credit2: the host's scheduler is Linux's; a
 * domain's weight and cap live on its cgroup (cpu.weight, cpu.max). */
static void sched_row(const char *name, long long domid, long long weight, long long cap)
{
    printf("%-33s %4lld %6lld %4lld\n", name, domid, weight, cap);
}

static int sched_cmd(const char *cmd, int argc, char **argv)
{
    static const struct option opts[] = {
        { "domain", required_argument, NULL, 'd' }, { "weight", required_argument, NULL, 'w' },
        { "cap", required_argument, NULL, 'c' }, { "schedparam", no_argument, NULL, 's' },
        { "tslice_ms", required_argument, NULL, 't' }, { "ratelimit_us", required_argument, NULL, 'r' },
        { "migration_delay_us", required_argument, NULL, 'm' },
        { "cpupool", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' }, { 0 } };
    const char *dom = NULL, *pool = NULL;
    long weight = -1, cap = -1;
    bool opt_s = false, opt_param = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:w:c:p:t:r:m:sh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dom = optarg; break;
        case 'w': weight = strtol(optarg, NULL, 10); break;
        case 'c': cap = strtol(optarg, NULL, 10); break;
        case 'p': pool = optarg; break;
        case 's': opt_s = true; break;
        case 't': case 'r': case 'm': opt_param = true; break;
        default: return cli_usage(cmd, c == 'h');
        }
    }
    if ((pool || opt_s) && (dom || weight != -1 || cap != -1)) {
        fprintf(stderr, "Specifying a cpupool or schedparam is not allowed with domain options.\n");
        return 1;
    }
    if (!dom && (weight != -1 || cap != -1)) {
        fprintf(stderr, "Must specify a domain.\n");
        return 1;
    }
    if (!opt_s && opt_param) {
        fprintf(stderr, "Must specify schedparam to set schedule parameter values.\n");
        return 1;
    }
    if (pool && strcmp(pool, "Pool-0") && strcmp(pool, "0")) {
        fprintf(stderr, "unknown cpupool '%s'\n", pool);
        return 1;
    }
    if (opt_s) {
        if (opt_param) {
            log_err("%s: the host's scheduler (Linux) has no pool parameters to set", cmd);
            return 1;
        }
        printf("Cpupool Pool-0: [sched params unavailable]\n");
        return 0;
    }
    if (dom && ts_is_dom0(dom)) {
        if (weight != -1 || cap != -1) {
            log_err("%s: domain 0 is the host: weigh it with the host's own tools", cmd);
            return 1;
        }
        printf("%-33s %4s %6s %4s\n", "Name", "ID", "Weight", "Cap");
        sched_row("Domain-0", 0, 256, 0);
        return 0;
    }
    if (dom) {
        struct json_object *req = ts_req("sched", dom);
        if (weight != -1)
            json_object_object_add(req, "weight", json_object_new_int64(weight));
        if (cap != -1)
            json_object_object_add(req, "cap", json_object_new_int64(cap));
        bool set = weight != -1 || cap != -1;
        struct json_object *rep = ts_call(req);
        if (!rep) {
            if (set)
                fprintf(stderr, "libxl_domain_sched_params_set failed.\n");
            return 1;
        }
        json_object_put(rep);
        if (set)
            return 0;
        struct json_object *lrep, *arr = ts_list(dom, &lrep);
        if (!arr)
            return 1;
        struct json_object *d = json_object_array_get_idx(arr, 0);
        printf("%-33s %4s %6s %4s\n", "Name", "ID", "Weight", "Cap");
        sched_row(jl_str(d, "name", ""), jl_int(d, "domid", 0), jl_int(d, "weight", 256),
                  jl_int(d, "cap", 0));
        json_object_put(lrep);
        return 0;
    }
    struct json_object *lrep, *arr = ts_list(NULL, &lrep);
    if (!arr)
        return 1;
    printf("Cpupool Pool-0: [sched params unavailable]\n");
    printf("%-33s %4s %6s %4s\n", "Name", "ID", "Weight", "Cap");
    sched_row("Domain-0", 0, 256, 0);
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *d = json_object_array_get_idx(arr, i);
        if (jl_str(d, "state", "------")[3] == 's')
            continue;
        sched_row(jl_str(d, "name", ""), jl_int(d, "domid", 0), jl_int(d, "weight", 256),
                  jl_int(d, "cap", 0));
    }
    json_object_put(lrep);
    return 0;
}

int cmd_sched_credit(int argc, char **argv) { return sched_cmd("sched-credit", argc, argv); }
int cmd_sched_credit2(int argc, char **argv) { return sched_cmd("sched-credit2", argc, argv); }

/* xl trigger DOM nmi|reset|init|power|sleep|s3resume [VCPU] */
int cmd_trigger(int argc, char **argv)
{
    static const char *const names[] = { "power", "sleep", "nmi", "init", "reset", "s3resume" };
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "h")) != -1)
        return cli_usage("trigger", c == 'h');
    if (argc - optind < 2 || argc - optind > 3)
        return cli_usage("trigger", false);
    const char *dom = argv[optind], *what = argv[optind + 1];
    bool known = false;
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
        known |= !strcmp(what, names[i]);
    if (!known) {
        fprintf(stderr, "Invalid trigger \"%s\"\n", what);
        return 1;
    }
    long vcpu = 0;
    if (argc - optind == 3) {
        char *end;
        vcpu = strtol(argv[optind + 2], &end, 10);
        if (vcpu == 0 && !strcmp(end, argv[optind + 2]))
            fprintf(stderr, "Invalid vcpuid, using default vcpuid=0.\n\n");
    }
    struct json_object *req = ts_req("trigger", dom);
    json_object_object_add(req, "trigger", json_object_new_string(what));
    json_object_object_add(req, "vcpu", json_object_new_int((int)vcpu));
    struct json_object *rep = ts_call(req);
    json_object_put(rep);
    /* xl reports a failed trigger and still exits 0. */
    return rep || cli_xl ? 0 : 1;
}
