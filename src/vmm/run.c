/* `xenkvm run`: one domain in this process, its console on the terminal. */
#include "vmm/run.h"
#include "vmm/confine.h"
#include "vmm/domctl.h"
#include "vmm/vcpu_ctl.h"
#include "backend/spawner.h"
#include "toolstack/daemon.h"
#include "toolstack/paths.h"
#include "vmm/snapshot_state.h"
#include "vmm/snapshot_xenstore.h"
#include "vmm/bootloader.h"
#include "vmm/dump_core.h"
#include "vmm/pvboot.h"
#include "config/disk.h"
#include "config/domcfg.h"
#include "toolstack/uuid.h"
#include "backend/devices.h"
#include "backend/console.h"
#include "backend/xenstore_relay.h"
#include "xenstore/client.h"
#include "common/log.h"
#include "common/startup.h"
#include "xen/domain.h"
#include <xen/sched.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <xen/sched.h>

static void usage(FILE *f)
{
    fprintf(f,
        "usage: xenkvm run --kernel FILE [--ramdisk FILE] [--cmdline STRING]\n"
        "                  [--pv] [--shim FILE] [--shim-cmdline STRING] [--shim-extra STRING]\n"
        "                  [--bootloader PROG [--bootloader-arg ARG]...]\n"
        "                  [--memory MiB] [--vcpus N] [--name NAME] [--domid N]\n"
        "                  [--xenstore SOCKET | --no-xenstore] [--disk SPEC]... [--vif SPEC]...\n"
        "                  [--stats] [-v]\n"
        "Boots a PVH kernel (ELF vmlinux or bzImage) with its console on this terminal.\n"
        "--pv: the kernel is a PV kernel; it runs through Xen's PV shim (a PVH guest\n"
        "        hosting it): --shim FILE (default " DOMCFG_PVSHIM_PATH ",\n"
        "        Debian's " DOMCFG_PVSHIM_PACKAGE "; --shim implies --pv), whose command line is\n"
        "        --shim-cmdline (default \"" DOMCFG_PVSHIM_CMDLINE "\") plus --shim-extra.\n"
        "--bootloader: boots what the bootloader (e.g. pygrub) finds on the first --disk;\n"
        "        --kernel, --ramdisk and --cmdline are passed to it.\n"
        "xenstore: the xenkvmd socket given, else $XENKVM_RUNDIR/xenstored.sock\n"
        "(/run/xenkvm/...), xenkvmd being started there if it is not running; the\n"
        "domain's tree is written there and the guest's ring is connected to it.\n"
        "--no-xenstore: none; the guest is told so as Xen does (HVM_PARAM_STORE_PFN 0).\n"
        "--disk: an xl disk spec (xl-disk-configuration(5)), e.g. /img.raw,raw,xvda,rw\n"
        "        or 'vdev=xvdb, access=ro, target=/dev/sdb'; raw images and block devices,\n"
        "        and qcow2, vhd, qcow, qed, vmdk images (through qemu-storage-daemon).\n"
        "--vif: an xl vif spec (xl-network-configuration(5)), e.g. bridge=xenbr0,mac=00:16:3e:0:0:1:\n"
        "        tap vifDOMID.DEVID on that (existing) bridge, served by netback.\n"
        "--stats: at the end, print the guest's exits by reason and by I/O port and its\n"
        "        hypercalls by number (also in `xenkvm list -l` and `top -x` under xenkvmd).\n"
        "Exit status: 0 poweroff, 1 xenkvm error, 2 crash, 3 reboot, 4 suspend,\n"
        "             5 watchdog, 6 soft_reset; 128+N: stopped by signal N (SIGTERM,\n"
        "             SIGINT, SIGHUP), torn down as on a poweroff. SIGUSR2 prints each\n"
        "             vCPU's state (events, timers, clock, registers) and goes on.\n"
        "vCPUs: [--maxvcpus N] (vCPUs the domain has; --vcpus of them available first),\n"
        "  [--vcpu-avail HEXMASK] (which are available instead), [--cpus LIST|N=LIST]...,\n"
        "  [--cpus-soft LIST|N=LIST]... (host CPU affinity, xl's CPU list syntax).\n"
        "Limits: [--max-grant-frames N] [--max-event-channels N] (xl.cfg's).\n"
        "Under xenkvmd (see xenkvm(1)): [--uuid UUID] [--control SOCKET]\n"
        "  [--console-log FILE] [--status-file FILE] [--ready-fd FD] [--paused]\n"
        "  [--restore FILE]: the guest from a save file (xenkvm save), or from a FIFO\n"
        "  carrying a migration's stream (read once, in order), instead of\n"
        "  booting the kernel; memory and vCPUs must be the saved ones.\n"
        "  [--core-dump FILE --core-dump-on STATUSES]: as the domain ends with one\n"
        "  of these exit statuses (\"2,1\"), an ELF core to FILE first (xl's\n"
        "  on_crash=coredump-destroy/-restart).\n"
        "--control serves pause/unpause/info/destroy/console there; the console then\n"
        "goes to that socket and the log instead of this terminal.\n");
}

/* Is status one of list's comma-separated numbers? */
static bool status_listed(const char *list, int status)
{
    for (const char *p = list; p && *p; ) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            return false;
        if (v == status)
            return true;
        p = *end == ',' ? end + 1 : end;
    }
    return false;
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

/* The vCPUs' availability and host CPU affinity (--maxvcpus, --cpus...). */
static struct vcpu_ctl vcpus;

/* The domain's standard xenstore tree, as Xen's toolstack writes it. */
static int xenstore_tree(struct xs_client *xs, struct domain *d, const struct domain_config *cfg)
{
    char uuid[37];
    const uint8_t *u = d->uuid;
    snprintf(uuid, sizeof(uuid),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
             u[12], u[13], u[14], u[15]);
    struct xs_domain_info info = {
        .domid = d->domid, .name = d->name, .uuid = uuid,
        .memory_kib = cfg->memory_mib << 10, .vcpus = cfg->vcpus, .vcpus_online = vcpus.online,
        .store_port = d->params[HVM_PARAM_STORE_EVTCHN],
        .store_gfn = d->params[HVM_PARAM_STORE_PFN],
        .console_port = d->params[HVM_PARAM_CONSOLE_EVTCHN],
        .console_gfn = d->params[HVM_PARAM_CONSOLE_PFN],
    };
    return xs_domain_create_tree(xs, &info);
}

/* Rewrites the tree after xenkvmd restarted (domctl's reconnect hook). */
struct retree {
    struct domain *d;
    const struct domain_config *cfg;
};

static int retree(void *opaque)
{
    struct retree *rt = opaque;
    struct xs_client *xs = xs_open(rt->cfg->xenstore_socket);
    if (!xs)
        return -errno;
    int rc = xenstore_tree(xs, rt->d, rt->cfg);
    xs_close(xs);
    return rc;
}

/* The restored guest's xenstore subtree and watches. */
static int restore_xenstore(struct snapshot_restore *snap, struct xs_relay *relay,
                            struct domain *d, const char *socket, const char *file)
{
    uint64_t len;
    const uint8_t *rec = snapshot_restore_xenstore(snap, &len), *rs;
    size_t rslen;
    char err[512];
    if (!rec)
        return 0;      /* saved without xenstore */
    unsigned old = snapshot_restore_old_domid(snap), ndev, vis;
    snapshot_restore_devices(snap, &ndev, &vis);
    if (snapxs_restore_tree(socket, old, d->domid, rec, len, &rs, &rslen, err, sizeof(err)) < 0) {
        log_err("%s: %s", file, err);
        return -1;
    }
    /* the guest goes on seeing its first domain id in paths (xenstore_domid.h) */
    int rc = xs_relay_restore(relay, rs, rslen, vis);
    if (rc < 0) {
        log_err("%s: the guest's xenstore watches: %s", file, strerror(-rc));
        return -1;
    }
    return 0;
}

/* SIGTERM, SIGINT and SIGHUP end the domain as a destroy does, so that the
 * teardown (tree, backends, taps) runs as on a poweroff. They are blocked
 * in every thread and read from a signalfd on the I/O thread. */
struct stopper {
    struct domain *d;
    struct domctl *ctl;
    int fd;
    int signo;                    /* the one that stopped it, 0: none */
};

static int stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR2);      /* not a stop: a state dump (domain_debug_dump) */
    if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
        return -1;
    return signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void stop_signalled(void *opaque)
{
    struct stopper *st = opaque;
    struct signalfd_siginfo si;
    if (read(st->fd, &si, sizeof(si)) != sizeof(si))
        return;
    if (si.ssi_signo == SIGUSR2) {
        domain_debug_dump(st->d);
        return;
    }
    if (st->signo)
        return;
    st->signo = (int)si.ssi_signo;
    log_warn("domain %u: stopped by %s: tearing down", st->d->domid, sigabbrev_np(st->signo));
    if (st->ctl)
        domctl_destroy(st->ctl, "by a signal");
    else
        domain_shutdown(st->d, SHUTDOWN_poweroff);
}

/* The store at cfg->xenstore_socket; the toolstack's own is started when it
 * is not running (as `xenkvm create` does), one named with --xenstore is not. */
static struct xs_client *open_store(const char *sock, bool named)
{
    struct xs_client *xs = xs_open(sock);
    if (xs || named || (errno != ENOENT && errno != ECONNREFUSED))
        return xs;
    char err[512];
    log_info("no xenkvmd at %s: starting it", sock);
    if (ts_start_daemon(err, sizeof(err)) < 0) {
        log_err("%s", err);
        errno = ECONNREFUSED;
        return NULL;
    }
    return xs_open(sock);
}

/* --bootloader: runs it on the first disk and boots what it chose (the
 * kernel given, if any, is only passed on to it, as libxl does). */
static int boot_from_disk(const char *prog, char **args, int nargs, const char *const *disks,
                          int ndisks, struct pvboot_opts *pv, const struct domain_config *cfg,
                          int con_in, int con_out, struct bootloader_result *bl)
{
    char err[512];
    struct disk_spec ds;
    if (!ndisks) {
        log_err("run: --bootloader %s needs a --disk to boot from", prog);
        return -1;
    }
    if (disk_parse(&ds, disks[0], err, sizeof(err)) < 0) {
        log_err("--disk '%s': %s", disks[0], err);
        return -1;
    }
    struct bootloader_req req = {
        .prog = prog, .args = args, .nargs = nargs, .disk = ds.target,
        .kernel = pv->kernel, .ramdisk = pv->ramdisk, .cmdline = pv->cmdline,
        .domid = cfg->domid, .in_fd = con_in, .out_fd = con_out,
    };
    int rc = bootloader_run(&req, bl, err, sizeof(err));
    disk_spec_free(&ds);
    if (rc < 0) {
        log_err("%s", err);
        return -1;
    }
    pv->kernel = bl->kernel;
    pv->ramdisk = bl->ramdisk;
    pv->cmdline = bl->args;
    return 0;
}

/* The kernel (or, with --pv, the shim and the PV kernel as its module)
 * into guest memory. */
static int load_kernel(struct domain *d, struct domain_config *cfg, struct pvboot_opts *pv,
                       char *shim_line, size_t shim_len)
{
    char err[512];
    if (pvboot_setup(cfg, pv, shim_line, shim_len, err, sizeof(err)) < 0 ||
        domain_pvh_boot(d, cfg, err, sizeof(err)) < 0) {
        log_err("%s%s", err, !pv->pv && strstr(err, "not a PVH kernel") ?
                " (a PV kernel? --pv runs it through Xen's PV shim)" : "");
        return -1;
    }
    if (pv->pv)
        log_info("PV kernel %s through the shim %s ('%s')", pv->kernel, cfg->kernel, cfg->cmdline);
    startup_mark("kernel");
    return 0;
}

int vmm_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "kernel", required_argument, NULL, 'k' },
        { "ramdisk", required_argument, NULL, 'r' },
        { "cmdline", required_argument, NULL, 'c' },
        { "memory", required_argument, NULL, 'm' },
        { "vcpus", required_argument, NULL, 'n' },
        { "name", required_argument, NULL, 'N' },
        { "domid", required_argument, NULL, 'd' },
        { "xenstore", required_argument, NULL, 'x' },
        { "no-xenstore", no_argument, NULL, 'X' },
        { "disk", required_argument, NULL, 'D' },
        { "vif", required_argument, NULL, 'V' },
        { "uuid", required_argument, NULL, 'U' },
        { "control", required_argument, NULL, 'C' },
        { "console-log", required_argument, NULL, 'L' },
        { "status-file", required_argument, NULL, 'S' },
        { "ready-fd", required_argument, NULL, 'R' },
        { "paused", no_argument, NULL, 'P' },
        { "maxvcpus", required_argument, NULL, 'M' },
        { "vcpu-avail", required_argument, NULL, 'A' },
        { "cpus", required_argument, NULL, 'H' },
        { "cpus-soft", required_argument, NULL, 'O' },
        { "max-grant-frames", required_argument, NULL, 'G' },
        { "max-event-channels", required_argument, NULL, 'E' },
        { "stats", no_argument, NULL, 'T' },
        { "restore", required_argument, NULL, 'Z' },
        { "core-dump", required_argument, NULL, 'K' },
        { "core-dump-on", required_argument, NULL, 'W' },
        { "pv", no_argument, NULL, 'p' },
        { "shim", required_argument, NULL, 's' },
        { "shim-cmdline", required_argument, NULL, 'l' },
        { "shim-extra", required_argument, NULL, 'e' },
        { "bootloader", required_argument, NULL, 'b' },
        { "bootloader-arg", required_argument, NULL, 'B' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    struct domain_config cfg = { .name = "xenkvm", .domid = 1, .memory_mib = 64, .vcpus = 1,
                                 .console_stdin = true };
    struct pvboot_opts pv = { 0 };
    const char *bootloader = NULL;
    char *bl_args[32];
    int nbl_args = 0;
    long v;
    int c;
    bool no_xenstore = false;
    const char *disks[16], *vifs[16];
    int ndisks = 0, nvifs = 0;
    struct domctl_opts ctl_opts = { 0 };
    int ready_fd = -1;
    bool paused = false, stats = false;
    const char *core_dump = NULL, *core_dump_on = NULL;
    const char *restore = NULL;
    uint8_t uuid[16];
    long maxvcpus = 0;
    uint64_t avail = 0;
    const char *aff[2][VM_MAX_VCPUS + 1];
    int naff[2] = { 0, 0 };
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:r:c:m:n:N:d:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'k': pv.kernel = optarg; break;
        case 'r': pv.ramdisk = optarg; break;
        case 'c': pv.cmdline = optarg; break;
        case 'p': pv.pv = true; break;
        case 's': pv.shim = optarg; pv.pv = true; break;
        case 'l': pv.shim_cmdline = optarg; break;
        case 'e': pv.shim_extra = optarg; break;
        case 'b': bootloader = optarg; break;
        case 'B':
            if (nbl_args == (int)(sizeof(bl_args) / sizeof(bl_args[0]))) {
                log_err("run: too many --bootloader-arg options (%d at most)", nbl_args);
                return EXIT_ERROR;
            }
            bl_args[nbl_args++] = optarg;
            break;
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
        case 'x': cfg.xenstore_socket = optarg; break;
        case 'X': no_xenstore = true; break;
        case 'D':
            if (ndisks == (int)(sizeof(disks) / sizeof(disks[0]))) {
                log_err("run: too many --disk options (%d at most)", ndisks);
                return EXIT_ERROR;
            }
            disks[ndisks++] = optarg;
            break;
        case 'V':
            if (nvifs == (int)(sizeof(vifs) / sizeof(vifs[0]))) {
                log_err("run: too many --vif options (%d at most)", nvifs);
                return EXIT_ERROR;
            }
            vifs[nvifs++] = optarg;
            break;
        case 'U':
            if (ts_uuid_parse(optarg, uuid) < 0) {
                log_err("--uuid: '%s' is not a UUID", optarg);
                return EXIT_ERROR;
            }
            cfg.uuid = uuid;
            break;
        case 'C': ctl_opts.socket = optarg; break;
        case 'L': ctl_opts.console_log = optarg; break;
        case 'S': ctl_opts.status_file = optarg; break;
        case 'R':
            if (parse_num("ready-fd", optarg, 3, 1 << 20, &v) < 0)
                return EXIT_ERROR;
            ready_fd = v;
            break;
        case 'P': paused = true; break;
        case 'M':
            if (parse_num("maxvcpus", optarg, 1, VM_MAX_VCPUS, &maxvcpus) < 0)
                return EXIT_ERROR;
            break;
        case 'A': {
            char *e;
            avail = strtoull(optarg, &e, 16);
            if (e == optarg || *e || !avail) {
                log_err("--vcpu-avail: '%s' is not a non-zero hexadecimal mask", optarg);
                return EXIT_ERROR;
            }
            break;
        }
        case 'H':
        case 'O': {
            int k = c == 'O';
            if (naff[k] == VM_MAX_VCPUS + 1) {
                log_err("run: too many --cpus options");
                return EXIT_ERROR;
            }
            aff[k][naff[k]++] = optarg;
            break;
        }
        case 'G':
            if (parse_num("max-grant-frames", optarg, 1, GNTTAB_MAX_FRAMES, &v) < 0)
                return EXIT_ERROR;
            cfg.max_grant_frames = (unsigned)v;
            break;
        case 'E':
            if (parse_num("max-event-channels", optarg, 1, EVTCHN_NR_PORTS, &v) < 0)
                return EXIT_ERROR;
            cfg.max_event_channels = (unsigned)v;
            break;
        case 'T': stats = true; break;
        case 'Z': restore = optarg; break;
        case 'K': core_dump = optarg; break;
        case 'W': core_dump_on = optarg; break;
        case 'v': log_verbose++; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_ERROR;
        }
    }
    if (optind < argc) {
        log_err("run: unexpected argument '%s'", argv[optind]);
        return EXIT_ERROR;
    }
    if (!pv.kernel && !bootloader && !restore) {
        log_err("run: --kernel is required (or --bootloader)");
        usage(stderr);
        return EXIT_ERROR;
    }
    /* The domain has maxvcpus vCPUs (all in its MADT); --vcpus of them are
     * available to the guest at first (xenstore cpu/N/availability). */
    unsigned online = (unsigned)cfg.vcpus;
    if (maxvcpus && maxvcpus < cfg.vcpus) {
        log_err("run: --maxvcpus %ld is less than --vcpus %d", maxvcpus, cfg.vcpus);
        return EXIT_ERROR;
    }
    if (maxvcpus)
        cfg.vcpus = (int)maxvcpus;
    bool store_named = cfg.xenstore_socket != NULL;
    char store_path[4096];
    if (no_xenstore)
        cfg.xenstore_socket = NULL;
    else if (!store_named) {
        if (!ts_path(store_path, sizeof(store_path), "%s/xenstored.sock", ts_rundir()))
            return EXIT_ERROR;
        cfg.xenstore_socket = store_path;
    }
    /* (with --bootloader, once it has run: its errors say more) */
    if ((ndisks || nvifs) && no_xenstore && !bootloader) {
        log_err("run: --disk and --vif need a xenstore daemon (not --no-xenstore)");
        return EXIT_ERROR;
    }
    sigset_t stop_set;
    static struct stopper stopper = { .fd = -1 };
    stopper.fd = stop_signals(&stop_set);
    if (stopper.fd < 0) {
        log_err("signalfd: %s", strerror(errno));
        return EXIT_ERROR;
    }
    /* The spawn helper, while the process is single-threaded: once confined
     * (below) it cannot start a qemu-storage-daemon for an image disk itself. */
    if (cfg.xenstore_socket && spawner_start() < 0) {
        log_err("cannot start the spawn helper: %s", strerror(errno));
        return EXIT_ERROR;
    }
    cfg.store_page = pv.pv;
    static struct domain d;
    char err[512], cpuid_cache[512];
    struct snapshot_restore *snap = NULL;
    if (ts_mkdirs(ts_rundir(), 0755) == 0 &&
        ts_path(cpuid_cache, sizeof(cpuid_cache), "%s/kvm-cpuid", ts_rundir()))
        cfg.cpuid_cache = cpuid_cache;
    vcpu_ctl_init(&vcpus, (unsigned)cfg.vcpus, online);
    if (avail) {
        vcpus.online = avail & (cfg.vcpus >= 64 ? ~0ull : (1ull << cfg.vcpus) - 1);
        if (!vcpus.online) {
            log_err("--vcpu-avail: no vCPU below %d is in the mask", cfg.vcpus);
            return EXIT_ERROR;
        }
    }
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < naff[k]; i++)
            if (vcpu_ctl_arg(&vcpus, k, aff[k][i], err, sizeof(err)) < 0) {
                log_err("--cpus%s: %s", k ? "-soft" : "", err);
                return EXIT_ERROR;
            }
    if (domain_create(&d, &cfg, err, sizeof(err)) < 0) {
        log_err("%s", err);
        return EXIT_ERROR;
    }
    for (int i = 0; i < cfg.vcpus; i++)
        if (vcpu_ctl_apply(&vcpus, &d.vm, (unsigned)i, err, sizeof(err)) < 0) {
            log_err("%s", err);
            domain_destroy(&d);
            return EXIT_ERROR;
        }
    startup_mark("vm");
    /* From here on, every exit goes through the one teardown at "out". */
    int status = EXIT_ERROR;
    struct domctl *ctl = NULL;
    struct console *con = NULL;
    struct xs_relay *relay = NULL;
    struct xs_client *xs = NULL;
    bool tree_written = false, started = false;
    struct domain_devices *devs = NULL;
    struct bootloader_result bl = { 0 };
    char shim_line[BOOT_CMDLINE_MAX + 1];
    /* Without a bootloader the kernel is known now: it is loaded and the guest
     * starts (unless it is to start paused) while the console, xenstore and
     * devices are set up; its exits (all it can ask of this process) wait
     * until they are. */
    /* A restored guest is not loaded: its state goes over the domain once
     * the host ports exist, and it starts at the end of the set-up. */
    if (!bootloader && !restore) {
        if (load_kernel(&d, &cfg, &pv, shim_line, sizeof(shim_line)) < 0)
            goto out;
        if (!paused) {
            vm_hold_exits(&d.vm);
            started = true;
            if (domain_start(&d) < 0)
                goto out;
        }
    }
    if (ctl_opts.socket && !(ctl = domctl_create(&d, &ctl_opts)))
        goto out;
    int con_in = ctl ? domctl_console_in(ctl) : cfg.console_stdin ? STDIN_FILENO : -1;
    int con_out = ctl ? domctl_console_out(ctl) : STDOUT_FILENO;
    /* A bootloader's menu is the domain's console until the kernel is chosen. */
    if (bootloader && !restore) {
        if (boot_from_disk(bootloader, bl_args, nbl_args, disks, ndisks, &pv, &cfg,
                           con_in, con_out, &bl) < 0 ||
            load_kernel(&d, &cfg, &pv, shim_line, sizeof(shim_line)) < 0)
            goto out;
        /* Loaded: the bootloader's copies go (pv's and cfg's boot fields
         * pointed into them; nothing reads those from here on). */
        bootloader_done(&bl);
        pv.kernel = pv.ramdisk = pv.cmdline = NULL;
        cfg.kernel = cfg.cmdline = NULL;
        cfg.nr_modules = 0;
        if (!paused) {
            vm_hold_exits(&d.vm);
            started = true;
            if (domain_start(&d) < 0)
                goto out;
        }
    }
    if ((ndisks || nvifs) && no_xenstore) {
        log_err("run: --disk and --vif need a xenstore daemon (not --no-xenstore)");
        goto out;
    }
    con = console_create(&d, domain_special_page(&d, SPECIAL_CONSOLE), con_in, con_out);
    if (!con) {
        log_err("cannot set up the console");
        goto out;
    }
    d.params[HVM_PARAM_CONSOLE_EVTCHN] = console_port(con);

    stopper.d = &d;
    stopper.ctl = ctl;
    if (domain_watch_fd(&d, stopper.fd, stop_signalled, &stopper) < 0) {
        log_err("cannot watch for signals");
        goto out;
    }
    if (cfg.xenstore_socket) {
        relay = xs_relay_create(&d, domain_special_page(&d, SPECIAL_XENSTORE));
        if (!relay) {
            log_err("cannot set up the xenstore ring");
            goto out;
        }
        d.params[HVM_PARAM_STORE_EVTCHN] = xs_relay_port(relay);
    }
    startup_mark("console");
    if (cfg.xenstore_socket) {
        /* Claim the id (a live domain with it: EBUSY), clear what a dead one
         * left, bind the ring, then write the tree and introduce. */
        xs = open_store(cfg.xenstore_socket, store_named);
        int rc = xs ? xs_scrub(xs, d.domid) : -errno;
        if (!rc)
            rc = xs_relay_connect(relay, cfg.xenstore_socket);
        if (rc == -EBUSY) {
            log_err("domain id %u is in use by a running domain (--domid)", d.domid);
            goto out;
        }
        if (!rc) {
            tree_written = true;      /* the id is ours: whatever is there goes at the end */
            rc = xenstore_tree(xs, &d, &cfg);
        }
        if (rc) {
            log_err("xenstore %s: %s", cfg.xenstore_socket, strerror(-rc));
            goto out;
        }
        startup_mark("xenstore");
    }
    /* A restore reads its file (a migration: its stream, the pre-copy rounds
     * as they come, up to END) only now: none of the above depends on it, so
     * a migration's destination has done it before the source stops (as
     * libxl creates the domain and its xenstore nodes before the stream).
     * The marks from here on time the set-up after END. */
    if (restore && !(snap = snapshot_restore_open(&d, restore, err, sizeof(err)))) {
        log_err("%s", err);
        goto out;
    }
    if (snap) {
        /* the saved vCPUs' online mask and affinities, in place of the command line's */
        snapshot_restore_vcpu_ctl(snap, &vcpus);
        for (int i = 0; i < cfg.vcpus; i++)
            if (vcpu_ctl_apply(&vcpus, &d.vm, (unsigned)i, err, sizeof(err)) < 0) {
                log_err("%s", err);
                goto out;
            }
    }
    startup_mark("stream");
    /* The saved guest goes back over the fresh domain, its host ports made. */
    if (snap && snapshot_restore_apply(snap, err, sizeof(err)) < 0) {
        log_err("%s", err);
        goto out;
    }
    startup_mark("state");
    if (snap && relay && restore_xenstore(snap, relay, &d, cfg.xenstore_socket, restore) < 0)
        goto out;
    startup_mark("guest-xenstore");
    if (xs && !(devs = devices_open(&d, cfg.xenstore_socket, cfg.name, cfg.uuid))) {
        log_err("xenstore %s: %s", cfg.xenstore_socket, strerror(errno));
        goto out;
    }
    /* A restored guest's devices go straight back to Connected with their
     * saved rings (docs/save-restore.md). */
    unsigned nsaved = 0, vis;
    const struct dev_saved *saved = snap ? snapshot_restore_devices(snap, &nsaved, &vis) : NULL;
    if (devs && snap && devices_set_saved(devs, saved, nsaved) < 0) {
        log_err("out of memory");
        goto out;
    }
    uint64_t ndata;
    const void *data = snap ? snapshot_restore_device_data(snap, &ndata) : NULL;
    if (devs && data && devices_set_saved_data(devs, data, ndata, err, sizeof(err)) < 0) {
        log_err("%s: %s", restore, err);
        goto out;
    }
    for (int i = 0; i < ndisks; i++)
        if (devices_add_disk(devs, disks[i], err, sizeof(err)) < 0) {
            log_err("%s", err);
            goto out;
        }
    for (int i = 0; i < nvifs; i++)
        if (devices_add_nic(devs, vifs[i], err, sizeof(err)) < 0) {
            log_err("%s", err);
            goto out;
        }
    if (devs && snap && devices_restored(devs, err, sizeof(err)) < 0) {
        log_err("%s: %s", restore, err);
        goto out;
    }
    if (!devs && nsaved) {
        log_err("%s: the saved guest has devices connected; this domain has no xenstore",
                restore);
        goto out;
    }
    startup_mark("devices");

    struct retree rt = { &d, &cfg };
    if (ctl) {
        domctl_set_devices(ctl, devs);
        domctl_set_vcpus(ctl, &vcpus);
        int rc = domctl_start(ctl, relay, xs ? cfg.xenstore_socket : NULL, retree, &rt);
        if (rc < 0) {
            log_err("control socket %s: %s", ctl_opts.socket, strerror(-rc));
            goto out;
        }
    }
    startup_mark("control");
    /* Set up: from here on only what a running domain needs (confine.h). */
    if (vmm_confine(err, sizeof(err)) < 0) {
        log_err("cannot confine the domain process: %s", err);
        goto out;
    }
    startup_mark("confine");
    if (paused || restore) {
        if (paused)
            vm_pause(&d.vm);
        started = true;
        if (domain_start(&d) < 0)
            goto out;
    }
    startup_mark("start");
    if (ready_fd >= 0) {
        if (write(ready_fd, "r", 1) != 1) { /* the supervisor went away */ }
        close(ready_fd);
    }

    vm_release_exits(&d.vm);
    status = domain_wait(&d);
    if (stopper.signo)
        status = 128 + stopper.signo;
    started = false;
    if (stats) {
        struct domain_stats st;
        domain_stats(&d, &st);
        domain_stats_print(stderr, "xenkvm: stats: ", &st);
    }
    if (core_dump && status_listed(core_dump_on, status)) {
        /* Before anything is torn down: the vCPUs are parked, memory intact. */
        log_msg("info", "domain %u (%s): dumping core to %s", d.domid, d.name, core_dump);
        if (dump_core(&d, core_dump, err, sizeof(err)) < 0)
            log_err("domain %u (%s): core dump failed: %s", d.domid, d.name, err);
    }
    if (ctl)
        domctl_finish(ctl, status);
    ctl = NULL;
    log_info("domain %u (%s) ended: exit status %d", d.domid, d.name, status);
out:
    if (started) {            /* set-up failed with the guest running */
        domain_shutdown(&d, SHUTDOWN_crash);
        domain_wait(&d);
    }
    snapshot_restore_free(snap);
    bootloader_done(&bl);
    domctl_discard(ctl);
    devices_close(devs);
    if (tree_written)
        xs_domain_destroy_tree(xs, d.domid);
    if (xs)
        xs_close(xs);
    xs_relay_destroy(relay);
    console_destroy(con);
    domain_destroy(&d);
    close(stopper.fd);
    sigprocmask(SIG_UNBLOCK, &stop_set, NULL);
    return status;
}
