/* Disk specifications, xl-disk-configuration(5):
 *   [KEY=VALUE|FLAG,]* [TARGET[,FORMAT[,VDEV[,ACCESS]]]] [,KEY=VALUE|FLAG]* [,target=TARGET]
 * plus the deprecated xm form [PREFIX:]TARGET,VDEV[:cdrom],ACCESS with the
 * prefixes phy: file: tap: tap2: tapdisk: aio: ioemu: (ignored), raw: qcow:
 * qcow2: vhd: qed: vmdk: (format) and iscsi: nbd: enbd: drbd: (script).
 * vmdk is xenkvm's: xl knows no such format, QEMU (which serves every
 * format but raw here) does. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

enum disk_format { DISK_FMT_RAW, DISK_FMT_QCOW, DISK_FMT_QCOW2, DISK_FMT_VHD, DISK_FMT_QED,
                   DISK_FMT_VMDK };
enum disk_backend { DISK_BK_AUTO, DISK_BK_PHY, DISK_BK_QDISK, DISK_BK_TAP, DISK_BK_STANDALONE };

struct disk_spec {
    char *target;               /* NULL: empty (a cdrom drive with no medium) */
    enum disk_format format;
    char *vdev;                 /* as written, without a ":cdrom" suffix */
    int devid;                  /* from vdev, as Xen numbers it */
    bool readonly;
    bool cdrom;
    enum disk_backend backend;
    char *backend_domain;       /* backend= */
    char *script;               /* script= or from a script prefix */
    char *specification;        /* "xen", "virtio" or NULL */
    int discard;                /* -1 unset, 0 no-discard, 1 discard */
    bool direct_io_safe;
    bool untrusted;
    bool colo;                  /* colo flag or colo-* keys seen */
    char *prefix;               /* legacy prefixes as written ("phy", "tap:aio"), or NULL */
    bool legacy;                /* deprecated positional order target,vdev,access */
};

/* Parses spec into d (zeroed first). Returns 0, or -1 with err set to what
 * is wrong (no location: the caller adds it). */
int disk_parse(struct disk_spec *d, const char *spec, char *err, size_t errlen);
/* What xenkvm cannot do with a well-formed disk: 0, or -1 with err set. */
int disk_check_supported(const struct disk_spec *d, char *err, size_t errlen);
/* The Xen device number of a vdev name (xvda, xvdb3, xvdaa, hda, sdb1, d0p1,
 * or a plain number), or -1 when it is not one. */
int disk_vdev_devid(const char *vdev);
/* The bus a vdev name implies: "xen", "ide" or "scsi". */
const char *disk_vdev_bus(const char *vdev);
/* The spec in canonical xl form ("TARGET,FORMAT,VDEV,ACCESS[,KEY=VALUE...]")
 * or in xm form ("PREFIX:TARGET,VDEV[:cdrom],ACCESS"); malloc'd or NULL. */
char *disk_to_xl(const struct disk_spec *d);
char *disk_to_xm(const struct disk_spec *d);
const char *disk_format_name(enum disk_format f);
int disk_format_parse(const char *s, enum disk_format *f);
const char *disk_backend_name(enum disk_backend b);
void disk_spec_free(struct disk_spec *d);
