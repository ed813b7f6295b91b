/* The harness's gnt_env: a fake grant table over a memfd of frames. */
#include "harness/blkfront.h"
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG BLK_PAGE_SIZE

/* Backend view protection of a frame from its live mappings (guard only). */
static void reprotect(struct hx *h, uint32_t frame)
{
    if (!h->cfg.guard)
        return;
    int prot = h->map_rw[frame] ? PROT_READ | PROT_WRITE : h->map_ro[frame] ? PROT_READ : PROT_NONE;
    mprotect(h->bview + (size_t)frame * PG, PG, prot);
}

static int16_t check(struct hx *h, grant_ref_t ref, bool ro)
{
    if (ref >= HX_MAX_GRANTS || !h->gnt[ref].used)
        return GNTST_bad_gntref;
    if (!ro && h->gnt[ref].ro)
        return GNTST_permission_denied;
    return GNTST_okay;
}

static void unmap_locked(struct hx *h, const grant_ref_t *refs, unsigned n, bool ro)
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
    struct hx *h = opaque;
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
    struct hx *h = opaque;
    pthread_mutex_lock(&h->lock);
    unmap_locked(h, refs, n, ro);
    pthread_mutex_unlock(&h->lock);
}

/* Stitches the ring's frames into one contiguous mapping of the memfd. */
static void *env_map_ring(void *opaque, const grant_ref_t *refs, unsigned n, int16_t *err)
{
    struct hx *h = opaque;
    pthread_mutex_lock(&h->lock);
    for (unsigned i = 0; i < n; i++) {
        if ((*err = check(h, refs[i], false)) != GNTST_okay) {
            pthread_mutex_unlock(&h->lock);
            return NULL;
        }
    }
    uint8_t *va = mmap(NULL, (size_t)n * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (va == MAP_FAILED) {
        *err = GNTST_general_error;
        pthread_mutex_unlock(&h->lock);
        return NULL;
    }
    for (unsigned i = 0; i < n; i++) {
        off_t off = (off_t)h->gnt[refs[i]].frame * PG;
        if (mmap(va + (size_t)i * PG, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
                 h->memfd, off) == MAP_FAILED) {
            munmap(va, (size_t)n * PG);
            *err = GNTST_general_error;
            pthread_mutex_unlock(&h->lock);
            return NULL;
        }
    }
    h->ring_maps++;
    pthread_mutex_unlock(&h->lock);
    *err = GNTST_okay;
    return va;
}

static void env_unmap_ring(void *opaque, void *ring, const grant_ref_t *refs, unsigned n)
{
    struct hx *h = opaque;
    (void)refs;
    munmap(ring, (size_t)n * PG);
    pthread_mutex_lock(&h->lock);
    h->ring_maps--;
    pthread_mutex_unlock(&h->lock);
}

static void env_notify(void *opaque, unsigned q)
{
    struct hx *h = opaque;
    uint64_t one = 1;
    __atomic_add_fetch(&h->q[q].notifies, 1, __ATOMIC_RELAXED);
    if (write(h->q[q].notify_fd, &one, sizeof(one)) < 0) { /* saturated: already pending */ }
}

void hx_env_init(struct hx *h)
{
    h->env = (struct gnt_env){
        .opaque = h, .map = env_map, .unmap = env_unmap, .map_ring = env_map_ring,
        .unmap_ring = env_unmap_ring, .notify = env_notify,
    };
}
