/* Xen system time from the pvclock in vcpu_info, and the wall clock. */
#pragma once
#include "xenhdr.h"
#include "lib.h"

/* ns since the domain's system-time origin, from the given time info. */
uint64_t pvclock_read(const volatile struct vcpu_time_info *t);
/* ns from the calling vCPU's vcpu_info. */
uint64_t xen_time_ns(void);
/* Wall clock at system time 0 (shared_info wc_*). */
void xen_wallclock(uint64_t *sec, uint32_t *nsec);
