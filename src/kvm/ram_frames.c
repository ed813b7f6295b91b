/* Which guest RAM frames have memory behind them (callers serialise release
 * and restore of the same frame; readers may run concurrently): a bitmap per RAM region of
 * frames released by the layer above (ballooning). Releasing punches the page
 * out of the memfd, so the host gets the memory back; vm_gpa refuses released
 * frames, so no hypercall or backend reads or writes them. The guest's own
 * accesses still reach the KVM slot (one slot per hole would run out of
 * slots): they read zeros, and a write brings back a page nobody counts. */
#include "kvm/vm.h"
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define BITS 64

/* gfn's word and bit in its RAM region's bitmap, and its page; NULL if gfn
 * is no RAM frame. */
static uint64_t *frame_bit(struct vm *vm, uint64_t gfn, uint64_t *mask, uint8_t **page)
{
    struct mem_region r;
    if (gfn >= (1ull << 52) || !vm_region_of(vm, gfn << PAGE_SHIFT, &r) || !r.ram || !r.absent)
        return NULL;
    uint64_t i = ((gfn << PAGE_SHIFT) - r.gpa) >> PAGE_SHIFT;
    *mask = 1ull << (i % BITS);
    *page = r.host + (i << PAGE_SHIFT);
    return &r.absent[i / BITS];
}

int vm_ram_release(struct vm *vm, uint64_t gfn)
{
    uint64_t m;
    uint8_t *page;
    uint64_t *w = frame_bit(vm, gfn, &m, &page);
    if (!w)
        return -EINVAL;
    if (__atomic_fetch_or(w, m, __ATOMIC_SEQ_CST) & m)
        return -ENOENT;
    atomic_fetch_add(&vm->ram_absent, 1);
    vm_mark_dirty(vm, gfn << PAGE_SHIFT, PAGE_SIZE);
    /* Not fatal if it fails (a test's anonymous memory): the frame is gone
     * for the guest either way. */
    madvise(page, PAGE_SIZE, MADV_REMOVE);
    return 0;
}

int vm_ram_restore(struct vm *vm, uint64_t gfn)
{
    uint64_t m;
    uint8_t *page;
    uint64_t *w = frame_bit(vm, gfn, &m, &page);
    if (!w)
        return -EINVAL;
    if (!(__atomic_load_n(w, __ATOMIC_SEQ_CST) & m))
        return -EEXIST;
    /* Whatever the guest wrote into the hole meanwhile goes: a populated
     * frame starts as zeros, before vm_gpa lets anyone at it. */
    madvise(page, PAGE_SIZE, MADV_REMOVE);
    vm_mark_dirty(vm, gfn << PAGE_SHIFT, PAGE_SIZE);
    if (!(__atomic_fetch_and(w, ~m, __ATOMIC_SEQ_CST) & m))
        return -EEXIST;    /* restored by another caller meanwhile */
    atomic_fetch_sub(&vm->ram_absent, 1);
    return 0;
}

int vm_ram_present(struct vm *vm, uint64_t gfn)
{
    uint64_t m;
    uint8_t *page;
    uint64_t *w = frame_bit(vm, gfn, &m, &page);
    if (!w)
        return -EINVAL;
    return !(__atomic_load_n(w, __ATOMIC_SEQ_CST) & m);
}

uint8_t *vm_ram_frame_page(struct vm *vm, uint64_t gfn)
{
    uint64_t m;
    uint8_t *page;
    return frame_bit(vm, gfn, &m, &page) ? page : NULL;
}

uint64_t vm_ram_present_pages(struct vm *vm)
{
    return (vm->ram_size >> PAGE_SHIFT) - atomic_load(&vm->ram_absent);
}

bool vm_frames_present(const struct mem_region *r, uint64_t gpa, uint64_t len)
{
    if (!r->ram || !r->absent || !len)
        return true;
    uint64_t first = (gpa - r->gpa) >> PAGE_SHIFT, last = (gpa - r->gpa + len - 1) >> PAGE_SHIFT;
    for (uint64_t i = first; i <= last; i++)
        if (__atomic_load_n(&r->absent[i / BITS], __ATOMIC_RELAXED) & (1ull << (i % BITS)))
            return false;
    return true;
}

uint64_t *vm_frames_alloc(uint64_t size)
{
    uint64_t frames = size >> PAGE_SHIFT;
    return calloc((frames + BITS - 1) / BITS, sizeof(uint64_t));
}

uint64_t vm_ram_data_after(struct vm *vm, const struct mem_region *r, uint64_t i, uint64_t *end)
{
    uint64_t frames = r->size >> PAGE_SHIFT;
    *end = frames;
    if (i >= frames)
        return frames;
    /* lseek's SEEK_DATA/SEEK_HOLE on the memfd (shmem): a page swapped out
     * still counts as data. The fd's offset is not used by anyone else. */
    off_t base = (off_t)r->fd_offset, lim = base + (off_t)r->size;
    off_t d = lseek(vm->mem_fd, base + (off_t)(i << PAGE_SHIFT), SEEK_DATA);
    if (d < 0)
        return errno == ENXIO ? frames : i;       /* no data after, or cannot tell */
    if (d >= lim)
        return frames;
    off_t h = lseek(vm->mem_fd, d, SEEK_HOLE);
    if (h >= 0 && h < lim)
        *end = (uint64_t)(h - base + PAGE_SIZE - 1) >> PAGE_SHIFT;
    return (uint64_t)(d - base) >> PAGE_SHIFT;
}
