/* console: the domain's console through its control socket; Ctrl-] detaches. */
#include "cli/cli.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define ESCAPE 0x1d    /* Ctrl-] */

int console_attach(long long domid)
{
    char err[512];
    int fd = ts_console_open(domid, err, sizeof(err));
    if (fd < 0) {
        log_err("%s", err);
        return 1;
    }
    struct termios saved, raw;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = STDIN_FILENO, .events = POLLIN } };
    char buf[4096];
    for (;;) {
        int n = poll(p, 2, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        if (p[0].revents) {
            ssize_t r = read(fd, buf, sizeof(buf));
            if (r <= 0)
                break;     /* the domain ended */
            if (write(STDOUT_FILENO, buf, r) < 0)
                break;
        }
        if (p[1].revents) {
            ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
            if (r <= 0) {
                p[1].fd = -1;     /* no more input: keep showing output */
                continue;
            }
            char *esc = tty ? memchr(buf, ESCAPE, r) : NULL;
            if (esc)
                r = esc - buf;
            if (r > 0 && write(fd, buf, r) < 0)
                break;
            if (esc)
                break;
        }
    }
    if (tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    close(fd);
    return 0;
}

/* xl console [-t pv|serial|vuart] [-n NUM] DOMAIN: a PV or PVH domain has
 * one console, PV console 0 (no emulated UART: -t serial fails, as it does
 * for such a guest on Xen). */
int cmd_console(int argc, char **argv)
{
    static const struct option opts[] = { { "type", required_argument, NULL, 't' },
        { "num", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' }, { 0 } };
    const char *type = "pv";
    int c, num = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:n:h", opts, NULL)) != -1) {
        if (c == 't') {
            if (strcmp(optarg, "pv") && strcmp(optarg, "serial") && strcmp(optarg, "vuart")) {
                fprintf(stderr, "console type supported are: pv, serial, vuart\n");
                return 1;
            }
            type = optarg;
        } else if (c == 'n') {
            num = atoi(optarg);
        } else {
            return cli_usage("console", c == 'h');
        }
    }
    if (argc - optind != 1)
        return cli_usage("console", false);
    struct json_object *rep, *arr = ts_list(argv[optind], &rep);
    if (!arr)
        return 1;
    long long domid = jl_int(json_object_array_get_idx(arr, 0), "domid", 0);
    json_object_put(rep);
    if (strcmp(type, "pv") || num != 0) {
        fprintf(stderr, "libxl: error: Domain %lld:Console %s %d does not exist (a PV/PVH guest "
                "has PV console 0 only)\n", domid, type, num);
        fprintf(stderr, "Unable to attach console\n");
        return 1;
    }
    return console_attach(domid);
}
