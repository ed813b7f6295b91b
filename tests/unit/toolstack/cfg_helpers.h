/* Shared helpers for the configuration unit tests. */
#pragma once
#include "config/domxml.h"

/* Parses text as "t.cfg" into c (freed and reset first) and d (reset). */
int t_parse(struct xlcfg *c, struct cfg_diag *d, const char *text);
/* Parses and builds the domain config; the settings are freed. */
int t_dom(struct domcfg *dc, struct cfg_diag *d, const char *text);
/* cfg text -> XML (fmt), NULL on error. */
char *t_xml(const char *text, enum native_fmt fmt, struct cfg_diag *d);
/* The value of the setting in force, or NULL. */
const char *t_val(const struct xlcfg *c, const char *key);
