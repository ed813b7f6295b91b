/* Hypercall entry: the trap (a port write from the hypercall page or from a
 * rewritten vmcall/vmmcall), argument conventions by CPU mode, and dispatch. */
#include "xen/domain.h"
#include "boot/loader.h"
#include "common/log.h"
#include <errno.h>
#include <string.h>

#define EFER_LMA (1ull << 10)

void hypercall_page_fill(uint8_t *page)
{
    memset(page, 0xcc, PAGE_SIZE);
    for (unsigned i = 0; i < PAGE_SIZE / 32; i++) {
        uint8_t *s = page + i * 32;
        s[0] = 0xb8;                       /* mov $i, %eax */
        memcpy(s + 1, &i, 4);
        s[5] = 0xe7;                       /* out %eax, $XENKVM_HCALL_PORT */
        s[6] = XENKVM_HCALL_PORT;
        s[7] = 0xc3;                       /* ret */
    }
}

long hypercall_dispatch(struct hcall *h, unsigned nr)
{
    switch (nr) {
    case __HYPERVISOR_xen_version:      return do_xen_version(h);
    case __HYPERVISOR_memory_op:        return do_memory_op(h);
    case __HYPERVISOR_hvm_op:           return do_hvm_op(h);
    case __HYPERVISOR_vcpu_op:          return do_vcpu_op(h);
    case __HYPERVISOR_set_timer_op:     return do_set_timer_op(h);
    case __HYPERVISOR_sched_op:         return do_sched_op(h);
    case __HYPERVISOR_event_channel_op: return do_event_channel_op(h);
    case __HYPERVISOR_grant_table_op:   return do_grant_table_op(h);
    case __HYPERVISOR_console_io:       return do_console_io(h);
    case __HYPERVISOR_platform_op:      return -EPERM;   /* the control domain's only */
    default:                            return -ENOSYS;
    }
}

int hypercall_trap(struct vcpu *v)
{
    struct domain *d = v->vm->priv;
    struct kvm_regs rbuf;
    struct kvm_sregs sbuf;
    struct kvm_regs *r = vcpu_exit_regs(v, &rbuf);
    const struct kvm_sregs *s = vcpu_exit_sregs(v, &sbuf);
    if (!r || !s) {
        log_err("vcpu %d: cannot read registers for a hypercall", v->id);
        return -1;
    }
    struct hcall h = { .d = d, .xv = &d->xv[v->id] };
    if (!atomic_load_explicit(&h.xv->up, memory_order_relaxed))
        atomic_store(&h.xv->up, true);   /* a vCPU started by SIPI shows up here first */
    h.long_mode = (s->efer & EFER_LMA) && s->cs.l;
    h.irqs_on = r->rflags & (1u << 9);
    unsigned nr = (uint32_t)r->rax;
    stats_inc(&h.xv->hcalls[nr < XEN_STATS_HCALLS - 1 ? nr : XEN_STATS_HCALLS - 1]);
    long ret;
    if (s->ss.dpl != 0) {
        ret = -EPERM;      /* HVM hypercalls are for kernel mode only */
    } else {
        if (h.long_mode) {
            uint64_t a[5] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8 };
            memcpy(h.arg, a, sizeof(a));
        } else {
            uint64_t a[5] = { (uint32_t)r->rbx, (uint32_t)r->rcx, (uint32_t)r->rdx,
                              (uint32_t)r->rsi, (uint32_t)r->rdi };
            memcpy(h.arg, a, sizeof(a));
        }
        guest_va_init(&h.va, &d->vm, s);
        ret = hypercall_dispatch(&h, nr);
        log_debug("vcpu %d: hypercall %u(%#llx, %#llx, %#llx) = %ld", v->id, nr,
                  (unsigned long long)h.arg[0], (unsigned long long)h.arg[1],
                  (unsigned long long)h.arg[2], ret);
    }
    domain_vcpu_entry(d, v->id);
    r->rax = h.long_mode ? (uint64_t)ret : (uint32_t)ret;
    return vcpu_exit_regs_dirty(v, r);
}
