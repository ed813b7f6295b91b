/* The netfront harness's gnt_env: a fake grant table over a memfd of frames
 * (the same model as blkfront_env.c, over struct nx). */
#include "harness/netfront.h"
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG NET_PAGE_SIZE

/* Backend view protection of a frame from its live mappings (guard only). */
static void reprotect(struct nx *h, uint32_t frame)
{
    if (!h->cfg.guard)
        return;
    int prot = h->map_rw[frame] ? PROT_READ | PROT_WRITE : h->map_ro[frame] ? PROT_READ : PROT_NONE;
    mprotect(h->bview + (size_t)frame * PG, PG, prot);
}

static int16_t check(struct nx *h, grant_ref_t ref, bool ro)
{
    if (ref >= NX_MAX_GRANTS || !h->gnt[ref].used)
        return GNTST_bad_gntref;
    if (!ro && h->gnt[ref].ro)
        return GNTST_permission_denied;
    return GNTST_okay;
}

static void unmap_locked(struct nx *h, const grant_ref_t *refs, unsigned n, bool ro)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t f = h->gnt[refs[i]].frame;
        (ro ? h->map_ro : h->map_rw)[f]--;
        h->live_maps--;
        reprotect(h, f);
    }
}

static int16_t env_map(void *opaque, const grant_ref_t *refs, unsigned n, bool ro, void **out)
{
    struct nx *h = opaque;
    pthread_mutex_lock(&h->lock);
    for (unsigned i = 0; i < n; i++) {
        int16_t st = check(h, refs[i], ro);
        if (st != GNTST_okay) {
            unmap_locked(h, refs, i, ro);
            pthread_mutex_unlock(&h->lock);
            return st;
        }
        uint32_t f = h->gnt[refs[i]].frame;
        (ro ? h->map_ro : h->map_rw)[f]++;
        h->live_maps++;
        reprotect(h, f);
        out[i] = h->bview + (size_t)f * PG;
    }
    pthread_mutex_unlock(&h->lock);
    return GNTST_okay;
}

static void env_unmap(void *opaque, const grant_ref_t *refs, unsigned n, bool ro)
{
    struct nx *h = opaque;
    pthread_mutex_lock(&h->lock);
    unmap_locked(h, refs, n, ro);
    pthread_mutex_unlock(&h->lock);
}

/* netif rings are one page: a fresh shared mapping of the granted frame. */
static void *env_map_ring(void *opaque, const grant_ref_t *refs, unsigned n, int16_t *err)
{
    struct nx *h = opaque;
    pthread_mutex_lock(&h->lock);
    *err = n == 1 ? check(h, refs[0], false) : GNTST_general_error;
    void *va = NULL;
    if (*err == GNTST_okay) {
        va = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, h->memfd,
                  (off_t)h->gnt[refs[0]].frame * PG);
        if (va == MAP_FAILED) {
            va = NULL;
            *err = GNTST_general_error;
        } else {
            h->ring_maps++;
        }
    }
    pthread_mutex_unlock(&h->lock);
    return va;
}

static void env_unmap_ring(void *opaque, void *ring, const grant_ref_t *refs, unsigned n)
{
    struct nx *h = opaque;
    (void)refs;
    munmap(ring, (size_t)n * PG);
    pthread_mutex_lock(&h->lock);
    h->ring_maps--;
    pthread_mutex_unlock(&h->lock);
}

static void env_notify(void *opaque, unsigned idx)
{
    struct nx *h = opaque;
    struct nx_queue *q = &h->q[idx / 2];
    uint64_t one = 1;
    __atomic_add_fetch(&q->notifies[idx & 1], 1, __ATOMIC_RELAXED);
    if (write(q->notify_fd[idx & 1], &one, sizeof(one)) < 0) { /* saturated: already pending */ }
}

void nx_env_init(struct nx *h)
{
    h->env = (struct gnt_env){
        .opaque = h, .map = env_map, .unmap = env_unmap, .map_ring = env_map_ring,
        .unmap_ring = env_unmap_ring, .notify = env_notify,
    };
}
