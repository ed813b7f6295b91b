/* Reading a domain's configuration for create/define: an xl.cfg(5) or xm
 * file (with xl's KEY=VALUE overrides), or libvirt domain XML, through
 * src/config/, into the JSON the daemon takes (docs/toolstack.md). */
#pragma once
#include "config/diag.h"
#include "config/vif.h"
#include <json-c/json.h>

/* NULL after printing every error ("FILE:LINE: ..."); warnings go to stderr. */
struct json_object *cfg_load(const char *file, char **overrides, int noverrides);
/* What xenkvm does not do with a well-formed vif spec (text: as written):
 * errors (type, backend) and warnings (keys ignored) into d. */
void cfg_check_vif(const struct vif_spec *v, const char *text, struct cfg_diag *d,
                   struct cfg_loc at);
