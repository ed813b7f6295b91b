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
    t->flags = XEN_PVCLOCK_TSC_STABLE_BIT;
    __atomic_store_n(&t->version, (ver | 1) + 1, __ATOMIC_SEQ_CST);   /* even: done */
}

void domain_update_wallclock(struct domain *d)
{
    struct shared_info *s = d->shinfo;
    uint32_t ver = s->wc_version;
    __atomic_store_n(&s->wc_version, (ver | 1), __ATOMIC_SEQ_CST);
    s->wc_sec = (uint32_t)d->wall0.tv_sec;
    s->wc_sec_hi = (uint32_t)((uint64_t)d->wall0.tv_sec >> 32);
    s->wc_nsec = d->wall0.tv_nsec;
    __atomic_store_n(&s->wc_version, (ver | 1) + 1, __ATOMIC_SEQ_CST);
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

int vcpu_set_singleshot(struct xvcpu *xv, uint64_t abs_ns)
{
    xv->timer_deadline = abs_ns;
    if (!abs_ns)
        return arm(xv->timer_fd, -1, 0);
    uint64_t now = domain_system_time(xv->d);
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
     * nested, emulated TSC) an early expiry waits out the rest. */
    uint64_t deadline = xv->timer_deadline, now = domain_system_time(xv->d);
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
    /* 64-bit: one argument; 32-bit guests pass it in two halves. */
    uint64_t t = h->long_mode ? h->arg[0] : (h->arg[0] | (h->arg[1] << 32));
    return vcpu_set_singleshot(h->xv, t);
}
