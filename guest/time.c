#include "pvclock.h"
#include "cpu.h"
#include "events.h"

uint64_t pvclock_read(const volatile struct vcpu_time_info *t)
{
    uint32_t ver;
    uint64_t tsc, stamp, sys;
    uint32_t mul;
    int8_t shift;
    /* The hypervisor bumps version to odd while it updates the record. */
    do {
        ver = t->version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        tsc = rdtsc();
        stamp = t->tsc_timestamp;
        sys = t->system_time;
        mul = t->tsc_to_system_mul;
        shift = t->tsc_shift;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((ver & 1) || ver != t->version);
    uint64_t delta = tsc - stamp;
    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    /* (delta * mul) >> 32 in 64-bit pieces, for both builds. */
    uint64_t lo = (delta & 0xffffffffu) * mul, hi = (delta >> 32) * mul;
    return sys + hi + (lo >> 32);
}

uint64_t xen_time_ns(void)
{
    return pvclock_read(&this_cpu()->vi->time);
}

void xen_wallclock(uint64_t *sec, uint32_t *nsec)
{
    volatile struct shared_info *s = shared;
    uint32_t ver;
    do {
        ver = s->wc_version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        *sec = s->wc_sec | ((uint64_t)s->xen_wc_sec_hi << 32);
        *nsec = s->wc_nsec;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((ver & 1) || ver != s->wc_version);
}
