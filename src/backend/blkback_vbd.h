/* A domain's virtual block devices: each disk spec (xl-disk-configuration)
 * becomes a blkback device announced on xenbus as a vbd. */
#pragma once
#include <stddef.h>

struct domain;
struct blkback_disks;

/* Opens the domain's xenbus connection to the xenstore daemon at socket_path;
 * watch events are served on the domain's I/O thread. NULL + errno. */
struct blkback_disks *blkback_disks_open(struct domain *d, const char *socket_path);
/* Parses spec, opens the image and announces the device (state InitWait).
 * Returns 0 or -1 with err set. */
int blkback_disk_add(struct blkback_disks *ds, const char *spec, char *err, size_t errlen);
/* Disconnects and removes every device. Call once the domain's I/O thread
 * has stopped (after domain_run). */
void blkback_disks_close(struct blkback_disks *ds);
