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

static long long cpu_before(struct sample *s, long long domid)
{
    for (size_t i = 0; s->arr && i < json_object_array_length(s->arr); i++) {
        struct json_object *d = json_object_array_get_idx(s->arr, i);
        if (jl_int(d, "domid", -1) == domid)
            return jl_int(d, "cpu_time_ns", 0);
    }
    return -1;
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
    while ((c = getopt(argc, argv, "bd:i:h")) != -1) {
        if (c == 'd')
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
        json_object_put(prev.rep);
        prev = cur;
    }
    json_object_put(prev.rep);
    return 0;
}
