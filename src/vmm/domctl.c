/* Control socket and console fan-out of one domain process (see domctl.h). */
#include "vmm/domctl.h"
#include "vmm/vcpu_ctl.h"
#include "vmm/save_request.h"
#include "vmm/migrate_send.h"
#include "backend/devices.h"
#include "backend/xenstore_relay.h"
#include "common/log.h"
#include "config/disk.h"
#include "config/vif.h"
#include "toolstack/jsonline.h"
#include "xen/domain.h"
#include <xen/sched.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define BACKLOG_MAX (64 * 1024)
#define MAX_CLIENTS 16

struct domctl;

struct client {
    struct domctl *c;
    int fd;                        /* -1: free slot */
    bool console;                  /* attached: raw bytes from now on */
};

struct domctl {
    struct domain *d;
    struct domctl_opts o;
    int in_pipe[2], out_pipe[2];   /* [0] read end, [1] write end */
    int listen_fd, log_fd, timer_fd;
    struct client clients[MAX_CLIENTS];
    char backlog[BACKLOG_MAX];     /* output no client has seen */
    size_t backlog_len;
    bool destroyed;
    struct xs_relay *relay;
    const char *xenstore;
    struct domain_devices *devs;   /* NULL: no xenstore, no devices */
    struct vcpu_ctl *vcpus;
    int (*retree)(void *);
    void *opaque;
};

static void drop_client(struct client *cl)
{
    domain_unwatch_fd(cl->c->d, cl->fd);
    close(cl->fd);
    cl->fd = -1;
    cl->console = false;
}

static void keep_backlog(struct domctl *c, const char *buf, size_t n)
{
    if (n >= BACKLOG_MAX) {
        buf += n - BACKLOG_MAX;
        n = BACKLOG_MAX;
    }
    if (c->backlog_len + n > BACKLOG_MAX) {
        size_t drop = c->backlog_len + n - BACKLOG_MAX;
        memmove(c->backlog, c->backlog + drop, c->backlog_len - drop);
        c->backlog_len -= drop;
    }
    memcpy(c->backlog + c->backlog_len, buf, n);
    c->backlog_len += n;
}

/* Sends to every attached client; one that cannot keep up loses bytes, as
 * a slow serial line would. Returns whether any client is attached. */
static bool fan_out(struct domctl *c, const char *buf, size_t n)
{
    bool any = false;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        struct client *cl = &c->clients[i];
        if (cl->fd < 0 || !cl->console)
            continue;
        any = true;
        ssize_t w = send(cl->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            drop_client(cl);
    }
    return any;
}

static void output(struct domctl *c, const char *buf, size_t n)
{
    if (c->log_fd >= 0 && write(c->log_fd, buf, n) < 0) { /* log full: go on */ }
    if (!fan_out(c, buf, n))
        keep_backlog(c, buf, n);
}

/* Guest console output arrived in the pipe. */
static void pump_out(void *opaque)
{
    struct domctl *c = opaque;
    char buf[4096];
    ssize_t n = read(c->out_pipe[0], buf, sizeof(buf));
    if (n > 0)
        output(c, buf, n);
}

/* The thread id behind a pthread's CPU clock (Linux encodes it there). */
static pid_t thread_tid(pthread_t t, clockid_t *cid)
{
    if (!t || pthread_getcpuclockid(t, cid))
        return -1;
    return (pid_t)~(*cid >> 3);
}

/* A thread's state letter and the host CPU it last ran on (/proc stat). */
static char thread_state(pid_t tid, int *cpu)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return '?';
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return '?';
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return '?';
    char state = p[2];
    for (int field = 2; p && field < 39; field++)   /* field 39: processor */
        p = strchr(p + 1, ' ');
    if (p)
        *cpu = atoi(p + 1);
    return state;
}

static struct json_object *device_totals(struct domctl *c);

/* {"exits": {"io": N, ...}, "kicks": N, "ports": {"0x5e out": N, ...},
 * "hypercalls": {"sched_op": N, ...}}: the non-zero counters (xen/stats.h). */
static struct json_object *stats_json(struct domain *d)
{
    struct domain_stats st;
    domain_stats(d, &st);
    struct json_object *o = json_object_new_object(), *ex = json_object_new_object(),
                       *ports = json_object_new_object(), *hc = json_object_new_object();
    char name[32];
    for (unsigned i = 0; i < VCPU_STATS_REASONS; i++) {
        if (!st.vm.exits[i] || i == VCPU_STATS_KICK)
            continue;
        const char *n = vm_exit_name(i);
        if (!n)
            snprintf(name, sizeof(name), "#%u", i), n = name;
        json_object_object_add(ex, n, json_object_new_int64((int64_t)st.vm.exits[i]));
    }
    for (unsigned i = 0; i < st.vm.nports; i++) {
        snprintf(name, sizeof(name), "%#x %s", st.vm.ports[i].port, st.vm.ports[i].out ? "out" : "in");
        json_object_object_add(ports, name, json_object_new_int64((int64_t)st.vm.ports[i].n));
    }
    if (st.vm.ports_other)
        json_object_object_add(ports, "other", json_object_new_int64((int64_t)st.vm.ports_other));
    for (unsigned i = 0; i < XEN_STATS_HCALLS; i++) {
        if (!st.hcalls[i])
            continue;
        const char *n = xen_hypercall_name(i);
        if (!n)
            snprintf(name, sizeof(name), "#%u", i), n = name;
        json_object_object_add(hc, n, json_object_new_int64((int64_t)st.hcalls[i]));
    }
    json_object_object_add(o, "exits_total", json_object_new_int64((int64_t)st.vm.total));
    json_object_object_add(o, "exits", ex);
    json_object_object_add(o, "kicks", json_object_new_int64((int64_t)st.vm.exits[VCPU_STATS_KICK]));
    json_object_object_add(o, "ports", ports);
    json_object_object_add(o, "hypercalls_total", json_object_new_int64((int64_t)st.hcalls_total));
    json_object_object_add(o, "hypercalls", hc);
    return o;
}

static struct json_object *info(struct domctl *c)
{
    struct domain *d = c->d;
    struct json_object *r = jl_ok();
    bool paused = vm_is_paused(&d->vm);
    json_object_object_add(r, "domid", json_object_new_int(d->domid));
    json_object_object_add(r, "paused", json_object_new_boolean(paused));
    json_object_object_add(r, "pid", json_object_new_int(getpid()));
    struct json_object *vs = json_object_new_array();
    for (int i = 0; i < d->vm.nr_vcpus; i++) {
        struct json_object *v = json_object_new_object();
        bool up = domain_vcpu_is_up(d, (unsigned)i);
        clockid_t cid;
        struct timespec ts = { 0, 0 };
        pid_t tid = thread_tid(d->vm.vcpus[i].thread, &cid);
        if (tid > 0)
            clock_gettime(cid, &ts);
        int cpu = 0;
        char st = tid > 0 ? thread_state(tid, &cpu) : '?';
        const char *state = !up ? "offline" : paused ? "paused"
                          : st == 'R' ? "running" : "blocked";
        json_object_object_add(v, "id", json_object_new_int(i));
        json_object_object_add(v, "online", json_object_new_boolean(up));
        json_object_object_add(v, "state", json_object_new_string(state));
        json_object_object_add(v, "cpu", json_object_new_int(cpu));
        json_object_object_add(v, "time_ns",
                               json_object_new_int64(ts.tv_sec * 1000000000LL + ts.tv_nsec));
        if (c->vcpus)
            vcpu_ctl_describe(c->vcpus, (unsigned)i, v);
        json_object_array_add(vs, v);
    }
    json_object_object_add(r, "vcpus", vs);
    /* The memory the guest holds: RAM frames not ballooned out. */
    json_object_object_add(r, "mem_kib",
                           json_object_new_int64(vm_ram_present_pages(&d->vm) * (PAGE_SIZE / 1024)));
    json_object_object_add(r, "devices", device_totals(c));
    json_object_object_add(r, "stats", stats_json(d));
    return r;
}

static void client_input(void *opaque);

static struct json_object *block_attach(struct domctl *c, const char *spec)
{
    char err[512];
    if (!c->devs)
        return jl_error("block-attach: the domain has no xenstore connection");
    if (devices_add_disk(c->devs, spec, err, sizeof(err)) < 0)
        return jl_error("%s", err);
    log_info("domain %u: disk '%s' attached", c->d->domid, spec);
    return jl_ok();
}

void domctl_set_devices(struct domctl *c, struct domain_devices *devs)
{
    c->devs = devs;
}

void domctl_set_vcpus(struct domctl *c, struct vcpu_ctl *vcpus)
{
    c->vcpus = vcpus;
}

/* vcpu-set, vcpu-pin, trigger (NULL: op is none of them). */
static struct json_object *vcpu_request(struct domctl *c, const char *op, struct json_object *req)
{
    char err[512];
    int rc;
    if (!strcmp(op, "vcpu-set")) {
        rc = c->vcpus ? vcpu_ctl_set_online(c->vcpus, c->xenstore, c->d->domid,
                                            (unsigned)jl_int(req, "vcpus", 0), err, sizeof(err))
                      : (snprintf(err, sizeof(err), "no vCPU control"), -1);
        if (!rc)
            log_info("domain %u: vCPUs 0..%lld available", c->d->domid, jl_int(req, "vcpus", 0) - 1);
    } else if (!strcmp(op, "vcpu-pin")) {
        rc = c->vcpus ? vcpu_ctl_pin(c->vcpus, &c->d->vm, (int)jl_int(req, "vcpu", -1),
                                     jl_str(req, "hard", NULL), jl_str(req, "soft", NULL), err,
                                     sizeof(err))
                      : (snprintf(err, sizeof(err), "no vCPU control"), -1);
    } else if (!strcmp(op, "trigger")) {
        const char *what = jl_str(req, "trigger", "");
        rc = domain_trigger(c->d, what, (unsigned)jl_int(req, "vcpu", 0));
        if (rc == -ENOENT)
            snprintf(err, sizeof(err), "vcpu %lld: no such vCPU", jl_int(req, "vcpu", 0));
        else if (rc == -EINVAL)
            snprintf(err, sizeof(err), "trigger '%s': not supported", what);
        else if (rc)
            snprintf(err, sizeof(err), "trigger '%s': %s", what, strerror(-rc));
        else
            log_info("domain %u: trigger %s on vcpu %lld", c->d->domid, what,
                     jl_int(req, "vcpu", 0));
    } else {
        return NULL;
    }
    return rc ? jl_error("%s", err) : jl_ok();
}

/* ---- Device requests beyond block-attach: unplug, NICs, counters ---- */

/* Every device (disks first, by devid, then NICs); malloc'd, *n of them. */
static struct device_info *list_devices(struct domain_devices *ds, unsigned *n)
{
    unsigned max = 16;
    *n = 0;
    for (;;) {
        struct device_info *v = calloc(max, sizeof(*v));
        if (!v)
            return NULL;
        unsigned got = devices_list(ds, v, max);
        if (got <= max) {
            *n = got;
            return v;
        }
        free(v);
        max = got;
    }
}

/* The device `xl block-detach` / `network-detach` names: a disk by vdev or
 * device number, a NIC by devid or MAC (as devices_remove matches). */
static bool device_named(const struct device_info *di, bool nic, const char *id)
{
    char num[16];
    snprintf(num, sizeof(num), "%u", di->devid);
    if (di->nic != nic)
        return false;
    if (!strcmp(id, num))
        return true;
    if (!nic)
        return !strcmp(id, di->name) || disk_vdev_devid(id) == (int)di->devid;
    uint8_t a[6], b[6];
    return mac_parse(id, a) == 0 && mac_parse(di->mac, b) == 0 && !memcmp(a, b, 6);
}

/* Looks the device up (so the reply can name it), then unplugs it. The
 * reply's devid lets the CLI wait until its xenstore nodes are gone. */
static struct json_object *device_detach(struct domctl *c, bool nic, const char *id, bool force)
{
    const char *op = nic ? "network-detach" : "block-detach";
    char err[512];
    struct domain_devices *ds = c->devs;
    if (!ds)
        return jl_error("%s: domain %u has no %s", op, c->d->domid,
                        nic ? "network devices" : "disks");
    unsigned n;
    struct device_info *all = list_devices(ds, &n), *found = NULL;
    for (unsigned i = 0; all && i < n && !found; i++)
        if (device_named(&all[i], nic, id))
            found = &all[i];
    if (devices_remove(ds, nic, id, force, err, sizeof(err)) < 0) {
        free(all);
        return jl_error("%s: %s", op, err);
    }
    struct json_object *r = jl_ok();
    if (found) {
        json_object_object_add(r, "devid", json_object_new_int64(found->devid));
        json_object_object_add(r, "name", json_object_new_string(found->name));
        if (nic)
            json_object_object_add(r, "mac", json_object_new_string(found->mac));
    }
    log_info("domain %u: %s %s %s%s", c->d->domid, nic ? "nic" : "disk", id,
             force ? "removed" : "unplug requested", found ? "" : " (not listed)");
    free(all);
    return r;
}

/* Hot-plugs a NIC; the reply names the devid and MAC it got, which the
 * registry keeps with the spec so a restart recreates the same device. */
static struct json_object *network_attach(struct domctl *c, const char *spec)
{
    char err[512];
    struct domain_devices *ds = c->devs;
    if (!ds)
        return jl_error("network-attach: the domain has no xenstore connection");
    int devid = devices_add_nic(ds, spec, err, sizeof(err));
    if (devid < 0)
        return jl_error("%s", err);
    struct json_object *r = jl_ok();
    json_object_object_add(r, "devid", json_object_new_int(devid));
    unsigned n;
    struct device_info *all = list_devices(ds, &n);
    for (unsigned i = 0; all && i < n; i++)
        if (all[i].nic && all[i].devid == (unsigned)devid) {
            json_object_object_add(r, "mac", json_object_new_string(all[i].mac));
            json_object_object_add(r, "name", json_object_new_string(all[i].name));
        }
    free(all);
    log_info("domain %u: nic '%s' attached as devid %d", c->d->domid, spec, devid);
    return r;
}

static const char *const dev_states[] = { "Unknown", "Initialising", "InitWait", "Initialised",
                                          "Connected", "Closing", "Closed", "Reconfiguring",
                                          "Reconfigured" };

/* {"devices": [...]}: every device with its counters. */
static struct json_object *devices_reply(struct domctl *c)
{
    struct json_object *r = jl_ok(), *arr = json_object_new_array();
    struct domain_devices *ds = c->devs;
    unsigned n = 0;
    struct device_info *all = ds ? list_devices(ds, &n) : NULL;
    for (unsigned i = 0; all && i < n; i++) {
        const struct device_info *di = &all[i];
        struct json_object *o = json_object_new_object();
#define ADD_STR(k, v) json_object_object_add(o, k, json_object_new_string(v))
#define ADD_NUM(k, v) json_object_object_add(o, k, json_object_new_int64((int64_t)(v)))
        ADD_STR("kind", di->nic ? "vif" : "vbd");
        ADD_NUM("devid", di->devid);
        ADD_NUM("state", di->state);
        ADD_STR("state_name", di->state >= 0 && di->state < 9 ? dev_states[di->state] : "?");
        ADD_STR("name", di->name);
        ADD_STR(di->nic ? "bridge" : "target", di->target);
        if (di->nic) {
            ADD_STR("mac", di->mac);
            ADD_NUM("tx_packets", di->tx_packets);
            ADD_NUM("tx_bytes", di->tx_bytes);
            ADD_NUM("tx_errors", di->tx_errors);
            ADD_NUM("rx_packets", di->rx_packets);
            ADD_NUM("rx_bytes", di->rx_bytes);
            ADD_NUM("rx_dropped", di->rx_dropped);
        } else {
            ADD_NUM("rd_reqs", di->rd_reqs);
            ADD_NUM("wr_reqs", di->wr_reqs);
            ADD_NUM("rd_sect", di->rd_sect);
            ADD_NUM("wr_sect", di->wr_sect);
            ADD_NUM("flush_reqs", di->flush_reqs);
        }
#undef ADD_STR
#undef ADD_NUM
        json_object_array_add(arr, o);
    }
    free(all);
    json_object_object_add(r, "devices", arr);
    return r;
}

/* The totals `xl top` shows (xentop's NETS NETTX NETRX VBDS VBD_OO VBD_RD
 * VBD_WR VBD_RSECT VBD_WSECT), for the info reply. */
static struct json_object *device_totals(struct domctl *c)
{
    struct domain_devices *ds = c->devs;
    unsigned n = 0;
    struct device_info *all = ds ? list_devices(ds, &n) : NULL;
    uint64_t nets = 0, vbds = 0, tx = 0, rx = 0, rd = 0, wr = 0, rsect = 0, wsect = 0;
    for (unsigned i = 0; all && i < n; i++) {
        const struct device_info *di = &all[i];
        if (di->nic) {
            nets++;
            tx += di->tx_bytes;
            rx += di->rx_bytes;
        } else {
            vbds++;
            rd += di->rd_reqs;
            wr += di->wr_reqs;
            rsect += di->rd_sect;
            wsect += di->wr_sect;
        }
    }
    free(all);
    struct json_object *o = json_object_new_object();
    const struct { const char *k; uint64_t v; } f[] = {
        { "nets", nets }, { "net_tx_bytes", tx }, { "net_rx_bytes", rx }, { "vbds", vbds },
        { "vbd_oo", 0 },  /* not counted: devices_list has no out-of-requests counter */
        { "vbd_rd", rd }, { "vbd_wr", wr }, { "vbd_rsect", rsect }, { "vbd_wsect", wsect },
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        json_object_object_add(o, f[i].k, json_object_new_int64((int64_t)f[i].v));
    return o;
}

/* The device requests (NULL: op is not one of them). */
static struct json_object *device_request(struct domctl *c, const char *op,
                                          struct json_object *req)
{
    if (!strcmp(op, "block-detach") || !strcmp(op, "network-detach"))
        return device_detach(c, op[0] == 'n', jl_str(req, "id", ""),
                             jl_bool(req, "force", false));
    if (!strcmp(op, "network-attach"))
        return network_attach(c, jl_str(req, "spec", ""));
    if (!strcmp(op, "devices"))
        return devices_reply(c);
    return NULL;
}

void domctl_destroy(struct domctl *c, const char *why)
{
    c->destroyed = true;
    log_info("domain %u: destroyed %s", c->d->domid, why);
    domain_shutdown(c->d, SHUTDOWN_poweroff);
}

/* A migration's source has ended: the guest runs elsewhere now. */
static void migrated(void *opaque)
{
    struct domctl *c = opaque;
    c->destroyed = true;          /* no on_* action */
    domain_shutdown(c->d, SHUTDOWN_poweroff);
}

/* Handles the first line of a connection. */
static void client_request(struct client *cl)
{
    struct domctl *c = cl->c;
    struct json_object *req = jl_recv(cl->fd, 1000), *reply;
    if (!req) {
        drop_client(cl);
        return;
    }
    const char *op = jl_str(req, "op", "");
    bool attach = false;
    if (!strcmp(op, "migrate-send")) {
        /* The connection carries the stream from now on. */
        int fd = cl->fd;
        domain_unwatch_fd(c->d, fd);
        cl->fd = -1;
        migrate_send_request(c->d, c->devs, c->relay, c->xenstore, c->vcpus, req, fd, migrated, c);
        json_object_put(req);
        return;
    }
    if (!strcmp(op, "info"))
        reply = info(c);
    else if (!strcmp(op, "pause")) {
        vm_pause(&c->d->vm);
        reply = jl_ok();
    } else if (!strcmp(op, "unpause")) {
        vm_unpause(&c->d->vm);
        reply = jl_ok();
    } else if (!strcmp(op, "destroy")) {
        domctl_destroy(c, "on request");
        reply = jl_ok();
    } else if (!strcmp(op, "save")) {
        bool ended;
        reply = save_request(c->d, c->devs, c->relay, c->xenstore, c->vcpus, req, &ended);
        if (ended) {
            c->destroyed = true;      /* no on_* action: the guest lives in the file */
            domain_shutdown(c->d, SHUTDOWN_poweroff);
        }
    } else if (!strcmp(op, "dump-core")) {
        reply = dump_core_request(c->d, req);
    } else if (!strcmp(op, "block-attach")) {
        reply = block_attach(c, jl_str(req, "spec", ""));
    } else if (!strcmp(op, "console")) {
        attach = true;
        reply = jl_ok();
    } else if (!(reply = device_request(c, op, req)) && !(reply = vcpu_request(c, op, req)))
        reply = jl_error("unknown request '%s'", op);
    json_object_put(req);
    int rc = jl_send(cl->fd, reply);
    json_object_put(reply);
    if (rc < 0 || !attach) {
        drop_client(cl);
        return;
    }
    cl->console = true;
    int big = 1 << 20;
    setsockopt(cl->fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    fcntl(cl->fd, F_SETFL, fcntl(cl->fd, F_GETFL) | O_NONBLOCK);
    if (c->backlog_len) {
        ssize_t w = send(cl->fd, c->backlog, c->backlog_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            memmove(c->backlog, c->backlog + w, c->backlog_len - w);
            c->backlog_len -= w;
        }
    }
}

static void client_input(void *opaque)
{
    struct client *cl = opaque;
    if (!cl->console) {
        client_request(cl);
        return;
    }
    char buf[1024];
    ssize_t n = recv(cl->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        drop_client(cl);
        return;
    }
    if (n > 0 && write(cl->c->in_pipe[1], buf, n) < 0) { /* guest not reading: drop */ }
}

static void accept_client(void *opaque)
{
    struct domctl *c = opaque;
    int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        struct client *cl = &c->clients[i];
        if (cl->fd >= 0)
            continue;
        cl->fd = fd;
        cl->console = false;
        if (domain_watch_fd(c->d, fd, client_input, cl) < 0) {
            close(fd);
            cl->fd = -1;
        }
        return;
    }
    struct json_object *e = jl_error("too many connections");
    jl_send(fd, e);
    json_object_put(e);
    close(fd);
}

/* Once a second: if xenkvmd went away and is back, rewrite the tree and
 * reconnect the guest's xenstore ring. */
static void xenstore_check(void *opaque)
{
    struct domctl *c = opaque;
    uint64_t n;
    if (read(c->timer_fd, &n, sizeof(n)) < 0) { /* spurious */ }
    bool ring = c->relay && xs_relay_lost(c->relay), devs = c->devs && devices_lost(c->devs);
    if ((!ring && !devs) || access(c->xenstore, F_OK))
        return;
    int rc = 0;
    if (ring) {
        rc = c->retree ? c->retree(c->opaque) : 0;
        if (!rc)
            rc = xs_relay_reconnect(c->relay, c->xenstore);
    }
    if (!rc && devs)
        rc = devices_reconnect(c->devs);
    if (rc)
        log_info("domain %u: xenstore not back yet: %s", c->d->domid, strerror(-rc));
    else if (ring)
        log_warn("domain %u: xenstore daemon restarted: tree rewritten, ring reconnected "
                 "(the guest's watches registered again, its own nodes are gone)", c->d->domid);
}

struct domctl *domctl_create(struct domain *d, const struct domctl_opts *o)
{
    struct domctl *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->d = d;
    c->o = *o;
    c->listen_fd = c->log_fd = c->timer_fd = -1;
    for (int i = 0; i < MAX_CLIENTS; i++)
        c->clients[i] = (struct client){ .c = c, .fd = -1 };
    if (pipe2(c->in_pipe, O_CLOEXEC | O_NONBLOCK) || pipe2(c->out_pipe, O_CLOEXEC | O_NONBLOCK)) {
        log_err("pipe: %s", strerror(errno));
        free(c);
        return NULL;
    }
    /* Room for bursts while the I/O thread is busy; the writer never blocks
     * (it holds the domain lock), it drops what does not fit. */
    fcntl(c->out_pipe[1], F_SETPIPE_SZ, 1 << 20);
    if (o->console_log) {
        c->log_fd = open(o->console_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (c->log_fd < 0)
            log_warn("console log %s: %s", o->console_log, strerror(errno));
    }
    return c;
}

int domctl_console_in(struct domctl *c) { return c->in_pipe[0]; }
int domctl_console_out(struct domctl *c) { return c->out_pipe[1]; }

int domctl_start(struct domctl *c, struct xs_relay *relay, const char *xenstore,
                 int (*retree)(void *), void *opaque)
{
    c->relay = relay;
    c->xenstore = xenstore;
    c->retree = retree;
    c->opaque = opaque;
    c->listen_fd = jl_listen(c->o.socket);
    if (c->listen_fd < 0)
        return c->listen_fd;
    int rc = domain_watch_fd(c->d, c->listen_fd, accept_client, c);
    if (!rc)
        rc = domain_watch_fd(c->d, c->out_pipe[0], pump_out, c);
    if (!rc && c->xenstore && relay) {
        c->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        struct itimerspec it = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
        if (c->timer_fd < 0 || timerfd_settime(c->timer_fd, 0, &it, NULL) < 0)
            rc = -errno;
        else
            rc = domain_watch_fd(c->d, c->timer_fd, xenstore_check, c);
    }
    return rc;
}

/* Closes the clients, the socket, the pipes and the log; frees c. */
static void release(struct domctl *c)
{
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (c->clients[i].fd >= 0) {
            if (c->clients[i].console)
                shutdown(c->clients[i].fd, SHUT_RDWR);
            close(c->clients[i].fd);
        }
    if (c->listen_fd >= 0) {
        unlink(c->o.socket);
        close(c->listen_fd);
    }
    for (int i = 0; i < 2; i++) {
        close(c->in_pipe[i]);
        close(c->out_pipe[i]);
    }
    if (c->log_fd >= 0)
        close(c->log_fd);
    if (c->timer_fd >= 0)
        close(c->timer_fd);
    free(c);
}

void domctl_finish(struct domctl *c, int status)
{
    /* The I/O thread has stopped: take what the guest printed last. */
    char buf[4096];
    ssize_t n;
    while ((n = read(c->out_pipe[0], buf, sizeof(buf))) > 0)
        output(c, buf, n);
    if (c->o.status_file) {
        FILE *f = fopen(c->o.status_file, "we");
        if (f) {
            if (c->destroyed)
                fprintf(f, "destroyed\n");
            else
                fprintf(f, "%d\n", status);
            fclose(f);
        } else
            log_warn("%s: %s", c->o.status_file, strerror(errno));
    }
    release(c);
}

void domctl_discard(struct domctl *c)
{
    if (c)
        release(c);
}
