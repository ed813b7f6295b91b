/* VM creation, guest memory (a memfd sliced into KVM memory slots), teardown. */
#include "kvm/vm.h"
#include "common/log.h"
#include "kvm/cpuid.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE (2ull << 20)

/* Maps size bytes of fd at off. RAM goes at a 2 MiB-aligned address and is
 * advised to use huge pages: where the host backs it with them (shmem THP set
 * to "advise", or hugetlbfs), KVM then maps the guest with 2 MiB entries too,
 * which needs the host address and the guest address aligned alike. */
static uint8_t *map_aligned(int fd, uint64_t off, uint64_t size, bool ram)
{
    if (!ram || size < HUGE_PAGE) {
        uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, (off_t)off);
        return p == MAP_FAILED ? NULL : p;
    }
    uint8_t *area = mmap(NULL, size + HUGE_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (area == MAP_FAILED)
        return NULL;
    uint8_t *p = (uint8_t *)(((uintptr_t)area + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (p > area)
        munmap(area, (size_t)(p - area));
    munmap(p + size, (size_t)(area + HUGE_PAGE - p));
    if (mmap(p, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE | MAP_FIXED, fd, (off_t)off) == MAP_FAILED) {
        int e = errno;
        munmap(p, size);
        errno = e;
        return NULL;
    }
    madvise(p, size, MADV_HUGEPAGE);
    return p;
}

static int add_region(struct vm *vm, uint64_t gpa, uint64_t size, bool ram, uint8_t **host)
{
    if (vm->nr_regions == VM_MAX_REGIONS)
        return -ENOSPC;
    uint64_t off = vm->mem_fd_size;
    if (ftruncate(vm->mem_fd, off + size) < 0)
        return -errno;
    uint8_t *p = map_aligned(vm->mem_fd, off, size, ram);
    if (!p)
        return -errno;
    /* Slot numbers are never reused while mapped; pick the lowest free. */
    uint32_t slot = 0;
    for (bool clash = true; clash; ) {
        clash = false;
        for (int i = 0; i < vm->nr_regions; i++)
            if (vm->regions[i].slot == slot) {
                slot++;
                clash = true;
            }
    }
    struct kvm_userspace_memory_region r = {
        .slot = slot, .guest_phys_addr = gpa, .memory_size = size,
        .userspace_addr = (uintptr_t)p,
    };
    if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
        int e = errno;
        munmap(p, size);
        return -e;
    }
    uint64_t *absent = ram ? vm_frames_alloc(size) : NULL;
    uint64_t *dirty = ram ? vm_frames_alloc(size) : NULL;
    if (ram && (!absent || !dirty)) {
        free(absent);
        free(dirty);
        munmap(p, size);
        return -ENOMEM;
    }
    vm->mem_fd_size = off + size;
    vm->regions[vm->nr_regions++] = (struct mem_region){
        .gpa = gpa, .size = size, .fd_offset = off, .host = p, .slot = slot, .ram = ram,
        .absent = absent, .dirty = dirty };
    if (host)
        *host = p;
    return 0;
}

/* Whether Linux keeps the host's time by the TSC (it stops when it finds the
 * CPUs' TSCs unsynchronised or unstable). */
static bool host_tsc_reliable(void)
{
    char cs[32] = "";
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re");
    if (!f)
        return true;     /* no sysfs: assume a modern host's constant, synchronised TSC */
    bool ok = fgets(cs, sizeof(cs), f) && !strcmp(cs, "tsc\n");
    fclose(f);
    return ok;
}

int vm_create(struct vm *vm, uint64_t ram_mib, int nr_vcpus, const char *cpuid_cache,
              char *err, size_t errlen)
{
    /* vm arrives zeroed: clearing its vCPU array again would fault in pages
     * that vCPUs never created would not touch. */
    vm->kvm_fd = vm->vm_fd = vm->mem_fd = -1;
    pthread_mutex_init(&vm->mem_lock, NULL);
    pthread_mutex_init(&vm->pause_lock, NULL);
    pthread_cond_init(&vm->pause_cond, NULL);
    pthread_cond_init(&vm->parked_cond, NULL);
    if (nr_vcpus < 1 || nr_vcpus > VM_MAX_VCPUS) {
        snprintf(err, errlen, "vcpus: %d is out of range 1..%d", nr_vcpus, VM_MAX_VCPUS);
        return -1;
    }
    if (ram_mib < 2 || ram_mib > (1ull << 20)) {
        snprintf(err, errlen, "memory: %llu MiB is out of range 2..1048576",
                 (unsigned long long)ram_mib);
        return -1;
    }
    vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm->kvm_fd < 0) {
        snprintf(err, errlen, "/dev/kvm: %s", strerror(errno));
        return -1;
    }
    if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
        snprintf(err, errlen, "/dev/kvm: unexpected KVM API version");
        return -1;
    }
    vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    if (vm->vm_fd < 0) {
        snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
        return -1;
    }
    /* Only the LAPIC in the kernel: PVH guests have no PIC or IOAPIC. */
    struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 0 } };
    if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
        snprintf(err, errlen, "KVM_CAP_SPLIT_IRQCHIP: %s", strerror(errno));
        return -1;
    }
    /* MSRs denied by the filter exit to userspace instead of raising #GP. */
    cap = (struct kvm_enable_cap){ .cap = KVM_CAP_X86_USER_SPACE_MSR,
                                   .args = { KVM_MSR_EXIT_REASON_FILTER } };
    if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
        snprintf(err, errlen, "KVM_CAP_X86_USER_SPACE_MSR: %s", strerror(errno));
        return -1;
    }
    vm->mem_fd = memfd_create("xenkvm-guest", MFD_CLOEXEC);
    if (vm->mem_fd < 0) {
        snprintf(err, errlen, "memfd_create: %s", strerror(errno));
        return -1;
    }
    vm->ram_size = ram_mib << 20;
    uint64_t low = vm->ram_size < VM_LOWMEM_END ? vm->ram_size : VM_LOWMEM_END;
    int rc = add_region(vm, 0, low, true, NULL);
    if (!rc && vm->ram_size > low)
        rc = add_region(vm, VM_HIGHMEM_BASE, vm->ram_size - low, true, NULL);
    if (rc) {
        snprintf(err, errlen, "guest RAM of %llu MiB: %s", (unsigned long long)ram_mib,
                 strerror(-rc));
        return -1;
    }
    int khz = ioctl(vm->vm_fd, KVM_GET_TSC_KHZ, 0);
    vm->tsc_khz = khz > 0 ? (uint32_t)khz : 0;
    vm->tsc_reliable = host_tsc_reliable();
    vm->nr_vcpus = nr_vcpus;
    for (int i = 0; i < nr_vcpus; i++)
        vm->vcpus[i].fd = -1;
    if (cpuid_init(vm, cpuid_cache) < 0) {
        snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
        return -1;
    }
    return 0;
}

uint8_t *vm_map_extra(struct vm *vm, uint64_t gpa, uint64_t size)
{
    uint8_t *p = NULL;
    if ((gpa | size) & (PAGE_SIZE - 1) || !size)
        return NULL;
    pthread_mutex_lock(&vm->mem_lock);
    for (int i = 0; i < vm->nr_regions; i++) {
        struct mem_region *r = &vm->regions[i];
        if (gpa < r->gpa + r->size && r->gpa < gpa + size)
            goto out;   /* overlaps */
    }
    atomic_fetch_add(&vm->mem_seq, 1);
    if (add_region(vm, gpa, size, false, &p) < 0)
        p = NULL;
    atomic_fetch_add(&vm->mem_seq, 1);
out:
    pthread_mutex_unlock(&vm->mem_lock);
    return p;
}

void vm_unmap_extra(struct vm *vm, uint64_t gpa)
{
    pthread_mutex_lock(&vm->mem_lock);
    for (int i = 0; i < vm->nr_regions; i++) {
        struct mem_region *r = &vm->regions[i];
        if (r->gpa != gpa || r->ram)
            continue;
        struct kvm_userspace_memory_region kr = { .slot = r->slot, .guest_phys_addr = r->gpa };
        ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &kr);   /* size 0 deletes */
        /* The host mapping stays: pointers handed out earlier stay valid. */
        atomic_fetch_add(&vm->mem_seq, 1);
        vm->regions[i] = vm->regions[--vm->nr_regions];
        atomic_fetch_add(&vm->mem_seq, 1);
        break;
    }
    pthread_mutex_unlock(&vm->mem_lock);
}

/* Finds the region holding [gpa, gpa+len) under the table's sequence count:
 * another vCPU may be adding a region (XENMEM_add_to_physmap) meanwhile. */
static bool lookup(struct vm *vm, uint64_t gpa, uint64_t len, struct mem_region *out)
{
    for (;;) {
        unsigned seq = atomic_load_explicit(&vm->mem_seq, memory_order_acquire);
        if (seq & 1)
            continue;
        bool found = false;
        int n = vm->nr_regions;
        for (int i = 0; i < n && i < VM_MAX_REGIONS; i++) {
            struct mem_region r = vm->regions[i];
            if (gpa >= r.gpa && gpa - r.gpa < r.size && len <= r.size - (gpa - r.gpa)) {
                *out = r;
                found = true;
                break;
            }
        }
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&vm->mem_seq, memory_order_relaxed) == seq)
            return found;
    }
}

uint8_t *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len)
{
    struct mem_region r;
    if (!lookup(vm, gpa, len, &r) || !vm_frames_present(&r, gpa, len))
        return NULL;
    if (r.ram && atomic_load_explicit(&vm->dirty_logging, memory_order_relaxed))
        vm_mark_dirty(vm, gpa, len);
    return r.host + (gpa - r.gpa);
}

bool vm_region_of(struct vm *vm, uint64_t gpa, struct mem_region *r)
{
    return lookup(vm, gpa, 1, r);
}

bool vm_gpa_is_ram(struct vm *vm, uint64_t gpa)
{
    struct mem_region r;
    return lookup(vm, gpa, 1, &r) && r.ram;
}

/* The memfd offset of [gpa, gpa+len) if it lies in one RAM region, else -1. */
static int64_t ram_fd_offset(struct vm *vm, uint64_t gpa, uint64_t len)
{
    struct mem_region r;
    if (!lookup(vm, gpa, len, &r) || !r.ram)
        return -1;
    return (int64_t)(r.fd_offset + (gpa - r.gpa));
}

static int pwrite_all(int fd, const uint8_t *p, uint64_t len, int64_t off)
{
    while (len) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        off += n;
        len -= (uint64_t)n;
    }
    return 0;
}

int vm_write_ram(struct vm *vm, uint64_t gpa, const void *src, uint64_t len)
{
    int64_t off = ram_fd_offset(vm, gpa, len ? len : 1);
    if (off < 0)
        return -EFAULT;
    vm_mark_dirty(vm, gpa, len);
    return pwrite_all(vm->mem_fd, src, len, off);
}

int vm_zero_ram(struct vm *vm, uint64_t gpa, uint64_t len)
{
    static const uint8_t zeros[PAGE_SIZE];
    int64_t off = ram_fd_offset(vm, gpa, len ? len : 1);
    if (off < 0)
        return -EFAULT;
    vm_mark_dirty(vm, gpa, len);
    /* Whole pages become holes (which read as zeros, and cost nothing while
     * the guest has not touched them); the partial pages at either end are
     * written. */
    uint64_t head = ((uint64_t)off + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    uint64_t tail = ((uint64_t)off + len) & ~(PAGE_SIZE - 1);
    if (head >= tail) {
        for (uint64_t done = 0; done < len; ) {
            uint64_t n = len - done < PAGE_SIZE ? len - done : PAGE_SIZE;
            int rc = pwrite_all(vm->mem_fd, zeros, n, off + (int64_t)done);
            if (rc)
                return rc;
            done += n;
        }
        return 0;
    }
    int rc = pwrite_all(vm->mem_fd, zeros, head - (uint64_t)off, off);
    if (!rc && fallocate(vm->mem_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                         (off_t)head, (off_t)(tail - head)) < 0)
        rc = -errno;
    if (!rc)
        rc = pwrite_all(vm->mem_fd, zeros, (uint64_t)off + len - tail, (int64_t)tail);
    return rc;
}

int vm_filter_msrs(struct vm *vm, const struct vm_msr_trap *traps, int n)
{
    struct kvm_msr_filter f = { .flags = KVM_MSR_FILTER_DEFAULT_ALLOW };
    static uint8_t deny[KVM_MSR_FILTER_MAX_RANGES];   /* bitmap bit 0 clear = deny */
    if (n > KVM_MSR_FILTER_MAX_RANGES)
        return -EINVAL;
    for (int i = 0; i < n; i++)
        f.ranges[i] = (struct kvm_msr_filter_range){
            .flags = traps[i].flags, .nmsrs = 1, .base = traps[i].index, .bitmap = &deny[i] };
    return ioctl(vm->vm_fd, KVM_X86_SET_MSR_FILTER, &f) < 0 ? -errno : 0;
}

int vm_inject_vector(struct vm *vm, int apic_id, uint8_t vector)
{
    struct kvm_msi msi = {
        .address_lo = 0xfee00000u | ((uint32_t)apic_id << 12),
        .data = vector,   /* fixed delivery, edge */
    };
    int rc = ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi);
    return rc < 0 ? -errno : rc;   /* > 0 delivered, 0 blocked by the guest */
}

int vm_send_init(struct vm *vm, int apic_id)
{
    struct kvm_msi msi = {
        .address_lo = 0xfee00000u | ((uint32_t)apic_id << 12),
        .data = 5u << 8,   /* delivery mode INIT */
    };
    int rc = ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi);
    return rc < 0 ? -errno : rc;
}

void vm_destroy(struct vm *vm)
{
    for (int i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *v = &vm->vcpus[i];
        if (v->run)
            munmap(v->run, v->run_size);
        if (v->fd >= 0)
            close(v->fd);
    }
    for (int i = 0; i < vm->nr_regions; i++) {
        munmap(vm->regions[i].host, vm->regions[i].size);
        free(vm->regions[i].absent);
        free(vm->regions[i].dirty);
    }
    free(vm->cpuid);
    if (vm->mem_fd >= 0)
        close(vm->mem_fd);
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    if (vm->kvm_fd >= 0)
        close(vm->kvm_fd);
    vm->nr_regions = vm->nr_vcpus = 0;
}

uint64_t vm_host_to_gpa(struct vm *vm, const void *p)
{
    const uint8_t *q = p;
    for (int i = 0; i < vm->nr_regions; i++) {
        const struct mem_region *r = &vm->regions[i];
        if (r->host && q >= r->host && q < r->host + r->size)
            return r->gpa + (uint64_t)(q - r->host);
    }
    return ~0ull;
}
