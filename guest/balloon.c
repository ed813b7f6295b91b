#include "balloon.h"
#include "hypercall.h"
#include "xtest.h"

#define BATCH 512      /* frames per hypercall, as Linux's frame_list */

extern char __image_end[];
static xen_pfn_t pool_top;      /* exclusive */
static unsigned long pool_pages, out;

int balloon_init(void)
{
    const struct hvm_memmap_table_entry *m = (const void *)(uintptr_t)start_info->memmap_paddr;
    uint64_t top = 0, base = 0;
    for (unsigned i = 0; i < start_info->memmap_entries; i++)
        if (m[i].type == 1 && m[i].addr + m[i].size <= (4ull << 30) && m[i].addr + m[i].size > top) {
            top = m[i].addr + m[i].size;
            base = m[i].addr;
        }
    uint64_t floor = ((uintptr_t)__image_end + (1u << 20) + 4095) & ~4095ull;   /* 1 MiB of room */
    if (base < floor)
        base = floor;
    if (top <= base)
        return -1;
    pool_top = top >> 12;
    pool_pages = (top - base) >> 12;
    return 0;
}

xen_pfn_t balloon_gfn(unsigned long i)
{
    return pool_top - 1 - i;
}

unsigned long balloon_pool_pages(void)
{
    return pool_pages;
}

unsigned long balloon_out(void)
{
    return out;
}

long balloon_op(unsigned op, const xen_pfn_t *gfns, unsigned nr, unsigned order, domid_t dom)
{
    struct xen_memory_reservation r = { .nr_extents = nr, .extent_order = order, .domid = dom };
    set_xen_guest_handle(r.extent_start, (xen_pfn_t *)gfns);
    return HYPERVISOR_memory_op(op, &r);
}

unsigned long balloon_set_out(unsigned long pages)
{
    static xen_pfn_t list[BATCH];
    if (pages > pool_pages)
        pages = pool_pages;
    while (out != pages) {
        bool more = pages > out;
        unsigned long n = more ? pages - out : out - pages;
        if (n > BATCH)
            n = BATCH;
        /* Out: the next frames below those out already. In: the lowest out
         * first, so that the frames out stay the top of the pool whatever
         * part of the batch is done. */
        for (unsigned long i = 0; i < n; i++)
            list[i] = more ? balloon_gfn(out + i) : balloon_gfn(out - 1 - i);
        long done = balloon_op(more ? XENMEM_decrease_reservation : XENMEM_populate_physmap,
                               list, (unsigned)n, 0, DOMID_SELF);
        if (done <= 0)
            break;
        if (more)
            out += (unsigned long)done;
        else
            out -= (unsigned long)done;
        if ((unsigned long)done < n)
            break;
    }
    return out;
}
