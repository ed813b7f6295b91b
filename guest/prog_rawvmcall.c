/* rawvmcall: a hypercall instruction the loader cannot have rewritten,
 * because it is written at run time: `vmcall` (or `vmmcall` with argument
 * "amd") followed by `ret`, in a data page. On this host KVM_RUN spins on it;
 * xenkvm must notice, say so in its log and end the domain as crashed
 * (tests/test_guest_programs.py). Nothing after the call should print. */
#include "xtest.h"
#include "hypercall.h"
#include "report.h"

static uint8_t code[16] ALIGNED(16);

void prog_rawvmcall(int argc, char **argv)
{
    bool amd = argc > 1 && !strcmp(argv[1], "amd");
    code[0] = 0x0f;
    code[1] = 0x01;
    code[2] = amd ? 0xd9 : 0xc1;
    code[3] = 0xc3;                               /* ret */
    printf("rawvmcall: calling %s at %p\n", amd ? "vmmcall" : "vmcall", (void *)code);
    unsigned long nr = __HYPERVISOR_xen_version;
    asm volatile("call *%1" : "+a"(nr) : "r"(code) : "memory", "cc");
    fail("unrewritten hypercall instruction", "returned %ld", (long)nr);
}
