/* The fuzz build's stand-in for KVM (see fake_kvm.h). */
#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fake_kvm.h"

/* Every host mapping the VM was given, until fake_vm_destroy: vm_unmap_extra
 * deletes the slot but leaves the mapping (pointers handed out stay valid). */
#define MAX_MAPS 2048       /* > the special pages + DOMAIN_XEN_PAGES_OUTSIDE_RAM */
static struct { void *p; size_t len; } maps[MAX_MAPS];
static unsigned nr_maps;
static int mem_fd = -1;
static struct kvm_sregs sregs[VM_MAX_VCPUS];

/* Overrides libc's (and the sanitizer's) ioctl for the whole program. */
int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (fd >= FAKE_VCPU_FD && fd < FAKE_VCPU_FD + VM_MAX_VCPUS) {
        switch (req) {
        case KVM_GET_LAPIC: {
            /* A LAPIC whose LVT0 takes external interrupts, as after
             * vcpu_extint_init: the callback vector is queued as one. */
            struct kvm_lapic_state *s = arg;
            memset(s, 0, sizeof(*s));
            uint32_t lvt0 = 7u << 8;               /* ExtINT, unmasked */
            memcpy(s->regs + 0x350, &lvt0, 4);
            return 0;
        }
        case KVM_INTERRUPT:
            return 0;
        /* Registers kept as set (what a TLB flush reads and writes back). */
        case KVM_GET_SREGS:
            memcpy(arg, &sregs[fd - FAKE_VCPU_FD], sizeof(struct kvm_sregs));
            return 0;
        case KVM_SET_SREGS:
            memcpy(&sregs[fd - FAKE_VCPU_FD], arg, sizeof(struct kvm_sregs));
            return 0;
        default:
            errno = ENOTTY;         /* MSRs, events, run: no vCPU behind it */
            return -1;
        }
    }
    if (fd != FAKE_VM_FD)
        return (int)syscall(SYS_ioctl, fd, req, arg);
    switch (req) {
    case KVM_SET_USER_MEMORY_REGION: {
        const struct kvm_userspace_memory_region *r = arg;
        if (r->memory_size) {
            if (nr_maps == MAX_MAPS)
                abort();
            maps[nr_maps].p = (void *)(uintptr_t)r->userspace_addr;
            maps[nr_maps++].len = r->memory_size;
        }
        return 0;
    }
    case KVM_SIGNAL_MSI:
        return 1;                     /* delivered */
    default:
        errno = ENOTTY;
        return -1;
    }
}

void fake_vm_create(struct vm *vm, int nr_vcpus, uint64_t ram_size)
{
    /* RAM stays mapped from one VM to the next (cleared, as a fresh memfd
     * would read): mapping it anew each time is most of a run's cost. */
    static uint8_t *ram;
    static uint64_t ram_mapped;
    if (mem_fd < 0)
        mem_fd = memfd_create("fake-vm", MFD_CLOEXEC);
    if (ram_mapped != ram_size) {
        if (ram)
            munmap(ram, ram_mapped);
        if (mem_fd < 0 || ftruncate(mem_fd, (off_t)ram_size) < 0)
            abort();
        ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, mem_fd, 0);
        if (ram == MAP_FAILED)
            abort();
        ram_mapped = ram_size;
    }
    memset(ram, 0, ram_size);
    vm->kvm_fd = -1;
    vm->vm_fd = FAKE_VM_FD;
    vm->mem_fd = mem_fd;
    vm->ram_size = ram_size;
    vm->mem_fd_size = ram_size;
    vm->tsc_khz = 2000000;
    vm->tsc_reliable = true;
    vm->nr_vcpus = nr_vcpus;
    memset(sregs, 0, sizeof(sregs));
    for (int i = 0; i < nr_vcpus; i++) {
        vm->vcpus[i].vm = vm;
        vm->vcpus[i].id = i;
        vm->vcpus[i].fd = FAKE_VCPU_FD + i;
    }
    pthread_mutex_init(&vm->mem_lock, NULL);
    pthread_mutex_init(&vm->pause_lock, NULL);
    pthread_cond_init(&vm->pause_cond, NULL);
    pthread_cond_init(&vm->parked_cond, NULL);
    vm->regions[0] = (struct mem_region){ .gpa = 0, .size = ram_size, .host = ram, .ram = true,
                                          .absent = vm_frames_alloc(ram_size) };
    vm->nr_regions = 1;
    nr_maps = 0;
}

void fake_vm_destroy(struct vm *vm)
{
    for (int i = 0; i < vm->nr_regions; i++)
        free(vm->regions[i].absent);
    /* The pages placed outside RAM: unmapped, and cut from the memfd. */
    for (unsigned i = 0; i < nr_maps; i++)
        munmap(maps[i].p, maps[i].len);
    nr_maps = 0;
    if (vm->mem_fd_size != vm->ram_size && ftruncate(mem_fd, (off_t)vm->ram_size) < 0)
        abort();
    vm->nr_regions = 0;
}
