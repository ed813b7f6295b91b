/* Allocation that cannot fail: running out of memory ends the daemon, which is
 * bounded for guests by the quotas. */
#pragma once
#include <stddef.h>

void *xs_xmalloc(size_t n);
void *xs_xcalloc(size_t n, size_t sz);
void *xs_xrealloc(void *p, size_t n);
char *xs_xstrdup(const char *s);
void *xs_xmemdup(const void *p, size_t n);
