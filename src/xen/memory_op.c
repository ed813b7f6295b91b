/* __HYPERVISOR_memory_op: the memory map, reservations, and placing Xen's pages
 * (shared_info, grant frames) into the guest's physical address space. */
#include "xen/domain.h"
#include "common/log.h"
#include <errno.h>
#include <sys/mman.h>
#include <string.h>
#include <xen/memory.h>

#define MEMOP_CMD_MASK 0x3f   /* low bits of the command; the rest is a continuation */

static bool self(struct domain *d, domid_t id)
{
    return id == DOMID_SELF || id == d->domid;
}

static long memory_map(struct hcall *h)
{
    struct xen_memory_map m;
    if (guest_copy_from(&h->va, &m, h->arg[1], sizeof(m)))
        return -EFAULT;
    pthread_mutex_lock(&h->d->lock);
    unsigned n = h->d->nr_e820;
    if (m.nr_entries < n)
        n = m.nr_entries;   /* Xen copies as many as fit */
    long rc = h->d->nr_e820 == 0 ? -ENOSYS   /* the guest set an empty map */
            : guest_copy_to(&h->va, GUEST_ADDR(m.buffer), h->d->e820,
                            n * sizeof(struct e820entry)) ? -EFAULT : 0;
    pthread_mutex_unlock(&h->d->lock);
    if (rc)
        return rc;
    m.nr_entries = n;
    return guest_copy_to(&h->va, h->arg[1], &m, sizeof(m)) ? -EFAULT : 0;
}

/* A domain may replace its own memory map (what XENMEM_memory_map answers
 * from then on), as on Xen; another domain's is the toolstack's. */
static long set_memory_map(struct hcall *h)
{
    struct xen_foreign_memory_map f;
    if (guest_copy_from(&h->va, &f, h->arg[1], sizeof(f)))
        return -EFAULT;
    if (f.map.nr_entries > E820_MAX)
        return -EINVAL;
    if (!self(h->d, f.domid))
        return -ESRCH;
    static _Thread_local struct e820entry e[E820_MAX];
    if (guest_copy_from(&h->va, e, GUEST_ADDR(f.map.buffer), f.map.nr_entries * sizeof(*e)))
        return -EFAULT;
    pthread_mutex_lock(&h->d->lock);
    memcpy(h->d->e820, e, f.map.nr_entries * sizeof(*e));
    h->d->nr_e820 = (int)f.map.nr_entries;
    pthread_mutex_unlock(&h->d->lock);
    return 0;
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
        /* A shared frame, or (v2, XENMAPIDX_grant_table_status) a status frame. */
        pthread_mutex_lock(&d->lock);
        bool ok = gnttab_frame_idx_ok(&d->gt, idx);
        pthread_mutex_unlock(&d->lock);
        if (!ok)
            return -EINVAL;
        uint8_t *p = domain_xen_page_at(d, gfn);
        if (!p)
            return -ENOMEM;
        pthread_mutex_lock(&d->lock);
        int rc = gnttab_place_frame(&d->gt, idx, gfn, p);
        pthread_mutex_unlock(&d->lock);
        log_debug("grant table frame %#llx at gfn %#llx: %d", (unsigned long long)idx,
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

/* Ballooning: the guest hands back frames (decrease) or asks for them again
 * (populate). RAM stays mapped; released frames are discarded so the host gets
 * the memory back, and read back as zeros when repopulated. */
static long reservation(struct hcall *h, unsigned op)
{
    struct xen_memory_reservation r;
    if (guest_copy_from(&h->va, &r, h->arg[1], sizeof(r)))
        return -EFAULT;
    if (!self(h->d, r.domid))
        return -ESRCH;
    if (r.extent_order > 9)
        return -EINVAL;   /* at most 2 MiB extents here */
    uint64_t ext_pages = 1ull << r.extent_order;
    /* Xen preempts long requests with a continuation; here a request does at
     * most this many extents and reports the count, which guests handle. */
    uint64_t todo = r.nr_extents < (1u << 20) ? r.nr_extents : (1u << 20);
    unsigned long done = 0;
    for (; done < todo; done++) {
        xen_pfn_t gfn;
        uint64_t va = GUEST_ADDR(r.extent_start) + done * sizeof(gfn);
        if (guest_copy_from(&h->va, &gfn, va, sizeof(gfn)))
            return done ? (long)done : -EFAULT;
        uint64_t gpa = gfn << PAGE_SHIFT;
        uint8_t *p = gfn < (1ull << 40) ? vm_gpa(&h->d->vm, gpa, ext_pages * PAGE_SIZE) : NULL;
        if (!p || !vm_gpa_is_ram(&h->d->vm, gpa))
            break;   /* Xen stops at the first bad extent and reports how many it did */
        if (op == XENMEM_decrease_reservation)
            madvise(p, ext_pages * PAGE_SIZE, MADV_REMOVE);
    }
    return done;
}

long do_memory_op(struct hcall *h)
{
    struct domain *d = h->d;
    unsigned cmd = h->arg[0] & MEMOP_CMD_MASK;
    switch (cmd) {
    case XENMEM_memory_map:
        return memory_map(h);
    case XENMEM_set_memory_map:
        return set_memory_map(h);
    case XENMEM_maximum_ram_page:
        return ram_pages(d) - 1 + (d->vm.ram_size > VM_LOWMEM_END
                                   ? (VM_HIGHMEM_BASE - VM_LOWMEM_END) >> PAGE_SHIFT : 0);
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation: {
        domid_t id;
        if (guest_copy_from(&h->va, &id, h->arg[1], sizeof(id)))
            return -EFAULT;
        if (!self(d, id))
            return -ESRCH;
        return ram_pages(d);
    }
    case XENMEM_add_to_physmap:
        return add_to_physmap(h);
    case XENMEM_add_to_physmap_batch:
        return add_to_physmap_batch(h);
    case XENMEM_decrease_reservation:
    case XENMEM_increase_reservation:
    case XENMEM_populate_physmap:
        return reservation(h, cmd);
    case XENMEM_get_vnumainfo:
        return -EOPNOTSUPP;   /* no vNUMA topology is given to the domain */
    case XENMEM_exchange:
        return -EOPNOTSUPP;   /* needs a non-translated (PV) guest on Xen */
    default:
        return -ENOSYS;
    }
}
