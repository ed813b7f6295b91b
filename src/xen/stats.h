/* A domain's counters: KVM exits by reason and port (src/kvm/stats.h) and
 * hypercalls by number, for `xenkvm run --stats`, `top -x` and `list -l`. */
#pragma once
#include "kvm/stats.h"
#include <stdint.h>
#include <stdio.h>

#define XEN_STATS_HCALLS 64       /* hypercall numbers below 63; the last slot: the rest */

struct domain;

struct domain_stats {
    struct vm_stats vm;
    uint64_t hcalls[XEN_STATS_HCALLS];
    uint64_t hcalls_total;
};

void domain_stats(struct domain *d, struct domain_stats *out);
/* "sched_op", "event_channel_op", ...; "other" for the last slot; NULL for a
 * number Xen does not define. */
const char *xen_hypercall_name(unsigned nr);
/* Three lines (exits, ports, hypercalls), each item "name count", highest
 * counts first, prefixed with prefix. */
void domain_stats_print(FILE *f, const char *prefix, const struct domain_stats *st);
