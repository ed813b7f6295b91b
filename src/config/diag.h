/* Diagnostics collected while reading configuration: each one a line
 * "FILE:LINE: what" (errors) or "FILE:LINE: warning: what". */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct cfg_msg {
    bool warning;
    char *text;
};

struct cfg_diag {
    struct cfg_msg *msgs;
    size_t n, cap;
    size_t errors, warnings;
};

/* Where a setting or list item came from. line 0 means no line. */
struct cfg_loc {
    const char *file;
    int line;
};

void diag_error(struct cfg_diag *d, struct cfg_loc at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_warn(struct cfg_diag *d, struct cfg_loc at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The first error's text, or NULL. */
const char *diag_first_error(const struct cfg_diag *d);
/* True when some message contains needle. */
bool diag_has(const struct cfg_diag *d, const char *needle);
void diag_print(const struct cfg_diag *d, void *file /* FILE * */);
void diag_free(struct cfg_diag *d);
