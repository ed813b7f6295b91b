/* One cgroup (v2) per domain process: CPU weight and cap (xl's
 * cpu_weight/cap, sched-credit), memory and I/O accounting for `top`.
 *
 * With systemd running, each domain is a transient scope unit
 * "xenkvm-domN.scope" in machine.slice, created over D-Bus (sd-bus) with
 * the process in it, and changed with SetUnitProperties. Otherwise the
 * registry makes the groups itself on the cgroup2 filesystem, under
 * XENKVM_CGROUP_ROOT (default /sys/fs/cgroup/xenkvm), enabling the cpu,
 * memory and io controllers on the way. XENKVM_CGROUP=systemd|fs|none
 * forces a way (tests). The child is moved before it execs, so the
 * domain's memory is charged to its own group from the first page. */
#include "daemon/registry.h"
#include "common/log.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-bus.h>
#endif

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

enum cg_mode reg_cg_mode(void)
{
    static int mode = -1;
    if (mode >= 0)
        return (enum cg_mode)mode;
    const char *e = getenv("XENKVM_CGROUP");
    if (e && !strcmp(e, "none"))
        mode = CG_NONE;
    else if (e && !strcmp(e, "fs"))
        mode = CG_FS;
    else if (e && !strcmp(e, "systemd"))
        mode = CG_SYSTEMD;
    else
        mode = access("/run/systemd/system", F_OK) == 0 ? CG_SYSTEMD : CG_FS;
#ifndef HAVE_SYSTEMD
    if (mode == CG_SYSTEMD) {
        reg_log("systemd runs but xenkvmd was built without libsystemd: using the cgroup "
                "filesystem");
        mode = CG_FS;
    }
#endif
    return (enum cg_mode)mode;
}

/* xl's credit weight (1..65535, default 256) as cgroup v2 cpu.weight
 * (1..10000, default 100). */
static unsigned cg_weight(int weight)
{
    long w = (long)(weight > 0 ? weight : 256) * 100 / 256;
    return (unsigned)(w < 1 ? 1 : w > 10000 ? 10000 : w);
}

#define CPU_PERIOD_US 100000

static const char *root_dir(void)
{
    const char *e = getenv("XENKVM_CGROUP_ROOT");
    return e && *e ? e : "/sys/fs/cgroup/xenkvm";
}

static int write_file(const char *dir, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int write_file(const char *dir, const char *file, const char *fmt, ...)
{
    char path[512], buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = write(fd, buf, (size_t)n) == n ? 0 : -errno;
    close(fd);
    return rc;
}

static bool has_controller(const char *dir, const char *ctl)
{
    char path[512], buf[512];
    snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = 0;
    for (char *s = NULL, *w = strtok_r(buf, " \n", &s); w; w = strtok_r(NULL, " \n", &s))
        if (!strcmp(w, ctl))
            return true;
    return false;
}

/* The parent of root_dir() must be on cgroup2; root_dir() is made with the
 * controllers enabled for its children. 0, or -errno with err set. */
static int fs_root(char *err, size_t errlen)
{
    char parent[256];
    snprintf(parent, sizeof(parent), "%.255s", root_dir());
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent)
        *slash = 0;
    struct statfs sf;
    if (statfs(parent, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC) {
        snprintf(err, errlen, "%s is not a cgroup v2 filesystem", parent);
        return -ENOTSUP;
    }
    if (mkdir(root_dir(), 0755) < 0 && errno != EEXIST) {
        int e = -errno;
        snprintf(err, errlen, "mkdir %s: %s", root_dir(), strerror(errno));
        return e;
    }
    static const char *const ctls[] = { "cpu", "memory", "io" };
    for (int i = 0; i < 3; i++) {
        if (!has_controller(parent, ctls[i]))
            continue;
        write_file(parent, "cgroup.subtree_control", "+%s", ctls[i]);
        write_file(root_dir(), "cgroup.subtree_control", "+%s", ctls[i]);
    }
    return 0;
}

/* Applies weight and cap to the domain's group. */
static int fs_set(struct dom *d, int weight, int cap, char *err, size_t errlen)
{
    if (!has_controller(d->cgroup, "cpu")) {
        snprintf(err, errlen, "%s: no cpu controller (cgroup v2) to weigh or cap the domain",
                 d->cgroup);
        return -ENOTSUP;
    }
    int rc = write_file(d->cgroup, "cpu.weight", "%u", cg_weight(weight));
    if (!rc)
        rc = cap > 0 ? write_file(d->cgroup, "cpu.max", "%ld %d", (long)cap * CPU_PERIOD_US / 100,
                                  CPU_PERIOD_US)
                     : write_file(d->cgroup, "cpu.max", "max %d", CPU_PERIOD_US);
    if (rc)
        snprintf(err, errlen, "%s: cpu.weight/cpu.max: %s", d->cgroup, strerror(-rc));
    return rc;
}

#ifdef HAVE_SYSTEMD
static void unit_name(const struct dom *d, char *buf, size_t size)
{
    snprintf(buf, size, "xenkvm-dom%u.scope", d->domid);
}

/* The scheduling properties, appended to an open a(sv). */
static int append_sched(sd_bus_message *m, int weight, int cap)
{
    uint64_t quota = cap > 0 ? (uint64_t)cap * 10000 : UINT64_MAX;   /* µs per second */
    int r = sd_bus_message_append(m, "(sv)", "CPUWeight", "t", (uint64_t)cg_weight(weight));
    if (r >= 0)
        r = sd_bus_message_append(m, "(sv)", "CPUQuotaPerSecUSec", "t", quota);
    return r;
}

static int sd_call(struct dom *d, pid_t pid, int weight, int cap, char *err, size_t errlen)
{
    sd_bus *bus = NULL;
    sd_bus_message *m = NULL, *reply = NULL;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    char unit[64], desc[128];
    unit_name(d, unit, sizeof(unit));
    int r = sd_bus_open_system(&bus);
    if (r < 0) {
        snprintf(err, errlen, "systemd: cannot reach the system bus: %s", strerror(-r));
        return r;
    }
    if (pid) {
        snprintf(desc, sizeof(desc), "xenkvm domain %u (%s)", d->domid, d->name);
        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1",
                                           "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "StartTransientUnit");
        if (r >= 0)
            r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
            r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
            r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)(sv)(sv)", "Description", "s", desc,
                                      "Slice", "s", "machine.slice", "PIDs", "au", 1, (uint32_t)pid,
                                      "Delegate", "b", 1, "CPUAccounting", "b", 1,
                                      "MemoryAccounting", "b", 1, "IOAccounting", "b", 1);
        if (r >= 0)
            r = append_sched(m, weight, cap);
        if (r >= 0)
            r = sd_bus_message_close_container(m);
        if (r >= 0)
            r = sd_bus_message_append(m, "a(sa(sv))", 0);
    } else {
        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1",
                                           "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "SetUnitProperties");
        if (r >= 0)
            r = sd_bus_message_append(m, "sb", unit, 1);
        if (r >= 0)
            r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
            r = append_sched(m, weight, cap);
        if (r >= 0)
            r = sd_bus_message_close_container(m);
    }
    if (r >= 0)
        r = sd_bus_call(bus, m, 5 * 1000000, &e, &reply);
    if (r < 0)
        snprintf(err, errlen, "systemd: %s %s: %s", pid ? "StartTransientUnit" : "SetUnitProperties",
                 unit, e.message ? e.message : strerror(-r));
    sd_bus_error_free(&e);
    sd_bus_message_unref(m);
    sd_bus_message_unref(reply);
    sd_bus_flush_close_unref(bus);
    return r < 0 ? r : 0;
}
#endif

/* The cgroup a process is in, as a path under the cgroup2 mount. */
static void proc_cgroup(pid_t pid, char *buf, size_t size)
{
    char path[64], line[512];
    buf[0] = 0;
    snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, "0::", 3)) {
            line[strcspn(line, "\n")] = 0;
            snprintf(buf, size, "/sys/fs/cgroup%.*s", (int)(size > 16 ? size - 16 : 0), line + 3);
        }
    fclose(f);
}

int reg_cg_attach(struct registry *r, struct dom *d, pid_t pid, char *err, size_t errlen)
{
    (void)r;
    int weight = d->weight, cap = d->cap;
    bool asked = weight > 0 || cap > 0;
    d->cgroup[0] = 0;
    switch (reg_cg_mode()) {
    case CG_NONE:
        if (asked) {
            snprintf(err, errlen, "cpu_weight/cap need cgroups (XENKVM_CGROUP=none)");
            return -ENOTSUP;
        }
        return 0;
    case CG_SYSTEMD: {
#ifdef HAVE_SYSTEMD
        int rc = sd_call(d, pid, weight, cap, err, errlen);
        if (rc < 0)
            return rc;
        /* The scope is made asynchronously: wait (up to 2 s) for the move. */
        d->cgroup_systemd = true;
        for (int i = 0; i < 200; i++) {
            proc_cgroup(pid, d->cgroup, sizeof(d->cgroup));
            if (strstr(d->cgroup, ".scope"))
                return 0;
            usleep(10000);
        }
        reg_log("domain %u: systemd did not move process %d into its scope within 2 s; no "
                "cgroup accounting for it", d->domid, (int)pid);
        d->cgroup[0] = 0;
        return 0;
#else
        return -ENOTSUP;
#endif
    }
    case CG_FS:
        break;
    }
    char why[1024];
    int rc = fs_root(why, sizeof(why));
    if (rc == 0) {
        snprintf(d->cgroup, sizeof(d->cgroup), "%.200s/dom-%u", root_dir(), d->domid);
        if (mkdir(d->cgroup, 0755) < 0 && errno != EEXIST) {
            rc = -errno;
            snprintf(why, sizeof(why), "mkdir %s: %s", d->cgroup, strerror(errno));
        } else if ((rc = write_file(d->cgroup, "cgroup.procs", "%d", (int)pid)) < 0) {
            snprintf(why, sizeof(why), "%s/cgroup.procs: %s", d->cgroup, strerror(-rc));
            rmdir(d->cgroup);
        }
    }
    if (rc < 0) {
        d->cgroup[0] = 0;
        if (asked) {
            snprintf(err, errlen, "cpu_weight/cap: %s", why);
            return rc;
        }
        static bool told;
        if (!told)
            reg_log("domains run without their own cgroup (no CPU weight/cap, no cgroup "
                    "accounting): %s", why);
        told = true;
        return 0;
    }
    return asked ? fs_set(d, weight, cap, err, errlen) : 0;
}

int reg_cg_set(struct registry *r, struct dom *d, int weight, int cap, char *err, size_t errlen)
{
    (void)r;
    int rc;
#ifdef HAVE_SYSTEMD
    if (d->cgroup_systemd)
        rc = sd_call(d, 0, weight, cap, err, errlen);
    else
#endif
    if (d->cgroup[0])
        rc = fs_set(d, weight, cap, err, errlen);
    else {
        snprintf(err, errlen, "domain %u has no cgroup to weigh or cap (cgroup v2 with the cpu "
                 "controller, or systemd, is needed)", d->domid);
        rc = -ENOTSUP;
    }
    if (!rc) {
        d->weight = weight;
        d->cap = cap;
    }
    return rc;
}

/* A key's value in a "key value" file (memory.stat), or -1. */
static long long stat_value(const char *dir, const char *file, const char *key)
{
    char path[512], line[256];
    long long v = -1;
    size_t kl = strlen(key);
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, key, kl) && line[kl] == ' ')
            v = strtoll(line + kl + 1, NULL, 10);
    fclose(f);
    return v;
}

/* Sums of io.stat's rbytes= and wbytes= over the devices. */
static void io_bytes(const char *dir, long long *rd, long long *wr)
{
    char path[512], line[512];
    snprintf(path, sizeof(path), "%s/io.stat", dir);
    FILE *f = fopen(path, "re");
    *rd = *wr = -1;
    if (!f)
        return;
    *rd = *wr = 0;
    while (fgets(line, sizeof(line), f)) {
        char *p;
        if ((p = strstr(line, "rbytes=")))
            *rd += strtoll(p + 7, NULL, 10);
        if ((p = strstr(line, "wbytes=")))
            *wr += strtoll(p + 7, NULL, 10);
    }
    fclose(f);
}

void reg_cg_stats(struct dom *d, struct json_object *o)
{
    if (!d->cgroup[0] || d->pidfd < 0)
        return;
    struct json_object *c = json_object_new_object();
    json_object_object_add(c, "path", json_object_new_string(d->cgroup));
    /* What the domain holds: its anonymous memory and the shared memory
     * that backs guest RAM (pages the guest ballooned out are returned). */
    long long anon = stat_value(d->cgroup, "memory.stat", "anon"),
              shmem = stat_value(d->cgroup, "memory.stat", "shmem");
    if (anon >= 0 && shmem >= 0)
        json_object_object_add(c, "memory_kib", json_object_new_int64((anon + shmem) >> 10));
    long long rd, wr;
    io_bytes(d->cgroup, &rd, &wr);
    if (rd >= 0) {
        json_object_object_add(c, "io_read_bytes", json_object_new_int64(rd));
        json_object_object_add(c, "io_write_bytes", json_object_new_int64(wr));
    }
    json_object_object_add(o, "cgroup", c);
}

void reg_cg_remove(struct registry *r, struct dom *d)
{
    (void)r;
    /* A systemd scope goes by itself once empty. */
    if (d->cgroup[0] && !d->cgroup_systemd) {
        int rc = rmdir(d->cgroup);
        if (rc < 0 && errno == EBUSY) {
            /* The domain process's helpers (its spawn helper, the storage
             * daemons it started) die with it, a moment after it: what is
             * left of a domain that ended goes (cgroup.kill), then the group. */
            write_file(d->cgroup, "cgroup.kill", "1");
            for (int i = 0; i < 100 && stat_value(d->cgroup, "cgroup.events", "populated") > 0; i++)
                usleep(10000);
            rc = rmdir(d->cgroup);
        }
        if (rc < 0 && errno != ENOENT)
            reg_log("domain %u: rmdir %s: %s", d->domid, d->cgroup, strerror(errno));
    }
    d->cgroup[0] = 0;
}
