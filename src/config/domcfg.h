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

enum domcfg_type { DOMCFG_PV, DOMCFG_PVH, DOMCFG_HVM };

/* A list of strings, as written. */
struct strlist {
    char **v;
    size_t n;
};

/* Settings that libvirt's converters carry and xenkvm mostly cannot run:
 * the HVM machine, emulated and passed-through devices, graphics. Kept as
 * xl spells them so that conversion in both directions is a translation
 * (docs/config.md). Integers are -1 when the key is absent. */
struct domcfg_hw {
    int pae, acpi, apic, hap, viridian, hpet, nestedhvm, e820_host, usb;
    bool has_rtc_timeoffset;
    long long rtc_timeoffset;
    char *boot, *bios, *bios_path_override, *acpi_firmware;
    char *loader;                    /* xm: an HVM guest's kernel= (hvmloader) */
    char *device_model;              /* device_model_override (xm: device_model) */
    char *tsc_mode, *passthrough, *cpuid, *parallel, *soundhw;
    /* HVM graphics keys (PV guests use vfb) */
    int vnc, sdl, vncunused, vncdisplay;
    char *vnclisten, *vncpasswd, *keymap, *display, *xauthority;
    int spice, spiceport, spicetls_port, spicedisable_ticketing, spiceagent_mouse,
        spicevdagent, spice_clipboard_sharing;
    char *spicehost, *spicepasswd;
    struct strlist vfb, serial, pci, usbctrl, usbdev, usbdevice, channel, dm_args;
    bool serial_list, usbdevice_list;    /* written as a [list] */
    /* Where the keys that decide whether xenkvm can run the domain were
     * set (0: absent), for domcfg_check_supported's messages. */
    int line_type, line_pci, line_usbctrl, line_usbdev, line_channel, line_gfx, line_emulated,
        line_e820, line_cpu;
};

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
    /* vCPU placement and scheduling (xl.cfg cpus=, cpus_soft=, cpu_weight=,
     * cap=; xm vcpu_avail=). cpus: one string for every vCPU, or a list
     * with one per vCPU (cpus_list). */
    bool has_vcpu_avail;
    uint64_t vcpu_avail;            /* online vCPUs (bit i = vCPU i) */
    struct strlist cpus, cpus_soft;
    bool cpus_list, cpus_soft_list;
    int cpu_weight, cap;            /* -1 absent */
    unsigned max_grant_frames, max_event_channels;   /* 0 absent */
    struct domcfg_hw hw;
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
#define DOMCFG_LIBVIRT_MEMORY_MIB 128  /* libvirt's default when a config has none */

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
/* Whether vCPU i starts online: vcpu_avail's bit, else i < vcpus. */
bool domcfg_vcpu_online(const struct domcfg *dc, unsigned i);
int strlist_add(struct strlist *l, const char *s);    /* 0, or -1 (no memory) */
void strlist_free(struct strlist *l);
void domcfg_hw_init(struct domcfg_hw *hw);
void domcfg_hw_free(struct domcfg_hw *hw);
/* The kernel command line xl builds from root= and extra= (malloc'd, NULL if neither). */
char *domcfg_join_cmdline(const char *root, const char *extra);
