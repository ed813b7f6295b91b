/* xenkvmd: xenkvm's host daemon; serves xenstore to dom0 tools and, through
 * relays run by the domain processes, to guests. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "xenstore/daemon.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: xenkvmd [options]\n"
            "  -s, --socket PATH     listen on PATH (default %s)\n"
            "  -f, --foreground      do not detach\n"
            "  -q, --quota NAME=N    set a per-domain limit; names: %s\n"
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
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *sock = XS_DEFAULT_SOCKET;
    bool foreground = false;
    struct xs_quota q;
    int o;

    log_prog = "xenkvmd";
    xs_quota_defaults(&q);
    while ((o = getopt_long(argc, argv, "s:fq:vh", opts, NULL)) != -1) {
        switch (o) {
        case 's': sock = optarg; break;
        case 'f': foreground = true; break;
        case 'q':
            if (!xs_quota_set(&q, optarg))
                die("bad quota '%s' (names: %s)", optarg, xs_quota_names());
            break;
        case 'v': log_verbose++; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (foreground)
        return xs_daemon_run(sock, &q, -1);

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
    return xs_daemon_run(sock, &q, p[1]);
}
