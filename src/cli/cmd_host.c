/* info, dmesg, top: the host (as xl shows Xen and dom0) and xenkvmd's log. */
#include "cli/cli.h"
#include "cli/domview.h"
#include "cli/hostinfo.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include "toolstack/paths.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_info(int argc, char **argv)
{
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "nh")) != -1)
        if (c != 'n')
            return cli_usage("info", c == 'h');
    if (argc - optind > 1)
        return cli_usage("info", false);
    const char *only = optind < argc ? argv[optind] : NULL;   /* `xl info KEY` */
    struct json_object *info = hostinfo_xl_info();
    json_object_object_foreach(info, key, val) {
        if (!only)
            printf("%-23s: %s\n", key, json_object_get_string(val));
        else if (!strcmp(only, key))
            printf("%s\n", json_object_get_string(val));
    }
    json_object_put(info);
    return 0;
}

int cmd_dmesg(int argc, char **argv)
{
    bool clear = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "ch")) != -1) {
        if (c == 'c')
            clear = true;
        else
            return cli_usage("dmesg", c == 'h');
    }
    char path[4096], buf[65536];
    if (!ts_path(path, sizeof(path), "%s/xenkvmd.log", ts_logdir()))
        return 1;
    int fd = open(path, clear ? O_RDWR : O_RDONLY);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;     /* the daemon never ran: nothing logged */
        log_err("%s: %s", path, strerror(errno));
        return 1;
    }
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        if (fwrite(buf, 1, n, stdout) != (size_t)n)
            break;
    if (clear && ftruncate(fd, 0) < 0)
        log_err("%s: %s", path, strerror(errno));
    close(fd);
    return 0;
}

/* One sample: name -> (cpu ns) per domain, for CPU(%) between two. */
struct sample {
    struct json_object *rep, *arr;
    double when;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static struct json_object *dom_in(struct sample *s, long long domid)
{
    for (size_t i = 0; s->arr && i < json_object_array_length(s->arr); i++) {
        struct json_object *d = json_object_array_get_idx(s->arr, i);
        if (jl_int(d, "domid", -1) == domid)
            return d;
    }
    return NULL;
}

static long long cpu_before(struct sample *s, long long domid)
{
    struct json_object *d = dom_in(s, domid);
    return d ? jl_int(d, "cpu_time_ns", 0) : -1;
}

/* Per second between two samples of counter `key` in object `in` of a
 * domain's "stats" (or of "stats" itself when in is NULL). */
static double stat_rate(struct json_object *prev, struct json_object *cur, const char *in,
                        const char *key, double dt)
{
    struct json_object *ps = NULL, *cs = NULL;
    json_object_object_get_ex(prev, "stats", &ps);
    json_object_object_get_ex(cur, "stats", &cs);
    if (in) {
        json_object_object_get_ex(ps, in, &ps);
        json_object_object_get_ex(cs, in, &cs);
    }
    long long a = ps ? jl_int(ps, key, 0) : 0, b = cs ? jl_int(cs, key, 0) : 0;
    return dt > 0 && b >= a ? (b - a) / dt : 0;
}

/* The key of `in` (in a domain's "stats") that grew most between the samples. */
static const char *stat_top(struct json_object *prev, struct json_object *cur, const char *in,
                            double dt, double *rate)
{
    struct json_object *cs = NULL;
    json_object_object_get_ex(cur, "stats", &cs);
    json_object_object_get_ex(cs, in, &cs);
    const char *best = "-";
    *rate = 0;
    if (!cs)
        return best;
    json_object_object_foreach(cs, key, val) {
        (void)val;
        double r = stat_rate(prev, cur, in, key, dt);
        if (r > *rate) {
            *rate = r;
            best = key;
        }
    }
    return best;
}

/* top -x: what each domain makes its domain process do, per second. */
static void exits_table(struct sample *prev, struct sample *cur)
{
    printf("\n%10s %10s %9s %9s %9s %9s %9s %9s  %-24s %s\n", "NAME", "EXITS/s", "IO/s",
           "MMIO/s", "MSR/s", "HLT/s", "KICKS/s", "HCALLS/s", "TOP-PORT/s", "TOP-HYPERCALL/s");
    double dt = cur->when - prev->when;
    for (size_t i = 0; i < json_object_array_length(cur->arr); i++) {
        struct json_object *d = json_object_array_get_idx(cur->arr, i);
        struct json_object *p = dom_in(prev, jl_int(d, "domid", 0));
        double pr, hr;
        const char *port = stat_top(p, d, "ports", dt, &pr);
        const char *hc = stat_top(p, d, "hypercalls", dt, &hr);
        char ptop[40], htop[48];
        snprintf(ptop, sizeof(ptop), pr > 0 ? "%s %.0f" : "-", port, pr);
        snprintf(htop, sizeof(htop), hr > 0 ? "%s %.0f" : "-", hc, hr);
        printf("%10.10s %10.0f %9.0f %9.0f %9.0f %9.0f %9.0f %9.0f  %-24s %s\n",
               jl_str(d, "name", ""), stat_rate(p, d, NULL, "exits_total", dt),
               stat_rate(p, d, "exits", "io", dt), stat_rate(p, d, "exits", "mmio", dt),
               stat_rate(p, d, "exits", "rdmsr", dt) + stat_rate(p, d, "exits", "wrmsr", dt),
               stat_rate(p, d, "exits", "hlt", dt), stat_rate(p, d, NULL, "kicks", dt),
               stat_rate(p, d, NULL, "hypercalls_total", dt), ptop, htop);
    }
}

static void top_table(struct sample *prev, struct sample *cur, const struct hostinfo *h)
{
    printf("%10s %5s %10s %6s %10s %6s %10s %9s %5s %4s %8s %8s %4s %8s %8s %8s %10s %10s\n",
           "NAME", "STATE", "CPU(sec)", "CPU(%)", "MEM(k)", "MEM(%)", "MAXMEM(k)", "MAXMEM(%)",
           "VCPUS", "NETS", "NETTX(k)", "NETRX(k)", "VBDS", "VBD_OO", "VBD_RD", "VBD_WR",
           "VBD_RSECT", "VBD_WSECT");
    double dt = cur->when - prev->when;
    for (size_t i = 0; i < json_object_array_length(cur->arr); i++) {
        struct json_object *t = domview_top(json_object_array_get_idx(cur->arr, i));
        long long ns = jl_int(t, "cpu_time_ns", 0), before = cpu_before(prev, jl_int(t, "domid", 0));
        double pct = before >= 0 && dt > 0 ? (ns - before) / 1e9 / dt * 100 : 0;
        unsigned long long mem = jl_int(t, "mem_kib", 0), max = jl_int(t, "maxmem_kib", 0);
        char state[7];
        snprintf(state, sizeof(state), "%s", jl_str(t, "state", "------"));
        printf("%10.10s %5.6s %10lld %6.1f %10llu %6.1f %10llu %9.1f %5lld %4lld %8lld %8lld "
               "%4lld %8lld %8lld %8lld %10lld %10lld\n",
               jl_str(t, "name", ""), state, ns / 1000000000LL, pct, mem,
               h->total_kib ? mem * 100.0 / h->total_kib : 0, max,
               h->total_kib ? max * 100.0 / h->total_kib : 0, jl_int(t, "vcpus", 1),
               jl_int(t, "nets", 0), jl_int(t, "net_tx_bytes", 0) / 1024,
               jl_int(t, "net_rx_bytes", 0) / 1024, jl_int(t, "vbds", 0), jl_int(t, "vbd_oo", 0),
               jl_int(t, "vbd_rd", 0), jl_int(t, "vbd_wr", 0), jl_int(t, "vbd_rsect", 0),
               jl_int(t, "vbd_wsect", 0));
        json_object_put(t);
    }
}

int cmd_top(int argc, char **argv)
{
    double delay = 1;
    long iterations = 1;
    int c;
    optind = 1;
    bool exits = false;
    while ((c = getopt(argc, argv, "bd:i:xh")) != -1) {
        if (c == 'x')
            exits = true;
        else if (c == 'd')
            delay = atof(optarg);
        else if (c == 'i')
            iterations = atol(optarg);
        else if (c != 'b')
            return cli_usage("top", c == 'h');
    }
    if (delay < 0.05 || iterations < 1) {
        log_err("top: -d must be at least 0.05 s and -i at least 1");
        return 1;
    }
    struct hostinfo h;
    hostinfo_get(&h);
    struct sample prev = { 0 }, cur = { 0 };
    if (!(prev.arr = ts_list(NULL, &prev.rep)))
        return 1;
    prev.when = now_s();
    for (long i = 0; i < iterations; i++) {
        usleep((useconds_t)(delay * 1e6));
        if (!(cur.arr = ts_list(NULL, &cur.rep))) {
            json_object_put(prev.rep);
            return 1;
        }
        cur.when = now_s();
        top_table(&prev, &cur, &h);
        if (exits)
            exits_table(&prev, &cur);
        json_object_put(prev.rep);
        prev = cur;
    }
    json_object_put(prev.rep);
    return 0;
}
