/* __HYPERVISOR_memory_op: the memory map, reservations, and placing Xen's pages
 * (shared_info, grant frames) into the guest's physical address space. */
#include "xen/domain.h"
#include "common/log.h"
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <xen/memory.h>

#define MEMOP_EXTENT_SHIFT 6   /* the command's high bits: a continuation's start extent */
#define MEMOP_CMD_MASK ((1u << MEMOP_EXTENT_SHIFT) - 1)
#define DOMU_MAX_ORDER 9       /* Xen's CONFIG_DOMU_MAX_ORDER: 2 MiB extents */

static bool self(struct domain *d, domid_t id)
{
    return id == DOMID_SELF || id == d->domid;
}

static long memory_map(struct hcall *h)
{
    struct xen_memory_map m;
    if (guest_copy_from(&h->va, &m, h->arg[1], sizeof(m)))
        return -EFAULT;
    unsigned n = h->d->nr_e820;
    if (m.nr_entries < n)
        n = m.nr_entries;   /* Xen copies as many as fit */
    if (guest_copy_to(&h->va, GUEST_ADDR(m.buffer), h->d->e820, n * sizeof(struct e820entry)))
        return -EFAULT;
    m.nr_entries = n;
    return guest_copy_to(&h->va, h->arg[1], &m, sizeof(m)) ? -EFAULT : 0;
}

static uint64_t ram_pages(struct domain *d)
{
    return d->vm.ram_size >> PAGE_SHIFT;
}

static long add_to_physmap_one(struct domain *d, unsigned space, uint64_t idx, uint64_t gfn)
{
    if (gfn >= (1ull << 40))
        return -EINVAL;
    switch (space) {
    case XENMAPSPACE_shared_info:
        if (idx != 0)
            return -EINVAL;
        return domain_map_shared_info(d, gfn);
    case XENMAPSPACE_grant_table: {
        if (idx & XENMAPIDX_grant_table_status)
            return -EINVAL;    /* status frames exist for v2 only */
        if (idx >= GNTTAB_MAX_FRAMES)
            return -EINVAL;
        uint8_t *p = domain_xen_page_at(d, gfn);
        if (!p)
            return -ENOMEM;
        pthread_mutex_lock(&d->lock);
        int rc = gnttab_place_frame(&d->gt, idx, gfn, p);
        pthread_mutex_unlock(&d->lock);
        log_debug("grant table frame %llu at gfn %#llx: %d", (unsigned long long)idx,
                  (unsigned long long)gfn, rc);
        return rc;
    }
    case XENMAPSPACE_gmfn:
    case XENMAPSPACE_gmfn_range:
    case XENMAPSPACE_dev_mmio:
        return -EOPNOTSUPP;
    case XENMAPSPACE_gmfn_foreign:
        return -ENOSYS;     /* not on the single-page path, as on Xen */
    default:
        return -EINVAL;
    }
}

static long add_to_physmap(struct hcall *h)
{
    struct xen_add_to_physmap x;
    if (guest_copy_from(&h->va, &x, h->arg[1], sizeof(x)))
        return -EFAULT;
    if (!self(h->d, x.domid))
        return -ESRCH;
    return add_to_physmap_one(h->d, x.space, x.idx, x.gpfn);
}

static long add_to_physmap_batch(struct hcall *h)
{
    struct xen_add_to_physmap_batch b;
    if (guest_copy_from(&h->va, &b, h->arg[1], sizeof(b)))
        return -EFAULT;
    if (!self(h->d, b.domid))
        return -ESRCH;
    if (b.space == XENMAPSPACE_gmfn_foreign)
        return -EINVAL;
    for (unsigned i = 0; i < b.size; i++) {
        xen_ulong_t idx;
        xen_pfn_t gpfn;
        if (guest_copy_from(&h->va, &idx, GUEST_ADDR(b.idxs) + i * sizeof(idx), sizeof(idx)) ||
            guest_copy_from(&h->va, &gpfn, GUEST_ADDR(b.gpfns) + i * sizeof(gpfn), sizeof(gpfn)))
            return -EFAULT;
        int rc = add_to_physmap_one(h->d, b.space, idx, gpfn);
        if (guest_copy_to(&h->va, GUEST_ADDR(b.errs) + i * sizeof(int), &rc, sizeof(rc)))
            return -EFAULT;
    }
    return 0;
}

/* Xen's tot_pages: RAM frames present plus pages increase_reservation
 * allocated. For a translated guest those get no gfn (Xen returns no frame
 * numbers to it): they count, and use no memory here. */
static uint64_t tot_pages(struct domain *d)
{
    return vm_ram_present_pages(&d->vm) + d->unmapped_pages;
}

/* One extent of a populate: every frame must be a released RAM frame (Xen's
 * allocation would fail at the domain's maximum, which a present frame
 * means here), and the domain must stay within its maximum. */
static bool populate_extent(struct domain *d, uint64_t gfn, uint64_t n)
{
    if (tot_pages(d) + n > ram_pages(d))
        return false;
    for (uint64_t j = 0; j < n; j++)
        if (vm_ram_present(&d->vm, gfn + j) != 0)
            return false;
    for (uint64_t j = 0; j < n; j++)
        vm_ram_restore(&d->vm, gfn + j);
    return true;
}

/* One extent of a decrease, frame by frame as Xen's guest_remove_page: a frame
 * already released (or not RAM) stops it, the frames before stay released and
 * the extent does not count. */
static bool decrease_extent(struct domain *d, uint64_t gfn, uint64_t n)
{
    for (uint64_t j = 0; j < n; j++)
        if (vm_ram_release(&d->vm, gfn + j) < 0)
            return false;
    return true;
}

/* Ballooning: XENMEM_{increase,decrease}_reservation and populate_physmap, as
 * Xen's common/memory.c. The result is always the number of extents done (a
 * bad argument, another domain, an over-large order all mean 0); start is the
 * continuation's starting extent from the command's high bits. */
static long reservation(struct hcall *h, unsigned op, unsigned long start)
{
    struct domain *d = h->d;
    struct xen_memory_reservation r;
    if (guest_copy_from(&h->va, &r, h->arg[1], sizeof(r)))
        return start;
    if (r.nr_extents > (UINT_MAX >> MEMOP_EXTENT_SHIFT) || start >= r.nr_extents)
        return start;
    if (!self(d, r.domid))
        return start;     /* no such domain, or not this guest's to change */
    unsigned bits = XENMEMF_get_address_bits(r.mem_flags);
    if ((bits && bits <= PAGE_SHIFT) || r.extent_order > DOMU_MAX_ORDER)
        return start;
    if (op == XENMEM_populate_physmap && (r.mem_flags & XENMEMF_populate_on_demand))
        return start;     /* populate-on-demand on oneself is refused */
    uint64_t n = 1ull << r.extent_order;
    unsigned long i = start;
    for (; i < r.nr_extents; i++) {
        if (op == XENMEM_increase_reservation) {
            /* A translated guest's list is not read: it gets no frames. */
            pthread_mutex_lock(&d->lock);
            bool ok = tot_pages(d) + n <= ram_pages(d);
            if (ok)
                d->unmapped_pages += n;
            pthread_mutex_unlock(&d->lock);
            if (!ok)
                break;
            continue;
        }
        xen_pfn_t gfn;
        if (guest_copy_from(&h->va, &gfn, GUEST_ADDR(r.extent_start) + i * sizeof(gfn), sizeof(gfn)))
            break;
        if (gfn >= (1ull << 40))
            break;
        pthread_mutex_lock(&d->lock);
        bool ok = op == XENMEM_decrease_reservation ? decrease_extent(d, gfn, n)
                                                    : populate_extent(d, gfn, n);
        pthread_mutex_unlock(&d->lock);
        if (!ok)
            break;
    }
    return i;
}

long do_memory_op(struct hcall *h)
{
    struct domain *d = h->d;
    unsigned cmd = h->arg[0] & MEMOP_CMD_MASK;
    switch (cmd) {
    case XENMEM_memory_map:
        return memory_map(h);
    case XENMEM_maximum_ram_page:
        return ram_pages(d) - 1 + (d->vm.ram_size > VM_LOWMEM_END
                                   ? (VM_HIGHMEM_BASE - VM_LOWMEM_END) >> PAGE_SHIFT : 0);
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation: {
        domid_t id;
        if (guest_copy_from(&h->va, &id, h->arg[1], sizeof(id)))
            return -EFAULT;
        if (!self(d, id))
            return id == 0 ? -EPERM : -ESRCH;   /* dom 0 exists, but is not ours */
        if (cmd == XENMEM_maximum_reservation)
            return ram_pages(d);
        pthread_mutex_lock(&d->lock);
        long n = tot_pages(d);
        pthread_mutex_unlock(&d->lock);
        return n;
    }
    case XENMEM_add_to_physmap:
        return add_to_physmap(h);
    case XENMEM_add_to_physmap_batch:
        return add_to_physmap_batch(h);
    case XENMEM_decrease_reservation:
    case XENMEM_increase_reservation:
    case XENMEM_populate_physmap:
        return reservation(h, cmd, h->arg[0] >> MEMOP_EXTENT_SHIFT);
    case XENMEM_get_vnumainfo:
        return -EOPNOTSUPP;   /* no vNUMA topology is given to the domain */
    case XENMEM_exchange:
        return -EOPNOTSUPP;   /* needs a non-translated (PV) guest on Xen */
    default:
        return -ENOSYS;
    }
}
