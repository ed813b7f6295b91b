#include "config/domxml.h"
#include <stdlib.h>
#include <string.h>

int native_fmt_parse(const char *name, enum native_fmt *fmt)
{
    if (!strcmp(name, "xen-xl") || !strcmp(name, "xl"))
        *fmt = NATIVE_XL;
    else if (!strcmp(name, "xen-xm") || !strcmp(name, "xm"))
        *fmt = NATIVE_XM;
    else
        return -1;
    return 0;
}

char *domxml_from_native(enum native_fmt fmt, const struct xlcfg *cfg, struct cfg_diag *d)
{
    struct domcfg dc;
    char *xml = NULL;
    if (domcfg_from_xlcfg(&dc, cfg, d) == 0)
        xml = domxml_write(&dc, fmt);
    domcfg_free(&dc);
    return xml;
}

char *domxml_to_native(enum native_fmt fmt, const char *xml, size_t len, const char *file,
                       struct cfg_diag *d)
{
    struct domcfg dc;
    char *text = NULL;
    if (domxml_read(&dc, xml, len, file, fmt, d) == 0)
        text = domcfg_to_native(&dc, fmt);
    domcfg_free(&dc);
    return text;
}
