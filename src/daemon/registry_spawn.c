/* Starting a domain: a `xenkvm run` child in its own session (it outlives
 * the daemon), told its domid, name, UUID, control socket, console log and
 * status file; it reports ready on a pipe (registry_start.c waits). */
#include "daemon/registry.h"
#include "toolstack/jsonline.h"
#include "toolstack/paths.h"
#include "toolstack/uuid.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define READY_TIMEOUT_MS 30000
/* A bootloader waits on its menu (and, as under xl, on a user at the console
 * if the menu has no timeout), a migration's destination on its stream:
 * create waits for them this long. */
#define LONG_READY_TIMEOUT_MS (600 * 1000)
#define MAX_ARGS 512

struct argv {
    char *v[MAX_ARGS];
    int n;
    bool full;           /* an argument did not fit */
    char bufs[24][32];   /* numbers */
    int nbufs;
    char *owned[64];     /* malloc'd arguments */
    int nowned;
};

static void argv_free(struct argv *a)
{
    for (int i = 0; i < a->nowned; i++)
        free(a->owned[i]);
    a->nowned = 0;
}

static void arg(struct argv *a, const char *s)
{
    if (a->n < MAX_ARGS - 1)
        a->v[a->n++] = (char *)s;
    else
        a->full = true;
    a->v[a->n] = NULL;
}

static void arg_num(struct argv *a, const char *opt, long long v)
{
    if (a->nbufs == 24)
        return;
    char *b = a->bufs[a->nbufs++];
    snprintf(b, 32, "%lld", v);
    arg(a, opt);
    arg(a, b);
}

static const char *prog(void)
{
    static char buf[4096];
    return ts_find_prog("xenkvm", "XENKVM_BIN", "../cli/xenkvm", buf, sizeof(buf));
}

/* Checks the config's fields; fills name/uuid. NULL or the problem. */
static const char *check(struct registry *r, struct json_object *cfg, char *why, size_t size)
{
    const char *name = jl_str(cfg, "name", NULL);
    if (!name)
        return "the config has no name";
    const char *bad = reg_check_name(name);
    if (bad) {
        snprintf(why, size, "domain name '%s' %s", name, bad);
        return why;
    }
    if (reg_find_name(r, name)) {
        snprintf(why, size, "domain name '%s' is already in use", name);
        return why;
    }
    if (!jl_str(cfg, "kernel", NULL) && !jl_str(cfg, "bootloader", NULL))
        return "the config has no kernel and no bootloader";
    long long mem = jl_int(cfg, "memory", 0), vcpus = jl_int(cfg, "vcpus", 1),
              maxv = jl_int(cfg, "maxvcpus", vcpus);
    if (mem < 2 || mem > (1 << 20)) {
        snprintf(why, size, "memory = %lld MiB is out of range 2..1048576", mem);
        return why;
    }
    if (vcpus < 1 || maxv < vcpus || maxv > 32) {
        snprintf(why, size, "vcpus = %lld, maxvcpus = %lld: 1 <= vcpus <= maxvcpus <= 32", vcpus,
                 maxv);
        return why;
    }
    const char *uuid = jl_str(cfg, "uuid", NULL);
    uint8_t u[16];
    if (uuid && ts_uuid_parse(uuid, u) < 0) {
        snprintf(why, size, "uuid '%s' is not a UUID", uuid);
        return why;
    }
    for (struct dom *d = r->doms; uuid && d; d = d->next)
        if (!strcasecmp(d->uuid, uuid)) {
            snprintf(why, size, "domain %u (%s) already has uuid %s", d->domid, d->name, uuid);
            return why;
        }
    return NULL;
}

static void build_args(struct registry *r, struct argv *a, struct json_object *cfg,
                       struct dom *d, bool paused, const char *restore, const char *paths[3])
{
    arg(a, prog());
    arg(a, "run");
    /* The boot: kernel, ramdisk and command line (for a bootloader, what it
     * is handed), the PV shim, the bootloader and its arguments. */
    static const char *const boot[][2] = {
        { "kernel", "--kernel" }, { "ramdisk", "--ramdisk" }, { "cmdline", "--cmdline" },
        { "pvshim_path", "--shim" }, { "pvshim_cmdline", "--shim-cmdline" },
        { "pvshim_extra", "--shim-extra" }, { "bootloader", "--bootloader" },
    };
    for (size_t i = 0; i < sizeof(boot) / sizeof(boot[0]); i++)
        if (jl_str(cfg, boot[i][0], NULL)) {
            arg(a, boot[i][1]);
            arg(a, jl_str(cfg, boot[i][0], NULL));
        }
    if (jl_bool(cfg, "pvshim", false))
        arg(a, "--pv");
    struct json_object *bl_args;
    if (json_object_object_get_ex(cfg, "bootloader_args", &bl_args) &&
        json_object_is_type(bl_args, json_type_array))
        for (size_t i = 0; i < json_object_array_length(bl_args); i++) {
            const char *v = json_object_get_string(json_object_array_get_idx(bl_args, i));
            arg(a, "--bootloader-arg");
            arg(a, v ? v : "");
        }
    arg_num(a, "--memory", jl_int(cfg, "memory", 0));
    arg_num(a, "--vcpus", jl_int(cfg, "vcpus", 1));
    arg_num(a, "--maxvcpus", jl_int(cfg, "maxvcpus", jl_int(cfg, "vcpus", 1)));
    if (jl_str(cfg, "vcpu_avail", NULL)) {
        arg(a, "--vcpu-avail");
        arg(a, jl_str(cfg, "vcpu_avail", NULL));
    }
    static const char *const lims[][2] = { { "max_grant_frames", "--max-grant-frames" },
                                           { "max_event_channels", "--max-event-channels" } };
    for (int i = 0; i < 2; i++)
        if (jl_int(cfg, lims[i][0], 0) > 0)
            arg_num(a, lims[i][1], jl_int(cfg, lims[i][0], 0));
    /* cpus / cpus_soft: one CPU list for every vCPU, or a list of them. */
    static const char *const aff[][2] = { { "cpus", "--cpus" }, { "cpus_soft", "--cpus-soft" } };
    for (int k = 0; k < 2; k++) {
        struct json_object *v;
        if (!json_object_object_get_ex(cfg, aff[k][0], &v))
            continue;
        if (json_object_is_type(v, json_type_string)) {
            arg(a, aff[k][1]);
            arg(a, json_object_get_string(v));
            continue;
        }
        for (size_t i = 0; json_object_is_type(v, json_type_array) &&
                           i < json_object_array_length(v); i++) {
            const char *list = json_object_get_string(json_object_array_get_idx(v, i));
            char *one = NULL;      /* "N=LIST": vCPU N's list */
            if (a->nowned == (int)(sizeof(a->owned) / sizeof(*a->owned)) ||
                asprintf(&one, "%zu=%s", i, list ? list : "") < 0) {
                a->full = true;
                break;
            }
            a->owned[a->nowned++] = one;
            arg(a, aff[k][1]);
            arg(a, one);
        }
    }
    arg(a, "--name");
    arg(a, d->name);
    arg_num(a, "--domid", d->domid);
    arg(a, "--uuid");
    arg(a, d->uuid);
    arg(a, "--xenstore");
    arg(a, r->o.xs_socket);
    arg(a, "--control");
    arg(a, paths[0]);
    arg(a, "--status-file");
    arg(a, paths[1]);
    arg(a, "--console-log");
    arg(a, paths[2]);
    arg_num(a, "--ready-fd", 3);
    /* on_*= coredump-destroy/-restart: the core goes to STATEDIR/dump/NAME
     * (xl: /var/lib/xen/dump/NAME), written by the process as it ends. */
    char on[32], dir[512];
    reg_core_dump_statuses(cfg, on, sizeof(on));
    if (on[0] && ts_path(dir, sizeof(dir), "%s/dump", ts_statedir()) &&
        ts_mkdirs(dir, 0700) == 0) {
        char *core = NULL;
        if (a->nowned == (int)(sizeof(a->owned) / sizeof(*a->owned)) ||
            asprintf(&core, "%s/%s", dir, d->name) < 0) {
            a->full = true;
        } else {
            a->owned[a->nowned++] = core;
            arg(a, "--core-dump");
            arg(a, core);
            char *list = strdup(on);
            if (!list || a->nowned == (int)(sizeof(a->owned) / sizeof(*a->owned))) {
                free(list);
                a->full = true;
            } else {
                a->owned[a->nowned++] = list;
                arg(a, "--core-dump-on");
                arg(a, list);
            }
        }
    } else if (on[0]) {
        reg_log("domain %u: cannot make %s/dump: no core will be written", d->domid,
                ts_statedir());
    }
    if (paused)
        arg(a, "--paused");
    if (restore) {
        arg(a, "--restore");
        arg(a, restore);
    }
    /* Devices: the config's, including those hot-plugged since (the
     * registry keeps them there), in order. */
    static const char *const devs[][2] = { { "disks", "--disk" }, { "vifs", "--vif" } };
    for (int k = 0; k < 2; k++) {
        struct json_object *l;
        if (!json_object_object_get_ex(cfg, devs[k][0], &l) ||
            !json_object_is_type(l, json_type_array))
            continue;
        for (size_t i = 0; i < json_object_array_length(l); i++) {
            const char *spec = json_object_get_string(json_object_array_get_idx(l, i));
            arg(a, devs[k][1]);
            arg(a, spec ? spec : "");
        }
    }
    if (getenv("XENKVM_DOMAIN_VERBOSE"))
        arg(a, "-v");
}

struct dom *reg_spawn(struct registry *r, struct json_object *cfg, bool paused,
                      const char *restore, char *err, size_t errlen)
{
    return reg_spawn_for(r, cfg, paused, restore, -1, err, errlen);
}

struct dom *reg_spawn_for(struct registry *r, struct json_object *cfg, bool paused,
                          const char *restore, int client, char *err, size_t errlen)
{
    char why[256];
    const char *bad = check(r, cfg, why, sizeof(why));
    if (bad) {
        snprintf(err, errlen, "%s", bad);
        return NULL;
    }
    struct dom *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->pidfd = -1;
    d->domid = reg_alloc_domid(r);
    snprintf(d->name, sizeof(d->name), "%s", jl_str(cfg, "name", ""));
    uint8_t u[16];
    if (jl_str(cfg, "uuid", NULL))
        snprintf(d->uuid, sizeof(d->uuid), "%s", jl_str(cfg, "uuid", ""));
    else {
        ts_uuid_generate(u);
        ts_uuid_format(u, d->uuid);
    }
    long long mem = jl_int(cfg, "memory", 0), maxmem = jl_int(cfg, "maxmem", mem);
    d->target_kib = mem << 10;
    d->maxmem_kib = (maxmem > mem ? maxmem : mem) << 10;
    d->config = json_object_get(cfg);
    d->weight = (int)jl_int(cfg, "cpu_weight", 0);
    d->cap = (int)jl_int(cfg, "cap", 0);

    char sock[512], status[512], conlog[512], dir[512];
    snprintf(dir, sizeof(dir), "%s/domains", r->o.rundir);
    int rc = ts_mkdirs(dir, 0700);
    if (!rc)
        rc = ts_mkdirs(ts_logdir(), 0750);
    if (rc || !reg_path(r, sock, sizeof(sock), d->domid, "sock") ||
        !reg_path(r, status, sizeof(status), d->domid, "status") ||
        snprintf(conlog, sizeof(conlog), "%s/%s.log", ts_logdir(), d->name) >= (int)sizeof(conlog)) {
        snprintf(err, errlen, "%s: %s", rc ? ts_logdir() : r->o.rundir,
                 rc ? strerror(-rc) : "path too long");
        goto fail;
    }
    unlink(status);
    /* A restore from a FIFO (migrate-receive) is ready once the whole
     * migration stream, pre-copy and all, has gone through it (looked at
     * now: the feeder removes the name once the process has opened it). */
    struct stat rst;
    bool stream = restore && stat(restore, &rst) == 0 && S_ISFIFO(rst.st_mode);
    const char *paths[3] = { sock, status, conlog };
    struct argv a = { .n = 0 };
    build_args(r, &a, cfg, d, paused, restore, paths);
    if (a.full) {
        snprintf(err, errlen, "too many devices in the config (at most %d arguments)", MAX_ARGS);
        argv_free(&a);
        goto fail;
    }

    int logfd = r->o.log_file ? open(r->o.log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640)
                              : fcntl(2, F_DUPFD_CLOEXEC, 3);
    off_t log_start = logfd >= 0 ? lseek(logfd, 0, SEEK_END) : 0;
    int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
    int ready[2] = { -1, -1 }, go[2] = { -1, -1 };
    if (logfd < 0 || nullfd < 0 || pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "cannot prepare the domain process: %s", strerror(errno));
        if (logfd >= 0)
            close(logfd);
        if (nullfd >= 0)
            close(nullfd);
        for (int i = 0; i < 2; i++)
            if (ready[i] >= 0)
                close(ready[i]);
        argv_free(&a);
        goto fail;
    }
    pid_t pid = fork();
    if (pid == 0) {
        /* Child: only async-signal-safe calls until exec. It waits until
         * the registry has put it in its cgroup, so that the domain's
         * memory is charged there from the first page. */
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 1)
            _exit(127);
        setsid();
        dup2(nullfd, 0);
        dup2(nullfd, 1);
        dup2(logfd, 2);
        dup2(ready[1], 3);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(a.v[0], a.v);
        static const char msg[] = "xenkvm: error: cannot run the xenkvm program\n";
        if (write(2, msg, sizeof(msg) - 1) < 0) { /* nothing left to tell */ }
        _exit(127);
    }
    argv_free(&a);
    close(ready[1]);
    close(go[0]);
    close(nullfd);
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(ready[0]);
        close(go[1]);
        close(logfd);
        goto fail;
    }
    d->pid = pid;
    d->paused = paused;
    d->restored = restore != NULL;
    d->state = DOM_RUNNING;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    char cgerr[512] = "";
    bool moved = reg_cg_attach(r, d, pid, cgerr, sizeof(cgerr)) == 0;
    bool went = moved && write(go[1], "g", 1) == 1 && pidfd >= 0;
    close(go[1]);
    if (!went) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (moved)
            snprintf(err, errlen, "cannot start the domain process: %s", strerror(errno));
        else
            snprintf(err, errlen, "%s", cgerr);
        if (pidfd >= 0)
            close(pidfd);
        close(ready[0]);
        close(logfd);
        reg_cg_remove(r, d);
        goto fail;
    }
    bool long_wait = jl_str(cfg, "bootloader", NULL) || stream;
    return reg_start_wait(r, d, client, ready[0], pidfd, logfd, log_start, sock, status,
                          long_wait ? LONG_READY_TIMEOUT_MS : READY_TIMEOUT_MS, long_wait,
                          err, errlen);
fail:
    json_object_put(d->config);
    free(d);
    return NULL;
}
