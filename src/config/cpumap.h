/* Sets of host CPUs in xl's notation (xl.cfg(5) "cpus", xl vcpu-pin):
 * "all", "N", "N-M", "^N" (exclude), "node:N" / "nodes:N-M" (a NUMA node's
 * CPUs, possibly "^"-excluded), comma-separated; and the range form xl and
 * libvirt print ("0-3,6"). Pure: node terms go through a callback. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPUMAP_MAX 1024

struct cpumap {
    uint64_t bits[CPUMAP_MAX / 64];
};

/* Fills out with node's CPUs: 0, or -1 when there is no such node. */
typedef int (*cpumap_node_fn)(unsigned node, struct cpumap *out, void *opaque);

/* Parses s into m (cleared first). node_cpus may be NULL: node terms are
 * then accepted for their syntax only (add nothing). "all" sets CPUs
 * 0..all_cpus-1. 0, or -1 with err set. */
int cpumap_parse(const char *s, struct cpumap *m, unsigned all_cpus, cpumap_node_fn node_cpus,
                 void *opaque, char *err, size_t errlen);
/* Whether s names NUMA nodes or "all" (which libvirt's cpuset cannot hold). */
bool cpumap_is_symbolic(const char *s);
void cpumap_set(struct cpumap *m, unsigned cpu);
bool cpumap_test(const struct cpumap *m, unsigned cpu);
unsigned cpumap_count(const struct cpumap *m);
/* Ranges "0-3,6" of the CPUs below nr; "none" when empty; with all_word,
 * "all" when every CPU below nr is set (as xl vcpu-list prints). */
void cpumap_format(const struct cpumap *m, unsigned nr, bool all_word, char *buf, size_t size);
