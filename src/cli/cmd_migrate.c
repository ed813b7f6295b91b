/* migrate and migrate-receive, as xl does them (docs/save-restore.md, "Live
 * migration"): the sender runs SSHCMD HOST xenkvm migrate-receive through
 * sh, copies the domain process's stream (a save file's records) into it,
 * and both ends go through xl's handshake: ready, permission to go, report.
 * This is the sender; cmd_migrate_receive.c the other end. */
#include "cli/cli.h"
#include "cli/cfgload.h"
#include "cli/migrate_stream.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include "toolstack/paths.h"
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
    struct json_object *us;
    if (json_object_object_get_ex(st, "stop_us", &us))
        fprintf(stderr, "migration sender: the stop: vCPUs parked %.1f ms, xenstore %.1f ms, "
                "devices drained %.1f ms, last pages %.1f ms, state records %.1f ms\n",
                jl_int(us, "quiesce", 0) / 1e3, jl_int(us, "xenstore", 0) / 1e3,
                jl_int(us, "devices", 0) / 1e3, jl_int(us, "pages", 0) / 1e3,
                jl_int(us, "state", 0) / 1e3);
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
    if (!migrate_expect(recv_fd, MIGRATE_BANNER, sizeof(MIGRATE_BANNER) - 1,
                        "migration receiver stream", "banner", rune)) {
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
        snprintf(err, sizeof(err), "%s",
                 why ? why : dom_fd < 0 ? strerror(-dom_fd) : strerror(errno));
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
    int rc = migrate_copy_stream(dom_fd, send_fd, &bytes);
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
    if (!migrate_expect(recv_fd, MIGRATE_READY, sizeof(MIGRATE_READY),
                        "migration receiver stream", "ready message", rune))
        goto failed_resume;
    fprintf(stderr, "migration sender: Target has acknowledged transfer.\n");
    char away[128];
    snprintf(away, sizeof(away), "%s--migratedaway", name);
    if (!migrate_rename(domid, away))
        goto failed_resume;
    /* Point of no return: from "go" on, resuming here could make two. */
    if (!tell_domain(dom_fd, "hold"))
        goto failed_resume_renamed;
    fprintf(stderr, "migration sender: Giving target permission to start.\n");
    if (migrate_write(send_fd, MIGRATE_GO, sizeof(MIGRATE_GO)) < 0)
        goto failed_badly;
    char status;
    if (!migrate_expect(recv_fd, MIGRATE_REPORT, sizeof(MIGRATE_REPORT),
                        "migration receiver stream", "success/failure report message", rune) ||
        migrate_read(recv_fd, &status, 1) < 0)
        goto failed_badly;
    if (status) {
        fprintf(stderr, "migration sender: Target reports startup failure (status code %d).\n",
                status);
        if (!migrate_expect(recv_fd, MIGRATE_GO, sizeof(MIGRATE_GO),
                            "migration receiver stream", "permission for sender to resume", rune))
            goto failed_badly;
        fprintf(stderr, "migration sender: Trying to resume at our end.\n");
        migrate_rename(domid, name);
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
    migrate_rename(domid, name);
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
