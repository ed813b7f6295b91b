/* The control socket's save request (xenkvm save):
 *   {"op":"save","file":PATH,"config":{...},"keep":B,"paused":B}
 * stops the vCPUs, writes the save file (snapshot_save) and then ends the
 * domain, or with keep lets it run on (paused with "paused"). A failed save
 * removes what it wrote and leaves the domain as it was. */
#pragma once
#include <json-c/json.h>
#include <stdbool.h>

struct domain;
struct domain_devices;
struct xs_relay;

/* The reply; *ended: the domain is to end now (saved without keep). */
struct json_object *save_request(struct domain *d, struct domain_devices *devs,
                                 struct xs_relay *relay, const char *xenstore,
                                 struct json_object *req, bool *ended);

/* {"op":"dump-core","file":PATH}: the domain stops while its ELF core is
 * written (dump_core.h), then runs on as it was. */
struct json_object *dump_core_request(struct domain *d, struct json_object *req);
