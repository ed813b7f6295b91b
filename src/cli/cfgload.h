/* Reading a domain's configuration for create/define: an xl.cfg(5) or xm
 * file (with xl's KEY=VALUE overrides), or libvirt domain XML, through
 * src/config/, into the JSON the daemon takes (docs/toolstack.md). */
#pragma once
#include "config/diag.h"
#include "config/vif.h"
#include <json-c/json.h>

#include <stddef.h>
#include <stdint.h>

#define CFG_MAX (1 << 20)      /* the longest config file read */

/* The name messages give the file: $XENKVM_CONFIG_NAME when set (remote
 * control hands the config over as /dev/fd/3 and names the local file
 * there), else file. */
const char *cfg_display_name(const char *file);
/* NULL after printing every error ("FILE:LINE: ..."); warnings go to stderr. */
struct json_object *cfg_load(const char *file, char **overrides, int noverrides);
/* The same from text already read (name: for messages and "source"); every
 * error and warning goes into d. Relative kernel/ramdisk paths resolve
 * against the current directory. */
struct json_object *cfg_parse(const char *name, const uint8_t *text, size_t len,
                              char **overrides, int noverrides, struct cfg_diag *d);
/* What xenkvm does not do with a well-formed vif spec (text: as written):
 * errors (type, backend) and warnings (keys ignored) into d. */
void cfg_check_vif(const struct vif_spec *v, const char *text, struct cfg_diag *d,
                   struct cfg_loc at);
