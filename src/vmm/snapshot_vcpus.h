/* The VCPU_SCHED record (docs/save-restore.md): what the domain keeps about
 * its vCPUs outside their registers. Which vCPUs the guest took down
 * (VCPUOP_down: on Xen a down vCPU stays down across a save or migration),
 * which are available to it (xl vcpu-set), and each vCPU's hard and soft
 * affinity (cpus=/cpus_soft=, xl vcpu-pin), as xl does across its restore.
 *
 *   struct snap_vcpu_sched_hdr, then per vCPU: u32 length + hard CPU list,
 *   u32 length + soft CPU list (xl's notation, "all" or "0-1,3", with its
 *   NUL; length 0: not recorded, the config's list stands) */
#pragma once
#include "kvm/vm.h"
#include <stddef.h>
#include <stdint.h>

struct domain;
struct vcpu_ctl;

struct snap_vcpu_sched_hdr {
    uint32_t nr_vcpus;
    uint32_t pad;
    uint64_t down;                   /* bit N: vCPU N taken down (VCPUOP_down) */
    uint64_t available;              /* bit N: vCPU N available (cpu/N/availability) */
};

struct snap_vcpu_sched {             /* a decoded record; the lists point into it */
    uint64_t down, available;
    const char *hard[VM_MAX_VCPUS], *soft[VM_MAX_VCPUS];   /* NULL: not recorded */
};

/* The record's payload (malloc'd, *len bytes) for d's vCPUs; c NULL: no
 * availability or affinity recorded. NULL when out of memory. */
uint8_t *snapvcpu_encode(struct domain *d, const struct vcpu_ctl *c, size_t *len);
/* Checks a payload for nr_vcpus vCPUs: 0, or -1 with err. */
int snapvcpu_decode(const void *rec, size_t len, unsigned nr_vcpus, struct snap_vcpu_sched *out,
                    char *err, size_t errlen);
/* The recorded availability and affinity into c; a list this host cannot
 * honour (a CPU it lacks, after a migration) leaves the config's, with a
 * warning. */
void snapvcpu_apply_ctl(const struct snap_vcpu_sched *s, struct vcpu_ctl *c);
