/* xenkvm: the command line. */
#include "cli/cli.h"
#include "cli/remote.h"
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
} commands[] = {
    { "run", cmd_run, "--kernel FILE [...]", "boot a PVH kernel in this process (see run --help)" },
    { "create", cmd_create, "[-c] [-p] [-F] [-n] [-q] FILE [KEY=VALUE...]",
      "create a domain from an xl.cfg/xm file or libvirt domain XML" },
    { "list", cmd_list, "[-l] [-v] [DOMAIN]", "list domains (-l: JSON)" },
    { "console", cmd_console, "[-t pv|serial] DOMAIN", "attach to the domain's console (Ctrl-] detaches)" },
    { "destroy", cmd_destroy, "DOMAIN", "terminate a domain at once" },
    { "shutdown", cmd_shutdown, "[-w] [-F] (-a | DOMAIN)", "ask a domain to power off (-w: wait)" },
    { "reboot", cmd_reboot, "[-w] [-F] (-a | DOMAIN)", "ask a domain to reboot (-w: wait)" },
    { "pause", cmd_pause, "DOMAIN", "stop a domain's vCPUs" },
    { "unpause", cmd_unpause, "DOMAIN", "let a paused domain run again" },
    { "rename", cmd_rename, "DOMAIN NEW-NAME", "rename a domain" },
    { "domid", cmd_domid, "NAME", "the domain id of a domain name" },
    { "domname", cmd_domname, "DOMID", "the name of a domain id" },
    { "info", cmd_info, "[-n] [KEY]", "the host, as xl info shows Xen's" },
    { "uptime", cmd_uptime, "[-s] [DOMAIN...]", "how long domains have run" },
    { "dmesg", cmd_dmesg, "[-c]", "xenkvmd's log (-c: then clear it)" },
    { "top", cmd_top, "[-b] [-d SECONDS] [-i ITERATIONS] [-x]",
      "per-domain CPU, memory and devices (-x: and exits, I/O ports, hypercalls per second)" },
    { "vcpu-list", cmd_vcpu_list, "[DOMAIN...]", "the domains' vCPUs" },
    { "mem-set", cmd_mem_set, "DOMAIN SIZE", "set the balloon target (SIZE: MiB, or t/g/m/k/b suffix)" },
    { "mem-max", cmd_mem_max, "DOMAIN SIZE", "set the domain's maximum memory" },
    { "sysrq", cmd_sysrq, "DOMAIN KEY", "send a magic sysrq key to the guest" },
    { "block-attach", cmd_block_attach, "DOMAIN DISK-SPEC", "hot-plug a disk (xl-disk-configuration)" },
    { "block-detach", cmd_block_detach, "[-f] DOMAIN VDEV",
      "remove a disk (waits up to 10 s for the guest; -f: at once)" },
    { "block-list", cmd_block_list, "DOMAIN", "the domain's disks" },
    { "network-attach", cmd_network_attach, "DOMAIN [VIF-SPEC...]",
      "hot-plug a NIC (xl-network-configuration; the arguments are joined with commas)" },
    { "network-detach", cmd_network_detach, "[-f] DOMAIN DEVID|MAC",
      "remove a NIC (waits up to 10 s for the guest; -f: at once)" },
    { "network-list", cmd_network_list, "DOMAIN", "the domain's NICs" },
    { "define", cmd_define, "FILE [KEY=VALUE...]", "store a domain config for start" },
    { "undefine", cmd_undefine, "NAME", "forget a stored domain config" },
    { "start", cmd_start, "[-c] [-p] NAME", "create a domain from its stored config" },
    { "autostart", cmd_autostart, "NAME [--disable]", "start NAME when xenkvmd starts at boot" },
    { "list-defined", cmd_list_defined, "", "the stored domain configs" },
    { "domxml-from-native", cmd_domxml_from_native, "xen-xl|xen-xm FILE [KEY=VALUE...]",
      "print an xl/xm config as libvirt domain XML" },
    { "domxml-to-native", cmd_domxml_to_native, "xen-xl|xen-xm FILE.xml",
      "print libvirt domain XML as an xl/xm config" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
    fprintf(f, "usage: xenkvm [-c URI] COMMAND [ARGS]\n"
               "  -c, --connect URI  run the command on another host: ssh://[user@]host[:port]\n"
               "                     (default: $XENKVM_URI, else this host)\n"
               "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].what);
    fprintf(f, "xenkvm COMMAND -h: the command's arguments. See xenkvm(1).\n");
}

int cli_usage(const char *cmd, int asked)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].name, cmd)) {
            fprintf(asked ? stdout : stderr, "usage: xenkvm %s %s\n%s.\n", cmd, commands[i].args,
                    commands[i].what);
            break;
        }
    return asked ? 0 : 1;
}

/* `xenkvm run`: this process becomes the domain process. */
int cmd_run(int argc, char **argv)
{
    return vmm_run(argc, argv);
}

int main(int argc, char **argv)
{
    startup_init();
    log_prog = "xenkvm";
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
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    /* Pure conversions read local files and need no daemon: always here. */
    if (!remote_is_local(uri) && strncmp(argv[1], "domxml-", 7))
        return remote_exec(uri, argc - 1, argv + 1);
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    log_err("unknown command '%s'", argv[1]);
    usage(stderr);
    return 1;
}
