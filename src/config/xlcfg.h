/* xl.cfg(5) files: the syntax xl's config parser accepts.
 *
 *   KEY = VALUE        KEY += VALUE        (newline or ';' between settings)
 *   VALUE: "string" | 'string' | NUMBER | [ VALUE, VALUE, ... ]
 *
 * Keys are [a-z][_0-9a-z]*; numbers [0-9][0-9a-fx]* (kept as text, read with
 * strtol base 0); '#' starts a comment; lists may span lines, nest and end
 * with a comma. "+=" appends to the previous value of the key (strings
 * concatenate, lists extend). The result is every setting in order, with
 * where it came from; the last setting of a key is the one in force. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "config/diag.h"

enum xlv_kind { XLV_STRING, XLV_NUMBER, XLV_LIST };

struct xlv {
    enum xlv_kind kind;
    int line;
    char *str;            /* STRING, NUMBER: the (dequoted) text */
    struct xlv **items;   /* LIST */
    size_t n;
};

struct xlset {
    char *key;
    struct xlv *val;
    int line;
    bool append;          /* written with "+=" (val holds the combined value) */
    const char *file;     /* owned by the xlcfg */
};

struct xlcfg {
    struct xlset *sets;
    size_t n, cap;
    char **files;
    size_t nfiles;
};

/* Parses text (len bytes, NULs are errors) named file in messages and appends
 * its settings. Returns 0, or -1 when any error was reported to d. */
int xlcfg_parse_text(struct xlcfg *c, const char *file, const char *text, size_t len,
                     struct cfg_diag *d);
int xlcfg_parse_file(struct xlcfg *c, const char *path, struct cfg_diag *d);
/* Applies one command-line setting ("memory=512", "vif=['bridge=br0']"), as
 * `xl create FILE KEY=VALUE` does after reading the file. */
int xlcfg_apply_override(struct xlcfg *c, const char *arg, struct cfg_diag *d);
/* The setting in force for key (the last one), or NULL. */
const struct xlset *xlcfg_find(const struct xlcfg *c, const char *key);
void xlcfg_free(struct xlcfg *c);
/* xlcfg_parse_file, then each KEY=VALUE override in order, as `xl create FILE
 * KEY=VALUE...` applies them. */
int xlcfg_parse_with_overrides(struct xlcfg *c, const char *path, int noverrides,
                               char *const *overrides, struct cfg_diag *d);

const char *xlv_kind_name(enum xlv_kind k);
void xlv_free(struct xlv *v);
