#include "cfg_helpers.h"
#include <string.h>

int t_parse(struct xlcfg *c, struct cfg_diag *d, const char *text)
{
    xlcfg_free(c);
    diag_free(d);
    return xlcfg_parse_text(c, "t.cfg", text, strlen(text), d);
}

int t_dom(struct domcfg *dc, struct cfg_diag *d, const char *text)
{
    struct xlcfg c = { 0 };
    domcfg_init(dc);
    int r = t_parse(&c, d, text);
    if (r == 0)
        r = domcfg_from_xlcfg(dc, &c, d);
    xlcfg_free(&c);
    return r;
}

char *t_xml(const char *text, enum native_fmt fmt, struct cfg_diag *d)
{
    struct xlcfg c = { 0 };
    char *x = NULL;
    if (t_parse(&c, d, text) == 0)
        x = domxml_from_native(fmt, &c, d);
    xlcfg_free(&c);
    return x;
}

const char *t_val(const struct xlcfg *c, const char *key)
{
    const struct xlset *s = xlcfg_find(c, key);
    return s && s->val->kind != XLV_LIST ? s->val->str : NULL;
}
