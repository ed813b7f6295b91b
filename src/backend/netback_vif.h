/* vif devices on xenbus: the tap device and the nodes libxl writes for a
 * NIC, the features netback offers, and connecting the frontend's queues. */
#pragma once
#include "backend/devices.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct domain;
struct xenbus_bus;
struct xenbus_dev;

/* Parses spec (xl-network-configuration), creates its tap device on its
 * bridge and announces the device on bus. A NIC without mac= gets a stable
 * one from uuid (16 bytes, or NULL) or name. Returns the devid, or -1 with
 * err set. */
int vif_add(struct xenbus_bus *bus, struct domain *d, const char *spec, const char *name,
            const uint8_t *uuid, char *err, size_t errlen);
/* Whether the vif is the one xl names id: its devid or its MAC. */
bool vif_is(struct xenbus_dev *dev, const char *id);
/* Fills the vif's tap name, bridge, MAC and counters (bus lock held). */
void vif_info(struct xenbus_dev *dev, struct device_info *out);
