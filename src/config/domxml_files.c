/* The converters on files: what `xenkvm domxml-from-native` / `domxml-to-native`
 * (and the xkcfg-dump test tool) do. */
#include "config/domxml.h"
#include "config/xlcfg.h"
#include "common/file.h"
#include <stdlib.h>

#define CONFIG_MAX (16u << 20)

int xlcfg_parse_with_overrides(struct xlcfg *c, const char *path, int noverrides,
                               char *const *overrides, struct cfg_diag *d)
{
    int r = xlcfg_parse_file(c, path, d);
    for (int i = 0; i < noverrides && r == 0; i++)
        r = xlcfg_apply_override(c, overrides[i], d);
    return r;
}

char *domxml_from_native_file(enum native_fmt fmt, const char *path, int noverrides,
                              char *const *overrides, struct cfg_diag *d)
{
    struct xlcfg c = { 0 };
    char *xml = NULL;
    if (xlcfg_parse_with_overrides(&c, path, noverrides, overrides, d) == 0)
        xml = domxml_from_native(fmt, &c, d);
    xlcfg_free(&c);
    if (xml && d->errors) {
        free(xml);
        xml = NULL;
    }
    return xml;
}

char *domxml_to_native_file(enum native_fmt fmt, const char *path, struct cfg_diag *d)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char err[512];
    if (file_read_all(path, CONFIG_MAX, &data, &len, err, sizeof(err)) < 0) {
        diag_error(d, (struct cfg_loc){ path, 0 }, "%s", err);
        return NULL;
    }
    char *out = domxml_to_native(fmt, (const char *)data, len, path, d);
    free(data);
    if (out && d->errors) {
        free(out);
        out = NULL;
    }
    return out;
}
