/* Discovery of the Xen CPUID leaves and hypercall page installation. */
#include "hypercall.h"

uint32_t xen_cpuid_base;

int hypercall_init(void)
{
    /* Scan as Linux does: the Xen leaves may sit above another hypervisor's. */
    for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
        uint32_t a, b, c, d;
        cpuid(base, 0, &a, &b, &c, &d);
        if (b == 0x566e6558 && c == 0x65584d4d && d == 0x4d4d566e && a - base >= 2) {
            xen_cpuid_base = base;
            break;
        }
    }
    if (!xen_cpuid_base)
        return -1;
    uint32_t pages, msr, c, d;
    cpuid(xen_cpuid_base + 2, 0, &pages, &msr, &c, &d);
    if (pages < 1)
        return -1;
    wrmsr(msr, (uintptr_t)hypercall_page);
    return 0;
}

long hvm_get_param(unsigned idx, uint64_t *value)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = idx };
    long rc = HYPERVISOR_hvm_op(HVMOP_get_param, &p);
    *value = p.value;
    return rc;
}

long hvm_set_param(unsigned idx, uint64_t value)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = idx, .value = value };
    return HYPERVISOR_hvm_op(HVMOP_set_param, &p);
}

void shutdown(unsigned reason)
{
    struct sched_shutdown s = { .reason = reason };
    for (;;) {
        HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
        /* Not reached on a working hypervisor; crash if possible, else spin. */
        s.reason = SHUTDOWN_crash;
        irq_disable();
        asm volatile("hlt");
    }
}

const char *errname(long rc)
{
    static const struct { long v; const char *n; } names[] = {
        { 0, "0" }, { -XEN_EPERM, "-EPERM" }, { -XEN_ENOENT, "-ENOENT" },
        { -XEN_ESRCH, "-ESRCH" }, { -XEN_EIO, "-EIO" },
        { -XEN_ENXIO, "-ENXIO" }, { -XEN_E2BIG, "-E2BIG" }, { -XEN_EAGAIN, "-EAGAIN" },
        { -XEN_ENOMEM, "-ENOMEM" }, { -XEN_EACCES, "-EACCES" }, { -XEN_EFAULT, "-EFAULT" },
        { -XEN_EBUSY, "-EBUSY" }, { -XEN_EEXIST, "-EEXIST" }, { -XEN_ENODEV, "-ENODEV" },
        { -XEN_EINVAL, "-EINVAL" }, { -XEN_ENOSPC, "-ENOSPC" }, { -XEN_ERANGE, "-ERANGE" },
        { -XEN_ENOSYS, "-ENOSYS" }, { -XEN_ENODATA, "-ENODATA" },
        { -XEN_EOPNOTSUPP, "-EOPNOTSUPP" }, { -XEN_ENOBUFS, "-ENOBUFS" },
        { -XEN_EBADF, "-EBADF" }, { -XEN_ETIMEDOUT, "-ETIMEDOUT" },
    };
    static char buf[24];
    for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
        if (names[i].v == rc)
            return names[i].n;
    snprintf(buf, sizeof(buf), "%ld", rc);
    return buf;
}
