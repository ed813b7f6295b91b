/* A domain process ended: its exit status (or the status file it wrote,
 * for processes adopted after a daemon restart) gives the shutdown reason,
 * and the config's on_poweroff/on_reboot/on_crash/... says what follows. */
#include "daemon/registry.h"
#include "xenstore/client.h"
#include "toolstack/jsonline.h"
#include "toolstack/uuid.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xen/sched.h>

#define FAST_RESTART_S 2    /* a domain that lived less than this waits 1 s to restart */

/* `xenkvm run` exit statuses, see its --help. */
static int reason_of_status(int status)
{
    switch (status) {
    case 0: return SHUTDOWN_poweroff;
    case 3: return SHUTDOWN_reboot;
    case 4: return SHUTDOWN_suspend;
    case 5: return SHUTDOWN_watchdog;
    case 6: return SHUTDOWN_soft_reset;
    default: return SHUTDOWN_crash;     /* 2, and 1 (a xenkvm error) */
    }
}

static const char *action_key(int reason)
{
    switch (reason) {
    case SHUTDOWN_poweroff: return "on_poweroff";
    case SHUTDOWN_reboot: return "on_reboot";
    case SHUTDOWN_watchdog: return "on_watchdog";
    case SHUTDOWN_soft_reset: return "on_soft_reset";
    default: return "on_crash";
    }
}

/* xl's defaults (xl.cfg(5)). */
static const char *default_action(int reason)
{
    return reason == SHUTDOWN_reboot || reason == SHUTDOWN_soft_reset ? "restart" : "destroy";
}

const char *reg_action(struct json_object *cfg, int reason)
{
    return jl_str(cfg, action_key(reason), default_action(reason));
}

/* "0,2,1": the `xenkvm run` exit statuses whose action is coredump-*. The
 * domain process writes the core itself before it exits: its memory goes
 * with it (xl dumps to XEN_DUMP_DIR/NAME the same way, before the action). */
void reg_core_dump_statuses(struct json_object *cfg, char *out, size_t size)
{
    static const int reasons[] = { SHUTDOWN_poweroff, SHUTDOWN_reboot, SHUTDOWN_crash,
                                   SHUTDOWN_watchdog, SHUTDOWN_soft_reset };
    static const char *const statuses[] = { "0", "3", "2,1", "5", "6" };
    size_t n = 0;
    out[0] = 0;
    for (size_t i = 0; i < sizeof(reasons) / sizeof(*reasons); i++)
        if (!strncmp(reg_action(cfg, reasons[i]), "coredump-", 9))
            n += snprintf(out + n, n < size ? size - n : 0, "%s%s", n ? "," : "", statuses[i]);
}

/* -1: destroyed on request; else the `xenkvm run` exit status. */
static int exit_status(struct registry *r, struct dom *d)
{
    char path[512], buf[32] = "";
    int status = -2;
    if (reg_path(r, path, sizeof(path), d->domid, "status")) {
        FILE *f = fopen(path, "re");
        if (f) {
            if (fgets(buf, sizeof(buf), f))
                status = !strncmp(buf, "destroyed", 9) ? -1 : atoi(buf);
            fclose(f);
        }
    }
    siginfo_t si = { 0 };
    if (d->pidfd >= 0 && waitid(P_PIDFD, d->pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid &&
        status == -2)
        status = si.si_code == CLD_EXITED ? si.si_status : 2;
    return status == -2 ? 2 : status;   /* no trace: it died, a crash */
}

static void schedule_restart(struct registry *r, struct json_object *cfg, bool delay)
{
    struct restart *rs = calloc(1, sizeof(*rs));
    if (!rs)
        return;
    rs->config = json_object_get(cfg);
    clock_gettime(CLOCK_MONOTONIC, &rs->due);
    if (delay)
        rs->due.tv_sec += 1;
    rs->next = r->restarts;
    r->restarts = rs;
}

/* xenstore and files of a domain whose process is gone: everything under
 * its id, even what a killed process could not remove (its backends). */
static void cleanup(struct registry *r, struct dom *d)
{
    struct xs_client *xs = reg_xs(r);
    int rc = xs ? xs_scrub(xs, d->domid) : 0;
    if (rc && rc != -EBUSY) {
        xs_close(xs);          /* the daemon restarted under us: one retry */
        r->xs = NULL;
        if ((xs = reg_xs(r)))
            rc = xs_scrub(xs, d->domid);
    }
    if (rc)
        reg_log("domain %u: cannot clear its xenstore nodes: %s", d->domid, strerror(-rc));
    if (d->pidfd >= 0) {
        epoll_ctl(r->epfd, EPOLL_CTL_DEL, d->pidfd, NULL);
        close(d->pidfd);
        d->pidfd = -1;
    }
    d->pid = 0;
    reg_cg_remove(r, d);
}

/* rename-restart: the old domain stays, shut down, under a new name and UUID. */
static void rename_old(struct registry *r, struct dom *d)
{
    char stamp[24];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "-%Y%m%dT%H%MZ", &tm);
    char name[64];
    snprintf(name, sizeof(name), "%.*s%s", (int)(sizeof(name) - 1 - strlen(stamp)), d->name, stamp);
    for (int i = 2; reg_find_name(r, name) && i < 100; i++)
        snprintf(name, sizeof(name), "%.*s%s-%d", (int)(sizeof(name) - 4 - strlen(stamp)),
                 d->name, stamp, i);
    reg_log("domain %u: preserving %s as %s", d->domid, d->name, name);
    strcpy(d->name, name);
    uint8_t u[16];
    ts_uuid_generate(u);
    ts_uuid_format(u, d->uuid);
}

void reg_exited(struct registry *r, struct dom *d)
{
    int status = exit_status(r, d);
    cleanup(r, d);
    if (status == -1 || d->destroying) {
        reg_log("domain %u (%s) destroyed", d->domid, d->name);
        reg_forget(r, d);
        return;
    }
    int reason = reason_of_status(status);
    const char *action = reg_action(d->config, reason);
    if (reason == SHUTDOWN_suspend)
        action = "preserve";    /* no save/restore yet: keep it, as xl does */
    reg_log("domain %u (%s) shut down: exit status %d, reason code %d; action %s", d->domid,
            d->name, status, reason, action);
    bool fast = time(NULL) - d->start_time < FAST_RESTART_S;
    if (!strncmp(action, "coredump-", 9))
        action += 9;     /* the domain process wrote the core (reg_core_dump_statuses) */
    if (!strcmp(action, "restart") || !strcmp(action, "soft-reset")) {
        schedule_restart(r, d->config, fast);
        reg_forget(r, d);
    } else if (!strcmp(action, "rename-restart")) {
        schedule_restart(r, d->config, fast);
        rename_old(r, d);
        d->state = DOM_SHUTDOWN;
        d->reason = reason;
        reg_save(r, d);
    } else if (!strcmp(action, "preserve")) {
        d->state = DOM_SHUTDOWN;
        d->reason = reason;
        reg_save(r, d);
    } else {
        reg_forget(r, d);
    }
}

int reg_restart_timeout(struct registry *r)
{
    if (!r->restarts)
        return -1;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long best = -1;
    for (struct restart *rs = r->restarts; rs; rs = rs->next) {
        long long ms = (rs->due.tv_sec - now.tv_sec) * 1000LL +
                       (rs->due.tv_nsec - now.tv_nsec) / 1000000;
        if (ms < 0)
            ms = 0;
        if (best < 0 || ms < best)
            best = ms;
    }
    return (int)best;
}

void reg_run_restarts(struct registry *r)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    for (struct restart **p = &r->restarts; *p; ) {
        struct restart *rs = *p;
        if (rs->due.tv_sec > now.tv_sec ||
            (rs->due.tv_sec == now.tv_sec && rs->due.tv_nsec > now.tv_nsec)) {
            p = &rs->next;
            continue;
        }
        *p = rs->next;
        char err[512];
        const char *name = jl_str(rs->config, "name", "?");
        struct dom *d = reg_spawn(r, rs->config, false, NULL, err, sizeof(err));
        if (d)
            reg_log("domain %s restarted as domain %u", name, d->domid);
        else
            reg_log("domain %s: restart failed: %s", name, err);
        json_object_put(rs->config);
        free(rs);
    }
}

bool reg_cancel_restart(struct registry *r, const char *name)
{
    for (struct restart **p = &r->restarts; *p; p = &(*p)->next) {
        struct restart *rs = *p;
        if (strcmp(jl_str(rs->config, "name", ""), name))
            continue;
        *p = rs->next;
        reg_log("domain %s: restart cancelled (destroyed)", name);
        json_object_put(rs->config);
        free(rs);
        return true;
    }
    return false;
}

void reg_destroy(struct registry *r, struct dom *d)
{
    if (d->pidfd < 0) {
        cleanup(r, d);
        reg_log("domain %u (%s) destroyed", d->domid, d->name);
        reg_forget(r, d);
        return;
    }
    d->destroying = true;
    char err[256];
    struct json_object *rep = reg_domctl(r, d, "destroy", err, sizeof(err));
    bool asked = rep != NULL;
    json_object_put(rep);
    /* Wait for the process to end (a paused one takes up to 0.1 s); one
     * that does not answer is killed. */
    struct pollfd p = { .fd = d->pidfd, .events = POLLIN };
    if (!asked || poll(&p, 1, 5000) <= 0) {
        reg_log("domain %u: the process does not stop: killing it", d->domid);
        syscall(SYS_pidfd_send_signal, d->pidfd, SIGKILL, NULL, 0);
        poll(&p, 1, 5000);
    }
    reg_exited(r, d);
}
