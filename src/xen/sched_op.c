/* __HYPERVISOR_sched_op: yield, block, poll, shutdown, watchdog. */
#include "xen/domain.h"
#include "common/log.h"
#include <errno.h>
#include <sys/timerfd.h>
#include <poll.h>
#include <sched.h>
#include <unistd.h>
#include <xen/sched.h>

#define POLL_MAX_PORTS 128     /* Xen's limit */

/* SCHEDOP_block: an upcall the guest has not masked. SCHEDOP_poll: one of
 * its ports pending, or an upcall it can take now (Xen's
 * local_events_need_delivery: pending and interrupts enabled). */
static bool wake_condition(struct xvcpu *xv, const struct vcpu_block_what *w)
{
    bool upcall = __atomic_load_n(&xv->vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST);
    if (!w->poll)
        return upcall && !__atomic_load_n(&xv->vi->evtchn_upcall_mask, __ATOMIC_SEQ_CST);
    if (upcall && w->irqs_on)
        return true;
    for (unsigned i = 0; i < w->nports; i++)
        if (evtchn_port_pending(&xv->d->ev, w->ports[i]))
            return true;
    return false;
}

/* Waits on the vCPU's thread until the condition holds, the deadline (system
 * time ns, 0 = none) passes, or the domain stops. A poll also ends at any
 * wake-up of the vCPU (an upcall raised for it, any port becoming pending),
 * as Xen's vcpu_unblock ends it: the guest looks again. */
void vcpu_block(struct xvcpu *xv, uint64_t deadline_ns, const struct vcpu_block_what *w)
{
    struct domain *d = xv->d;
    uint64_t n;
    if (read(xv->wake_fd, &n, sizeof(n)) < 0) { /* nothing stale to drop */ }
    atomic_store(&xv->blocked, true);    /* from here on, kicks write wake_fd */
    for (;;) {
        if (atomic_load(&d->vm.stopping))
            break;
        pthread_mutex_lock(&d->lock);
        bool wake = wake_condition(xv, w);
        pthread_mutex_unlock(&d->lock);
        if (wake)
            break;
        int timeout = -1;
        if (deadline_ns) {
            uint64_t now = domain_system_time(d);
            if (now >= deadline_ns)
                break;
            timeout = (int)((deadline_ns - now + 999999) / 1000000);
        }
        struct pollfd p = { .fd = xv->wake_fd, .events = POLLIN };
        if (poll(&p, 1, timeout) > 0) {
            if (read(xv->wake_fd, &n, sizeof(n)) < 0) { /* drained */ }
            if (w->poll)
                break;
        }
    }
    atomic_store(&xv->blocked, false);
}

static long do_poll(struct hcall *h)
{
    struct sched_poll sp;
    if (guest_copy_from(&h->va, &sp, h->arg[1], sizeof(sp)))
        return -EFAULT;
    if (sp.nr_ports > POLL_MAX_PORTS)
        return -EINVAL;
    evtchn_port_t ports[POLL_MAX_PORTS];
    if (guest_copy_from(&h->va, ports, GUEST_ADDR(sp.ports), sp.nr_ports * sizeof(ports[0])))
        return -EFAULT;
    for (unsigned i = 0; i < sp.nr_ports; i++)
        if (ports[i] >= EVTCHN_NR_PORTS)
            return -EINVAL;
    struct vcpu_block_what w = { .poll = true, .irqs_on = h->irqs_on, .ports = ports,
                                 .nports = sp.nr_ports };
    atomic_store(&h->xv->polling, true);
    vcpu_block(h->xv, sp.timeout, &w);
    atomic_store(&h->xv->polling, false);
    return 0;
}

/* ---- SCHEDOP_watchdog, as Xen's common/sched/core.c domain_watchdog ---- */

#define NR_WATCHDOGS 2     /* Xen's NR_DOMAIN_WATCHDOG_TIMERS */

static void watchdog_fired(struct domain *d, int i)
{
    uint64_t n;
    if (read(d->watchdog_fd[i], &n, sizeof(n)) != sizeof(n))
        return;
    log_warn("Watchdog timer %d fired for domain %u", i + 1, d->domid);
    domain_shutdown(d, SHUTDOWN_watchdog);
}

static void watchdog0_fired(void *opaque) { watchdog_fired(opaque, 0); }
static void watchdog1_fired(void *opaque) { watchdog_fired(opaque, 1); }

int domain_watchdog_init(struct domain *d)
{
    void (*fired[NR_WATCHDOGS])(void *) = { watchdog0_fired, watchdog1_fired };
    for (int i = 0; i < NR_WATCHDOGS; i++) {
        d->watchdog_fd[i] = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (d->watchdog_fd[i] < 0 || domain_watch_fd(d, d->watchdog_fd[i], fired[i], d) < 0)
            return -1;
    }
    return 0;
}

static void watchdog_arm(struct domain *d, int i, uint32_t seconds)
{
    /* Xen sets the timer to now + timeout: 0 s fires at once (0 would disarm a timerfd). */
    struct itimerspec its = { .it_value = { seconds, seconds ? 0 : 1 } };
    timerfd_settime(d->watchdog_fd[i], 0, &its, NULL);
}

long domain_watchdog(struct domain *d, uint32_t id, uint32_t timeout)
{
    if (id > NR_WATCHDOGS)
        return -EINVAL;
    long rc = 0;
    pthread_mutex_lock(&d->lock);
    if (id == 0) {
        /* A new timer: its id (1-based), or -ENOSPC when both are in use. */
        rc = -ENOSPC;
        for (int i = 0; i < NR_WATCHDOGS; i++)
            if (!d->watchdog_used[i]) {
                d->watchdog_used[i] = true;
                watchdog_arm(d, i, timeout);
                rc = i + 1;
                break;
            }
    } else if (!d->watchdog_used[id - 1]) {
        rc = -EINVAL;
    } else if (timeout == 0) {
        /* Destroy it. */
        struct itimerspec off = { 0 };
        timerfd_settime(d->watchdog_fd[id - 1], 0, &off, NULL);
        d->watchdog_used[id - 1] = false;
    } else {
        watchdog_arm(d, id - 1, timeout);     /* a ping */
    }
    pthread_mutex_unlock(&d->lock);
    return rc;
}

long do_sched_op(struct hcall *h)
{
    struct domain *d = h->d;
    switch (h->arg[0]) {
    case SCHEDOP_yield:
        sched_yield();
        return 0;
    case SCHEDOP_block:
        /* Re-enable event delivery, then sleep until an event is pending. */
        __atomic_store_n(&h->xv->vi->evtchn_upcall_mask, 0, __ATOMIC_SEQ_CST);
        vcpu_block(h->xv, 0, &(struct vcpu_block_what){ .poll = false });
        return 0;
    case SCHEDOP_poll:
        return do_poll(h);
    case SCHEDOP_shutdown:
    case SCHEDOP_shutdown_code: {
        struct sched_shutdown s;
        if (guest_copy_from(&h->va, &s, h->arg[1], sizeof(s)))
            return -EFAULT;
        /* Xen takes any reason; an unknown one ends the domain as a crash. */
        if (h->arg[0] == SCHEDOP_shutdown_code) {
            pthread_mutex_lock(&d->lock);
            if (d->shutdown_code == ~0u)
                d->shutdown_code = s.reason;    /* the first recorded code wins */
            pthread_mutex_unlock(&d->lock);
            return 0;
        }
        domain_shutdown(d, s.reason);
        return 0;
    }
    case SCHEDOP_remote_shutdown: {
        struct sched_remote_shutdown rs;
        if (guest_copy_from(&h->va, &rs, h->arg[1], sizeof(rs)))
            return -EFAULT;
        /* Xen looks the domain up before its permission check. */
        return (rs.domain_id == 0 || rs.domain_id == d->domid) ? -EPERM : -ESRCH;
    }
    case SCHEDOP_pin_override:
        return -EPERM;    /* the control domain's only */
    case SCHEDOP_watchdog: {
        struct sched_watchdog w;
        if (guest_copy_from(&h->va, &w, h->arg[1], sizeof(w)))
            return -EFAULT;
        return domain_watchdog(d, w.id, w.timeout);
    }
    default:
        return -ENOSYS;
    }
}
