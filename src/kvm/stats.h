/* Exit counters: per vCPU, by KVM exit reason and by I/O port, so that a user
 * can see what a guest makes its VMM do (`xenkvm run --stats`, `xenkvm top -x`,
 * `list -l`). Each vCPU thread counts its own exits; readers sum them. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define VCPU_STATS_REASONS 64     /* KVM_EXIT_* below this; larger ones count as the last */
#define VCPU_STATS_PORTS   32     /* distinct (port, direction) pairs kept; more: ports_other */

/* Not a KVM exit reason: KVM_RUN returned because the vCPU was kicked (a
 * signal), counted in the slot after the real reasons. */
#define VCPU_STATS_KICK (VCPU_STATS_REASONS - 1)

struct vcpu_stats {
    uint64_t exits[VCPU_STATS_REASONS];
    struct {
        uint32_t key;             /* port | out << 16 | 1 << 17 (slot used); 0 = free */
        uint64_t n;
    } ports[VCPU_STATS_PORTS];
    uint64_t ports_other;
};

/* Counting, on the vCPU's own thread. */
void vcpu_stats_exit(struct vcpu_stats *s, uint32_t reason);
void vcpu_stats_pio(struct vcpu_stats *s, uint16_t port, bool out);

/* A snapshot summed over vCPUs: ports sorted by count, highest first. */
struct vm_stats_port {
    uint16_t port;
    bool out;
    uint64_t n;
};
struct vm_stats {
    uint64_t exits[VCPU_STATS_REASONS];
    uint64_t total;               /* exits, kicks not included */
    unsigned nports;
    struct vm_stats_port ports[VCPU_STATS_PORTS];
    uint64_t ports_other;
};
void vm_stats_add(struct vm_stats *sum, const struct vcpu_stats *s);
void vm_stats_sort(struct vm_stats *sum);
/* "io", "mmio", "hlt", ... or NULL for a reason without a name. */
const char *vm_exit_name(unsigned reason);

static inline uint64_t stats_read(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* One writer (the vCPU thread), readers on other threads: no lock prefix
 * needed, only untorn loads and stores. */
static inline void stats_inc(uint64_t *p)
{
    __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}
