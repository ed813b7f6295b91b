/* qemu-storage-daemon for one image: its command line, its start with a
 * listening socket of ours, its stderr (a memfd) for error messages, its end. */
#include "backend/storage_daemon.h"
#include "backend/spawner.h"
#include "common/log.h"
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STOP_TIMEOUT_MS 10000

struct storage_daemon {
    pid_t pid;
    int pidfd;                   /* started by the spawn helper: its pidfd; else -1 */
    int out_fd;                  /* memfd: the daemon's stdout and stderr */
    bool reaped;
    int status;                  /* waitpid status once reaped */
    bool stopping;               /* we sent SIGTERM */
    char path[256];
};

/* The program: a path as given, else searched in PATH (before fork: execv
 * is async-signal-safe, execvp's search is not guaranteed to be). */
static bool find_program(const char *name, char *out, size_t len)
{
    if (strchr(name, '/')) {
        snprintf(out, len, "%s", name);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        snprintf(out, len, "%.*s/%s", (int)n, path, name);
        if (n && access(out, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

static json_object *jstr(const char *s) { return json_object_new_string(s); }

/* --blockdev as JSON (no escaping trouble with commas in paths): the format
 * node "disk" over a file (or host_device) node. O_DIRECT when the file
 * takes it (not tmpfs), as the raw path prefers; discards unmap clusters. */
static char *blockdev_json(const struct sd_image *img)
{
    struct stat st;
    bool bdev = stat(img->path, &st) == 0 && S_ISBLK(st.st_mode);
    int fd = open(img->path, O_RDONLY | O_DIRECT | O_CLOEXEC);
    bool direct = fd >= 0;
    if (fd >= 0)
        close(fd);
    json_object *cache = json_object_new_object();
    json_object_object_add(cache, "direct", json_object_new_boolean(direct));
    json_object_object_add(cache, "no-flush", json_object_new_boolean(false));
    json_object *file = json_object_new_object();
    json_object_object_add(file, "driver", jstr(bdev ? "host_device" : "file"));
    json_object_object_add(file, "filename", jstr(img->path));
    json_object_object_add(file, "aio", jstr("threads"));
    json_object_object_add(file, "cache", json_object_get(cache));
    json_object *node = json_object_new_object();
    json_object_object_add(node, "driver", jstr(img->driver));
    json_object_object_add(node, "node-name", jstr("disk"));
    json_object_object_add(node, "read-only", json_object_new_boolean(img->readonly));
    json_object_object_add(node, "cache", cache);
    if (!img->readonly) {
        json_object_object_add(file, "discard", jstr("unmap"));
        json_object_object_add(node, "discard", jstr("unmap"));
    }
    json_object_object_add(node, "file", file);
    const char *s = json_object_to_json_string_ext(node, JSON_C_TO_STRING_PLAIN |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE);
    char *out = s ? strdup(s) : NULL;
    json_object_put(node);
    return out;
}

/* A listening unix socket in a fresh private directory, nconn clients
 * connected to it (queued in its backlog), then the path and directory
 * removed: from then on the socket is reachable through these fds only. */
static int make_socket(int *fds, unsigned nconn, char *err, size_t errlen)
{
    const char *tmp = getenv("TMPDIR");
    char dir[96], path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    snprintf(dir, sizeof(dir), "%s/xenkvm-sd.XXXXXX", tmp && *tmp && strlen(tmp) < 80 ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        snprintf(err, errlen, "cannot make a directory for the storage daemon's socket (%s): %s",
                 dir, strerror(errno));
        return -1;
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(path, sizeof(path), "%.96s/nbd", dir);
    memcpy(sa.sun_path, path, sizeof(sa.sun_path));
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unsigned made = 0;
    int rc = lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
             listen(lfd, (int)nconn) < 0 ? -1 : 0;
    for (; !rc && made < nconn; made++) {
        fds[made] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[made] < 0 || connect(fds[made], (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            if (fds[made] >= 0)
                close(fds[made]);
            rc = -1;
            break;
        }
    }
    int e = errno;
    unlink(path);
    rmdir(dir);
    if (rc) {
        snprintf(err, errlen, "storage daemon socket %s: %s", path, strerror(e));
        while (made > 0)
            close(fds[--made]);
        if (lfd >= 0)
            close(lfd);
        return -1;
    }
    return lfd;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void child(const char *prog, char *const argv[], int lfd, int out_fd, pid_t parent)
{
    spawn_child_prepare(parent);
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int l = fcntl(lfd, F_DUPFD_CLOEXEC, 10), o = fcntl(out_fd, F_DUPFD_CLOEXEC, 10);
    if (nul < 0 || l < 0 || o < 0 || dup2(nul, 0) < 0 || dup2(o, 1) < 0 || dup2(o, 2) < 0 ||
        dup2(l, 3) < 0)
        _exit(126);
    close_range(4, ~0u, 0);
    execv(prog, argv);
    static const char msg[] = "cannot execute the storage daemon\n";
    if (write(2, msg, sizeof(msg) - 1) < 0) { /* nothing more to do */ }
    _exit(127);
}

struct storage_daemon *sd_start(const struct sd_image *img, int *fds, unsigned nconn, char *err,
                                size_t errlen)
{
    const char *name = getenv("XENKVM_STORAGE_DAEMON");
    char prog[512];
    if (!name || !*name)
        name = "qemu-storage-daemon";
    if (!find_program(name, prog, sizeof(prog))) {
        snprintf(err, errlen, "%s not found (Debian package qemu-system-common)", name);
        return NULL;
    }
    struct storage_daemon *sd = calloc(1, sizeof(*sd));
    char *blockdev = blockdev_json(img);
    char exp[160];
    snprintf(exp, sizeof(exp),
             "{\"type\":\"nbd\",\"id\":\"export\",\"node-name\":\"disk\",\"name\":\"%s\","
             "\"writable\":%s}", SD_EXPORT_NAME, img->readonly ? "false" : "true");
    char *const argv[] = { prog, "--blockdev", blockdev,
                           "--nbd-server", "{\"addr\":{\"type\":\"fd\",\"str\":\"3\"}}",
                           "--export", exp, NULL };
    if (!sd || !blockdev) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    snprintf(sd->path, sizeof(sd->path), "%s", img->path);
    sd->out_fd = memfd_create("storage-daemon-output", MFD_CLOEXEC);
    if (sd->out_fd < 0) {
        snprintf(err, errlen, "memfd: %s", strerror(errno));
        goto fail;
    }
    int lfd = make_socket(fds, nconn, err, errlen);
    if (lfd < 0)
        goto fail_out;
    sd->pidfd = -1;
    if (spawner_active()) {
        /* A confined domain process cannot fork and exec: the helper does. */
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        const int cfds[4] = { nul, sd->out_fd, sd->out_fd, lfd };
        int rc = nul < 0 ? -errno : spawner_spawn(prog, argv, cfds, 4, &sd->pid, &sd->pidfd,
                                                  err, errlen);
        if (nul < 0)
            snprintf(err, errlen, "/dev/null: %s", strerror(-rc));
        if (nul >= 0)
            close(nul);
        close(lfd);
        if (rc) {
            for (unsigned i = 0; i < nconn; i++)
                close(fds[i]);
            goto fail_out;
        }
    } else {
        pid_t parent = getpid();
        sd->pid = fork();
        if (sd->pid == 0)
            child(prog, argv, lfd, sd->out_fd, parent);
        int e = errno;
        close(lfd);
        if (sd->pid < 0) {
            snprintf(err, errlen, "fork: %s", strerror(e));
            for (unsigned i = 0; i < nconn; i++)
                close(fds[i]);
            goto fail_out;
        }
    }
    log_info("storage daemon %d: %s as %s%s", (int)sd->pid, img->path, img->driver,
             img->readonly ? ", read-only" : "");
    free(blockdev);
    return sd;
fail_out:
    close(sd->out_fd);
fail:
    free(blockdev);
    free(sd);
    return NULL;
}

pid_t sd_pid(const struct storage_daemon *sd)
{
    return sd->pid;
}

static void describe(int st, char *how, size_t len)
{
    if (WIFEXITED(st))
        snprintf(how, len, "exit status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(how, len, "signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
        snprintf(how, len, "status 0x%x", st);
}

/* Reaps the helper's child once it has ended (wait_ms: how long to wait for
 * that; -1 forever). */
static void reap_spawned(struct storage_daemon *sd, int wait_ms)
{
    struct pollfd p = { .fd = sd->pidfd, .events = POLLIN };
    if (poll(&p, 1, wait_ms) == 1 && spawner_wait(sd->pid, &sd->status) == 0)
        sd->reaped = true;
}

static void signal_daemon(struct storage_daemon *sd, int sig)
{
    if (sd->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, sd->pidfd, sig, NULL, 0);
    else
        kill(sd->pid, sig);
}

bool sd_exited(struct storage_daemon *sd, char *how, size_t howlen)
{
    if (!sd->reaped && sd->pidfd >= 0)
        reap_spawned(sd, 0);
    else if (!sd->reaped && waitpid(sd->pid, &sd->status, WNOHANG) == sd->pid)
        sd->reaped = true;
    if (sd->reaped && how)
        describe(sd->status, how, howlen);
    return sd->reaped;
}

void sd_error(struct storage_daemon *sd, char *buf, size_t len)
{
    char raw[4096];
    ssize_t n = pread(sd->out_fd, raw, sizeof(raw) - 1, 0);
    raw[n > 0 ? n : 0] = 0;
    size_t used = 0;
    buf[0] = 0;
    for (char *line = raw, *next; *line && used + 1 < len; line = next) {
        next = line + strcspn(line, "\n");
        if (*next)
            *next++ = 0;
        /* "qemu-storage-daemon: --blockdev {...}: why": keep the why */
        if (!strncmp(line, "qemu-storage-daemon: ", 21)) {
            line += 21;
            char *opt = strstr(line, "}: ");
            if (!strncmp(line, "--", 2) && opt)
                line = opt + 3;
        }
        if (!*line)
            continue;
        used += snprintf(buf + used, len - used, "%s%s", used ? " " : "", line);
    }
}

void sd_stop(struct storage_daemon *sd, bool quiet)
{
    if (!sd)
        return;
    char how[64];
    if (!sd_exited(sd, NULL, 0)) {
        sd->stopping = true;
        signal_daemon(sd, SIGTERM);
        for (int ms = 0; ms < STOP_TIMEOUT_MS && !sd_exited(sd, NULL, 0); ms++)
            nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
        if (!sd_exited(sd, NULL, 0)) {
            log_warn("storage daemon %d (%s) still running %d s after SIGTERM: SIGKILL",
                     (int)sd->pid, sd->path, STOP_TIMEOUT_MS / 1000);
            signal_daemon(sd, SIGKILL);
            if (sd->pidfd >= 0)
                reap_spawned(sd, -1);
            else if (waitpid(sd->pid, &sd->status, 0) == sd->pid)
                sd->reaped = true;
        }
    }
    describe(sd->status, how, sizeof(how));
    bool clean = sd->stopping && WIFEXITED(sd->status) && WEXITSTATUS(sd->status) == 0;
    if (!clean && !quiet) {
        char said[512];
        sd_error(sd, said, sizeof(said));
        log_warn("storage daemon %d (%s) ended: %s%s%s", (int)sd->pid, sd->path, how,
                 said[0] ? "; it said: " : "", said);
    } else if (clean) {
        log_info("storage daemon %d (%s) stopped", (int)sd->pid, sd->path);
    }
    close(sd->out_fd);
    if (sd->pidfd >= 0)
        close(sd->pidfd);
    free(sd);
}
