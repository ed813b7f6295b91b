/* A domain's configuration as xenkvm uses it, built from xl.cfg(5) settings
 * (or from libvirt domain XML, see domxml.h). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/diag.h"
#include "config/disk.h"
#include "config/vif.h"
#include "config/xlcfg.h"

enum domcfg_type { DOMCFG_PV, DOMCFG_PVH };

enum domcfg_action {
    ACT_DESTROY, ACT_RESTART, ACT_RENAME_RESTART, ACT_PRESERVE,
    ACT_COREDUMP_DESTROY, ACT_COREDUMP_RESTART, ACT_SOFT_RESET,
};

struct domcfg_disk {
    struct disk_spec spec;
    char *text;                 /* the spec as written */
    int line;
};

struct domcfg_vif {
    struct vif_spec spec;
    char *text;
    int line;
};

struct domcfg {
    char *file;                 /* where the settings came from (messages) */
    char *name;
    bool has_uuid;
    uint8_t uuid[16];
    enum domcfg_type type;
    char *kernel, *ramdisk;
    char *cmdline;              /* in force: cmdline=, else "root=ROOT EXTRA" */
    char *root, *extra;         /* as written */
    uint64_t memory_mib, maxmem_mib;
    unsigned vcpus, maxvcpus;
    struct domcfg_disk *disks;
    size_t ndisks;
    struct domcfg_vif *vifs;
    size_t nvifs;
    enum domcfg_action on_poweroff, on_reboot, on_crash, on_watchdog, on_soft_reset;
    char *bootloader;
    char **bootloader_args;
    size_t nbootloader_args;
    bool pvshim;
    char *pvshim_path, *pvshim_cmdline, *pvshim_extra;
    bool localtime;
};

#define DOMCFG_DEFAULT_MEMORY_MIB 32   /* libxl's default */
/* Xen's PV shim, as libxl finds it on Debian (xen-utils-4.17), and the
 * command line libxl gives it (PVSHIM_CMDLINE). */
#define DOMCFG_PVSHIM_PATH "/usr/lib/xen-4.17/boot/xen-shim"
#define DOMCFG_PVSHIM_PACKAGE "xen-utils-4.17"
#define DOMCFG_PVSHIM_CMDLINE "pv-shim console=xen,pv"
/* Where libxl looks first for a bootloader named without a path (its
 * private bindir on Debian: pygrub is there). */
#define DOMCFG_BOOTLOADER_DIR "/usr/lib/xen-4.17/bin"
#define DOMCFG_MAX_VCPUS 512
#define DOMCFG_MAX_MEMORY_MIB (16ull << 20)

/* Sets the defaults xl uses (memory 32 MiB, one vCPU, PV, ...). */
void domcfg_init(struct domcfg *dc);
/* Builds dc from the settings in force. Unknown keys are warnings; bad values
 * errors naming FILE:LINE and the key. Returns 0, or -1 with errors in d. */
int domcfg_from_xlcfg(struct domcfg *dc, const struct xlcfg *cfg, struct cfg_diag *d);
/* What xenkvm cannot run though xl would (disk formats, ...). 0, or -1. */
int domcfg_check_supported(const struct domcfg *dc, struct cfg_diag *d);
void domcfg_free(struct domcfg *dc);

const char *domcfg_action_name(enum domcfg_action a);
int domcfg_action_parse(const char *s, enum domcfg_action *a);
const char *domcfg_type_name(enum domcfg_type t);
int uuid_parse(const char *s, uint8_t uuid[16]);
void uuid_format(const uint8_t uuid[16], char buf[37]);
/* The MAC of vif i: its own, or the stable default. */
void domcfg_vif_mac(const struct domcfg *dc, size_t i, uint8_t mac[6]);
/* The kernel command line xl builds from root= and extra= (malloc'd, NULL if neither). */
char *domcfg_join_cmdline(const char *root, const char *extra);
