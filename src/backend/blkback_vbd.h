/* vbd devices on xenbus: the nodes libxl writes for a disk, the features
 * blkback offers, and connecting the frontend's rings and event channels. */
#pragma once
#include "backend/devices.h"
#include <stdbool.h>
#include <stddef.h>

struct domain;
struct xenbus_bus;
struct xenbus_dev;

/* Parses spec (xl-disk-configuration), opens the image and announces the
 * device on bus (state InitWait). Returns the devid, or -1 with err set. */
int vbd_add(struct xenbus_bus *bus, struct domain *d, const char *spec, char *err, size_t errlen);
/* Whether the vbd is the one xl names id: its vdev or its device number. */
bool vbd_is(struct xenbus_dev *dev, const char *id);
/* Fills the vbd's name, image and counters (bus lock held). */
void vbd_info(struct xenbus_dev *dev, struct device_info *out);
