/* The DEVICES record (docs/save-restore.md): the domain id the guest sees in
 * xenstore paths, and each drained vbd's and vif's ring state
 * (backend/device_state.h).
 *
 *   u32 device count, u32 visible domid, struct dev_saved per device */
#pragma once
#include "backend/device_state.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct domain;

struct snap_devices_hdr {
    uint32_t count;
    uint32_t visible_domid;
};

/* The record's payload (malloc'd, *len bytes), NULL when out of memory. */
uint8_t *snapdev_encode(unsigned visible_domid, const struct dev_saved *devs, unsigned n,
                        size_t *len);
/* Checks a payload (sizes, types, queue and page counts, ports): 0, or -1
 * with err saying what is wrong. *devs points into rec. */
int snapdev_decode(const void *rec, size_t len, unsigned *visible_domid,
                   const struct dev_saved **devs, unsigned *n, char *err, size_t errlen);
/* Whether guest port is one of the saved devices' event channels (the new
 * domain process binds it again when the device connects). */
bool snapdev_has_port(const struct dev_saved *devs, unsigned n, uint32_t port);
/* Every grant a backend has mapped must be one of the devices' ring pages
 * (drained: no per-request grant is left). 0, or -1 with err. Domain lock held. */
int snapdev_check_grants(struct domain *d, const struct dev_saved *devs, unsigned n, char *err,
                         size_t errlen);
