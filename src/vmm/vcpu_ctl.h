/* The domain process's control of its vCPUs: which are available to the
 * guest (xenstore cpu/N/availability, xl vcpu-set), and each vCPU thread's
 * host CPU affinity (xl.cfg cpus=/cpus_soft=, xl vcpu-pin). */
#pragma once
#include "config/cpumap.h"
#include "kvm/vm.h"
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

struct domain;

struct vcpu_ctl {
    unsigned nr;                   /* the domain's vCPUs (maxvcpus) */
    uint64_t online;               /* availability: bit N for vCPU N */
    unsigned host_cpus;            /* configured host CPUs ("all") */
    struct cpumap hard[VM_MAX_VCPUS], soft[VM_MAX_VCPUS];   /* all CPUs when unset */
};

/* Every vCPU on every host CPU; the first `online` vCPUs available. */
void vcpu_ctl_init(struct vcpu_ctl *c, unsigned nr, unsigned online);
/* --cpus / --cpus-soft: "LIST" for every vCPU or "N=LIST" for vCPU N. 0,
 * or -1 with err set. */
int vcpu_ctl_arg(struct vcpu_ctl *c, bool soft, const char *arg, char *err, size_t errlen);
/* Puts each vCPU thread on its CPUs: hard affinity, narrowed to the soft
 * one where they meet (Linux has no preference-only affinity). */
int vcpu_ctl_apply(struct vcpu_ctl *c, struct vm *vm, unsigned vcpu, char *err, size_t errlen);
/* xl vcpu-pin: vcpu or -1 for all; hard/soft NULL (or "-") to keep. */
int vcpu_ctl_pin(struct vcpu_ctl *c, struct vm *vm, int vcpu, const char *hard, const char *soft,
                 char *err, size_t errlen);
/* xl vcpu-set: vCPUs 0..n-1 available, the rest not; written to the
 * domain's xenstore nodes through the daemon at socket. */
int vcpu_ctl_set_online(struct vcpu_ctl *c, const char *socket, unsigned domid, unsigned n,
                        char *err, size_t errlen);
/* Adds "hard" and "soft" (xl's CPU list notation) to a vCPU's info. */
void vcpu_ctl_describe(const struct vcpu_ctl *c, unsigned vcpu, struct json_object *o);
