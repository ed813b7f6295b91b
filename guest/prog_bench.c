/* bench [N]: the hypercall round trip measured in the guest with rdtsc, against
 * the floor it stands on: a call of the same shape (the same registers in and
 * out, into a stub that does one port write and returns, as a hypercall-page
 * entry does) to a port xenkvm answers by returning at once; and, for scale, a
 * bare inline port write. Prints one "bench ..." line for bench/hypercall.sh. */
#include "xtest.h"
#include "hypercall.h"
#include "lib.h"
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

/* hypercall5's call, into floor_stub. */
static inline long floor_call(unsigned long a1, unsigned long a2)
{
    register unsigned long r10 asm("r10") = 0;
    register unsigned long r8 asm("r8") = 0;
    unsigned long a3 = 0;
    long ret;
    asm volatile("call *%[fn]"
                 : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                 : [fn] "r"(floor_stub)
                 : "memory", "rcx", "r11", "r9");
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
    uint64_t hc = ~0ull, st = ~0ull, io = ~0ull;
    /* Three rounds of each, interleaved; the fastest round counts (least noise). */
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
        hc = best_of(hc, (t1 - t0) / n);
        st = best_of(st, (t2 - t1) / n);
        io = best_of(io, (t3 - t2) / n);
    }
#define NS(c) (khz ? (unsigned long)((c) * 1000000 / khz) : 0)
    printf("bench hypercall_cycles=%lu stub_exit_cycles=%lu port_exit_cycles=%lu tsc_khz=%u "
           "hypercall_ns=%lu stub_exit_ns=%lu port_exit_ns=%lu ratio_x1000=%lu\n",
           (unsigned long)hc, (unsigned long)st, (unsigned long)io, khz, NS(hc), NS(st), NS(io),
           st ? (unsigned long)(hc * 1000 / st) : 0);
    check(hc > 0 && st > 0 && io > 0, "timed the three loops", "hc %lu stub %lu io %lu",
          (unsigned long)hc, (unsigned long)st, (unsigned long)io);
}
