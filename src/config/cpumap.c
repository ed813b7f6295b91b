#include "config/cpumap.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cpumap_set(struct cpumap *m, unsigned cpu)
{
    if (cpu < CPUMAP_MAX)
        m->bits[cpu / 64] |= 1ull << (cpu % 64);
}

static void clear(struct cpumap *m, unsigned cpu)
{
    if (cpu < CPUMAP_MAX)
        m->bits[cpu / 64] &= ~(1ull << (cpu % 64));
}

bool cpumap_test(const struct cpumap *m, unsigned cpu)
{
    return cpu < CPUMAP_MAX && (m->bits[cpu / 64] >> (cpu % 64)) & 1;
}

unsigned cpumap_count(const struct cpumap *m)
{
    unsigned n = 0;
    for (size_t i = 0; i < CPUMAP_MAX / 64; i++)
        n += (unsigned)__builtin_popcountll(m->bits[i]);
    return n;
}

/* "N" or "N-M" at *p (advanced); false when neither. */
static bool range(const char **p, unsigned long *lo, unsigned long *hi)
{
    char *e;
    if (**p < '0' || **p > '9')
        return false;
    errno = 0;
    *lo = *hi = strtoul(*p, &e, 10);
    if (errno)
        return false;
    *p = e;
    if (**p == '-') {
        (*p)++;
        if (**p < '0' || **p > '9')
            return false;
        *hi = strtoul(*p, &e, 10);
        if (errno)
            return false;
        *p = e;
    }
    return *lo <= *hi;
}

bool cpumap_is_symbolic(const char *s)
{
    return strstr(s, "all") || strstr(s, "node");
}

int cpumap_parse(const char *s, struct cpumap *m, unsigned all_cpus, cpumap_node_fn node_cpus,
                 void *opaque, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    const char *p = s;
    if (!*p) {
        snprintf(err, errlen, "empty CPU list");
        return -1;
    }
    while (*p) {
        const char *term = p;
        bool exclude = *p == '^';
        if (exclude)
            p++;
        unsigned long lo, hi;
        bool nodes = !strncmp(p, "nodes:", 6) || !strncmp(p, "node:", 5);
        if (!exclude && !strncmp(p, "all", 3) && (p[3] == ',' || !p[3])) {
            p += 3;
            for (unsigned c = 0; c < all_cpus && c < CPUMAP_MAX; c++)
                cpumap_set(m, c);
        } else if (nodes) {
            p += p[4] == 's' ? 6 : 5;
            if (!range(&p, &lo, &hi) || hi >= 1024) {
                snprintf(err, errlen, "'%.*s' is not a node or node range", (int)strcspn(term, ","),
                         term);
                return -1;
            }
            for (unsigned long n = lo; node_cpus && n <= hi; n++) {
                struct cpumap nm = { 0 };
                if (node_cpus((unsigned)n, &nm, opaque) < 0) {
                    snprintf(err, errlen, "there is no NUMA node %lu", n);
                    return -1;
                }
                for (unsigned c = 0; c < CPUMAP_MAX; c++)
                    if (cpumap_test(&nm, c))
                        exclude ? clear(m, c) : cpumap_set(m, c);
            }
        } else if (range(&p, &lo, &hi)) {
            if (hi >= CPUMAP_MAX) {
                snprintf(err, errlen, "CPU %lu is beyond the %d this host can name", hi, CPUMAP_MAX);
                return -1;
            }
            for (unsigned long c = lo; c <= hi; c++)
                exclude ? clear(m, (unsigned)c) : cpumap_set(m, (unsigned)c);
        } else {
            snprintf(err, errlen, "'%.*s' is not a CPU, a range, 'all' or a node", (int)strcspn(term, ","),
                     term);
            return -1;
        }
        if (*p == ',' && p[1])
            p++;
        else if (*p) {
            snprintf(err, errlen, "unexpected '%c' in the CPU list '%s'", *p, s);
            return -1;
        }
    }
    return 0;
}

void cpumap_format(const struct cpumap *m, unsigned nr, bool all_word, char *buf, size_t size)
{
    size_t len = 0;
    unsigned n = nr < CPUMAP_MAX ? nr : CPUMAP_MAX, set = 0;
    buf[0] = 0;
    for (unsigned c = 0; c < n; c++)
        set += cpumap_test(m, c);
    if (!set) {
        snprintf(buf, size, "none");
        return;
    }
    if (all_word && set == n) {
        snprintf(buf, size, "all");
        return;
    }
    for (unsigned c = 0; c < n;) {
        if (!cpumap_test(m, c)) {
            c++;
            continue;
        }
        unsigned e = c;
        while (e + 1 < n && cpumap_test(m, e + 1))
            e++;
        int w = e > c ? snprintf(buf + len, size - len, "%s%u-%u", len ? "," : "", c, e)
                      : snprintf(buf + len, size - len, "%s%u", len ? "," : "", c);
        if (w < 0 || (size_t)w >= size - len)
            return;
        len += (size_t)w;
        c = e + 1;
    }
}
