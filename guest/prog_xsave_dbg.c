#include "xtest.h"
#include "report.h"
void prog_xsave_dbg(int argc, char **argv);
void prog_xsave_dbg(int argc, char **argv)
{
    (void)argc, (void)argv;
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    printf("leaf1 ecx %x (xsave %u osxsave %u avx %u)\n", c, (c >> 26) & 1, (c >> 27) & 1, (c >> 28) & 1);
    cpuid(7, 0, &a, &b, &c, &d);
    printf("leaf7 ebx %x ecx %x (pku %u)\n", b, c, (c >> 3) & 1);
    for (unsigned i = 0; i < 10; i++) {
        cpuid(0xd, i, &a, &b, &c, &d);
        printf("0xd.%u: %x %x %x %x\n", i, a, b, c, d);
    }
    uint64_t cr4;
    asm volatile("mov %%cr4,%0" : "=r"(cr4));
    cr4 |= 1ul << 18;
    asm volatile("mov %0,%%cr4" :: "r"(cr4));
    cpuid(0xd, 0, &a, &b, &c, &d);
    uint32_t lo = a;
    asm volatile("xsetbv" :: "c"(0), "a"(lo), "d"(d));
    cpuid(0xd, 0, &a, &b, &c, &d);
    printf("after xsetbv(%x): 0xd.0: %x %x %x %x\n", lo, a, b, c, d);
}
