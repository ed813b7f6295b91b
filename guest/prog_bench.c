/* bench [N]: the hypercall round trip measured in the guest with rdtsc, against
 * the floor it stands on: a call of the same shape (the same registers in and
 * out, into a stub that does one port write and returns, as a hypercall-page
 * entry does) to a port xenkvm answers by returning at once; for scale, a bare
 * inline port write; and setting the singleshot timer (what a tickless guest
 * does on every idle entry), against the plain hypercall. Prints one
 * "bench ..." line for bench/hypercall.sh. */
#include "xtest.h"
#include "hypercall.h"
#include "lib.h"
#include "pvclock.h"
#include "report.h"
#include <xen/version.h>

#define FLOOR_PORT 0x80     /* decoded by nothing: xenkvm only returns */

/* A hypercall-page entry's twin: `mov $17,%eax; out %eax,$0x80; ret`, 32-byte
 * aligned like the page's entries. */
asm(".text\n"
    ".p2align 5\n"
    "floor_stub:\n"
    "    mov $17, %eax\n"
    "    out %eax, $0x80\n"
    "    ret\n");
extern uint8_t floor_stub[];

/* hypercall5's call, into floor_stub, in each width's register convention. */
static inline long floor_call(unsigned long a1, unsigned long a2)
{
    unsigned long a3 = 0;
    long ret;
#ifdef __x86_64__
    register unsigned long r10 asm("r10") = 0;
    register unsigned long r8 asm("r8") = 0;
    asm volatile("call *%[fn]"
                 : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                 : [fn] "r"(floor_stub)
                 : "memory", "rcx", "r11", "r9");
#else
    unsigned long a4 = 0, a5 = 0;
    void *fn = floor_stub;
    asm volatile("call *%[fn]"
                 : "=a"(ret), "+b"(a1), "+c"(a2), "+d"(a3), "+S"(a4), "+D"(a5)
                 : [fn] "m"(fn)
                 : "memory");
#endif
    return ret;
}

static unsigned parse_count(const char *s, unsigned dflt)
{
    unsigned v = 0;
    if (!s || !*s)
        return dflt;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (*s - '0');
    return v ? v : dflt;
}

static uint64_t best_of(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

void prog_bench(int argc, char **argv)
{
    unsigned n = parse_count(argc > 1 ? argv[1] : NULL, 2000);
    uint32_t khz, b, c, d;
    cpuid(0x40000003, 0, &khz, &b, &c, &d);
    khz = c;     /* Xen time leaf: ecx = TSC kHz */
    uint64_t hc = ~0ull, st = ~0ull, io = ~0ull, sc = ~0ull, ss = ~0ull;
    static struct vcpu_runstate_info rs;
    /* Three rounds of each, interleaved; the fastest round counts (least noise).
     * The fourth loop is a call with a structure the 32-bit ABI translates
     * (xtest32's figure against xtest's shows what the translation costs). */
    for (int round = 0; round < 3; round++) {
        uint64_t t0 = rdtsc();
        for (unsigned i = 0; i < n; i++)
            HYPERVISOR_xen_version(XENVER_version, NULL);
        uint64_t t1 = rdtsc();
        for (unsigned i = 0; i < n; i++)
            floor_call(XENVER_version, 0);
        uint64_t t2 = rdtsc();
        for (unsigned i = 0; i < n; i++)
            asm volatile("outb %%al, %0" : : "i"(FLOOR_PORT), "a"(0) : "memory");
        uint64_t t3 = rdtsc();
        for (unsigned i = 0; i < n; i++)
            HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, &rs);
        uint64_t t4 = rdtsc();
        for (unsigned i = 0; i < n; i++) {
            /* Far enough ahead never to fire while the loop runs. */
            struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = xen_time_ns() + 60000000000ull };
            HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
        }
        uint64_t t5 = rdtsc();
        hc = best_of(hc, (t1 - t0) / n);
        st = best_of(st, (t2 - t1) / n);
        io = best_of(io, (t3 - t2) / n);
        sc = best_of(sc, (t4 - t3) / n);
        ss = best_of(ss, (t5 - t4) / n);
    }
    HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL);
#define NS(c) (khz ? (unsigned long)((c) * 1000000 / khz) : 0)
    printf("bench hypercall_cycles=%lu stub_exit_cycles=%lu port_exit_cycles=%lu tsc_khz=%u "
           "hypercall_ns=%lu stub_exit_ns=%lu port_exit_ns=%lu ratio_x1000=%lu struct_call_ns=%lu "
           "singleshot_ns=%lu singleshot_ratio_x1000=%lu\n",
           (unsigned long)hc, (unsigned long)st, (unsigned long)io, khz, NS(hc), NS(st), NS(io),
           st ? (unsigned long)(hc * 1000 / st) : 0, NS(sc), NS(ss),
           hc ? (unsigned long)(ss * 1000 / hc) : 0);
    check(hc > 0 && st > 0 && io > 0 && sc > 0 && ss > 0, "timed the five loops",
          "hc %lu stub %lu io %lu struct %lu singleshot %lu", (unsigned long)hc,
          (unsigned long)st, (unsigned long)io, (unsigned long)sc, (unsigned long)ss);
}
