/* console: the domain's console through its control socket; Ctrl-] detaches. */
#include "cli/cli.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
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

int cmd_console(int argc, char **argv)
{
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "t:n:h")) != -1) {
        if (c == 't' && strcmp(optarg, "pv") && strcmp(optarg, "serial")) {
            log_err("console: type '%s': only pv (and serial, the same here) exist", optarg);
            return 1;
        }
        if (c == 'h' || c == '?')
            return cli_usage("console", c == 'h');
    }
    if (argc - optind != 1)
        return cli_usage("console", false);
    struct json_object *rep, *arr = ts_list(argv[optind], &rep);
    if (!arr)
        return 1;
    long long domid = jl_int(json_object_array_get_idx(arr, 0), "domid", 0);
    json_object_put(rep);
    return console_attach(domid);
}
