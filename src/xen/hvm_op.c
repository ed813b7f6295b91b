/* __HYPERVISOR_hvm_op: HVM parameters and the event upcall vector. */
#include "xen/domain.h"
#include <errno.h>
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

static long set_callback_irq(struct domain *d, uint64_t value)
{
    uint64_t type = value >> 56;
    if (type == HVM_PARAM_CALLBACK_TYPE_VECTOR) {
        uint8_t vec = value & 0xff;
        if (vec < 0x10)
            return -EINVAL;
        /* One vector for every vCPU, delivered through each one's LAPIC. */
        for (int i = 0; i < d->vm.nr_vcpus; i++)
            if (!d->xv[i].upcall_vector) {
                d->xv[i].upcall_vector = vec;
                if (__atomic_load_n(&d->xv[i].vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST))
                    domain_kick_vcpu(d, i);
            }
    } else if (value != 0 && type != HVM_PARAM_CALLBACK_TYPE_GSI &&
               type != HVM_PARAM_CALLBACK_TYPE_PCI_INTX) {
        return -EINVAL;
    }
    /* GSI and PCI INTx callbacks need an emulated IOAPIC/platform device that a
     * PVH domain does not have: stored, never raised (as on Xen for PVH). */
    return 0;
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
        long rc = 0;
        pthread_mutex_lock(&d->lock);
        if (p.index == HVM_PARAM_CALLBACK_IRQ) {
            rc = set_callback_irq(d, p.value);
            if (!rc)
                domain_latch_shinfo_size(d, h->long_mode);   /* as Xen */
        }
        if (!rc)
            d->params[p.index] = p.value;
        pthread_mutex_unlock(&d->lock);
        return rc;
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

long do_hvm_op(struct hcall *h)
{
    switch (h->arg[0]) {
    case HVMOP_set_param:
        return param(h, true);
    case HVMOP_get_param:
        return param(h, false);
    case HVMOP_set_evtchn_upcall_vector:
        return set_upcall_vector(h);
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
