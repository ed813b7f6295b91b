/* Running a guest's bootloader (pygrub) as libxl does: see bootloader.h. */
#include "vmm/bootloader.h"
#include "config/domcfg.h"
#include "toolstack/paths.h"
#include "common/log.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <utmp.h>

#define OUTPUT_MAX (64 << 10)     /* simple0 output: three items */
#define ITEM_MAX (2 * PATH_MAX)   /* libxl's limit for one item */

static char *item_value(const char *item, size_t len, const char *key)
{
    size_t k = strlen(key);
    if (len <= k || strncmp(item, key, k) || (item[k] != ' ' && item[k] != '\t'))
        return NULL;
    const char *v = item + k;
    while (*v == ' ' || *v == '\t')
        v++;
    return strndup(v, len - (size_t)(v - item));
}

int bootloader_parse_simple0(const char *buf, size_t len, struct bootloader_result *res,
                             char *err, size_t errlen)
{
    for (size_t pos = 0; pos < len;) {
        const char *item = buf + pos;
        const char *end = memchr(item, '\0', len - pos);
        size_t n = end ? (size_t)(end - item) : len - pos;
        pos += n + 1;
        if (n >= ITEM_MAX) {
            snprintf(err, errlen, "bootloader output: an item of %zu bytes (at most %d)", n,
                     ITEM_MAX - 1);
            return -1;
        }
        char **slot = NULL, *v;
        if ((v = item_value(item, n, "kernel")))
            slot = &res->kernel;
        else if ((v = item_value(item, n, "ramdisk")))
            slot = &res->ramdisk;
        else if ((v = item_value(item, n, "args")))
            slot = &res->args;
        else if (n)
            log_warn("bootloader output: unexpected item '%.*s'", (int)(n > 80 ? 80 : n), item);
        if (slot) {
            free(*slot);
            *slot = v;
        }
    }
    if (!res->kernel || !*res->kernel) {
        snprintf(err, errlen, "bootloader output names no kernel");
        return -1;
    }
    return 0;
}

/* libxl's lookup: a bare name in its private bindir first, else through PATH. */
static const char *find_prog(const char *prog, char *buf, size_t size)
{
    if (strchr(prog, '/'))
        return prog;
    snprintf(buf, size, "%s/%s", DOMCFG_BOOTLOADER_DIR, prog);
    return access(buf, X_OK) == 0 ? buf : prog;
}

/* The last line of the bootloader's screen, printable characters only: what
 * an error message quotes. */
struct tail {
    char line[160], last[160];
    size_t n;
};

static void tail_add(struct tail *t, const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\n' || c == '\r') {
            if (t->n) {
                t->line[t->n] = 0;
                memcpy(t->last, t->line, t->n + 1);
                t->n = 0;
            }
        } else if (c >= 0x20 && c < 0x7f && t->n < sizeof(t->line) - 1) {
            t->line[t->n++] = (char)c;
        }
    }
}

static void write_all(int fd, const char *p, size_t n)
{
    while (fd >= 0 && n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;   /* the console went away: the bootloader runs on */
        p += w;
        n -= (size_t)w;
    }
}

/* Copies the bootloader's screen to the console and the console's keys to it
 * until it closes its terminal; returns its wait status. */
static int pump(pid_t pid, int master, const struct bootloader_req *req, struct tail *t)
{
    char buf[4096];
    bool in_open = req->in_fd >= 0;
    for (;;) {
        struct pollfd p[2] = { { master, POLLIN, 0 }, { in_open ? req->in_fd : -1, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents) {
            ssize_t n = read(master, buf, sizeof(buf));
            if (n <= 0 && !(n < 0 && errno == EINTR))
                break;     /* EIO: the bootloader closed its terminal */
            if (n > 0) {
                write_all(req->out_fd, buf, (size_t)n);
                tail_add(t, buf, (size_t)n);
            }
        }
        if (p[1].revents) {
            ssize_t n = read(req->in_fd, buf, sizeof(buf));
            if (n > 0)
                write_all(master, buf, (size_t)n);
            else if (!(n < 0 && (errno == EINTR || errno == EAGAIN)))
                in_open = false;
        }
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

static int read_output(const char *path, struct bootloader_result *res, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "bootloader output %s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(OUTPUT_MAX);
    size_t len = 0;
    ssize_t n;
    while (buf && len < OUTPUT_MAX && (n = read(fd, buf + len, OUTPUT_MAX - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    int rc = buf ? bootloader_parse_simple0(buf, len, res, err, errlen) : -1;
    if (!buf)
        snprintf(err, errlen, "out of memory");
    free(buf);
    return rc;
}

int bootloader_run(const struct bootloader_req *req, struct bootloader_result *res, char *err,
                   size_t errlen)
{
    memset(res, 0, sizeof(*res));
    char progbuf[PATH_MAX];
    const char *prog = find_prog(req->prog, progbuf, sizeof(progbuf));
    if (!req->disk) {
        snprintf(err, errlen, "bootloader %s: the domain has no disk to boot from", req->prog);
        return -1;
    }
    int rc = ts_mkdirs(ts_rundir(), 0755);
    if (rc < 0 || !ts_path(res->dir, sizeof(res->dir), "%s/bootloader.%u.XXXXXX", ts_rundir(),
                           req->domid) || !mkdtemp(res->dir)) {
        snprintf(err, errlen, "bootloader: cannot make a directory in %s: %s", ts_rundir(),
                 strerror(rc < 0 ? -rc : errno));
        res->dir[0] = 0;
        return -1;
    }
    int fd = ts_path(res->out, sizeof(res->out), "%s/output", res->dir) ?
             open(res->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    if (fd < 0) {
        snprintf(err, errlen, "bootloader output %s: %s", res->out, strerror(errno));
        bootloader_done(res);
        return -1;
    }
    close(fd);

    /* The arguments libxl gives it (make_bootloader_args). */
    char **argv = calloc((size_t)req->nargs + 9, sizeof(*argv));
    char *owned[6] = { 0 };
    int n = 0, k = 0;
    if (!argv) {
        snprintf(err, errlen, "out of memory");
        bootloader_done(res);
        return -1;
    }
    argv[n++] = (char *)prog;
    if (req->kernel && asprintf(&owned[k++], "--kernel=%s", req->kernel) > 0)
        argv[n++] = owned[k - 1];
    if (req->ramdisk && asprintf(&owned[k++], "--ramdisk=%s", req->ramdisk) > 0)
        argv[n++] = owned[k - 1];
    if (req->cmdline && *req->cmdline && asprintf(&owned[k++], "--args=%s", req->cmdline) > 0)
        argv[n++] = owned[k - 1];
    if (asprintf(&owned[k++], "--output=%s", res->out) > 0)
        argv[n++] = owned[k - 1];
    argv[n++] = "--output-format=simple0";
    if (asprintf(&owned[k++], "--output-directory=%s", res->dir) > 0)
        argv[n++] = owned[k - 1];
    for (int i = 0; i < req->nargs; i++)
        argv[n++] = req->args[i];
    argv[n++] = (char *)req->disk;
    argv[n] = NULL;
    log_info("bootloader: %s on %s", prog, req->disk);
    for (int i = 1; i < n; i++)
        log_debug("  bootloader arg: %s", argv[i]);

    int master = -1, slave = -1;
    pid_t pid = -1;
    if (openpty(&master, &slave, NULL, NULL, NULL) == 0) {
        struct termios t;
        if (tcgetattr(master, &t) == 0) {
            cfmakeraw(&t);
            tcsetattr(master, TCSANOW, &t);
        }
        pid = fork();
    }
    if (pid == 0) {
        close(master);
        if (login_tty(slave) < 0)
            _exit(127);
        setenv("TERM", "vt100", 1);
        signal(SIGPIPE, SIG_DFL);
        execvp(argv[0], argv);
        fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int saved = errno;
    if (slave >= 0)
        close(slave);
    struct tail t = { 0 };
    int status = pid > 0 ? pump(pid, master, req, &t) : -1;
    if (master >= 0)
        close(master);
    for (int i = 0; i < k; i++)
        free(owned[i]);
    free(argv);
    if (pid < 0) {
        snprintf(err, errlen, "bootloader %s: cannot start it: %s", prog, strerror(saved));
        bootloader_done(res);
        return -1;
    }
    if (status != 0) {
        if (status > 0 && WIFEXITED(status))
            snprintf(err, errlen, "bootloader %s failed (exit status %d)%s%s", prog,
                     WEXITSTATUS(status), t.last[0] ? ": " : "", t.last);
        else
            snprintf(err, errlen, "bootloader %s failed (%s)%s%s", prog,
                     status > 0 && WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "lost",
                     t.last[0] ? ": " : "", t.last);
        bootloader_done(res);
        return -1;
    }
    if (read_output(res->out, res, err, errlen) < 0) {
        bootloader_done(res);
        return -1;
    }
    log_info("bootloader: kernel %s%s%s, args '%s'", res->kernel, res->ramdisk ? ", ramdisk " : "",
             res->ramdisk ? res->ramdisk : "", res->args ? res->args : "");
    return 0;
}

/* Everything the bootloader left in our directory (its copies of the kernel
 * and ramdisk, the output file), then the directory. Nothing outside it. */
void bootloader_done(struct bootloader_result *res)
{
    DIR *dir = res->dir[0] ? opendir(res->dir) : NULL;
    struct dirent *e;
    while (dir && (e = readdir(dir)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlinkat(dirfd(dir), e->d_name, 0);
    if (dir)
        closedir(dir);
    if (res->dir[0]) {
        if (rmdir(res->dir) < 0 && errno != ENOENT)
            log_warn("bootloader: cannot remove %s: %s", res->dir, strerror(errno));
        res->dir[0] = 0;
    }
    free(res->kernel);
    free(res->ramdisk);
    free(res->args);
    res->kernel = res->ramdisk = res->args = NULL;
}
