/* list, domid, domname, uptime, vcpu-list: xl's formats (tools/xl/xl_info.c,
 * xl_vcpu.c), with the host as Domain-0. */
#include "cli/cli.h"
#include "cli/domview.h"
#include "cli/hostinfo.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void list_row(const char *name, long long domid, unsigned long mem_mib, long long vcpus,
                     const char *state, double secs)
{
    printf("%-40s %5lld %5lu %5lld     %s  %8.1f", name, domid, mem_mib, vcpus, state, secs);
}

int cmd_list(int argc, char **argv)
{
    static const struct option opts[] = { { "long", no_argument, NULL, 'l' },
        { "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' }, { 0 } };
    bool details = false, verbose = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "lvh", opts, NULL)) != -1) {
        if (c == 'l')
            details = true;
        else if (c == 'v')
            verbose = true;
        else
            return cli_usage("list", c == 'h');
    }
    if (argc - optind > 1)
        return cli_usage("list", false);
    const char *dom = optind < argc ? argv[optind] : NULL;
    struct json_object *rep = NULL, *arr = NULL;
    if (!ts_is_dom0(dom) && !(arr = ts_list(dom, &rep)))
        return 1;
    if (details) {
        struct json_object *out = json_object_new_array();
        for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
            json_object_array_add(out, domview_long(json_object_array_get_idx(arr, i)));
        puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(out);
        json_object_put(rep);
        return 0;
    }
    printf("Name                                        ID   Mem VCPUs\tState\tTime(s)");
    if (verbose)
        printf("   UUID                            Reason-Code\tSecurity Label");
    printf("\n");
    if (!dom || ts_is_dom0(dom)) {
        struct hostinfo h;
        hostinfo_get(&h);
        list_row("Domain-0", 0, h.total_kib >> 10, h.nr_cpus, "r-----", h.cpu_time_s);
        if (verbose)
            printf(" 00000000-0000-0000-0000-000000000000        -                -");
        putchar('\n');
    }
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
        struct json_object *d = json_object_array_get_idx(arr, i);
        const char *state = jl_str(d, "state", "------");
        list_row(jl_str(d, "name", "?"), jl_int(d, "domid", 0),
                 (unsigned long)(jl_int(d, "mem_kib", jl_int(d, "target_kib", 0)) >> 10),
                 jl_int(d, "vcpus_max", 1),
                 state, jl_int(d, "cpu_time_ns", 0) / 1e9);
        if (verbose) {
            printf(" %s", jl_str(d, "uuid", ""));
            if (state[3] == 's')
                printf(" %8llx", (unsigned long long)jl_int(d, "reason", 0));
            else
                printf(" %8s", "-");
            printf(" %16s", "-");
        }
        putchar('\n');
    }
    json_object_put(rep);
    return 0;
}

int cmd_domid(int argc, char **argv)
{
    if (argc != 2)
        return cli_usage("domid", false);
    if (ts_is_dom0(argv[1]) && strcmp(argv[1], "0")) {
        printf("0\n");
        return 0;
    }
    struct json_object *rep, *arr = ts_list(NULL, &rep);
    if (!arr)
        return 1;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *d = json_object_array_get_idx(arr, i);
        if (!strcmp(jl_str(d, "name", ""), argv[1])) {
            printf("%lld\n", jl_int(d, "domid", 0));
            json_object_put(rep);
            return 0;
        }
    }
    json_object_put(rep);
    log_err("can't get domid of domain name '%s', maybe this domain does not exist", argv[1]);
    return 1;
}

int cmd_domname(int argc, char **argv)
{
    if (argc != 2)
        return cli_usage("domname", false);
    char *end;
    long id = strtol(argv[1], &end, 10);
    if (*end || end == argv[1] || id < 0) {
        log_err("'%s' is not a domain id", argv[1]);
        return 1;
    }
    if (id == 0) {
        printf("Domain-0\n");
        return 0;
    }
    struct json_object *rep, *arr = ts_list(NULL, &rep);
    if (!arr)
        return 1;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *d = json_object_array_get_idx(arr, i);
        if (jl_int(d, "domid", -1) == id) {
            printf("%s\n", jl_str(d, "name", ""));
            json_object_put(rep);
            return 0;
        }
    }
    json_object_put(rep);
    log_err("can't get domain name of domain id '%ld', maybe this domain does not exist", id);
    return 1;
}

static void uptime_text(unsigned long up, bool short_mode, char *buf, size_t size)
{
    int day = up / 86400, hour = up % 86400 / 3600, min = up % 3600 / 60, sec = up % 60;
    char days[32] = "";
    if (day)
        snprintf(days, sizeof(days), "%d day%s, ", day, day > 1 ? "s" : "");
    if (short_mode)
        snprintf(buf, size, "%s%2d:%02d", days, hour, min);
    else
        snprintf(buf, size, "%s%2d:%02d:%02d", days, hour, min, sec);
}

static void uptime_row(const char *name, long long domid, unsigned long up, bool short_mode)
{
    char t[64];
    uptime_text(up, short_mode, t, sizeof(t));
    if (short_mode) {
        char now[16];
        time_t n = time(NULL);
        struct tm tm;
        localtime_r(&n, &tm);
        strftime(now, sizeof(now), "%H:%M:%S", &tm);
        printf(" %s up %s, %s (%lld)\n", now, t, name, domid);
    } else
        printf("%-33s %4lld %s\n", name, domid, t);
}

int cmd_uptime(int argc, char **argv)
{
    bool short_mode = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "sh")) != -1) {
        if (c == 's')
            short_mode = true;
        else
            return cli_usage("uptime", c == 'h');
    }
    struct json_object *rep, *arr = ts_list(NULL, &rep);
    if (!arr)
        return 1;
    struct hostinfo h;
    hostinfo_get(&h);
    time_t now = time(NULL);
    if (!short_mode)
        printf("%-33s %4s %s\n", "Name", "ID", "Uptime");
    int status = 0;
    for (int a = optind; a <= argc; a++) {
        const char *want = a < argc ? argv[a] : NULL;
        if (a == argc && optind < argc)
            break;
        bool found = false;
        if (!want || ts_is_dom0(want)) {
            uptime_row("Domain-0", 0, (unsigned long)h.uptime_s, short_mode);
            found = true;
        }
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            struct json_object *d = json_object_array_get_idx(arr, i);
            char id[16];
            snprintf(id, sizeof(id), "%lld", jl_int(d, "domid", 0));
            if (want && strcmp(want, id) && strcmp(want, jl_str(d, "name", "")))
                continue;
            uptime_row(jl_str(d, "name", ""), jl_int(d, "domid", 0),
                       (unsigned long)(now - jl_int(d, "start_time", now)), short_mode);
            found = true;
        }
        if (!found) {
            log_err("domain '%s' does not exist", want);
            status = 1;
        }
    }
    json_object_put(rep);
    return status;
}

static void vcpu_row(const char *name, long long domid, struct json_object *v)
{
    printf("%-32s %5lld %5lld", name, domid, jl_int(v, "id", 0));
    const char *st = jl_str(v, "state", "offline");
    if (!jl_bool(v, "online", false))
        printf("%5c %3c%cp ", '-', '-', '-');
    else
        printf("%5lld %3c%c%c ", jl_int(v, "cpu", 0), !strcmp(st, "running") ? 'r' : '-',
               !strcmp(st, "blocked") ? 'b' : '-', !strcmp(st, "paused") ? 'p' : '-');
    printf("%9.1f  all / all\n", jl_int(v, "time_ns", 0) / 1e9);
}

int cmd_vcpu_list(int argc, char **argv)
{
    struct json_object *rep, *arr = ts_list(NULL, &rep);
    if (!arr)
        return 1;
    printf("%-32s %5s %5s %5s %5s %9s %s\n", "Name", "ID", "VCPU", "CPU", "State", "Time(s)",
           "Affinity (Hard / Soft)");
    int status = 0;
    for (int a = 1; a <= argc; a++) {
        const char *want = a < argc ? argv[a] : NULL;
        if (a == argc && argc > 1)
            break;
        bool found = false;
        if (!want || ts_is_dom0(want)) {
            struct hostinfo h;
            hostinfo_get(&h);
            for (unsigned i = 0; i < h.nr_cpus; i++) {
                struct json_object *v = json_object_new_object();
                json_object_object_add(v, "id", json_object_new_int(i));
                json_object_object_add(v, "cpu", json_object_new_int(i));
                json_object_object_add(v, "online", json_object_new_boolean(1));
                json_object_object_add(v, "state", json_object_new_string("running"));
                json_object_object_add(v, "time_ns",
                                       json_object_new_int64(hostinfo_cpu_time(i) * 1e9));
                vcpu_row("Domain-0", 0, v);
                json_object_put(v);
            }
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
            log_err("domain '%s' does not exist", want);
            status = 1;
        }
    }
    json_object_put(rep);
    return status;
}
