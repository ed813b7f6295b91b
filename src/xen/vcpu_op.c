/* __HYPERVISOR_vcpu_op: vcpu_info and runstate areas, bring-up, timers. */
#include "xen/domain.h"
#include <errno.h>
#include <xen/sched.h>
#include <string.h>

static long register_vcpu_info(struct hcall *h, struct xvcpu *xv)
{
    struct vcpu_register_vcpu_info r;
    if (guest_copy_from(&h->va, &r, h->arg[2], sizeof(r)))
        return -EFAULT;
    if (r.offset > PAGE_SIZE - sizeof(struct vcpu_info) || r.mfn >= (1ull << 40))
        return -EINVAL;
    uint64_t gpa = (r.mfn << PAGE_SHIFT) + r.offset;
    struct domain *d = h->d;
    pthread_mutex_lock(&d->lock);
    long rc = -EINVAL;
    /* Xen (since XSA-327) refuses an offset misaligned for the structure:
     * 8 bytes, 4 in the 32-bit layout. xenkvm asks 8 of 32-bit guests too,
     * as it reaches every vcpu_info through its native type (Linux puts it
     * at a cache line's start; an offset of 4 mod 8 is refused here alone). */
    if (r.offset & (_Alignof(struct vcpu_info) - 1))
        goto out;
    if (xv->vi_gpa != ~0ull || !vm_gpa_is_ram(&d->vm, gpa))
        goto out;    /* Xen allows it once per vCPU, into RAM */
    struct vcpu_info *nvi = (struct vcpu_info *)vm_gpa(&d->vm, gpa, sizeof(*nvi));
    if (!nvi)
        goto out;
    /* The new place may overlap the old (inside shared_info, placed in RAM):
     * the old contents, moved. */
    memmove(nvi, xv->vi, sizeof(*nvi));
    /* Everything is marked pending so that no event is lost in the move; the
     * guest sees a spurious upcall at worst (as on Xen). */
    nvi->evtchn_upcall_pending = 1;
    memset(evtchn_2l_sel_bits(&d->ev, nvi), 0xff, d->ev.shinfo32 ? 4 : 8);
    xv->vi = nvi;
    xv->vi_gpa = gpa;
    domain_update_vcpu_time(d, xv);
    rc = 0;
out:
    pthread_mutex_unlock(&d->lock);
    if (!rc)
        domain_kick_vcpu(d, xv->id);
    return rc;
}

static long register_runstate(struct hcall *h, struct xvcpu *xv)
{
    struct vcpu_register_runstate_memory_area r;
    if (guest_copy_from(&h->va, &r, h->arg[2], sizeof(r)))
        return -EFAULT;
    /* Xen writes the area on every context switch; here a vCPU runs on its own
     * thread without being descheduled by the "hypervisor", so it is written
     * once: running since now. */
    struct vcpu_runstate_info info = { .state = RUNSTATE_running,
                                       .state_entry_time = domain_system_time(h->d) };
    info.time[RUNSTATE_running] = info.state_entry_time;
    /* As Xen: the area is registered even when it cannot be written now. */
    if (GUEST_ADDR(r.addr.h))
        guest_copy_to(&h->va, GUEST_ADDR(r.addr.h), &info, sizeof(info));
    (void)xv;
    return 0;
}

/* A second copy of the vCPU's vcpu_time_info at a guest-virtual address
 * (Linux's vDSO pvclock page), written whenever vcpu_info's is; 0 stops it.
 * As on Xen, registering never fails for a bad address: writes to it are
 * skipped. The address is translated with the page tables of the
 * registration (Xen uses the current ones at each update; the record is
 * only rewritten when vcpu_info moves). */
static long register_time_area(struct hcall *h, struct xvcpu *xv)
{
    struct vcpu_register_time_memory_area a;
    if (guest_copy_from(&h->va, &a, h->arg[2], sizeof(a)))
        return -EFAULT;
    struct domain *d = h->d;
    pthread_mutex_lock(&d->lock);
    xv->time_area_va = a.addr.p;
    xv->time_area_mm = h->va;
    guest_va_set_xlat(&xv->time_area_mm, NULL, 0, 0);
    domain_update_vcpu_time(d, xv);
    pthread_mutex_unlock(&d->lock);
    return 0;
}

static long initialise(struct hcall *h, struct xvcpu *xv)
{
    struct vcpu_hvm_context ctx;
    if (guest_copy_from(&h->va, &ctx, h->arg[2], sizeof(ctx)))
        return -EFAULT;
    if (ctx.mode != VCPU_HVM_MODE_32B && ctx.mode != VCPU_HVM_MODE_64B)
        return -EINVAL;
    struct domain *d = h->d;
    pthread_mutex_lock(&d->lock);
    long rc = -EEXIST;
    if (!xv->initialised) {
        xv->ctx = ctx;
        xv->initialised = true;
        rc = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return rc;
}

static long up(struct hcall *h, struct xvcpu *xv)
{
    struct domain *d = h->d;
    pthread_mutex_lock(&d->lock);
    long rc = xv->initialised ? 0 : -EINVAL;
    bool start = !rc && !atomic_exchange(&xv->up, true);
    if (start)
        xv->reset_pending = true;
    /* A vCPU that went down resumes where it was (as Xen clears _VPF_down). */
    bool wake = !rc && atomic_exchange(&xv->down, false);
    if (wake)
        pthread_cond_broadcast(&d->vcpu_cond);
    pthread_mutex_unlock(&d->lock);
    if (start)
        vcpu_kick(xv->v);    /* out of KVM's wait-for-SIPI, into the context */
    return rc;
}

/* As Xen: the last vCPU going down powers the domain off. */
static long down(struct hcall *h, struct xvcpu *xv)
{
    struct domain *d = h->d;
    bool others = false;
    pthread_mutex_lock(&d->lock);
    for (int i = 0; i < d->vm.nr_vcpus; i++)
        others |= (unsigned)i != xv->id && atomic_load(&d->xv[i].up) &&
                  !atomic_load(&d->xv[i].down);
    if (others)
        atomic_store(&xv->down, true);
    pthread_mutex_unlock(&d->lock);
    if (!others)
        domain_shutdown(d, SHUTDOWN_poweroff);
    else
        vcpu_kick(xv->v);     /* leaves the guest at its next exit */
    return 0;
}

long do_vcpu_op(struct hcall *h)
{
    unsigned cmd = h->arg[0];
    unsigned id = h->arg[1];
    if (id >= (unsigned)h->d->vm.nr_vcpus)
        return -ENOENT;
    struct xvcpu *xv = &h->d->xv[id];
    switch (cmd) {
    case VCPUOP_register_vcpu_info:
        return register_vcpu_info(h, xv);
    case VCPUOP_register_runstate_memory_area:
        return register_runstate(h, xv);
    case VCPUOP_register_vcpu_time_memory_area:
        return register_time_area(h, xv);
    case VCPUOP_initialise:
        return initialise(h, xv);
    case VCPUOP_up:
        return up(h, xv);
    case VCPUOP_down:
        return down(h, xv);
    case VCPUOP_is_up:
        return atomic_load(&xv->up) && !atomic_load(&xv->down);
    case VCPUOP_get_runstate_info: {
        struct vcpu_runstate_info info = { .state = atomic_load(&xv->up) ? RUNSTATE_running : RUNSTATE_offline,
                                           .state_entry_time = domain_system_time(h->d) };
        return guest_copy_to(&h->va, h->arg[2], &info, sizeof(info)) ? -EFAULT : 0;
    }
    case VCPUOP_set_periodic_timer: {
        struct vcpu_set_periodic_timer t;
        if (guest_copy_from(&h->va, &t, h->arg[2], sizeof(t)))
            return -EFAULT;
        if (t.period_ns < 1000000ull || t.period_ns > (1ull << 62))
            return -EINVAL;     /* Xen's bounds: at least 1 ms */
        return vcpu_set_periodic(xv, t.period_ns);
    }
    case VCPUOP_stop_periodic_timer:
        return vcpu_set_periodic(xv, 0);
    case VCPUOP_set_singleshot_timer: {
        struct vcpu_set_singleshot_timer t;
        if (xv != h->xv)
            return -EINVAL;     /* only on the calling vCPU */
        if (guest_copy_from(&h->va, &t, h->arg[2], sizeof(t)))
            return -EFAULT;
        if ((t.flags & VCPU_SSHOTTMR_future) && t.timeout_abs_ns < domain_system_time(h->d))
            return -ETIME;
        return vcpu_set_singleshot(xv, t.timeout_abs_ns);
    }
    case VCPUOP_stop_singleshot_timer:
        if (xv != h->xv)
            return -EINVAL;
        return vcpu_set_singleshot(xv, 0);
    default:
        return -ENOSYS;
    }
}
