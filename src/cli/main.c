/* xenkvm: the command line. */
#include "cli/cli.h"
#include "common/log.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: xenkvm COMMAND [ARGS]\n"
               "commands:\n"
               "  run      boot a PVH kernel in this process (see xenkvm run --help)\n");
}

struct timespec cli_start;

int main(int argc, char **argv)
{
    clock_gettime(CLOCK_MONOTONIC, &cli_start);
    log_prog = "xenkvm";
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    if (!strcmp(argv[1], "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    log_err("unknown command '%s'", argv[1]);
    usage(stderr);
    return 1;
}
