/* Per-vCPU state, reached through the GS base, and secondary vCPU bring-up. */
#pragma once
#include "xenhdr.h"
#include "lib.h"

#define MAX_CPUS 8

struct percpu {
    struct percpu *self;       /* at %gs:0 */
    unsigned id;               /* Xen vCPU id */
    struct vcpu_info *vi;      /* where this vCPU's vcpu_info lives now */
    volatile bool online;
};

extern struct percpu percpu[MAX_CPUS];

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    asm volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}

/* Points this CPU's GS base at percpu[id]. */
void percpu_init(unsigned id);

/* vCPU id of the calling vCPU from CPUID leaf base+4 (HVM leaf), or -1. */
int cpuid_vcpu_id(void);

/* Starts vCPU id at ap_main (smp.c) on its own stack; fn runs there after the
 * common per-CPU setup. Returns VCPUOP_initialise/VCPUOP_up's error, or 0. */
long smp_start_cpu(unsigned id, void (*fn)(unsigned id));
/* Set: secondary vCPUs leave their LAPIC and upcall vector alone (the program
 * sets up event delivery itself). */
extern bool smp_own_delivery;
