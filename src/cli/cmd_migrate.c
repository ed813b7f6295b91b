/* migrate and migrate-receive, as xl does them (docs/save-restore.md, "Live
 * migration"): the sender runs SSHCMD HOST xenkvm migrate-receive through
 * sh, copies the domain process's stream (a save file's records) into it,
 * and both ends go through xl's handshake: ready, permission to go, report. */
#include "cli/cli.h"
#include "cli/cfgload.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include "toolstack/paths.h"
#include "vmm/snapshot_file.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The handshake's messages. The banner names xenkvm, not xl: an xl at the
 * other end must refuse the stream, not misread it. The others are xl's
 * and, as in xl, sent with their terminating NUL. */
static const char banner[] = "xenkvm migration receiver ready, send binary domain data.\n";
static const char msg_ready[] = "domain received, ready to unpause";
static const char msg_go[] = "domain is yours, you are cleared to unpause";
static const char msg_report[] = "my copy unpause results are as follows";

static int read_exactly(int fd, void *buf, size_t n)
{
    for (size_t done = 0; done < n; ) {
        ssize_t r = read(fd, (char *)buf + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : -ECONNRESET;
        done += (size_t)r;
    }
    return 0;
}

static int write_exactly(int fd, const void *buf, size_t n)
{
    for (size_t done = 0; done < n; ) {
        ssize_t w = write(fd, (const char *)buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        done += (size_t)w;
    }
    return 0;
}

/* Reads a fixed message; false (and says what came instead) if it is not. */
static bool expect(int fd, const char *msg, size_t n, const char *stream, const char *what,
                   const char *rune)
{
    char buf[128];
    int rc = read_exactly(fd, buf, n);
    if (rc < 0) {
        fprintf(stderr, "%s: %s while reading %s\n", stream,
                rc == -ECONNRESET ? "unexpected end of stream" : strerror(-rc), what);
        return false;
    }
    if (memcmp(buf, msg, n)) {
        fprintf(stderr, "%s contained unexpected data instead of %s\n", stream, what);
        if (rune)
            fprintf(stderr, "(command run was: %s )\n", rune);
        return false;
    }
    return true;
}

/* Copies one save-file stream (header, records, END) from in to out,
 * reading no further than its END record. 0; -1 when in ended or failed;
 * -2 when out failed. With stats, the record count goes there. */
static int copy_stream(int in, int out, uint64_t *bytes)
{
    static char buf[1 << 20];
    struct snap_header h;
    *bytes = 0;
    if (read_exactly(in, &h, sizeof(h)) < 0)
        return -1;
    if (memcmp(h.magic, SNAP_MAGIC, 8))
        return -1;
    if (write_exactly(out, &h, sizeof(h)) < 0)
        return -2;
    *bytes += sizeof(h);
    for (;;) {
        struct snap_record rec;
        if (read_exactly(in, &rec, sizeof(rec)) < 0)
            return -1;
        if (rec.len > SNAP_MAX_RECORD)
            return -1;
        if (write_exactly(out, &rec, sizeof(rec)) < 0)
            return -2;
        *bytes += sizeof(rec) + rec.len;
        for (uint64_t left = rec.len; left; ) {
            size_t n = left < sizeof(buf) ? left : sizeof(buf);
            if (read_exactly(in, buf, n) < 0)
                return -1;
            if (write_exactly(out, buf, n) < 0)
                return -2;
            left -= n;
        }
        if (rec.type == SNAP_REC_END)
            return 0;
    }
}

/* ---- the sender ---- */

static pid_t start_transport(const char *rune, int *send_fd, int *recv_fd)
{
    int to[2], from[2];
    if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0) {
        log_err("pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        execlp("sh", "sh", "-c", rune, (char *)NULL);
        perror("failed to exec sh");
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    if (pid < 0) {
        log_err("fork: %s", strerror(errno));
        close(to[1]);
        close(from[0]);
        return -1;
    }
    *send_fd = to[1];
    *recv_fd = from[0];
    return pid;
}

static void transport_done(pid_t pid, int send_fd, int recv_fd)
{
    if (send_fd >= 0)
        close(send_fd);
    if (recv_fd >= 0)
        close(recv_fd);
    int status;
    if (pid > 0 && waitpid(pid, &status, 0) == pid && status &&
        !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        fprintf(stderr, "migration transport process [%ld] exited with %s %d\n", (long)pid,
                WIFEXITED(status) ? "status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

/* One line to the sending domain process: hold, end or resume. */
static bool tell_domain(int dom_fd, const char *op)
{
    struct json_object *req = json_object_new_object();
    json_object_object_add(req, "op", json_object_new_string(op));
    int rc = jl_send(dom_fd, req);
    json_object_put(req);
    if (rc < 0 || !strcmp(op, "hold"))
        return rc == 0;
    struct json_object *rep = jl_recv(dom_fd, 10000);
    bool ok = rep && jl_reply_ok(rep, NULL);
    json_object_put(rep);
    return ok;
}

static void print_rounds(struct json_object *st)
{
    struct json_object *rounds;
    if (!json_object_object_get_ex(st, "rounds", &rounds))
        return;
    size_t n = json_object_array_length(rounds);
    for (size_t i = 0; i < n; i++) {
        struct json_object *r = json_object_array_get_idx(rounds, i);
        fprintf(stderr, "migration sender: round %zu%s: %lld pages, %lld bytes, %lld ms\n", i + 1,
                i + 1 == n ? " (stop-and-copy)" : "", jl_int(r, "pages", 0),
                jl_int(r, "bytes", 0), jl_int(r, "ms", 0));
    }
    fprintf(stderr, "migration sender: %lld bytes sent; the domain was stopped for the last "
            "%lld ms of them\n", jl_int(st, "bytes", 0), jl_int(st, "downtime_ms", 0));
}

static bool rename_dom(long long domid, const char *name)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", domid);
    struct json_object *req = ts_req("rename", id);
    json_object_object_add(req, "name", json_object_new_string(name));
    return ts_simple(req) == 0;
}

/* The source's process ends by itself after "end"; as xl's destroy does,
 * return only once the daemon has forgotten it (destroyed if it lingers). */
static void source_gone(long long domid)
{
    char id[24], err[512];
    snprintf(id, sizeof(id), "%lld", domid);
    for (int i = 0; i < 100; i++) {
        struct json_object *reply;
        if (!ts_list_err(id, &reply, err, sizeof(err)))
            return;
        json_object_put(reply);
        usleep(100000);
    }
    ts_simple(ts_req("destroy", id));
}

static int migrate_domain(long long domid, const char *name, struct json_object *cfg,
                          const char *rune, bool debug)
{
    int send_fd = -1, recv_fd = -1;
    signal(SIGPIPE, SIG_IGN);   /* a receiver that dies is an error to report */
    pid_t child = start_transport(rune, &send_fd, &recv_fd);
    if (child < 0) {
        json_object_put(cfg);
        return 1;
    }
    if (!expect(recv_fd, banner, sizeof(banner) - 1, "migration receiver stream", "banner",
                rune)) {
        json_object_put(cfg);
        transport_done(child, send_fd, recv_fd);
        return 1;
    }
    /* The domain process streams its state through its control socket. */
    char sock[4096], err[512];
    snprintf(sock, sizeof(sock), "%s/dom-%lld.sock", ts_rundir(), domid);
    int dom_fd = jl_connect(sock);
    struct json_object *req = json_object_new_object(), *rep = NULL;
    json_object_object_add(req, "op", json_object_new_string("migrate-send"));
    json_object_object_add(req, "config", cfg);
    if (dom_fd >= 0 && jl_send(dom_fd, req) == 0)
        rep = jl_recv(dom_fd, 10000);
    json_object_put(req);
    const char *why = NULL;
    if (!rep || !jl_reply_ok(rep, &why)) {
        snprintf(err, sizeof(err), "%s", why ? why : dom_fd < 0 ? strerror(-dom_fd) : strerror(errno));
        log_err("domain %lld: %s", domid, err);
        json_object_put(rep);
        if (dom_fd >= 0)
            close(dom_fd);
        transport_done(child, send_fd, recv_fd);
        fprintf(stderr, "Migration failed, the domain was not stopped.\n");
        return 1;
    }
    json_object_put(rep);
    uint64_t bytes;
    int rc = copy_stream(dom_fd, send_fd, &bytes);
    struct json_object *st = rc == 0 ? jl_recv(dom_fd, 60000) : NULL;
    if (!st || !jl_reply_ok(st, NULL)) {
        fprintf(stderr, "migration sender: %s\n",
                rc == -2 ? "the migration receiver stopped reading the stream" :
                "the domain's stream ended early (see xenkvm dmesg and the domain's log)");
        json_object_put(st);
        close(dom_fd);          /* the domain resumes when its connection goes */
        transport_done(child, send_fd, recv_fd);
        fprintf(stderr, "Migration failed, resuming at sender.\n");
        return 1;
    }
    if (debug)
        print_rounds(st);
    long long stopped_ms = jl_int(st, "downtime_ms", 0);
    json_object_put(st);
    struct timespec t_end, t_started;
    clock_gettime(CLOCK_MONOTONIC, &t_end);
    if (!expect(recv_fd, msg_ready, sizeof(msg_ready), "migration receiver stream",
                "ready message", rune))
        goto failed_resume;
    fprintf(stderr, "migration sender: Target has acknowledged transfer.\n");
    char away[128];
    snprintf(away, sizeof(away), "%s--migratedaway", name);
    if (!rename_dom(domid, away))
        goto failed_resume;
    /* Point of no return: from "go" on, resuming here could make two. */
    if (!tell_domain(dom_fd, "hold"))
        goto failed_resume_renamed;
    fprintf(stderr, "migration sender: Giving target permission to start.\n");
    if (write_exactly(send_fd, msg_go, sizeof(msg_go)) < 0)
        goto failed_badly;
    char status;
    if (!expect(recv_fd, msg_report, sizeof(msg_report), "migration receiver stream",
                "success/failure report message", rune) ||
        read_exactly(recv_fd, &status, 1) < 0)
        goto failed_badly;
    if (status) {
        fprintf(stderr, "migration sender: Target reports startup failure (status code %d).\n",
                status);
        if (!expect(recv_fd, msg_go, sizeof(msg_go), "migration receiver stream",
                    "permission for sender to resume", rune))
            goto failed_badly;
        fprintf(stderr, "migration sender: Trying to resume at our end.\n");
        rename_dom(domid, name);
        if (tell_domain(dom_fd, "resume"))
            fprintf(stderr, "migration sender: Resumed OK.\n");
        close(dom_fd);
        transport_done(child, send_fd, recv_fd);
        fprintf(stderr, "Migration failed due to problems at target.\n");
        return 1;
    }
    fprintf(stderr, "migration sender: Target reports successful startup.\n");
    clock_gettime(CLOCK_MONOTONIC, &t_started);
    if (debug)
        fprintf(stderr, "migration sender: the guest did not run for %lld ms (%lld ms here, "
                "then the target's restore and the handshake)\n",
                stopped_ms + (t_started.tv_sec - t_end.tv_sec) * 1000 +
                (t_started.tv_nsec - t_end.tv_nsec) / 1000000, stopped_ms);
    tell_domain(dom_fd, "end");
    close(dom_fd);
    source_gone(domid);
    transport_done(child, send_fd, recv_fd);
    fprintf(stderr, "Migration successful.\n");
    return 0;

failed_resume_renamed:
    rename_dom(domid, name);
failed_resume:
    tell_domain(dom_fd, "resume");
    close(dom_fd);
    transport_done(child, send_fd, recv_fd);
    fprintf(stderr, "Migration failed, resuming at sender.\n");
    return 1;

failed_badly:
    fprintf(stderr,
            "** Migration failed during final handshake **\n"
            "Domain state is now undefined !\n"
            "Please CHECK AT BOTH ENDS for running instances, before renaming and\n"
            " resuming at most one instance.  Two simultaneous instances of the domain\n"
            " would probably result in SEVERE DATA LOSS and it is now your\n"
            " responsibility to avoid that.  Sorry.\n");
    close(dom_fd);              /* held: the domain stays paused here */
    transport_done(child, send_fd, recv_fd);
    return 1;
}

int cmd_migrate(int argc, char **argv)
{
    const char *config_file = NULL, *ssh = "ssh";
    bool debug = false, no_daemon = false, paused = false;
    static const struct option opts[] = {
        { "debug", no_argument, NULL, 0x100 },
        { "live", no_argument, NULL, 0x200 },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "FC:s:epDh", opts, NULL)) != -1) {
        switch (c) {
        case 'C': config_file = optarg; break;
        case 's': ssh = optarg; break;
        case 'F': break;                      /* xl: do not daemonize the receiver */
        case 'e': no_daemon = true; break;
        case 'p': paused = true; break;
        case 'D':
            log_err("migrate: -D (keep the domain id) is not supported: the destination "
                    "gives the domain a new id");
            return 1;
        case 0x100: debug = true; break;
        case 0x200: break;                    /* live is the default (xm's option) */
        default: return cli_usage("migrate", c == 'h');
        }
    }
    if (argc - optind != 2)
        return cli_usage("migrate", false);
    const char *dom = argv[optind], *host = argv[optind + 1];
    struct json_object *reply, *list = ts_list(dom, &reply);
    if (!list)
        return 1;
    struct json_object *d = json_object_array_get_idx(list, 0), *cfg = NULL;
    long long domid = jl_int(d, "domid", -1);
    char name[64];
    snprintf(name, sizeof(name), "%s", jl_str(d, "name", ""));
    bool running = strcmp(jl_str(d, "state", ""), "shutdown") != 0 && jl_int(d, "pid", 0) > 0;
    if (running && !config_file && json_object_object_get_ex(d, "config", &cfg))
        cfg = json_object_get(cfg);
    json_object_put(reply);
    if (!running) {
        log_err("domain %s is not running", dom);
        return 1;
    }
    if (config_file) {
        fprintf(stderr, "Parsing config from %s\n", cfg_display_name(config_file));
        if (!(cfg = cfg_load(config_file, NULL, 0)))
            return 1;
    }
    if (!cfg) {
        fprintf(stderr, "No config file stored for running domain and none supplied - "
                "cannot migrate.\n");
        return 1;
    }
    char *rune;
    if (!ssh[0])
        rune = strdup(host);
    else if (asprintf(&rune, "exec %s %s xenkvm migrate-receive%s%s%s", ssh, host,
                      no_daemon ? " -e" : "", debug ? " -d" : "", paused ? " -p" : "") < 0)
        rune = NULL;
    if (!rune) {
        json_object_put(cfg);
        return 1;
    }
    int rc = migrate_domain(domid, name, cfg, rune, debug);
    free(rune);
    return rc;
}

/* ---- the receiver: stdin carries the stream, stdout the answers ---- */

static int destroy_dom(long long domid)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", domid);
    return ts_simple(ts_req("destroy", id));
}

int cmd_migrate_receive(int argc, char **argv)
{
    bool debug = false, paused = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "Fedrph")) != -1) {
        switch (c) {
        case 'F': case 'e': break;            /* nothing daemonizes here */
        case 'd': debug = true; break;
        case 'p': paused = true; break;
        case 'r':
            log_err("migrate-receive: Remus checkpoints are not supported");
            return 1;
        default: return cli_usage("migrate-receive", c == 'h');
        }
    }
    if (argc != optind)
        return cli_usage("migrate-receive", false);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "migration target: Ready to receive domain.\n");
    if (write_exactly(STDOUT_FILENO, banner, sizeof(banner) - 1) < 0)
        return 1;
    /* The stream is kept in a file beside the daemon's sockets (it holds
     * the guest's memory: 0600) and restored from there. */
    char *spool;
    if (asprintf(&spool, "%s/migrate-in-%d.save", ts_rundir(), (int)getpid()) < 0)
        return 1;
    int fd = open(spool, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_err("migration target: %s: %s", spool, strerror(errno));
        free(spool);
        return 1;
    }
    uint64_t bytes;
    int rc = copy_stream(STDIN_FILENO, fd, &bytes);
    if (close(fd) < 0 && !rc)
        rc = -2;
    char err[512];
    char *saved = NULL;
    if (rc < 0)
        log_err("migration target: %s", rc == -1 ? "the stream ended early (the sender gave up)"
                : "cannot keep the stream (disk full?)");
    else if (!(saved = snap_verify(spool, err, sizeof(err))))
        log_err("migration target: %s", err);
    struct json_object *cfg = saved ? json_tokener_parse(saved) : NULL;
    free(saved);
    if (saved && (!cfg || !json_object_is_type(cfg, json_type_object)))
        log_err("migration target: the domain config in the stream is not a JSON object");
    if (!cfg || !json_object_is_type(cfg, json_type_object)) {
        json_object_put(cfg);
        unlink(spool);
        free(spool);
        fprintf(stderr, "migration target: Domain creation failed.\n");
        return 1;
    }
    if (debug)
        fprintf(stderr, "migration target: %llu bytes received\n", (unsigned long long)bytes);
    /* Under another name until the sender lets go of its own. */
    char name[64], incoming[128];
    snprintf(name, sizeof(name), "%s", jl_str(cfg, "name", "migrated"));
    snprintf(incoming, sizeof(incoming), "%s--incoming", name);
    json_object_object_add(cfg, "name", json_object_new_string(incoming));
    struct json_object *req = ts_req("create", NULL), *rep;
    json_object_object_add(req, "config", cfg);
    json_object_object_add(req, "paused", json_object_new_boolean(true));
    json_object_object_add(req, "restore", json_object_new_string(spool));
    rep = ts_call(req);
    unlink(spool);
    free(spool);
    if (!rep) {
        fprintf(stderr, "migration target: Domain creation failed.\n");
        return 1;
    }
    long long domid = jl_int(rep, "domid", -1);
    json_object_put(rep);
    fprintf(stderr, "migration target: Transfer complete, requesting permission to start "
            "domain.\n");
    if (write_exactly(STDOUT_FILENO, msg_ready, sizeof(msg_ready)) < 0) {
        destroy_dom(domid);
        return 1;
    }
    int failed = 0;
    if (!expect(STDIN_FILENO, msg_go, sizeof(msg_go), "migration stream", "GO message", NULL))
        failed = 3;
    else {
        fprintf(stderr, "migration target: Got permission, starting domain.\n");
        char id[24];
        snprintf(id, sizeof(id), "%lld", domid);
        if (!rename_dom(domid, name))
            failed = 3;
        else if (!paused && ts_simple(ts_req("unpause", id)) != 0)
            failed = 3;
        else
            fprintf(stderr, "migration target: Domain started successfully.\n");
    }
    char status = (char)failed;
    if (write_exactly(STDOUT_FILENO, msg_report, sizeof(msg_report)) < 0 ||
        write_exactly(STDOUT_FILENO, &status, 1) < 0) {
        if (failed)
            destroy_dom(domid);
        return 1;
    }
    if (!failed)
        return 0;
    fprintf(stderr, "migration target: Failure, destroying our copy.\n");
    if (destroy_dom(domid) != 0) {
        fprintf(stderr, "migration target: Failed to destroy our copy.\n");
        return 1;
    }
    fprintf(stderr, "migration target: Cleanup OK, granting sender permission to resume.\n");
    write_exactly(STDOUT_FILENO, msg_go, sizeof(msg_go));
    return 1;
}
