#include "xenstore/util.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"

void *xs_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

void *xs_xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p)
        die("out of memory");
    return p;
}

void *xs_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

char *xs_xstrdup(const char *s)
{
    return xs_xmemdup(s, strlen(s) + 1);
}

void *xs_xmemdup(const void *p, size_t n)
{
    void *q = xs_xmalloc(n);
    if (n)
        memcpy(q, p, n);
    return q;
}
