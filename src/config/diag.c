#include "config/diag.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages past this many are dropped (hostile input cannot flood memory). */
#define DIAG_MAX 200

static void add(struct cfg_diag *d, bool warning, struct cfg_loc at, const char *fmt, va_list ap)
{
    if (warning)
        d->warnings++;
    else
        d->errors++;
    if (d->n >= DIAG_MAX)
        return;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        struct cfg_msg *m = realloc(d->msgs, cap * sizeof(*m));
        if (!m)
            return;
        d->msgs = m;
        d->cap = cap;
    }
    char *what = NULL, *text = NULL;
    if (vasprintf(&what, fmt, ap) < 0)
        return;
    const char *file = at.file ? at.file : "config";
    int r = at.line > 0
        ? asprintf(&text, "%s:%d: %s%s", file, at.line, warning ? "warning: " : "", what)
        : asprintf(&text, "%s: %s%s", file, warning ? "warning: " : "", what);
    free(what);
    if (r < 0)
        return;
    d->msgs[d->n++] = (struct cfg_msg){ .warning = warning, .text = text };
}

void diag_error(struct cfg_diag *d, struct cfg_loc at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, false, at, fmt, ap);
    va_end(ap);
}

void diag_warn(struct cfg_diag *d, struct cfg_loc at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, true, at, fmt, ap);
    va_end(ap);
}

const char *diag_first_error(const struct cfg_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (!d->msgs[i].warning)
            return d->msgs[i].text;
    return NULL;
}

bool diag_has(const struct cfg_diag *d, const char *needle)
{
    for (size_t i = 0; i < d->n; i++)
        if (strstr(d->msgs[i].text, needle))
            return true;
    return false;
}

void diag_print(const struct cfg_diag *d, void *file)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf((FILE *)file, "%s\n", d->msgs[i].text);
}

void diag_free(struct cfg_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->msgs[i].text);
    free(d->msgs);
    *d = (struct cfg_diag){ 0 };
}
