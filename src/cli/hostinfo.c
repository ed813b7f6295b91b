/* Host figures from /proc, /sys and CPUID. */
#include "cli/hostinfo.h"
#include <cpuid.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static uint64_t meminfo(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "re");
    char line[256];
    uint64_t v = 0;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, key, n) && line[n] == ':') {
            v = strtoull(line + n + 1, NULL, 10);
            break;
        }
    if (f)
        fclose(f);
    return v;
}

/* Busy jiffies on a /proc/stat "cpu" line (all but idle and iowait). */
static double busy_seconds(const char *line)
{
    unsigned long long v[10] = { 0 };
    const char *p = strchr(line, ' ');
    if (!p)
        return -1;
    sscanf(p, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
           &v[5], &v[6], &v[7]);
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return (double)busy / sysconf(_SC_CLK_TCK);
}

double hostinfo_cpu_time(unsigned cpu)
{
    char want[32], line[512];
    snprintf(want, sizeof(want), "cpu%u ", cpu);
    FILE *f = fopen("/proc/stat", "re");
    double t = -1;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, want, strlen(want))) {
            t = busy_seconds(line);
            break;
        }
    if (f)
        fclose(f);
    return t;
}

static void cpuinfo(struct hostinfo *h)
{
    FILE *f = fopen("/proc/cpuinfo", "re");
    char line[512];
    unsigned cores = 0, siblings = 0;
    double mhz = 0;
    while (f && fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        if (!strncmp(line, "cpu cores", 9) && !cores)
            cores = atoi(colon + 1);
        else if (!strncmp(line, "siblings", 8) && !siblings)
            siblings = atoi(colon + 1);
        else if (!strncmp(line, "cpu MHz", 7) && !mhz)
            mhz = atof(colon + 1);
    }
    if (f)
        fclose(f);
    h->cores_per_socket = cores ? cores : 1;
    h->threads_per_core = cores && siblings >= cores ? siblings / cores : 1;
    h->cpu_khz = (unsigned)(mhz * 1000);
}

void hostinfo_get(struct hostinfo *h)
{
    memset(h, 0, sizeof(*h));
    h->nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
    h->max_cpu_id = sysconf(_SC_NPROCESSORS_CONF) - 1;
    DIR *d = opendir("/sys/devices/system/node");
    struct dirent *e;
    while (d && (e = readdir(d)))
        h->nr_nodes += !strncmp(e->d_name, "node", 4);
    if (d)
        closedir(d);
    if (!h->nr_nodes)
        h->nr_nodes = 1;
    cpuinfo(h);
    h->total_kib = meminfo("MemTotal");
    h->free_kib = meminfo("MemAvailable");
    FILE *f = fopen("/proc/uptime", "re");
    if (f) {
        if (fscanf(f, "%lf", &h->uptime_s) != 1)
            h->uptime_s = 0;
        fclose(f);
    }
    char line[512];
    f = fopen("/proc/stat", "re");
    if (f && fgets(line, sizeof(line), f))
        h->cpu_time_s = busy_seconds(line);
    if (f)
        fclose(f);
}

void hostinfo_hw_caps(uint32_t c[8])
{
    unsigned a, b, cx, d;
    memset(c, 0, 8 * sizeof(*c));
    if (__get_cpuid(1, &a, &b, &cx, &d)) {
        c[0] = d;
        c[1] = cx;
    }
    if (__get_cpuid(0x80000001, &a, &b, &cx, &d)) {
        c[2] = d;
        c[3] = cx;
    }
    if (__get_cpuid_count(0xd, 1, &a, &b, &cx, &d))
        c[4] = a;
    if (__get_cpuid_count(7, 0, &a, &b, &cx, &d))
        c[5] = b;
    if (__get_cpuid(0x80000007, &a, &b, &cx, &d))
        c[6] = d;
    if (__get_cpuid(0x80000008, &a, &b, &cx, &d))
        c[7] = b;
}

static void put(struct json_object *o, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void put(struct json_object *o, const char *key, const char *fmt, ...)
{
    char v[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    json_object_object_add(o, key, json_object_new_string(v));
}

struct json_object *hostinfo_xl_info(void)
{
    struct utsname u;
    struct hostinfo h;
    uint32_t caps[8];
    uname(&u);
    hostinfo_get(&h);
    hostinfo_hw_caps(caps);
    struct json_object *o = json_object_new_object();
    put(o, "host", "%s", u.nodename);
    put(o, "release", "%s", u.release);
    put(o, "version", "%s", u.version);
    put(o, "machine", "%s", u.machine);
    put(o, "nr_cpus", "%u", h.nr_cpus);
    put(o, "max_cpu_id", "%u", h.max_cpu_id);
    put(o, "nr_nodes", "%u", h.nr_nodes);
    put(o, "cores_per_socket", "%u", h.cores_per_socket);
    put(o, "threads_per_core", "%u", h.threads_per_core);
    put(o, "cpu_mhz", "%u.%03u", h.cpu_khz / 1000, h.cpu_khz % 1000);
    put(o, "hw_caps", "%08x:%08x:%08x:%08x:%08x:%08x:%08x:%08x", caps[0], caps[1], caps[2],
        caps[3], caps[4], caps[5], caps[6], caps[7]);
    put(o, "virt_caps", "%s", " hvm");
    put(o, "total_memory", "%llu", (unsigned long long)(h.total_kib >> 10));
    put(o, "free_memory", "%llu", (unsigned long long)(h.free_kib >> 10));
    put(o, "sharing_freed_memory", "0");
    put(o, "sharing_used_memory", "0");
    put(o, "outstanding_claims", "0");
    put(o, "free_cpus", "0");
    put(o, "xen_major", "%d", 4);
    put(o, "xen_minor", "%d", 17);
    put(o, "xen_extra", "%s", ".0-xenkvm");
    put(o, "xen_version", "%s", "4.17.0-xenkvm");
    put(o, "xen_caps", "%s", "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64");
    put(o, "xen_scheduler", "%s", "linux");
    put(o, "xen_pagesize", "%ld", sysconf(_SC_PAGESIZE));
    put(o, "platform_params", "virt_start=0x%llx", 0xffff800000000000ull);
    put(o, "xen_changeset", "%s", "xenkvm");
    put(o, "xen_commandline", "%s", "");
    put(o, "cc_compiler", "%s", "gcc " __VERSION__);
    put(o, "cc_compile_by", "%s", "xenkvm");
    put(o, "cc_compile_domain", "%s", "xenkvm");
    put(o, "cc_compile_date", "%s", __DATE__);
    put(o, "build_id", "%s", "");
    put(o, "xend_config_format", "%d", 4);
    return o;
}
