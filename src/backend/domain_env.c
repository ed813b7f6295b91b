/* The backends' gnt_env over a domain's grant table, memory and event channels. */
#include "backend/domain_env.h"
#include "xen/domain.h"
#include "common/log.h"
#include <sys/mman.h>

static int16_t dom_map(void *opaque, const grant_ref_t *refs, unsigned n, bool ro, void **out)
{
    struct domain_env *de = opaque;
    struct domain *d = de->d;
    int16_t err = GNTST_okay;
    pthread_mutex_lock(&d->lock);
    unsigned i = 0;
    for (; i < n; i++) {
        out[i] = gnttab_host_map(&d->gt, refs[i], ro, &err);
        if (!out[i])
            break;
    }
    if (i < n)
        while (i-- > 0)
            gnttab_host_unmap(&d->gt, refs[i], ro);
    pthread_mutex_unlock(&d->lock);
    return err;
}

static void dom_unmap(void *opaque, const grant_ref_t *refs, unsigned n, bool ro)
{
    struct domain_env *de = opaque;
    pthread_mutex_lock(&de->d->lock);
    for (unsigned i = 0; i < n; i++)
        gnttab_host_unmap(&de->d->gt, refs[i], ro);
    pthread_mutex_unlock(&de->d->lock);
}

/* The memfd offset behind host pointer p (a page of guest memory), or -1. */
static off_t memfd_offset(struct vm *vm, const uint8_t *p)
{
    for (;;) {
        unsigned seq = atomic_load_explicit(&vm->mem_seq, memory_order_acquire);
        off_t off = -1;
        if (!(seq & 1)) {
            for (int i = 0; i < vm->nr_regions; i++) {
                const struct mem_region *r = &vm->regions[i];
                if (p >= r->host && p + PAGE_SIZE <= r->host + r->size) {
                    off = (off_t)(r->fd_offset + (uint64_t)(p - r->host));
                    break;
                }
            }
        }
        atomic_thread_fence(memory_order_acquire);
        if (!(seq & 1) && atomic_load_explicit(&vm->mem_seq, memory_order_relaxed) == seq)
            return off;
    }
}

/* Pins every ring page; one page is used in place, several are stitched into
 * one contiguous mapping of the domain's memfd. */
static void *dom_map_ring(void *opaque, const grant_ref_t *refs, unsigned n, int16_t *err)
{
    struct domain_env *de = opaque;
    struct domain *d = de->d;
    void *pages[GNT_ENV_MAX_RING_PAGES];
    if (n > GNT_ENV_MAX_RING_PAGES || (*err = dom_map(de, refs, n, false, pages)) != GNTST_okay) {
        if (n > GNT_ENV_MAX_RING_PAGES)
            *err = GNTST_general_error;
        return NULL;
    }
    if (n == 1)
        return pages[0];
    uint8_t *va = mmap(NULL, (size_t)n * PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (unsigned i = 0; va != MAP_FAILED && i < n; i++) {
        off_t off = memfd_offset(&d->vm, pages[i]);
        if (off < 0 || mmap(va + i * PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_FIXED, d->vm.mem_fd, off) == MAP_FAILED) {
            munmap(va, (size_t)n * PAGE_SIZE);
            va = MAP_FAILED;
        }
    }
    if (va == MAP_FAILED) {
        dom_unmap(de, refs, n, false);
        *err = GNTST_general_error;
        return NULL;
    }
    return va;
}

static void dom_unmap_ring(void *opaque, void *ring, const grant_ref_t *refs, unsigned n)
{
    if (n > 1)
        munmap(ring, (size_t)n * PAGE_SIZE);
    dom_unmap(opaque, refs, n, false);
}

static void dom_notify(void *opaque, unsigned q)
{
    struct domain_env *de = opaque;
    domain_lock(de->d);
    if (q < GNT_ENV_MAX_PORTS && de->host_port[q] > 0)
        evtchn_host_notify(&de->d->ev, de->host_port[q]);
    domain_unlock(de->d);
}

void domain_env_init(struct domain_env *de, struct domain *d, struct gnt_env *env)
{
    de->d = d;
    for (unsigned i = 0; i < GNT_ENV_MAX_PORTS; i++)
        de->host_port[i] = -1;
    *env = (struct gnt_env){
        .opaque = de, .map = dom_map, .unmap = dom_unmap, .map_ring = dom_map_ring,
        .unmap_ring = dom_unmap_ring, .notify = dom_notify,
    };
}
