/* bench [N]: the hypercall round trip measured in the guest with rdtsc, against
 * the floor it stands on: a bare port write that exits to xenkvm and comes
 * straight back. Prints one "bench ..." line for bench/hypercall.sh. */
#include "xtest.h"
#include "hypercall.h"
#include "lib.h"
#include "report.h"
#include <xen/version.h>

#define FLOOR_PORT 0x80     /* decoded by nothing: xenkvm only returns */

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
    uint64_t hc = ~0ull, io = ~0ull, st = ~0ull;
    static struct vcpu_runstate_info rs;
    /* Three rounds of each, interleaved; the fastest round counts (least noise).
     * The third loop is a call with a structure the 32-bit ABI translates
     * (xtest32's figure against xtest's shows what the translation costs). */
    for (int round = 0; round < 3; round++) {
        uint64_t t0 = rdtsc();
        for (unsigned i = 0; i < n; i++)
            HYPERVISOR_xen_version(XENVER_version, NULL);
        uint64_t t1 = rdtsc();
        for (unsigned i = 0; i < n; i++)
            asm volatile("outb %%al, %0" : : "i"(FLOOR_PORT), "a"(0) : "memory");
        uint64_t t2 = rdtsc();
        for (unsigned i = 0; i < n; i++)
            HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, &rs);
        uint64_t t3 = rdtsc();
        hc = best_of(hc, (t1 - t0) / n);
        io = best_of(io, (t2 - t1) / n);
        st = best_of(st, (t3 - t2) / n);
    }
    printf("bench hypercall_cycles=%lu port_exit_cycles=%lu tsc_khz=%u hypercall_ns=%lu "
           "port_exit_ns=%lu ratio_x1000=%lu struct_call_ns=%lu\n",
           (unsigned long)hc, (unsigned long)io, khz,
           khz ? (unsigned long)(hc * 1000000 / khz) : 0,
           khz ? (unsigned long)(io * 1000000 / khz) : 0,
           io ? (unsigned long)(hc * 1000 / io) : 0,
           khz ? (unsigned long)(st * 1000000 / khz) : 0);
    check(hc > 0 && io > 0, "timed both loops", "hc %lu io %lu", (unsigned long)hc,
          (unsigned long)io);
}
