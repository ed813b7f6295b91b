/* xenkvmd: xenkvm's host daemon; serves xenstore to dom0 tools and, through
 * relays run by the domain processes, to guests; and (registry*.c) keeps
 * the domains: domids, their processes, on_* actions, the CLI's socket. */
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/registry.h"
#include "xenstore/unix_server.h"

/* xenstore, then (unless disabled) the registry beside it; returns the exit status. */
static int serve(const char *sock, const struct xs_quota *q, int ready_fd,
                 struct registry_opts *ro, const char *log_file)
{
    if (log_file && !freopen(log_file, "a", stderr))
        die("%s: %m", log_file);
    setvbuf(stderr, NULL, _IOLBF, 0);
    if (ro) {
        sigset_t mask;
        xs_daemon_block_signals(&mask);   /* before the registry thread inherits the mask */
        if (registry_start(ro) < 0)
            return 1;
    }
    int rc = xs_daemon_run(sock, q, ready_fd);
    if (ro)
        registry_stop();
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: xenkvmd [options]\n"
            "  -s, --socket PATH     listen on PATH (default %s)\n"
            "  -f, --foreground      do not detach\n"
            "  -q, --quota NAME=N    set a per-domain limit; names: %s\n"
            "  -l, --log FILE        append messages (and domain processes') to FILE\n"
            "  -R, --no-registry     xenstore only: no domains, no control socket\n"
            "  -a, --autostart       start the domains on the autostart list (once per boot)\n"
            "The registry's control socket and domain records live beside the xenstore\n"
            "socket (xenkvmd.sock, domains/); $XENKVM_RUNDIR moves the default directory.\n"
            "  -v, --verbose         more messages (twice: every request)\n"
            "  -h, --help            this text\n",
            XS_DEFAULT_SOCKET, xs_quota_names());
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' },
        { "foreground", no_argument, NULL, 'f' },
        { "quota", required_argument, NULL, 'q' },
        { "log", required_argument, NULL, 'l' },
        { "no-registry", no_argument, NULL, 'R' },
        { "autostart", no_argument, NULL, 'a' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    static char sock_buf[4096];
    const char *sock = XS_DEFAULT_SOCKET, *log_file = NULL;
    if (getenv("XENKVM_RUNDIR") && *getenv("XENKVM_RUNDIR")) {
        snprintf(sock_buf, sizeof(sock_buf), "%s/xenstored.sock", getenv("XENKVM_RUNDIR"));
        sock = sock_buf;
    }
    bool foreground = false, registry = true, autostart = false;
    struct xs_quota q;
    int o;

    log_prog = "xenkvmd";
    xs_quota_defaults(&q);
    while ((o = getopt_long(argc, argv, "s:fq:l:Ravh", opts, NULL)) != -1) {
        switch (o) {
        case 's': sock = optarg; break;
        case 'f': foreground = true; break;
        case 'q':
            if (!xs_quota_set(&q, optarg))
                die("bad quota '%s' (names: %s)", optarg, xs_quota_names());
            break;
        case 'l': log_file = optarg; break;
        case 'R': registry = false; break;
        case 'a': autostart = true; break;
        case 'v': log_verbose++; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    char rundir[4096];
    snprintf(rundir, sizeof(rundir), "%s", sock);
    struct registry_opts ro = { .xs_socket = sock, .rundir = dirname(rundir),
                                .log_file = log_file, .autostart = autostart };
    if (foreground)
        return serve(sock, &q, -1, registry ? &ro : NULL, log_file);

    /* Detach, but let the parent exit only once the socket is there. */
    int p[2];
    if (pipe(p))
        die("pipe: %m");
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %m");
    if (pid > 0) {
        char c;
        close(p[1]);
        return read(p[0], &c, 1) == 1 ? 0 : 1;
    }
    close(p[0]);
    setsid();
    if (!freopen("/dev/null", "r", stdin))
        die("/dev/null: %m");
    return serve(sock, &q, p[1], registry ? &ro : NULL, log_file);
}
