/* PVH or PV-through-the-shim: the boot modules of `xenkvm run` (pvboot.h). */
#include "vmm/pvboot.h"
#include "config/domcfg.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int pvboot_setup(struct domain_config *cfg, const struct pvboot_opts *o, char *shim_line,
                 size_t shim_len, char *err, size_t errlen)
{
    cfg->nr_modules = 0;
    cfg->keep_low_free = false;
    if (!o->pv) {
        cfg->kernel = o->kernel;
        cfg->cmdline = o->cmdline;
        if (o->ramdisk)
            cfg->modules[cfg->nr_modules++] = (typeof(cfg->modules[0])){ o->ramdisk, NULL, "ramdisk" };
        return 0;
    }
    const char *shim = o->shim ? o->shim : DOMCFG_PVSHIM_PATH;
    if (access(shim, R_OK) < 0) {
        if (o->shim)
            snprintf(err, errlen, "PV shim %s: %s", shim, strerror(errno));
        else
            snprintf(err, errlen, "a PV kernel runs through Xen's PV shim, and %s is %s: install "
                     "Debian's %s (or name another shim)", shim,
                     errno == ENOENT ? "missing" : strerror(errno), DOMCFG_PVSHIM_PACKAGE);
        return -1;
    }
    const char *base = o->shim_cmdline ? o->shim_cmdline : DOMCFG_PVSHIM_CMDLINE;
    const char *extra = o->shim_extra && *o->shim_extra ? o->shim_extra : NULL;
    int n = snprintf(shim_line, shim_len, "%s%s%s", base, extra ? " " : "", extra ? extra : "");
    if (n < 0 || (size_t)n >= shim_len) {
        snprintf(err, errlen, "the PV shim's command line is longer than %zu bytes", shim_len - 1);
        return -1;
    }
    cfg->kernel = shim;
    cfg->cmdline = shim_line;
    /* The guest's command line travels with its kernel (module 0), as libxl
     * hands it to the shim; an empty one is none. */
    const char *guest_line = o->cmdline && *o->cmdline ? o->cmdline : NULL;
    cfg->modules[cfg->nr_modules++] = (typeof(cfg->modules[0])){ o->kernel, guest_line, "PV kernel" };
    if (o->ramdisk)
        cfg->modules[cfg->nr_modules++] = (typeof(cfg->modules[0])){ o->ramdisk, NULL, "ramdisk" };
    cfg->keep_low_free = true;
    return 0;
}
