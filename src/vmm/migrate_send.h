/* xenkvm migrate, the sending domain process's side (docs/save-restore.md,
 * "Live migration"). The CLI connects to the control socket and sends
 *   {"op":"migrate-send","config":{...}}
 * The reply ({"ok":true} or an error: devices, another migration running) is
 * followed on the same connection by the save-file stream: CONFIG, pre-copy
 * rounds of RAM records while the guest runs (KVM's dirty log plus xenkvm's
 * own writes), then, with the vCPUs stopped, the frames dirtied last, the
 * rest of the state and END; after END one JSON line of statistics. The
 * domain then stays stopped until the CLI sends one line:
 *   {"op":"hold"}    the destination is being told to go: from now on a
 *                    lost connection leaves the domain paused, not resumed
 *   {"op":"end"}     the destination runs the guest: this process ends
 *   {"op":"resume"}  the migration failed: the domain runs on here
 * A connection lost before "hold" (or any failure before END) resumes it. */
#pragma once
#include <json-c/json.h>

struct domain;
struct domain_devices;
struct xs_relay;
struct vcpu_ctl;

/* Takes fd (the client's connection) over: replies on it and, if the
 * migration starts, streams on it. vcpus: the vCPUs' availability and
 * affinity (NULL: none), read on the I/O thread at the stop. ended(opaque)
 * runs on the I/O thread when the domain is to end ("end"). */
void migrate_send_request(struct domain *d, struct domain_devices *devs, struct xs_relay *relay,
                          const char *xenstore, const struct vcpu_ctl *vcpus,
                          struct json_object *req, int fd, void (*ended)(void *opaque),
                          void *opaque);
