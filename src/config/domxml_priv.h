/* Internal to the libvirt XML converters (domxml_*.c). */
#pragma once
#include "config/domxml.h"
#include "config/strbuf.h"

#define XENKVM_NS "urn:xenkvm:domain:1"
#define LIBVIRT_XEN_NS "http://libvirt.org/schemas/domain/xen/1.0"
/* libvirt's firmware paths (LIBXL_FIRMWARE_DIR of its Xen driver). */
#define LIBVIRT_HVMLOADER "/usr/lib/xen/boot/hvmloader"
#define LIBVIRT_OVMF "/usr/lib/xen/boot/ovmf.bin"

/* Writing: "<name", " k='v'" (escaped; nothing when v is NULL), "/>\n". */
void xw_start(struct strbuf *b, int indent, const char *name);
void xw_attr(struct strbuf *b, const char *k, const char *v);
void xw_attrf(struct strbuf *b, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void xw_text(struct strbuf *b, int indent, const char *name, const char *text);

/* The devices libvirt shows beyond disks and NICs (domxml_write_dev.c). */
void domxml_write_controllers(struct strbuf *b, const struct domcfg *dc, enum native_fmt fmt);
void domxml_write_chardevs(struct strbuf *b, const struct domcfg *dc, enum native_fmt fmt,
                           struct cfg_diag *d);
void domxml_write_inputs_graphics(struct strbuf *b, const struct domcfg *dc, enum native_fmt fmt,
                                  struct cfg_diag *d);
void domxml_write_hostdevs(struct strbuf *b, const struct domcfg *dc, enum native_fmt fmt,
                           struct cfg_diag *d);
/* The disk's <address type='drive' .../> and the controllers that an HVM
 * guest's IDE or SCSI disks need (as libvirt assigns them). */
void domxml_write_disk_address(struct strbuf *b, const struct domcfg *dc, const char *vdev);
/* Whether the XML shows a <graphics> element for dc. */
bool domxml_has_graphics(const struct domcfg *dc);

/* libvirt's and libxl's names of CPU features (cpuid=). */
const char *domxml_cpu_feature(const char *name, bool from_libxl);

/* Reading (domxml_read*.c, which define DOMXML_READER): only they see
 * libxml2, and they are built into the XML module (domxml_module.h). */
#ifdef DOMXML_READER
#include <libxml/tree.h>

struct rd {
    struct domcfg *dc;
    struct cfg_diag *d;
    const char *file;
    enum native_fmt fmt;
    /* Gathered over <devices>, settled by domxml_read_devices_done. */
    struct { int port; char *spec; } serials[16];
    size_t nserials;
    xmlNodePtr graphics;
    int ngraphics;
};

struct cfg_loc xr_loc(struct rd *r, xmlNodePtr n);
bool xr_is(xmlNodePtr n, const char *name);
/* The first child element called name (no namespace), or NULL. */
xmlNodePtr xr_child(xmlNodePtr n, const char *name);
/* malloc'd copies, NULL when absent. */
char *xr_text(xmlNodePtr n);
char *xr_prop(xmlNodePtr n, const char *name);
bool xr_prop_is(xmlNodePtr n, const char *name, const char *v);
/* The readers' short names for them (the writers have their own helpers). */
#define loc(...) xr_loc(__VA_ARGS__)
#define is(...) xr_is(__VA_ARGS__)
#define child(...) xr_child(__VA_ARGS__)
#define text(...) xr_text(__VA_ARGS__)
#define prop(...) xr_prop(__VA_ARGS__)
#define prop_is(...) xr_prop_is(__VA_ARGS__)
/* A decimal attribute in [min, max]: true when present and good (else an
 * error is reported when present). */
bool xr_int_prop(struct rd *r, xmlNodePtr n, const char *name, long long min, long long max,
                 long long *out);
/* One device element of <devices> beyond disks and interfaces: true when
 * handled (domxml_read_dev.c). */
bool domxml_read_device(struct rd *r, xmlNodePtr n);
/* After the last device: serial ports and graphics into their keys. */
void domxml_read_devices_done(struct rd *r);
/* <xen:commandline> of libvirt's Xen namespace. */
void domxml_read_commandline(struct rd *r, xmlNodePtr dom);
#endif /* DOMXML_READER */
