/* The control socket's save request (xenkvm save):
 *   {"op":"save","file":PATH,"config":{...},"keep":B,"paused":B}
 * stops the vCPUs, writes the save file (snapshot_save) and then ends the
 * domain, or with keep lets it run on (paused with "paused"). A failed save
 * removes what it wrote and leaves the domain as it was. */
#pragma once
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How long parking the vCPUs may take: one exit each, or a hypercall. */
#define QUIESCE_TIMEOUT_MS 5000

struct domain;
struct domain_devices;
struct xs_relay;
struct snap_devs;
struct vcpu_ctl;

/* The reply; *ended: the domain is to end now (saved without keep). vcpus:
 * the vCPUs' availability and affinity for the file (NULL: none). */
struct json_object *save_request(struct domain *d, struct domain_devices *devs,
                                 struct xs_relay *relay, const char *xenstore,
                                 const struct vcpu_ctl *vcpus, struct json_object *req,
                                 bool *ended);

/* {"op":"dump-core","file":PATH}: the domain stops while its ELF core is
 * written (dump_core.h), then runs on as it was. */
struct json_object *dump_core_request(struct domain *d, struct json_object *req);

/* The guest's xenstore side, with its vCPUs stopped: every request it made
 * answered, then its subtree and watches (the XENSTORE record). NULL with err. */
uint8_t *save_xenstore_part(struct domain *d, struct xs_relay *relay, const char *xenstore,
                            size_t *len, char *err, size_t errlen);

/* The devices' side, with the vCPUs stopped and the guest's xenstore
 * requests answered: every connected vbd and vif drained (its requests
 * answered, nothing left mapped but its rings) and its state in *sd
 * (sd->devs and sd->data malloc'd, freed by the caller), with the domain id the guest
 * sees. 0, or -1 with err and the devices running again. devs may be NULL. */
int save_devices_part(struct domain *d, struct domain_devices *devs, struct xs_relay *relay,
                      struct snap_devs *sd, char *err, size_t errlen);
