/* __HYPERVISOR_hvm_op: HVM parameters and the event upcall vector. */
#include "xen/domain.h"
#include "common/log.h"
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <xen/hvm/hvm_op.h>

/* Parameters a guest may set on itself (the rest belong to the toolstack). */
static bool guest_may_set(uint32_t index)
{
    switch (index) {
    case HVM_PARAM_CALLBACK_IRQ:
    case HVM_PARAM_VM86_TSS:
    case HVM_PARAM_VM86_TSS_SIZED:
    case HVM_PARAM_ACPI_IOPORTS_LOCATION:
    case HVM_PARAM_VM_GENERATION_ID_ADDR:
    case HVM_PARAM_STORE_EVTCHN:
    case HVM_PARAM_CONSOLE_EVTCHN:
    case HVM_PARAM_X87_FIP_WIDTH:
        return true;
    default:
        return false;
    }
}

/* Parameters a guest may not even read. */
static bool guest_may_get(uint32_t index)
{
    switch (index) {
    case HVM_PARAM_IOREQ_PFN:
    case HVM_PARAM_BUFIOREQ_PFN:
    case HVM_PARAM_BUFIOREQ_EVTCHN:
        return false;
    default:
        return true;
    }
}

/* The global callback (Xen's hvm_set_callback_via, which cannot fail): for
 * type vector, Xen injects the vector into any vCPU whose
 * evtchn_upcall_pending is set, with no LAPIC involved (domain.c); an unknown
 * type means no callback. GSI and PCI INTx callbacks need an emulated IOAPIC
 * and PIC that a PVH domain does not have: Xen ignores them there (the value is
 * stored, never raised). Xen's vCPU-0-only rule (hvm_assert_evtchn_irq) is for
 * those two; the vector reaches every vCPU. (A vector already queued in KVM
 * when the guest changes it cannot be taken back: it arrives once more.) */
static void set_callback_irq(struct domain *d, uint64_t value)
{
    uint8_t vec = value >> 56 == HVM_PARAM_CALLBACK_TYPE_VECTOR ? (uint8_t)value : 0;
    atomic_store(&d->callback_vector, vec);
    /* As Xen: events already pending are raised now. */
    for (int i = 0; vec && i < d->vm.nr_vcpus; i++)
        if (__atomic_load_n(&d->xv[i].vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST))
            domain_kick_vcpu(d, i);
}

static long param(struct hcall *h, bool set)
{
    struct xen_hvm_param p;
    if (guest_copy_from(&h->va, &p, h->arg[1], sizeof(p)))
        return -EFAULT;
    struct domain *d = h->d;
    if (p.domid != DOMID_SELF && p.domid != d->domid)
        return -ESRCH;
    if (p.index >= HVM_NR_PARAMS)
        return -EINVAL;
    if (set) {
        if (!guest_may_set(p.index))
            return -EPERM;
        pthread_mutex_lock(&d->lock);
        if (p.index == HVM_PARAM_CALLBACK_IRQ)
            set_callback_irq(d, p.value);
        d->params[p.index] = p.value;
        pthread_mutex_unlock(&d->lock);
        return 0;
    }
    if (!guest_may_get(p.index))
        return -EPERM;
    p.value = d->params[p.index];
    return guest_copy_to(&h->va, h->arg[1], &p, sizeof(p)) ? -EFAULT : 0;
}

static long set_upcall_vector(struct hcall *h)
{
    struct xen_hvm_evtchn_upcall_vector u;
    if (guest_copy_from(&h->va, &u, h->arg[1], sizeof(u)))
        return -EFAULT;
    if (u.vector < 0x10)
        return -EINVAL;
    if (u.vcpu >= (uint32_t)h->d->vm.nr_vcpus)
        return -ENOENT;
    struct xvcpu *xv = &h->d->xv[u.vcpu];
    xv->upcall_vector = u.vector;
    /* As Xen does: raise it now if events are already pending (e.g. marked by
     * VCPUOP_register_vcpu_info before there was a vector to raise). */
    if (__atomic_load_n(&xv->vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST))
        domain_kick_vcpu(h->d, u.vcpu);
    return 0;
}

/* HVMOP_flush_tlbs (Xen's hvmop_flush_tlb_all): every vCPU's TLB is flushed
 * before any of them runs guest code again. Xen pauses the others, flushes,
 * unpauses; here each other vCPU is kicked out of KVM_RUN and flushes on its
 * own thread before it re-enters (domain.c), and the caller waits until none
 * is still inside KVM_RUN from before. */
static long flush_tlbs(struct hcall *h)
{
    struct domain *d = h->d;
    if (h->arg[1])
        return -EINVAL;    /* the argument must be NULL */
    for (int i = 0; i < d->vm.nr_vcpus; i++)
        if (&d->xv[i] != h->xv) {
            atomic_store(&d->xv[i].flush_tlb, true);
            vcpu_kick(d->xv[i].v);
        }
    if (vcpu_flush_tlb(h->xv->v) < 0)
        log_err("vcpu %u: TLB flush: %s", h->xv->id, strerror(errno));
    for (int i = 0; i < d->vm.nr_vcpus; i++)
        while (&d->xv[i] != h->xv && atomic_load(&d->xv[i].flush_tlb) &&
               atomic_load(&d->xv[i].v->in_run) && !atomic_load(&d->vm.stopping))
            sched_yield();
    return 0;
}

long do_hvm_op(struct hcall *h)
{
    switch (h->arg[0]) {
    case HVMOP_set_param:
        return param(h, true);
    case HVMOP_get_param:
        return param(h, false);
    case HVMOP_set_evtchn_upcall_vector:
        return set_upcall_vector(h);
    case HVMOP_flush_tlbs:
        return flush_tlbs(h);
    case HVMOP_pagetable_dying:
        return 0;   /* a hint for shadow paging; nothing to do under EPT/NPT */
    case HVMOP_get_time: {
        xen_hvm_get_time_t t = { .now = domain_system_time(h->d) };
        return guest_copy_to(&h->va, h->arg[1], &t, sizeof(t)) ? -EFAULT : 0;
    }
    default:
        return -ENOSYS;
    }
}
