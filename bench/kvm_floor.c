/* The bare-KVM floor for start-up: create a VM with a little memory and one
 * vCPU, run it in flat 32-bit mode to its first exit (a port write), exit.
 * Reports the time from process start to entering the guest, as xenkvm does
 * with XENKVM_REPORT_STARTUP, so the two are measured the same way: from
 * main(), or from the instant in XENKVM_REPORT_STARTUP (bench/exec-at).
 * With "hold", it then sleeps until killed: the memory benchmark's floor
 * (a process holding a VM and a vCPU, nothing else). */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM (2u << 20)

static void fail(const char *what)
{
    perror(what);
    exit(1);
}

int main(int argc, char **argv)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *since = getenv("XENKVM_REPORT_STARTUP");
    unsigned long long ns = since ? strtoull(since, NULL, 10) : 0;
    if (ns > 1) {
        t0.tv_sec = (time_t)(ns / 1000000000u);
        t0.tv_nsec = (long)(ns % 1000000000u);
    }
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        fail("/dev/kvm");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        fail("KVM_CREATE_VM");
    uint8_t *mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    static const uint8_t code[] = { 0xe6, 0x10, 0xf4 };   /* out %al,$0x10; hlt */
    memcpy(mem + 0x1000, code, sizeof(code));
    struct kvm_userspace_memory_region r = { .memory_size = MEM, .userspace_addr = (uintptr_t)mem };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        fail("KVM_SET_USER_MEMORY_REGION");
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        fail("KVM_CREATE_VCPU");
    int sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    struct kvm_run *run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    struct kvm_sregs s;
    ioctl(vcpu, KVM_GET_SREGS, &s);
    struct kvm_segment seg = { .limit = 0xffffffff, .selector = 0x10, .type = 0xb, .present = 1,
                               .db = 1, .s = 1, .g = 1 };
    s.cs = seg;
    seg.type = 3;
    seg.selector = 0x18;
    s.ds = s.es = s.fs = s.gs = s.ss = seg;
    s.cr0 = 0x11;
    ioctl(vcpu, KVM_SET_SREGS, &s);
    struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
    ioctl(vcpu, KVM_SET_REGS, &regs);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (ioctl(vcpu, KVM_RUN, 0) < 0)
        fail("KVM_RUN");
    if (run->exit_reason != KVM_EXIT_IO) {
        fprintf(stderr, "unexpected exit %u\n", run->exit_reason);
        return 1;
    }
    struct timespec cpu;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    fprintf(stderr, "startup: first guest instruction %.0f us after process start; cpu %.0f us\n",
            (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3,
            cpu.tv_sec * 1e6 + cpu.tv_nsec / 1e3);
    if (argc > 1 && !strcmp(argv[1], "hold"))
        for (;;)
            pause();
    return 0;
}
