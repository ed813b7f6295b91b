/* vcpu_op, sched_op, set_timer_op and xen_version for a 32-bit caller
 * (Xen's compat_vcpu_op, compat_sched_op, compat_set_timer_op and the compat
 * branch of XENVER_platform_parameters). */
#include "xen/compat.h"
#include <errno.h>
#include <xen/sched.h>
#include <xen/version.h>
#include <xen/vcpu.h>

/* Runstate area and get_runstate_info: the native handler writes its
 * native record into the window; the caller gets the i386 one. */
static long runstate_out(struct hcall *h, unsigned cmd, uint64_t guest_area)
{
    struct compat_xlat x;
    uint8_t *buf = compat_xlat_begin(&x, h);
    struct vcpu_runstate_info *n = (struct vcpu_runstate_info *)(buf + 64);
    uint64_t n_va = COMPAT_XLAT_VA + 64;
    if (cmd == VCPUOP_register_runstate_memory_area) {
        struct vcpu_register_runstate_memory_area *a = (void *)buf;
        a->addr.p = guest_area ? n_va : 0;
        x.h.arg[2] = COMPAT_XLAT_VA;
    } else {
        x.h.arg[2] = n_va;
    }
    long rc = do_vcpu_op(&x.h);
    if (rc || !guest_area)
        return rc;
    struct compat_vcpu_runstate_info c;
    compat_runstate_from_native(&c, n);
    rc = guest_copy_to(&h->va, guest_area, &c, sizeof(c)) ? -EFAULT : 0;
    /* Xen ignores a failed write of the registered area. */
    return cmd == VCPUOP_register_runstate_memory_area ? 0 : rc;
}

long compat_vcpu_op(struct hcall *h)
{
    unsigned cmd = h->arg[0];
    switch (cmd) {
    case VCPUOP_register_runstate_memory_area:
    case VCPUOP_register_vcpu_time_memory_area: {
        /* The caller's handle is 32 bits wide (the union's other 4 bytes
         * are not its). */
        compat_ptr_t p;
        if (guest_copy_from(&h->va, &p, h->arg[2], sizeof(p)))
            return -EFAULT;
        if (cmd == VCPUOP_register_runstate_memory_area)
            return runstate_out(h, cmd, p);
        struct compat_xlat x;
        struct vcpu_register_time_memory_area *n = compat_xlat_begin(&x, h);
        n->addr.p = p;
        x.h.arg[2] = COMPAT_XLAT_VA;
        return do_vcpu_op(&x.h);
    }
    case VCPUOP_get_runstate_info:
        if ((unsigned)h->arg[1] >= (unsigned)h->d->vm.nr_vcpus)
            return -ENOENT;
        return runstate_out(h, cmd, h->arg[2]);
    case VCPUOP_set_singleshot_timer: {
        struct compat_vcpu_set_singleshot_timer c;
        if (guest_copy_from(&h->va, &c, h->arg[2], sizeof(c)))
            return -EFAULT;
        struct compat_xlat x;
        struct vcpu_set_singleshot_timer *n = compat_xlat_begin(&x, h);
        n->timeout_abs_ns = c.timeout_abs_ns;
        n->flags = c.flags;
        x.h.arg[2] = COMPAT_XLAT_VA;
        return do_vcpu_op(&x.h);
    }
    default:
        /* initialise (vcpu_hvm_context), register_vcpu_info, periodic
         * timers, up/is_up: one layout. */
        return do_vcpu_op(h);
    }
}

long compat_sched_op(struct hcall *h)
{
    if (h->arg[0] != SCHEDOP_poll)
        return do_sched_op(h);    /* shutdown, remote_shutdown, ...: one layout */
    struct compat_sched_poll c;
    if (guest_copy_from(&h->va, &c, h->arg[1], sizeof(c)))
        return -EFAULT;
    struct compat_xlat x;
    struct sched_poll *n = compat_xlat_begin(&x, h);
    n->ports.p = (evtchn_port_t *)(uintptr_t)c.ports;   /* evtchn_port_t[]: one layout */
    n->nr_ports = c.nr_ports;
    n->timeout = c.timeout;
    x.h.arg[1] = COMPAT_XLAT_VA;
    return do_sched_op(&x.h);
}

long compat_set_timer_op(struct hcall *h)
{
    /* The 64-bit deadline comes in two registers: low half, then the high
     * half as a signed 32-bit value (Xen's compat_set_timer_op). */
    struct hcall n = *h;
    n.arg[0] = ((uint64_t)(int64_t)(int32_t)h->arg[1] << 32) | (uint32_t)h->arg[0];
    return do_set_timer_op(&n);
}

long compat_xen_version(struct hcall *h)
{
    if (h->arg[0] != XENVER_platform_parameters)
        return do_xen_version(h);   /* strings, feature_info: one layout */
    struct compat_xlat x;
    xen_platform_parameters_t *n = compat_xlat_begin(&x, h);
    x.h.arg[1] = COMPAT_XLAT_VA;
    long rc = do_xen_version(&x.h);
    if (rc)
        return rc;
    struct compat_platform_parameters c = { .virt_start = (compat_ulong_t)n->virt_start };
    return guest_copy_to(&h->va, h->arg[1], &c, sizeof(c)) ? -EFAULT : 0;
}
