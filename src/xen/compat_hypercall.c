/* The 32-bit hypercall ABI's entry: which hypercalls need their arguments
 * translated (Xen's compat_* handlers) and which take the same structures in
 * both widths, and the translation window the translated ones use. */
#include "xen/compat.h"
#include <errno.h>
#include <xen/xen.h>

/* The window is not cleared (8 KiB per call would be most of a translated
 * call's cost): every translation sets each field the native handler reads,
 * and copies back only fields the handler wrote. */
void *compat_xlat_begin(struct compat_xlat *x, const struct hcall *h)
{
    x->h = *h;
    guest_va_set_xlat(&x->h.va, x->buf, COMPAT_XLAT_VA, sizeof(x->buf));
    return x->buf;
}

void compat_runstate_from_native(struct compat_vcpu_runstate_info *c,
                                 const struct vcpu_runstate_info *n)
{
    c->state = n->state;
    c->state_entry_time = n->state_entry_time;
    for (unsigned i = 0; i < 4; i++)
        c->time[i] = n->time[i];
}

long compat_hypercall_dispatch(struct hcall *h, unsigned nr)
{
    switch (nr) {
    case __HYPERVISOR_xen_version:    return compat_xen_version(h);
    case __HYPERVISOR_memory_op:      return compat_memory_op(h);
    case __HYPERVISOR_vcpu_op:        return compat_vcpu_op(h);
    case __HYPERVISOR_set_timer_op:   return compat_set_timer_op(h);
    case __HYPERVISOR_sched_op:       return compat_sched_op(h);
    case __HYPERVISOR_grant_table_op: return compat_grant_table_op(h);
    /* hvm_op (xen_hvm_param & co.), event_channel_op (every evtchn_* and
     * the FIFO structures) and console_io have one layout in both ABIs, as
     * Xen's xlat.lst checks. */
    default:                          return hypercall_dispatch(h, nr);
    }
}
