/* A domain process between its fork and its ready byte. Most starts take
 * a moment and are waited for on the spot; a bootloader's menu or an
 * incoming migration's stream can take minutes, so those are waited for in
 * the registry's event loop: the domain is listed (paused, "starting") and
 * its name and id are taken, the registry answers other requests, and the
 * CLI that asked for it gets its reply when the process is ready or gone. */
#include "daemon/registry.h"
#include "toolstack/jsonline.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

struct start {
    struct dom *d;
    int client;                 /* the CLI waiting for the reply; -1: none */
    int ready, pidfd, logfd;    /* the ready pipe's read end */
    off_t log_start;            /* where the process's messages begin in the log */
    char sock[512], status[512];
    struct timespec due;
    bool in_loop;               /* ready and pidfd are in the registry's epoll set */
    struct start *next;
};

/* The last "xenkvm: error:" line the child wrote to the log after offset. */
static void child_error(const char *log, off_t offset, int status, char *err, size_t errlen)
{
    if (WIFEXITED(status))
        snprintf(err, errlen, "the domain process exited with status %d", WEXITSTATUS(status));
    else
        snprintf(err, errlen, "the domain process was killed by signal %d", WTERMSIG(status));
    FILE *f = log ? fopen(log, "re") : NULL;
    if (!f)
        return;
    char line[1024];
    fseeko(f, offset, SEEK_SET);
    while (fgets(line, sizeof(line), f)) {
        const char *p = strstr(line, "xenkvm: error: ");
        if (!p)
            continue;
        p += strlen("xenkvm: error: ");
        snprintf(err, errlen, "%.*s", (int)strcspn(p, "\n"), p);
    }
    fclose(f);
}

struct json_object *reg_created_reply(const struct dom *d)
{
    struct json_object *rep = jl_ok();
    json_object_object_add(rep, "domid", json_object_new_int(d->domid));
    json_object_object_add(rep, "name", json_object_new_string(d->name));
    return rep;
}

/* Ends a start: ready (the domain runs and is recorded) or failed (the
 * process is killed and reaped, the domain forgotten; why in err, unless
 * reason says it). The waiting CLI gets its reply. d, or NULL. */
static struct dom *start_end(struct registry *r, struct start *s, bool ready,
                             const char *reason, char *err, size_t errlen)
{
    struct dom *d = s->d;
    for (struct start **p = &r->starts; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    if (s->in_loop) {
        epoll_ctl(r->epfd, EPOLL_CTL_DEL, s->ready, NULL);
        epoll_ctl(r->epfd, EPOLL_CTL_DEL, s->pidfd, NULL);
    }
    close(s->ready);
    d->starting = false;
    if (ready) {
        close(s->pidfd);
        d->pid_start = reg_pid_start(d->pid);
        d->start_time = time(NULL);
        if (reg_watch_pid(r, d) < 0)
            reg_log("domain %u: cannot watch process %d", d->domid, (int)d->pid);
        reg_save(r, d);
        reg_log("domain %u (%s) %s: process %d%s", d->domid, d->name,
                d->restored ? "restored" : "started", (int)d->pid, d->paused ? ", paused" : "");
    } else {
        kill(d->pid, SIGKILL);
        int st = 0;
        waitpid(d->pid, &st, 0);
        close(s->pidfd);
        if (reason)
            snprintf(err, errlen, "%s", reason);
        else
            child_error(r->o.log_file, s->log_start, st, err, errlen);
        reg_cg_remove(r, d);
        unlink(s->sock);
        unlink(s->status);
        for (struct dom **p = &r->doms; *p; p = &(*p)->next)
            if (*p == d) {
                *p = d->next;
                break;
            }
        reg_log("domain %u (%s): not started: %s", d->domid, d->name, err);
        json_object_put(d->config);
        free(d);
        d = NULL;
    }
    close(s->logfd);
    if (s->client >= 0) {
        struct json_object *rep = d ? reg_created_reply(d) : jl_error("%s", err);
        jl_send(s->client, rep);
        json_object_put(rep);
        close(s->client);
    }
    free(s);
    return d;
}

/* Whether the ready byte came (true), or the process ended or closed the
 * pipe (false); -1: nothing yet. */
static int start_state(struct start *s)
{
    char c;
    ssize_t n = read(s->ready, &c, 1);
    if (n == 1)
        return 1;
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        return 0;
    struct pollfd p = { .fd = s->pidfd, .events = POLLIN };
    return poll(&p, 1, 0) == 1 ? 0 : -1;
}

struct dom *reg_start_wait(struct registry *r, struct dom *d, int client, int ready, int pidfd,
                           int logfd, off_t log_start, const char *sock, const char *status,
                           int timeout_ms, bool in_loop, char *err, size_t errlen)
{
    struct start *s = calloc(1, sizeof(*s));
    if (!s) {
        kill(d->pid, SIGKILL);
        waitpid(d->pid, NULL, 0);
        close(ready);
        close(pidfd);
        close(logfd);
        reg_cg_remove(r, d);
        unlink(sock);
        unlink(status);
        json_object_put(d->config);
        free(d);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *s = (struct start){ .d = d, .client = -1, .ready = ready, .pidfd = pidfd, .logfd = logfd,
                         .log_start = log_start };
    snprintf(s->sock, sizeof(s->sock), "%s", sock);
    snprintf(s->status, sizeof(s->status), "%s", status);
    fcntl(ready, F_SETFL, O_NONBLOCK);
    clock_gettime(CLOCK_MONOTONIC, &s->due);
    s->due.tv_sec += timeout_ms / 1000;
    s->due.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (s->due.tv_nsec >= 1000000000L) {
        s->due.tv_sec++;
        s->due.tv_nsec -= 1000000000L;
    }
    d->starting = true;
    d->next = r->doms;
    r->doms = d;
    s->next = r->starts;
    r->starts = s;
    if (in_loop && client >= 0) {
        /* Tagged with bit 0 so that a stale event of an ended start can
         * never be taken for a domain's (see reg_start_event). */
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = (char *)s + 1 };
        if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, ready, &ev) == 0) {
            if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, pidfd, &ev) == 0) {
                s->in_loop = true;
                s->client = client;
                return d;
            }
            epoll_ctl(r->epfd, EPOLL_CTL_DEL, ready, NULL);
        }
    }
    /* Here and now. */
    struct pollfd p[2] = { { .fd = ready, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
    int state;
    while ((state = start_state(s)) < 0) {
        int n = poll(p, 2, timeout_ms);
        if (n == 0) {
            state = 0;
            break;
        }
        if (n < 0 && errno != EINTR) {
            state = 0;
            break;
        }
    }
    return start_end(r, s, state == 1, NULL, err, errlen);
}

bool reg_start_event(struct registry *r, void *tag)
{
    if (!((uintptr_t)tag & 1))
        return false;
    tag = (char *)tag - 1;
    for (struct start *s = r->starts; s; s = s->next) {
        if (s != tag)
            continue;
        int state = start_state(s);
        if (state >= 0) {
            char err[1024];
            start_end(r, s, state == 1, NULL, err, sizeof(err));
        }
        return true;
    }
    return true;     /* a start that ended earlier in the same batch */
}

static long long ms_until(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (t->tv_sec - now.tv_sec) * 1000LL + (t->tv_nsec - now.tv_nsec) / 1000000;
}

int reg_start_timeout(struct registry *r)
{
    long long best = -1;
    for (struct start *s = r->starts; s; s = s->next) {
        long long ms = ms_until(&s->due);
        if (ms < 0)
            ms = 0;
        if (best < 0 || ms < best)
            best = ms;
    }
    return best > 3600000 ? 3600000 : (int)best;
}

void reg_start_expire(struct registry *r)
{
    for (struct start *s = r->starts, *next; s; s = next) {
        next = s->next;
        if (s->in_loop && ms_until(&s->due) <= 0) {
            char err[1024];
            start_end(r, s, false, NULL, err, sizeof(err));
        }
    }
}

void reg_start_abort(struct registry *r, struct dom *d, const char *why)
{
    for (struct start *s = r->starts; s; s = s->next)
        if (s->d == d) {
            char err[1024];
            start_end(r, s, false, why, err, sizeof(err));
            return;
        }
}

void reg_start_abort_all(struct registry *r, const char *why)
{
    while (r->starts) {
        char err[1024];
        start_end(r, r->starts, false, why, err, sizeof(err));
    }
}
