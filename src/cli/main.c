/* xenkvm: the command line. */
#include "cli/cli.h"
#include "cli/remote.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "common/startup.h"
#include "vmm/run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *args, *what;
    int nargs;          /* positional arguments it needs at least (xl's usage message) */
} commands[] = {
    { "run", cmd_run, "--kernel FILE [...]", "boot a PVH kernel in this process (see run --help)", 0 },
    { "create", cmd_create, "[-c] [-p] [-F] [-n] [-q] FILE [KEY=VALUE...]",
      "create a domain from an xl.cfg/xm file or libvirt domain XML", 1 },
    { "list", cmd_list, "[-l] [-v] [DOMAIN]", "list domains (-l: JSON)", 0 },
    { "console", cmd_console, "[-t pv|serial] [-n NUM] DOMAIN", "attach to the domain's console (Ctrl-] detaches)", 1 },
    { "destroy", cmd_destroy, "DOMAIN", "terminate a domain at once", 1 },
    { "shutdown", cmd_shutdown, "[-w] [-F] (-a | DOMAIN)", "ask a domain to power off (-w: wait)", 0 },
    { "reboot", cmd_reboot, "[-w] [-F] (-a | DOMAIN)", "ask a domain to reboot (-w: wait)", 0 },
    { "save", cmd_save, "[-c] [-p] DOMAIN FILE [CONFIG]",
      "save a domain's state to FILE and end it (-c: keep it running, -p: leave it paused)", 2 },
    { "restore", cmd_restore, "[-p] [-c] [-e] FILE [CONFIG]",
      "a new domain from a save file (-p: paused, -c: attach the console)", 1 },
    { "dump-core", cmd_dump_core, "DOMAIN FILE",
      "an ELF core of the domain's memory and vCPU registers (gdb reads it)", 2 },
    { "migrate", cmd_migrate, "[-s SSHCMD] [-C CONFIG] [-e] [-p] [--debug] [--live] DOMAIN HOST",
      "move a running domain to HOST, live, over `SSHCMD HOST xenkvm migrate-receive` "
      "(SSHCMD: ssh; --debug: the pre-copy rounds)", 2 },
    { "migrate-receive", cmd_migrate_receive, "[-d] [-p] [-e]",
      "the other end of migrate: a domain from the stream on stdin (-p: leave it paused)", 0 },
    { "pause", cmd_pause, "DOMAIN", "stop a domain's vCPUs", 1 },
    { "unpause", cmd_unpause, "DOMAIN", "let a paused domain run again", 1 },
    { "rename", cmd_rename, "DOMAIN NEW-NAME", "rename a domain", 2 },
    { "domid", cmd_domid, "NAME", "the domain id of a domain name", 1 },
    { "domname", cmd_domname, "DOMID", "the name of a domain id", 1 },
    { "info", cmd_info, "[-n] [KEY]", "the host, as xl info shows Xen's", 0 },
    { "uptime", cmd_uptime, "[-s] [DOMAIN...]", "how long domains have run", 0 },
    { "dmesg", cmd_dmesg, "[-c]", "xenkvmd's log (-c: then clear it)", 0 },
    { "top", cmd_top, "[-b] [-d SECONDS] [-i ITERATIONS] [-x]",
      "per-domain CPU, memory and devices (-x: and exits, I/O ports, hypercalls per second)", 0 },
    { "vcpu-list", cmd_vcpu_list, "[DOMAIN...]", "the domains' vCPUs and their host CPU affinity", 0 },
    { "vcpu-set", cmd_vcpu_set, "[-i] DOMAIN N",
      "make vCPUs 0..N-1 available to the guest, the rest not (-i: more than host CPUs)", 2 },
    { "vcpu-pin", cmd_vcpu_pin, "[-f] DOMAIN VCPU|all HARD [SOFT]",
      "host CPUs a vCPU runs on (xl's CPU lists: 2-5,^3, all, node:1; - keeps)", 3 },
    { "sched-credit", cmd_sched_credit, "[-d DOMAIN [-w WEIGHT] [-c CAP]] [-s] [-p POOL]",
      "a domain's CPU weight (1-65535, 256) and cap (% of a CPU, 0: none) on its cgroup", 0 },
    { "sched-credit2", cmd_sched_credit2, "[-d DOMAIN [-w WEIGHT] [-c CAP]] [-s] [-p POOL]",
      "the same as sched-credit (one scheduler here: Linux's, through cgroups)", 0 },
    { "trigger", cmd_trigger, "DOMAIN nmi|reset|init|power|sleep|s3resume [VCPU]",
      "send a hardware event to the domain", 2 },
    { "mem-set", cmd_mem_set, "DOMAIN SIZE", "set the balloon target (SIZE: MiB, or t/g/m/k/b suffix)", 2 },
    { "mem-max", cmd_mem_max, "DOMAIN SIZE", "set the domain's maximum memory", 2 },
    { "sysrq", cmd_sysrq, "DOMAIN KEY", "send a magic sysrq key to the guest", 2 },
    { "block-attach", cmd_block_attach, "DOMAIN DISK-SPEC", "hot-plug a disk (xl-disk-configuration)", 2 },
    { "block-detach", cmd_block_detach, "[-f] DOMAIN VDEV",
      "remove a disk (waits up to 10 s for the guest; -f: at once)", 2 },
    { "block-list", cmd_block_list, "DOMAIN", "the domain's disks", 1 },
    { "network-attach", cmd_network_attach, "DOMAIN [VIF-SPEC...]",
      "hot-plug a NIC (xl-network-configuration; the arguments are joined with commas)", 1 },
    { "network-detach", cmd_network_detach, "[-f] DOMAIN DEVID|MAC",
      "remove a NIC (waits up to 10 s for the guest; -f: at once)", 2 },
    { "network-list", cmd_network_list, "DOMAIN", "the domain's NICs", 1 },
    { "define", cmd_define, "FILE [KEY=VALUE...]", "store a domain config for start", 1 },
    { "undefine", cmd_undefine, "NAME", "forget a stored domain config", 1 },
    { "start", cmd_start, "[-c] [-p] NAME", "create a domain from its stored config", 1 },
    { "autostart", cmd_autostart, "NAME [--disable]", "start NAME when xenkvmd starts at boot", 1 },
    { "list-defined", cmd_list_defined, "", "the stored domain configs", 0 },
    { "domxml-from-native", cmd_domxml_from_native, "xen-xl|xen-xm FILE [KEY=VALUE...]",
      "print an xl/xm config as libvirt domain XML", 2 },
    { "domxml-to-native", cmd_domxml_to_native, "xen-xl|xen-xm FILE.xml",
      "print libvirt domain XML as an xl/xm config", 2 },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

bool cli_xl;

static void usage(FILE *f)
{
    fprintf(f, "usage: %s [-c URI] COMMAND [ARGS]\n"
               "  -c, --connect URI  run the command on another host: ssh://[user@]host[:port]\n"
               "                     (default: $XENKVM_URI, else this host)\n"
               "commands:\n", cli_xl ? "xl" : "xenkvm");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].what);
    fprintf(f, "%s COMMAND -h: the command's arguments. See xenkvm(1).\n", cli_xl ? "xl" : "xenkvm");
}

int cli_usage(const char *cmd, int asked)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].name, cmd)) {
            if (cli_xl && !asked && commands[i].nargs)
                fprintf(stderr, "'xl %s' requires at least %d argument%s.\n\n", cmd,
                        commands[i].nargs, commands[i].nargs > 1 ? "s" : "");
            fprintf(asked ? stdout : stderr, "usage: %s %s %s\n%s.\n", cli_xl ? "xl" : "xenkvm",
                    cmd, commands[i].args, commands[i].what);
            break;
        }
    /* xl exits 2 on a usage error. */
    return asked ? 0 : cli_xl ? 2 : 1;
}

void cli_no_domain(const char *dom)
{
    if (cli_xl)
        fprintf(stderr, "%s is an invalid domain identifier (rc=-6)\n", dom);
    else
        log_err("domain '%s' does not exist", dom);
}

void cli_report(const char *why, const char *prefix)
{
    size_t n = strlen(why);
    static const char tail[] = "' does not exist";
    if (!strncmp(why, "domain '", 8) && n > 8 + sizeof(tail) - 1 &&
        !strcmp(why + n - (sizeof(tail) - 1), tail)) {
        char dom[256];
        snprintf(dom, sizeof(dom), "%.*s", (int)(n - 8 - (sizeof(tail) - 1)), why + 8);
        cli_no_domain(dom);
    } else if (prefix) {
        fprintf(stderr, "%s%s\n", prefix, why);
    } else {
        log_err("%s", why);
    }
}

static void report_failure(const char *why)
{
    cli_report(why, NULL);
}

/* `xenkvm run`: this process becomes the domain process. */
int cmd_run(int argc, char **argv)
{
    return vmm_run(argc, argv);
}

/* The command's usage, as `xl help COMMAND` prints it. */
static int help(const char *cmd)
{
    for (size_t i = 0; cmd && i < NCOMMANDS; i++)
        if (!strcmp(commands[i].name, cmd))
            return cli_usage(cmd, true);
    usage(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    startup_init();
    const char *base = strrchr(argv[0], '/');
    cli_xl = !strcmp(base ? base + 1 : argv[0], "xl");
    log_prog = cli_xl ? "xl" : "xenkvm";
    ts_report = report_failure;
    setvbuf(stdout, NULL, _IONBF, 0);
    /* -c URI / --connect URI / --connect=URI, before the command. */
    const char *uri = getenv("XENKVM_URI");
    if (argc > 2 && (!strcmp(argv[1], "-c") || !strcmp(argv[1], "--connect"))) {
        uri = argv[2];
        argc -= 2;
        argv += 2;
    } else if (argc > 1 && !strncmp(argv[1], "--connect=", 10)) {
        uri = argv[1] + 10;
        argc--;
        argv++;
    }
    int first = 1;
    /* xl's global options: -v (more messages), -N (dry run), -f, -t. */
    while (cli_xl && first < argc && argv[first][0] == '-' && argv[first][1] &&
           strspn(argv[first] + 1, "vNft") == strlen(argv[first] + 1)) {
        if (strchr(argv[first], 'v'))
            log_verbose++;
        first++;
    }
    if (argc <= first) {
        usage(stderr);
        return 1;
    }
    const char *cmd = argv[first];
    /* Pure conversions read local files and need no daemon: always here. */
    if (!remote_is_local(uri) && strncmp(cmd, "domxml-", 7))
        return remote_exec(uri, argc - first, argv + first);
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].fn(argc - first, argv + first);
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h"))
        return help(first + 1 < argc ? argv[first + 1] : NULL);
    if (cli_xl) {
        fprintf(stderr, "command not implemented\n");
        return 1;
    }
    log_err("unknown command '%s'", cmd);
    usage(stderr);
    return 1;
}
