#include "xenstore/unix_server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "xenstore/server.h"

#define MAX_CONNS 4096
#define TAG_LISTEN ((void *)1)
#define TAG_SIGNAL ((void *)2)

static int epfd = -1;
static unsigned nconns;

static void set_mask(struct xs_conn *c)
{
    unsigned want = 0;
    if (!c->dead && !xs_conn_throttled(c) && xs_conn_in_room(c))
        want |= EPOLLIN;
    if (!c->dead && c->out_head)
        want |= EPOLLOUT;
    if (want == c->io_mask)
        return;
    struct epoll_event ev = { .events = want, .data.ptr = c };
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->io_mask = want;
}

/* Replies go out at once; whatever the socket does not take waits for EPOLLOUT. */
static void out_ready(struct xs_conn *c)
{
    xs_conn_flush(c);
}

static int make_dir(const char *sock)
{
    char *dir = strdup(sock);
    if (!dir)
        return -ENOMEM;
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash && slash != dir) {
        *slash = 0;
        if (mkdir(dir, 0700) && errno != EEXIST)
            rc = -errno;
    }
    free(dir);
    return rc;
}

static int listen_on(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path)) {
        log_err("%s: socket path too long", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int rc = make_dir(path);
    if (rc) {
        log_err("%s: cannot create its directory: %s", path, strerror(-rc));
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_err("socket: %s", strerror(errno));
        return -1;
    }
    /* A socket left by a daemon that died is replaced; a live one is not. */
    struct stat st;
    if (lstat(path, &st) == 0) {
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (S_ISSOCK(st.st_mode) && probe >= 0 && connect(probe, (void *)&sa, sizeof(sa)) == 0) {
            log_err("%s: another xenstore daemon is listening there", path);
            close(probe);
            close(fd);
            return -1;
        }
        if (probe >= 0)
            close(probe);
        if (!S_ISSOCK(st.st_mode)) {
            log_err("%s: exists and is not a socket", path);
            close(fd);
            return -1;
        }
        unlink(path);
    }
    mode_t old = umask(0177);
    rc = bind(fd, (void *)&sa, sizeof(sa));
    umask(old);
    if (rc || chmod(path, 0600) || listen(fd, 128)) {
        log_err("%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void accept_all(struct xs_server *s, int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                log_warn("accept: %s", strerror(errno));
            return;
        }
        if (nconns >= MAX_CONNS) {
            log_warn("too many connections: refusing one");
            close(fd);
            continue;
        }
        struct xs_conn *c = xs_conn_new(s, fd);
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)) {
            log_warn("epoll_ctl: %s", strerror(errno));
            xs_conn_free(c);
            continue;
        }
        c->io_mask = EPOLLIN;
        nconns++;
    }
}

static void conn_readable(struct xs_conn *c)
{
    size_t room = xs_conn_in_room(c);
    if (xs_conn_throttled(c) || !room)
        return;
    ssize_t n = read(c->fd, c->in + c->in_len, room);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)) {
        xs_conn_kill(c);
        return;
    }
    if (n > 0) {
        c->in_len += (size_t)n;
        xs_conn_process(c);
    }
}

/* Frees dead connections; lets throttled ones continue; fixes poll masks. */
static void sweep(struct xs_server *s)
{
    for (struct xs_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (!c->dead && c->in_len && !xs_conn_throttled(c))
            xs_conn_process(c);
        if (c->dead) {
            epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
            xs_conn_free(c);
            nconns--;
            continue;
        }
        set_mask(c);
    }
    s->any_dead = false;
}

void xs_daemon_block_signals(sigset_t *mask)
{
    sigemptyset(mask);
    sigaddset(mask, SIGTERM);
    sigaddset(mask, SIGINT);
    sigprocmask(SIG_BLOCK, mask, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int xs_daemon_run(const char *socket_path, const struct xs_quota *q, int ready_fd)
{
    struct xs_server s;
    sigset_t mask;
    xs_daemon_block_signals(&mask);
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    int lfd = listen_on(socket_path);
    if (lfd < 0 || sfd < 0)
        return 1;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = TAG_LISTEN };
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
    ev.data.ptr = TAG_SIGNAL;
    epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);

    xs_server_init(&s, q);
    s.out_ready = out_ready;
    log_info("listening on %s", socket_path);
    if (ready_fd >= 0) {
        if (write(ready_fd, "", 1) != 1)
            log_warn("cannot report readiness: %s", strerror(errno));
        close(ready_fd);
    }

    bool running = true;
    while (running) {
        struct epoll_event evs[64];
        int n = epoll_wait(epfd, evs, 64, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_err("epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == TAG_LISTEN) {
                accept_all(&s, lfd);
            } else if (tag == TAG_SIGNAL) {
                running = false;
            } else {
                struct xs_conn *c = tag;
                if (c->dead)
                    continue;
                if (evs[i].events & EPOLLOUT)
                    xs_conn_flush(c);
                if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                    conn_readable(c);
                if ((evs[i].events & (EPOLLHUP | EPOLLERR)) && !(c->io_mask & EPOLLIN))
                    xs_conn_kill(c);
            }
        }
        sweep(&s);
    }
    log_info("stopping");
    unlink(socket_path);
    xs_server_free(&s);
    close(lfd);
    close(sfd);
    close(epfd);
    return 0;
}
