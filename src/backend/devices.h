/* A domain's xenbus devices: its disks (vbd, blkback) and NICs (vif, netback)
 * on one xenbus connection whose watch events the domain's I/O thread serves.
 * This is what the domain process (xenkvm run) and its control socket use;
 * the vbd and vif types underneath know only the xenbus framework. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct domain;
struct domain_devices;

/* Opens the domain's xenbus connection to the xenstore daemon at socket_path
 * (NULL: the default). name and uuid (16 bytes or NULL) seed the stable MAC
 * a NIC without mac= gets. NULL + errno. */
struct domain_devices *devices_open(struct domain *d, const char *socket_path, const char *name,
                                    const uint8_t *uuid);
/* Disconnects and removes every device. Call once the domain's I/O thread
 * has stopped (after domain_run). */
void devices_close(struct domain_devices *ds);

/* Whether xenkvmd went away under the devices' connection; then, once it is
 * back, devices_reconnect rewrites their nodes (0, or -errno: not yet). */
bool devices_lost(struct domain_devices *ds);
int devices_reconnect(struct domain_devices *ds);

/* Parses an xl disk spec, opens the image and announces a vbd (InitWait).
 * Returns the device id (>= 0) or -1 with err set. */
int devices_add_disk(struct domain_devices *ds, const char *spec, char *err, size_t errlen);
/* Parses an xl vif spec, creates tap vifDOMID.DEVID on its bridge and
 * announces a vif. The devid is the spec's devid= or the lowest free one.
 * Returns the devid or -1 with err set. */
int devices_add_nic(struct domain_devices *ds, const char *spec, char *err, size_t errlen);
/* Hot-unplugs a device as `xl block-detach` / `network-detach` name it: a
 * disk by vdev ("xvdb") or device number ("51728"), a NIC by devid ("1") or
 * MAC. The device goes once its frontend has closed (at once if it never
 * connected); with force, at once. 0, or -1 with err set (no such device). */
int devices_remove(struct domain_devices *ds, bool nic, const char *id, bool force, char *err,
                   size_t errlen);

/* Save and restore (docs/save-restore.md; xenbus_backend.h says more).
 * devices_check_saveable refuses, before anything stops, a device that
 * cannot be carried. devices_pause drains every connected device and gives
 * their state (*out malloc'd, *n entries); on failure they run again.
 * devices_resume runs them again after a checkpoint or a failed save. */
struct dev_saved;
int devices_check_saveable(struct domain_devices *ds, char *err, size_t errlen);
int devices_pause(struct domain_devices *ds, struct dev_saved **out, unsigned *n, char *err,
                  size_t errlen);
void devices_resume(struct domain_devices *ds);
/* Restore: before the config's devices are added, the saved ones; after,
 * devices_restored connects them from the saved state (-1 with err when one
 * is missing or cannot connect). */
int devices_set_saved(struct domain_devices *ds, const struct dev_saved *saved, unsigned n);
/* The paused devices' other bytes (the DEV_DATA record, xenbus_backend.h),
 * and, on restore after devices_set_saved, that record back. 0, or -errno /
 * -1 with err. */
int devices_saved_data(struct domain_devices *ds, uint8_t **out, size_t *len);
int devices_set_saved_data(struct domain_devices *ds, const void *rec, size_t len, char *err,
                           size_t errlen);
int devices_restored(struct domain_devices *ds, char *err, size_t errlen);

enum { DEV_TEXT_MAX = 64 };
struct device_info {
    bool nic;                     /* vif, else vbd */
    unsigned devid;
    int state;                    /* the backend's XenbusState */
    char name[DEV_TEXT_MAX];      /* vdev ("xvda") or tap name ("vif3.0") */
    char target[DEV_TEXT_MAX * 4];/* image path, or bridge ("" when none) */
    char mac[18];                 /* NICs */
    /* disks: requests and 512-byte sectors; NICs: packets and bytes, tx =
     * sent by the guest, rx = received by it */
    uint64_t rd_reqs, wr_reqs, rd_sect, wr_sect, flush_reqs;
    uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes, tx_errors, rx_dropped;
};
/* Fills up to max entries (disks first, by devid, then NICs). Returns how
 * many devices there are (possibly more than max). */
unsigned devices_list(struct domain_devices *ds, struct device_info *out, unsigned max);
