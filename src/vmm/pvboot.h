/* What `xenkvm run` boots: a PVH kernel directly, or a PV kernel through Xen's
 * PV shim (a build of Xen that boots as a PVH guest and hosts that one PV
 * guest), as libxl builds a `type = "pvh"` + `pvshim = 1` domain. */
#pragma once
#include "xen/domain.h"
#include <stdbool.h>
#include <stddef.h>

struct pvboot_opts {
    const char *kernel, *ramdisk, *cmdline;   /* the guest's */
    bool pv;                                  /* kernel is PV: through the shim */
    const char *shim;                         /* NULL: DOMCFG_PVSHIM_PATH */
    const char *shim_cmdline;                 /* NULL: DOMCFG_PVSHIM_CMDLINE */
    const char *shim_extra;                   /* appended to it after a space */
};

/* Fills cfg's kernel, cmdline and modules. PVH: the kernel with its command
 * line, the ramdisk as module 0. PV: the shim with its own command line, the PV
 * kernel as module 0 carrying the guest's command line, the ramdisk as module
 * 1, and [0x1000, 0x11000) kept free for the shim. shim_line (shim_len bytes)
 * holds the shim's command line. Returns 0, or -1 with err set (a missing
 * shim names the Debian package that has it). */
int pvboot_setup(struct domain_config *cfg, const struct pvboot_opts *o, char *shim_line,
                 size_t shim_len, char *err, size_t errlen);
