/* The spawn helper (see spawner.h). One request at a time over a
 * SOCK_SEQPACKET pair: a header, argv's strings, the child's fds as
 * SCM_RIGHTS; the reply carries the pid and a pidfd. The helper allocates
 * nothing after fork: it was forked from a process whose other threads (if
 * any) might have held malloc's locks. */
#include "backend/spawner.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MSG_MAX 32768
#define FDS_MAX 8
#define ARGS_MAX 64

enum { OP_SPAWN = 1, OP_WAIT = 2 };

struct req {
    uint32_t op;
    int32_t pid;                 /* OP_WAIT */
    uint32_t argc;               /* OP_SPAWN: strings after the header */
};

struct rep {
    int32_t rc;                  /* 0 or -errno */
    int32_t pid;
    int32_t status;
};

static int helper_fd = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- the helper ---- */

void spawn_child_prepare(pid_t parent)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl = { .sa_handler = SIG_DFL };
    const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD };
    for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
        sigaction(sigs[i], &dfl, NULL);
    setpgid(0, 0);                /* a terminal's ^C is the domain process's to handle */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
        _exit(126);               /* the parent is gone already */
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void exec_child(char *const argv[], const int *fds, unsigned nfds, pid_t helper)
{
    spawn_child_prepare(helper);
    int tmp[FDS_MAX];
    for (unsigned i = 0; i < nfds; i++)
        if ((tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 16)) < 0)
            _exit(126);
    for (unsigned i = 0; i < nfds; i++)
        if (dup2(tmp[i], (int)i) < 0)
            _exit(126);
    close_range(nfds, ~0u, 0);
    execv(argv[0], argv);
    static const char msg[] = "spawner: cannot execute the program\n";
    if (write(2, msg, sizeof(msg) - 1) < 0) { /* nothing more to do */ }
    _exit(127);
}

static void reply(int sock, const struct rep *r, int fd)
{
    char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
    struct iovec iov = { (void *)r, sizeof(*r) };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        m.msg_control = cbuf;
        m.msg_controllen = sizeof(cbuf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    if (sendmsg(sock, &m, MSG_NOSIGNAL) < 0)
        _exit(0);                 /* the domain process is gone */
}

static void spawn(int sock, const struct req *q, char *strings, size_t len, const int *fds,
                  unsigned nfds)
{
    static char *argv[ARGS_MAX + 1];
    struct rep r = { .rc = -EINVAL };
    unsigned argc = 0;
    for (size_t off = 0; off < len && argc < ARGS_MAX && argc < q->argc; argc++) {
        argv[argc] = strings + off;
        off += strnlen(strings + off, len - off) + 1;
    }
    argv[argc] = NULL;
    if (argc == 0 || argc != q->argc || strings[len - 1] || argv[0][0] != '/') {
        reply(sock, &r, -1);
        return;
    }
    pid_t helper = getpid();
    pid_t pid = fork();
    if (pid == 0)
        exec_child(argv, fds, nfds, helper);
    if (pid < 0) {
        r.rc = -errno;
        reply(sock, &r, -1);
        return;
    }
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    r.rc = pidfd < 0 ? -errno : 0;
    r.pid = pid;
    if (pidfd < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    reply(sock, &r, pidfd);
    if (pidfd >= 0)
        close(pidfd);
}

static _Noreturn void serve(int sock)
{
    static char buf[MSG_MAX];
    for (;;) {
        char cbuf[CMSG_SPACE(FDS_MAX * sizeof(int))];
        struct iovec iov = { buf, sizeof(buf) };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                            .msg_controllen = sizeof(cbuf) };
        ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(0);             /* the domain process closed its end */
        int fds[FDS_MAX];
        unsigned nfds = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                unsigned k = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                for (unsigned i = 0; i < k && nfds < FDS_MAX; i++)
                    memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            }
        struct req q;
        if ((size_t)n >= sizeof(q) && !(m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
            memcpy(&q, buf, sizeof(q));
            if (q.op == OP_SPAWN && (size_t)n > sizeof(q)) {
                spawn(sock, &q, buf + sizeof(q), (size_t)n - sizeof(q), fds, nfds);
            } else if (q.op == OP_WAIT) {
                struct rep r = { .pid = q.pid };
                int st = 0;
                pid_t w;
                while ((w = waitpid(q.pid, &st, 0)) < 0 && errno == EINTR) {}
                r.rc = w == q.pid ? 0 : -errno;
                r.status = st;
                reply(sock, &r, -1);
            } else {
                reply(sock, &(struct rep){ .rc = -EINVAL }, -1);
            }
        } else {
            reply(sock, &(struct rep){ .rc = -EINVAL }, -1);
        }
        for (unsigned i = 0; i < nfds; i++)
            close(fds[i]);
    }
}

int spawner_start(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = -errno;
        close(sv[0]);
        close(sv[1]);
        return e;
    }
    if (pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
            _exit(0);
        prctl(PR_SET_NAME, "xenkvm-spawner");
        /* A terminal's ^C (or a stop signal for the domain) is the domain
         * process's to handle: it ends us by closing the socket. */
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        if (dup2(sv[1], 3) < 0)
            _exit(0);
        close_range(4, ~0u, 0);
        serve(3);
    }
    close(sv[1]);
    helper_fd = sv[0];
    return 0;
}

int spawner_active(void)
{
    return helper_fd >= 0;
}

/* One request, one reply (and maybe an fd). Lock held. */
static int call(const void *msg, size_t len, const int *fds, unsigned nfds, struct rep *r,
                int *fd_out)
{
    char cbuf[CMSG_SPACE(FDS_MAX * sizeof(int))] = { 0 };
    struct iovec iov = { (void *)msg, len };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds) {
        m.msg_control = cbuf;
        m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
    }
    if (sendmsg(helper_fd, &m, MSG_NOSIGNAL) < 0)
        return -errno;
    char rbuf[CMSG_SPACE(sizeof(int))];
    struct iovec riov = { r, sizeof(*r) };
    struct msghdr rm = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = rbuf,
                         .msg_controllen = sizeof(rbuf) };
    ssize_t n;
    while ((n = recvmsg(helper_fd, &rm, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
    if (n != (ssize_t)sizeof(*r))
        return n < 0 ? -errno : -EPIPE;
    *fd_out = -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&rm);
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(fd_out, CMSG_DATA(c), sizeof(int));
    return 0;
}

int spawner_spawn(const char *prog, char *const argv[], const int *fds, unsigned nfds,
                  pid_t *pid, int *pidfd, char *err, size_t errlen)
{
    static char msg[MSG_MAX];
    if (helper_fd < 0 || nfds > FDS_MAX || prog[0] != '/') {
        snprintf(err, errlen, "spawner: %s", helper_fd < 0 ? "not running" : "bad request");
        return -EINVAL;
    }
    pthread_mutex_lock(&lock);
    struct req q = { .op = OP_SPAWN };
    size_t len = sizeof(q);
    int rc = 0;
    for (unsigned i = 0; argv[i]; i++) {
        const char *s = i ? argv[i] : prog;
        size_t n = strlen(s) + 1;
        if (len + n > sizeof(msg) || i == ARGS_MAX) {
            rc = -E2BIG;
            break;
        }
        memcpy(msg + len, s, n);
        len += n;
        q.argc++;
    }
    memcpy(msg, &q, sizeof(q));
    struct rep r = { 0 };
    int fd = -1;
    if (!rc)
        rc = call(msg, len, fds, nfds, &r, &fd);
    if (!rc)
        rc = r.rc;
    pthread_mutex_unlock(&lock);
    if (rc || fd < 0) {
        snprintf(err, errlen, "cannot start %s: %s", prog, strerror(rc ? -rc : EPROTO));
        if (fd >= 0)
            close(fd);
        return rc ? rc : -EPROTO;
    }
    *pid = r.pid;
    *pidfd = fd;
    return 0;
}

int spawner_wait(pid_t pid, int *status)
{
    if (helper_fd < 0)
        return -EINVAL;
    pthread_mutex_lock(&lock);
    struct req q = { .op = OP_WAIT, .pid = pid };
    struct rep r = { 0 };
    int fd = -1;
    int rc = call(&q, sizeof(q), NULL, 0, &r, &fd);
    pthread_mutex_unlock(&lock);
    if (fd >= 0)
        close(fd);
    if (!rc)
        rc = r.rc;
    if (!rc)
        *status = r.status;
    return rc;
}
