/* Reading xl.cfg settings into struct domcfg: the getters domcfg.c and
 * domcfg_hw.c share (internal to src/config). Each reports a bad value as
 * "FILE:LINE: KEY: what" and leaves the destination as it was. */
#pragma once
#include "config/domcfg.h"

struct build {
    struct domcfg *dc;
    const struct xlcfg *cfg;
    struct cfg_diag *d;
};

/* Reports "KEY: what" at the setting; returns false. */
bool xb_bad(struct build *b, const struct xlset *s, const char *what);
/* A string setting (not owned), or NULL when absent or not a string. */
const char *xb_str(struct build *b, const char *key, const struct xlset **where);
/* Copies a string setting into *dst (freeing the old value) when present. */
bool xb_dup(struct build *b, const char *key, char **dst);
/* A number (or a string holding one) in [min, max]: true when present and good. */
bool xb_num(struct build *b, const char *key, long long min, long long max, long long *out,
             const struct xlset **where);
void xb_bool(struct build *b, const char *key, bool *out);
/* fn for each string of a list setting; other items are errors. */
void xb_each(struct build *b, const char *key,
                 void (*fn)(struct build *, const struct xlset *, const struct xlv *));
/* The keys of struct domcfg_hw and the vCPU placement and scheduling keys
 * (domcfg_hw.c). */
void domcfg_hw_read(struct build *b);
/* Whether domcfg_hw_read reads key. */
bool domcfg_hw_key(const char *key);
