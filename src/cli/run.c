/* `xenkvm run`: one domain in this process, its console on the terminal. */
#include "cli/cli.h"
#include "backend/console.h"
#include "common/log.h"
#include "xen/domain.h"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
        "usage: xenkvm run --kernel FILE [--ramdisk FILE] [--cmdline STRING]\n"
        "                  [--memory MiB] [--vcpus N] [--name NAME] [--domid N] [-v]\n"
        "Boots a PVH kernel (ELF vmlinux or bzImage) with its console on this terminal.\n"
        "Exit status: 0 poweroff, 1 xenkvm error, 2 crash, 3 reboot, 4 suspend,\n"
        "             5 watchdog, 6 soft_reset.\n");
}

static int parse_num(const char *opt, const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 0);
    if (errno || *end || end == s || v < min || v > max) {
        log_err("--%s: '%s' is not a number in %ld..%ld", opt, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "kernel", required_argument, NULL, 'k' },
        { "ramdisk", required_argument, NULL, 'r' },
        { "cmdline", required_argument, NULL, 'c' },
        { "memory", required_argument, NULL, 'm' },
        { "vcpus", required_argument, NULL, 'n' },
        { "name", required_argument, NULL, 'N' },
        { "domid", required_argument, NULL, 'd' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    struct domain_config cfg = { .name = "xenkvm", .domid = 1, .memory_mib = 64, .vcpus = 1,
                                 .console_stdin = true };
    long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:r:c:m:n:N:d:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'k': cfg.kernel = optarg; break;
        case 'r': cfg.ramdisk = optarg; break;
        case 'c': cfg.cmdline = optarg; break;
        case 'm':
            if (parse_num("memory", optarg, 2, 1 << 20, &v) < 0)
                return EXIT_ERROR;
            cfg.memory_mib = v;
            break;
        case 'n':
            if (parse_num("vcpus", optarg, 1, VM_MAX_VCPUS, &v) < 0)
                return EXIT_ERROR;
            cfg.vcpus = v;
            break;
        case 'N': cfg.name = optarg; break;
        case 'd':
            if (parse_num("domid", optarg, 1, DOMID_FIRST_RESERVED - 1, &v) < 0)
                return EXIT_ERROR;
            cfg.domid = v;
            break;
        case 'v': log_verbose++; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_ERROR;
        }
    }
    if (optind < argc) {
        log_err("run: unexpected argument '%s'", argv[optind]);
        return EXIT_ERROR;
    }
    if (!cfg.kernel) {
        log_err("run: --kernel is required");
        usage(stderr);
        return EXIT_ERROR;
    }
    static struct domain d;
    char err[512];
    if (domain_create(&d, &cfg, err, sizeof(err)) < 0 ||
        domain_pvh_boot(&d, &cfg, err, sizeof(err)) < 0) {
        log_err("%s", err);
        return EXIT_ERROR;
    }
    d.vm.report_since = cli_start;
    d.vm.report_first_exit = getenv("XENKVM_REPORT_STARTUP") != NULL;
    struct console *con = console_create(&d, domain_special_page(&d, SPECIAL_CONSOLE),
                                         cfg.console_stdin ? STDIN_FILENO : -1, STDOUT_FILENO);
    if (!con) {
        log_err("cannot set up the console");
        return EXIT_ERROR;
    }
    d.params[HVM_PARAM_CONSOLE_EVTCHN] = console_port(con);
    int status = domain_run(&d);
    log_info("domain %u (%s) ended: exit status %d", d.domid, d.name, status);
    console_destroy(con);
    domain_destroy(&d);
    return status;
}
