/* Xen time: system time from the guest TSC, pvclock parameters in vcpu_info,
 * the wall clock in shared_info, and per-vCPU VIRQ_TIMER timers. */
#include "xen/domain.h"
#include "common/log.h"
#include <errno.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* pvclock scale: ns = ((tsc_delta shifted by shift) * mul) >> 32. */
static void time_scale(uint64_t tsc_hz, uint32_t *mul, int8_t *shift)
{
    const uint64_t ns_per_s = 1000000000ull;
    uint64_t tps = tsc_hz;
    int s = 0;
    while (tps > 2 * ns_per_s) {
        tps >>= 1;
        s--;
    }
    while (tps <= ns_per_s) {
        tps <<= 1;
        s++;
    }
    *mul = (uint32_t)((ns_per_s << 32) / tps);
    *shift = (int8_t)s;
}

static uint64_t scale_delta(const struct domain *d, uint64_t delta)
{
    if (d->tsc_shift >= 0)
        delta <<= d->tsc_shift;
    else
        delta >>= -d->tsc_shift;
    return (uint64_t)(((unsigned __int128)delta * d->tsc_mul) >> 32);
}

void domain_time_init(struct domain *d)
{
    uint64_t khz = d->vm.tsc_khz ? d->vm.tsc_khz : 1000000;
    time_scale(khz * 1000, &d->tsc_mul, &d->tsc_shift);
    clock_gettime(CLOCK_REALTIME, &d->wall0);
    d->tsc0 = vm_guest_tsc(&d->vm);
}

uint64_t domain_system_time(struct domain *d)
{
    return scale_delta(d, vm_guest_tsc(&d->vm) - d->tsc0);
}

/* System time as this vCPU's pvclock reads it (its own TSC). */
static uint64_t vcpu_system_time(struct xvcpu *xv)
{
    int64_t t = (int64_t)(vcpu_guest_tsc(xv->v) - xv->d->tsc0);
    return t > 0 ? scale_delta(xv->d, (uint64_t)t) : 0;
}

/* The secondary copy (VCPUOP_register_vcpu_time_memory_area), as Xen's
 * update_secondary_system_time: the primary's version, odd while the record
 * is written, then even; nothing is written if the version cannot be. */
static void update_time_area(struct xvcpu *xv, const struct vcpu_time_info *t)
{
    const struct guest_va *mm = &xv->time_area_mm;
    uint64_t va = xv->time_area_va;
    struct vcpu_time_info u = *t;
    u.version = t->version - 1;
    if (guest_copy_to(mm, va, &u.version, sizeof(u.version)))
        return;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    guest_copy_to(mm, va, &u, sizeof(u));
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    u.version = t->version;
    guest_copy_to(mm, va, &u.version, sizeof(u.version));
}

/* The scale is fixed for the domain's life (the TSC is constant), so vcpu_info's
 * time record is written when vcpu_info moves, not on a tick. */
void domain_update_vcpu_time(struct domain *d, struct xvcpu *xv)
{
    struct vcpu_time_info *t = &xv->vi->time;
    uint32_t ver = t->version;
    __atomic_store_n(&t->version, (ver | 1) + 0, __ATOMIC_SEQ_CST);   /* odd: updating */
    uint64_t tsc = vm_guest_tsc(&d->vm);
    t->tsc_timestamp = tsc;
    t->system_time = scale_delta(d, tsc - d->tsc0);
    t->tsc_to_system_mul = d->tsc_mul;
    t->tsc_shift = d->tsc_shift;
    /* Xen sets this only when its clock is the TSC; without it Linux keeps
     * its readings monotonic across vCPUs itself (pvclock's last_value). */
    t->flags = d->vm.tsc_reliable ? XEN_PVCLOCK_TSC_STABLE_BIT : 0;
    __atomic_store_n(&t->version, (ver | 1) + 1, __ATOMIC_SEQ_CST);   /* even: done */
    if (xv->time_area_va)
        update_time_area(xv, t);
}

void domain_time_skip(struct domain *d, uint64_t tsc_stop)
{
    uint64_t now = vm_guest_tsc(&d->vm);
    if (now <= tsc_stop)
        return;
    uint64_t skipped = now - tsc_stop, ns = scale_delta(d, skipped);
    d->tsc0 += skipped;
    /* Wall time stays true: system time went back by ns relative to the TSC. */
    uint64_t wall = (uint64_t)d->wall0.tv_sec * 1000000000ull + d->wall0.tv_nsec + ns;
    d->wall0 = (struct timespec){ wall / 1000000000ull, wall % 1000000000ull };
    for (int i = 0; i < d->vm.nr_vcpus; i++)
        if (d->xv[i].vi)
            domain_update_vcpu_time(d, &d->xv[i]);
    domain_update_wallclock(d);
}

/* In the layout the guest uses: the 32-bit shared_info keeps wc_sec_hi in
 * its arch part. */
void domain_update_wallclock(struct domain *d)
{
    uint32_t *version, *sec, *nsec, *sec_hi;
    if (d->ev.shinfo32) {
        struct shared_info_x86_32 *s = (struct shared_info_x86_32 *)d->shinfo;
        version = &s->wc_version, sec = &s->wc_sec, nsec = &s->wc_nsec;
        sec_hi = &s->arch.wc_sec_hi;
    } else {
        struct shared_info *s = d->shinfo;
        version = &s->wc_version, sec = &s->wc_sec, nsec = &s->wc_nsec;
        sec_hi = &s->wc_sec_hi;
    }
    uint32_t ver = *version;
    __atomic_store_n(version, (ver | 1), __ATOMIC_SEQ_CST);
    *sec = (uint32_t)d->wall0.tv_sec;
    *sec_hi = (uint32_t)((uint64_t)d->wall0.tv_sec >> 32);
    *nsec = d->wall0.tv_nsec;
    __atomic_store_n(version, (ver | 1) + 1, __ATOMIC_SEQ_CST);
}

void domain_latch_shinfo_size(struct domain *d, bool long_mode)
{
    d->ev.shinfo32 = !long_mode;
    domain_update_wallclock(d);
}

static int arm(int fd, int64_t delay_ns, uint64_t period_ns)
{
    struct itimerspec its = {0};
    if (delay_ns >= 0) {
        if (delay_ns == 0)
            delay_ns = 1;    /* 0 would disarm */
        its.it_value.tv_sec = delay_ns / 1000000000;
        its.it_value.tv_nsec = delay_ns % 1000000000;
        its.it_interval.tv_sec = period_ns / 1000000000;
        its.it_interval.tv_nsec = period_ns % 1000000000;
    }
    return timerfd_settime(fd, 0, &its, NULL) < 0 ? -errno : 0;
}

/* Samples the vCPU's TSC offset when due. A sample is an ioctl (12-34 us on
 * this project's loaded host, as much as a hypercall), and where the host's
 * TSC is stable the offset never moves: while samples find it still they thin
 * out, the gap doubling from 1 ms to at most 100 ms; one that finds it moved
 * (KVM catching an unstable TSC up, as in the nested rig) brings back a sample
 * per call. A move seen late costs at most 100 ms of drift (~10 ms in the rig). */
#define TSC_GAP_MIN_NS 1000000ull
#define TSC_GAP_MAX_NS 100000000ull
static void refresh_tsc_offset(struct xvcpu *xv)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    if (xv->tsc_sampled_ns && now - xv->tsc_sampled_ns < xv->tsc_sample_gap_ns)
        return;
    int moved = vcpu_sample_tsc(xv->v);
    xv->tsc_sampled_ns = now;
    if (moved > 0)
        xv->tsc_sample_gap_ns = 0;
    else if (moved == 0)
        xv->tsc_sample_gap_ns = xv->tsc_sample_gap_ns * 2 > TSC_GAP_MAX_NS ? TSC_GAP_MAX_NS
                                : xv->tsc_sample_gap_ns ? xv->tsc_sample_gap_ns * 2
                                                        : TSC_GAP_MIN_NS;
}

/* On the vCPU's own thread (a hypercall of its): the deadline is in the
 * guest's clock, so the guest's TSC is read to know how far away it is. */
int vcpu_set_singleshot(struct xvcpu *xv, uint64_t abs_ns)
{
    xv->timer_deadline = abs_ns;
    if (!abs_ns)
        return arm(xv->timer_fd, -1, 0);
    refresh_tsc_offset(xv);
    uint64_t now = vcpu_system_time(xv);
    uint64_t delay = abs_ns > now ? abs_ns - now : 0;   /* the past fires at once */
    log_debug("vcpu %u: singleshot timer at %llu ns, now %llu ns", xv->id,
              (unsigned long long)abs_ns, (unsigned long long)now);
    if (delay > (1ull << 62))
        delay = 1ull << 62;                              /* "never", but armed */
    return arm(xv->timer_fd, (int64_t)delay, 0);
}

int vcpu_set_periodic(struct xvcpu *xv, uint64_t period_ns)
{
    xv->periodic_ns = period_ns;
    return arm(xv->periodic_fd, period_ns ? (int64_t)period_ns : -1, period_ns);
}

/* Debug aid (SIGUSR2, domain_debug_dump): the vCPU's clock as xenkvm and as
 * its pvclock record see it, and its timers, without touching the vCPU (its
 * thread may be in KVM_RUN or blocked). */
void vcpu_time_debug(struct xvcpu *xv, char *buf, size_t len)
{
    struct itimerspec one = {0}, per = {0};
    timerfd_gettime(xv->timer_fd, &one);
    timerfd_gettime(xv->periodic_fd, &per);
    uint64_t now = vcpu_system_time(xv), dom = domain_system_time(xv->d);
    long long pv = -1;
    unsigned ver = 0;
    if (xv->vi) {
        const struct vcpu_time_info *t = &xv->vi->time;
        ver = t->version;
        uint64_t tsc = vcpu_guest_tsc(xv->v);
        pv = (long long)(t->system_time + (tsc > t->tsc_timestamp
                                           ? scale_delta(xv->d, tsc - t->tsc_timestamp) : 0));
    }
    snprintf(buf, len, "now %llu (domain %llu, pvclock %lld v%u, tsc offset %lld) "
             "singleshot %llu (timerfd in %lld.%09ld s) periodic %llu ns (in %lld.%09ld s)",
             (unsigned long long)now, (unsigned long long)dom, pv, ver,
             (long long)atomic_load(&xv->v->tsc_offset), (unsigned long long)xv->timer_deadline,
             (long long)one.it_value.tv_sec, one.it_value.tv_nsec,
             (unsigned long long)xv->periodic_ns, (long long)per.it_value.tv_sec,
             per.it_value.tv_nsec);
}

/* A vCPU's singleshot or periodic timerfd expired: VIRQ_TIMER on that vCPU. */
static void virq_timer(struct xvcpu *xv, int fd)
{
    uint64_t n;
    if (read(fd, &n, sizeof(n)) != sizeof(n))
        return;
    log_debug("vcpu %u: VIRQ_TIMER at %llu ns", xv->id,
              (unsigned long long)domain_system_time(xv->d));
    domain_lock(xv->d);
    evtchn_send_virq(&xv->d->ev, VIRQ_TIMER, xv->id);
    domain_unlock(xv->d);
}

static void timer_fired(void *opaque)
{
    struct xvcpu *xv = opaque;
    /* The timerfd counts host time, the guest's deadline is in system time,
     * whose rate is KVM's idea of the TSC frequency; where the two disagree (a
     * nested, emulated TSC) an early expiry waits out the rest, measured with
     * the vCPU's TSC offset as last sampled. */
    uint64_t deadline = xv->timer_deadline, now = vcpu_system_time(xv);
    if (deadline && now < deadline) {
        uint64_t n;
        if (read(xv->timer_fd, &n, sizeof(n)) == sizeof(n))
            arm(xv->timer_fd, (int64_t)(deadline - now), 0);
        return;
    }
    virq_timer(xv, xv->timer_fd);
}

static void periodic_fired(void *opaque)
{
    struct xvcpu *xv = opaque;
    virq_timer(xv, xv->periodic_fd);
}

int vcpu_timers_init(struct xvcpu *xv)
{
    xv->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    xv->periodic_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (xv->timer_fd < 0 || xv->periodic_fd < 0)
        return -errno;
    if (domain_watch_fd(xv->d, xv->timer_fd, timer_fired, xv) < 0 ||
        domain_watch_fd(xv->d, xv->periodic_fd, periodic_fired, xv) < 0)
        return -1;
    return 0;
}

long do_set_timer_op(struct hcall *h)
{
    /* The deadline is one 64-bit value (compat_set_timer_op joins a 32-bit
     * caller's two halves). As Xen: 0 cancels; a negative deadline, or one
     * more than 2^50 ns (about 13 days) ahead, is taken as a wrapped one and
     * fires in 100 ms. */
    int64_t t = (int64_t)h->arg[0];
    if (t == 0)
        return vcpu_set_singleshot(h->xv, 0);
    int64_t offset = t < 0 ? 0 : t - (int64_t)domain_system_time(h->d);
    if (t < 0 || (offset > 0 && (uint32_t)(offset >> 50) != 0))
        return vcpu_set_singleshot(h->xv, domain_system_time(h->d) + 100000000ull);
    return vcpu_set_singleshot(h->xv, t);
}
