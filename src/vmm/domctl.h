/* The domain process's control socket (xenkvm run --control SOCKET), served
 * on the domain's I/O thread, and its console fan-out.
 *
 * Requests (one JSON line each, see toolstack/jsonline.h):
 *   {"op":"info"}     state, vCPUs (online, running/blocked/paused, CPU time)
 *   {"op":"pause"}    {"op":"unpause"}
 *   {"op":"destroy"}  stops the vCPUs; the process exits ("destroyed")
 *   {"op":"console"}  the reply, then raw console bytes both ways
 *   {"op":"block-attach","spec":S}  a disk (xl-disk-configuration) hot-plugged
 *   {"op":"block-detach","id":VDEV,"force":B}   unplugged (reply: devid, name)
 *   {"op":"network-attach","spec":S}  a NIC (reply: devid, mac, name)
 *   {"op":"network-detach","id":DEVID|MAC,"force":B}  (reply: devid, name, mac)
 *   {"op":"devices"}  every device with its counters; info carries totals
 *   {"op":"vcpu-set","vcpus":N}     vCPUs 0..N-1 available (xenstore)
 *   {"op":"vcpu-pin","vcpu":N|-1,"hard":L,"soft":L}   host CPU affinity
 *   {"op":"trigger","trigger":"nmi|init|reset|power|sleep","vcpu":N}
 *   {"op":"save","file":F,"config":{..},"keep":B,"paused":B}  (save_request.h);
 *                     without keep the process then exits ("destroyed")
 *   {"op":"migrate-send","config":{..}}  the connection carries a live
 *                     migration's stream (migrate_send.h)
 * The console ring's output goes to a pipe that the I/O thread reads: into
 * the console log, to every attached client, and while none is attached into
 * a backlog (the last 64 KiB) that the next client gets first. */
#pragma once
#include <stdbool.h>

struct domain;
struct xs_relay;
struct domctl;

struct domctl_opts {
    const char *socket;        /* control socket path */
    const char *console_log;   /* appended to; NULL: none */
    const char *status_file;   /* the exit status goes there; NULL: none */
};

/* Makes the console pipes (before console_create). NULL on failure. */
struct domctl *domctl_create(struct domain *d, const struct domctl_opts *o);
int domctl_console_in(struct domctl *c);    /* console backend reads here */
int domctl_console_out(struct domctl *c);   /* console backend writes here */
/* Listens and starts serving. When xenkvmd (xenstore socket path; NULL:
 * none) restarts, retree(opaque) rewrites the domain's xenstore tree and the
 * relay is reconnected. 0 or -errno. */
int domctl_start(struct domctl *c, struct xs_relay *relay, const char *xenstore,
                 int (*retree)(void *opaque), void *opaque);
/* The domain's xenbus devices (NULL without xenstore). Requests
 * {"op":"block-attach","spec":SPEC} add a disk at run time. */
struct domain_devices;
void domctl_set_devices(struct domctl *c, struct domain_devices *devs);
/* The vCPU control the requests vcpu-set and vcpu-pin act on. */
struct vcpu_ctl;
void domctl_set_vcpus(struct domctl *c, struct vcpu_ctl *vcpus);
/* Ends the domain as a destroy request does (why: for the log). */
void domctl_destroy(struct domctl *c, const char *why);
/* After domain_run: flushes console output, writes the status file
 * ("destroyed" when a destroy request ended the domain), closes clients and
 * removes the socket. */
void domctl_finish(struct domctl *c, int status);
/* For a domain that never ran (start-up failed after domctl_create): closes
 * and frees everything, no status file. NULL: nothing. */
void domctl_discard(struct domctl *c);
