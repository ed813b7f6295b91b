/* Hypercalls through the hypercall page: hypercall N is `call hypercall_page +
 * 32*N`; 64-bit convention rdi, rsi, rdx, r10, r8 in, rax out; 32-bit (xtest32)
 * ebx, ecx, edx, esi, edi in, eax out. */
#pragma once
#include "xenhdr.h"
#include "lib.h"

extern uint8_t hypercall_page[4096];

/* CPUID leaf base of the Xen leaves (0x40000000 + n*0x100), 0 if not found. */
extern uint32_t xen_cpuid_base;

/* Finds the Xen CPUID leaves and installs the hypercall page. Returns 0, or -1
 * after printing nothing (no console yet) when no Xen signature is found. */
int hypercall_init(void);

#ifdef __x86_64__
static inline long hypercall5(unsigned nr, unsigned long a1, unsigned long a2,
                              unsigned long a3, unsigned long a4, unsigned long a5)
{
    register unsigned long r10 asm("r10") = a4;
    register unsigned long r8 asm("r8") = a5;
    long ret;
    asm volatile("call *%[fn]"
                 : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                 : [fn] "r"(hypercall_page + nr * 32)
                 : "memory", "rcx", "r11", "r9");
    return ret;
}
#else
static inline long hypercall5(unsigned nr, unsigned long a1, unsigned long a2,
                              unsigned long a3, unsigned long a4, unsigned long a5)
{
    /* Every general register but ebp carries something: the stub's address
     * comes from memory. */
    void *fn = hypercall_page + nr * 32;
    long ret;
    asm volatile("call *%[fn]"
                 : "=a"(ret), "+b"(a1), "+c"(a2), "+d"(a3), "+S"(a4), "+D"(a5)
                 : [fn] "m"(fn)
                 : "memory");
    return ret;
}
#endif

#define HC(nr, a1, a2, a3) \
    hypercall5(nr, (unsigned long)(a1), (unsigned long)(a2), (unsigned long)(a3), 0, 0)

static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{
    return HC(__HYPERVISOR_xen_version, cmd, arg, 0);
}
static inline long HYPERVISOR_console_io(int cmd, unsigned long count, const void *buf)
{
    return HC(__HYPERVISOR_console_io, cmd, count, buf);
}
static inline long HYPERVISOR_memory_op(unsigned cmd, void *arg)
{
    return HC(__HYPERVISOR_memory_op, cmd, arg, 0);
}
static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{
    return HC(__HYPERVISOR_event_channel_op, cmd, arg, 0);
}
static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{
    return HC(__HYPERVISOR_sched_op, cmd, arg, 0);
}
static inline long HYPERVISOR_vcpu_op(int cmd, unsigned vcpu, void *arg)
{
    return HC(__HYPERVISOR_vcpu_op, cmd, vcpu, arg);
}
static inline long HYPERVISOR_hvm_op(unsigned long op, void *arg)
{
    return HC(__HYPERVISOR_hvm_op, op, arg, 0);
}
static inline long HYPERVISOR_grant_table_op(unsigned cmd, void *uop, unsigned count)
{
    return HC(__HYPERVISOR_grant_table_op, cmd, uop, count);
}
static inline long HYPERVISOR_set_timer_op(uint64_t timeout_ns)
{
#ifdef __x86_64__
    return HC(__HYPERVISOR_set_timer_op, timeout_ns, 0, 0);
#else
    /* Two halves, low first (Xen's compat_set_timer_op). */
    return HC(__HYPERVISOR_set_timer_op, (uint32_t)timeout_ns, (uint32_t)(timeout_ns >> 32), 0);
#endif
}

/* Convenience wrappers. */
long hvm_get_param(unsigned idx, uint64_t *value);
long hvm_set_param(unsigned idx, uint64_t value);
NORETURN void shutdown(unsigned reason);
const char *errname(long rc);

/* Direct vmcall / vmmcall sites (hcall_direct.S, 64-bit only), rewritten by
 * the VMM at load. */
long xen_version_vmcall(int cmd, void *arg);
long xen_version_vmmcall(int cmd, void *arg);
