/* libvirt domain XML <-> xl / xm configuration, shaped like libvirt's libxl
 * driver converters (`virsh domxml-from-native xen-xl|xen-xm` and
 * `virsh domxml-to-native`). */
#pragma once
#include <stddef.h>
#include "config/diag.h"
#include "config/domcfg.h"
#include "config/xlcfg.h"

enum native_fmt { NATIVE_XL, NATIVE_XM };

/* "xen-xl" or "xen-xm" (also "xl", "xm"). 0, or -1. */
int native_fmt_parse(const char *name, enum native_fmt *fmt);

/* Settings -> domain XML (malloc'd), or NULL with errors in d. */
char *domxml_from_native(enum native_fmt fmt, const struct xlcfg *cfg, struct cfg_diag *d);
/* Domain XML (len bytes, named file in messages) -> config text, or NULL. */
char *domxml_to_native(enum native_fmt fmt, const char *xml, size_t len, const char *file,
                       struct cfg_diag *d);

/* The same on files: an xl/xm config with KEY=VALUE overrides applied after
 * it, or a domain XML file. NULL when anything was wrong (errors in d). */
char *domxml_from_native_file(enum native_fmt fmt, const char *path, int noverrides,
                              char *const *overrides, struct cfg_diag *d);
char *domxml_to_native_file(enum native_fmt fmt, const char *path, struct cfg_diag *d);

/* The two halves. domxml_write expects text that XML can hold (see
 * domxml_check_text). */
char *domxml_write(const struct domcfg *dc, enum native_fmt fmt, struct cfg_diag *d);
/* Every string of dc is valid UTF-8 without control characters: 0, or -1
 * with an error naming the offending key. */
int domxml_check_text(const struct domcfg *dc, struct cfg_diag *d);
int domxml_read(struct domcfg *dc, const char *xml, size_t len, const char *file,
                enum native_fmt fmt, struct cfg_diag *d);
char *domcfg_to_native(const struct domcfg *dc, enum native_fmt fmt);

/* libvirt's reading of a vif rate as KiB/s ("10MB/s" -> 10240); 0 if none. */
unsigned long long domxml_rate_kib(const char *rate);
