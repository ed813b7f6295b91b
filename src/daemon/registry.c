/* The registry thread: its control socket, the domain processes' pidfds and
 * pending restarts in one epoll loop. Requests are handled one at a time. */
#include "daemon/registry.h"
#include "xenstore/client.h"
#include "toolstack/jsonline.h"
#include "toolstack/paths.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define TAG_CTL ((void *)1)
#define TAG_STOP ((void *)2)
#define REQUEST_TIMEOUT_MS 5000

static struct registry reg;
static pthread_t thread;
static bool started;

/* Handles processes that ended but whose events are still queued, so that
 * a request sees the table as it is. */
static void sweep_exits(struct registry *r)
{
    for (struct dom *d = r->doms, *next; d; d = next) {
        next = d->next;
        struct pollfd p = { .fd = d->pidfd, .events = POLLIN };
        if (d->pidfd >= 0 && poll(&p, 1, 0) == 1)
            reg_exited(r, d);
    }
}

static void serve_one(struct registry *r)
{
    int fd = accept4(r->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    struct json_object *req = jl_recv(fd, REQUEST_TIMEOUT_MS);
    r->client = fd;
    if (req) {
        sweep_exits(r);
        struct json_object *rep = reg_handle(r, req);
        if (rep)
            jl_send(fd, rep);
        json_object_put(rep);
        json_object_put(req);
    }
    if (r->client >= 0)      /* else a start took it for its reply */
        close(fd);
    r->client = -1;
}

/* xenstore is served by the other thread: wait until it answers. */
static void wait_xenstore(struct registry *r)
{
    for (int i = 0; i < 100 && !reg_xs(r); i++)
        usleep(50000);
}

static void *loop(void *arg)
{
    struct registry *r = arg;
    wait_xenstore(r);
    reg_load(r);
    if (r->o.autostart)
        reg_autostart(r);
    for (;;) {
        reg_run_restarts(r);
        reg_start_expire(r);
        int timeout = reg_restart_timeout(r), st = reg_start_timeout(r);
        if (st >= 0 && (timeout < 0 || st < timeout))
            timeout = st;
        struct epoll_event evs[16];
        int n = epoll_wait(r->epfd, evs, 16, timeout);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == TAG_STOP)
                return NULL;
            if (tag == TAG_CTL)
                serve_one(r);
            else if (reg_start_event(r, tag))
                continue;
            else {
                /* A domain process ended (handled once: reg_exited forgets
                 * or detaches it; the table cannot change under us). */
                struct dom *d = tag;
                for (struct dom *x = r->doms; x; x = x->next)
                    if (x == d && d->pidfd >= 0) {
                        reg_exited(r, d);
                        break;
                    }
            }
        }
    }
    return NULL;
}

int registry_start(const struct registry_opts *o)
{
    struct registry *r = &reg;
    char path[512];
    r->o = *o;
    r->ctl_fd = r->epfd = r->stop_fd = r->client = -1;
    int rc = ts_mkdirs(o->rundir, 0700);
    if (!rc && snprintf(path, sizeof(path), "%s/xenkvmd.sock", o->rundir) >= (int)sizeof(path))
        rc = -ENAMETOOLONG;
    if (!rc)
        rc = r->ctl_fd = jl_listen(path);
    if (rc < 0) {
        reg_log("control socket %s/xenkvmd.sock: %s", o->rundir,
                rc == -EADDRINUSE ? "another xenkvmd is listening there" : strerror(-rc));
        return -1;
    }
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    r->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = TAG_CTL };
    struct epoll_event sev = { .events = EPOLLIN, .data.ptr = TAG_STOP };
    if (r->epfd < 0 || r->stop_fd < 0 || epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->ctl_fd, &ev) ||
        epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->stop_fd, &sev) ||
        pthread_create(&thread, NULL, loop, r)) {
        reg_log("cannot start the registry: %s", strerror(errno));
        return -1;
    }
    started = true;
    return 0;
}

void registry_stop(void)
{
    struct registry *r = &reg;
    if (!started)
        return;
    uint64_t one = 1;
    if (write(r->stop_fd, &one, sizeof(one)) < 0) { /* the thread sees it anyway */ }
    pthread_join(thread, NULL);
    reg_start_abort_all(r, "xenkvmd stopped");
    char path[512];
    snprintf(path, sizeof(path), "%s/xenkvmd.sock", r->o.rundir);
    unlink(path);
    /* The domain processes run on; their records let the next daemon find them. */
    while (r->doms) {
        struct dom *d = r->doms;
        r->doms = d->next;
        if (d->pidfd >= 0)
            close(d->pidfd);
        json_object_put(d->config);
        free(d);
    }
    while (r->restarts) {
        struct restart *rs = r->restarts;
        r->restarts = rs->next;
        reg_log("pending restart of %s dropped", jl_str(rs->config, "name", "?"));
        json_object_put(rs->config);
        free(rs);
    }
    if (r->xs)
        xs_close(r->xs);
    close(r->ctl_fd);
    close(r->epfd);
    close(r->stop_fd);
    started = false;
}
