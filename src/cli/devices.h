/* Block and network devices as the CLI and xenkvm-web handle them: the
 * network-attach checks, detach and its wait, and the frontend lists that
 * block-list / network-list show (read from xenstore, as libxl does). Each
 * function's err gets the CLI's one-line message. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include "config/diag.h"

#define DETACH_TIMEOUT_S 10     /* xl's (libxl's LIBXL_DESTROY_TIMEOUT) */

/* network-attach's own check of a vif spec (the CLI checks it before the
 * daemon does, so warnings reach the user): errors and warnings into d
 * (each "network-attach: ..."). 0, or -1 when there is an error. */
int dev_check_vif(const char *spec, struct cfg_diag *d);
/* block-detach / network-detach (cmd): asks xenkvmd, then waits up to
 * DETACH_TIMEOUT_S until the device is gone. 0 or -1. */
int dev_detach(const char *cmd, const char *dom, const char *id, bool force, char *err,
               size_t errlen);
/* The frontends of domain dom's vbds (kind "vbd") or vifs ("vif"), sorted:
 * an array of objects with xl's columns (vbd: vdev, be, handle, state,
 * evt_ch, ring_ref, be_path; vif: idx, be, mac, handle, state, evt_ch,
 * tx_ring_ref, rx_ring_ref, be_path; -1 for a node that is absent). NULL
 * on error. */
struct json_object *dev_list(const char *cmd, const char *kind, const char *dom, char *err,
                             size_t errlen);
