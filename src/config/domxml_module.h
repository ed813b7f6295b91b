/* The part of libvirt XML support that needs libxml2 (domxml_read.c), built as
 * a module that domxml_read() loads on first use (domxml_load.c): programs that
 * never read domain XML, above all the domain process, do not load libxml2
 * (and ICU and libstdc++ behind it) at start-up. */
#pragma once
#include "config/domxml.h"

#define DOMXML_MODULE "libxenkvm-domxml.so"

/* domxml_read's work; the module's one entry point. */
__attribute__((visibility("default")))
int domxml_parse(struct domcfg *dc, const char *xml, size_t len, const char *file,
                 enum native_fmt fmt, struct cfg_diag *d);
