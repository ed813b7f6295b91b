/* Dirty-page logging for live migration (vm.h): KVM logs the guest's writes
 * to RAM slots flagged KVM_MEM_LOG_DIRTY_PAGES; writes xenkvm makes itself
 * (hypercall results, event words, grant copies) go through the host
 * mapping, which KVM never sees, so they are marked in a bitmap of our own. */
#include "kvm/vm.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define BITS 64

int vm_ram_regions(struct vm *vm, const struct mem_region **out, int max)
{
    /* RAM regions are made first (vm_create) and never removed. */
    int n = 0;
    for (int i = 0; i < vm->nr_regions && n < max; i++)
        if (vm->regions[i].ram)
            out[n++] = &vm->regions[i];
    return n;
}

static int set_logging(struct vm *vm, bool on)
{
    for (int i = 0; i < vm->nr_regions; i++) {
        const struct mem_region *r = &vm->regions[i];
        if (!r->ram)
            continue;
        struct kvm_userspace_memory_region kr = {
            .slot = r->slot, .flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0,
            .guest_phys_addr = r->gpa, .memory_size = r->size, .userspace_addr = (uintptr_t)r->host,
        };
        if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &kr) < 0)
            return -errno;
    }
    return 0;
}

void vm_mark_dirty(struct vm *vm, uint64_t gpa, uint64_t len)
{
    if (!atomic_load_explicit(&vm->dirty_logging, memory_order_relaxed) || !len)
        return;
    struct mem_region r;
    if (!vm_region_of(vm, gpa, &r) || !r.ram || !r.dirty)
        return;
    uint64_t first = (gpa - r.gpa) >> PAGE_SHIFT, last = (gpa - r.gpa + len - 1) >> PAGE_SHIFT;
    if (last >= r.size >> PAGE_SHIFT)
        last = (r.size >> PAGE_SHIFT) - 1;
    for (uint64_t i = first; i <= last; i++)
        __atomic_fetch_or(&r.dirty[i / BITS], 1ull << (i % BITS), __ATOMIC_RELAXED);
}

int vm_dirty_log_start(struct vm *vm)
{
    pthread_mutex_lock(&vm->mem_lock);
    for (int i = 0; i < vm->nr_regions; i++)
        if (vm->regions[i].ram)
            memset(vm->regions[i].dirty, 0,
                   ((vm->regions[i].size >> PAGE_SHIFT) + BITS - 1) / BITS * sizeof(uint64_t));
    atomic_store(&vm->dirty_logging, true);
    int rc = set_logging(vm, true);
    pthread_mutex_unlock(&vm->mem_lock);
    if (rc < 0)
        vm_dirty_log_stop(vm);
    return rc;
}

void vm_dirty_log_stop(struct vm *vm)
{
    pthread_mutex_lock(&vm->mem_lock);
    atomic_store(&vm->dirty_logging, false);
    set_logging(vm, false);
    pthread_mutex_unlock(&vm->mem_lock);
}

int64_t vm_dirty_log_collect(struct vm *vm, uint64_t **bits)
{
    const struct mem_region *ram[VM_MAX_REGIONS];
    int n = vm_ram_regions(vm, ram, VM_MAX_REGIONS);
    int64_t added = 0;
    for (int k = 0; k < n; k++) {
        uint64_t words = ((ram[k]->size >> PAGE_SHIFT) + BITS - 1) / BITS;
        uint64_t *log = calloc(words, sizeof(uint64_t));
        if (!log)
            return -ENOMEM;
        struct kvm_dirty_log dl = { .slot = ram[k]->slot, .dirty_bitmap = log };
        if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &dl) < 0) {
            int e = errno;
            free(log);
            return -e;
        }
        for (uint64_t w = 0; w < words; w++) {
            uint64_t v = log[w] | __atomic_exchange_n(&ram[k]->dirty[w], 0, __ATOMIC_RELAXED);
            added += __builtin_popcountll(v & ~bits[k][w]);
            bits[k][w] |= v;
        }
        free(log);
    }
    return added;
}
