/* Frontend harness: guest memory, rings, requests and responses. */
#include "harness/blkfront.h"
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG BLK_PAGE_SIZE

void hx_env_init(struct hx *h);

uint8_t *hx_frame(struct hx *h, unsigned frame)
{
    return h->mem + (size_t)frame * PG;
}

grant_ref_t hx_grant(struct hx *h, unsigned frame, bool readonly)
{
    pthread_mutex_lock(&h->lock);
    grant_ref_t ref = h->next_ref;
    unsigned n = 0;
    for (; n < HX_MAX_GRANTS && h->gnt[ref].used; n++)
        ref = ref + 1 < HX_MAX_GRANTS ? ref + 1 : HX_FIRST_REF;
    if (n == HX_MAX_GRANTS) {
        pthread_mutex_unlock(&h->lock);
        return HX_REF_INVALID;    /* table full */
    }
    h->gnt[ref] = (struct hx_grant){ .frame = frame, .used = true, .ro = readonly };
    h->next_ref = ref + 1 < HX_MAX_GRANTS ? ref + 1 : HX_FIRST_REF;
    pthread_mutex_unlock(&h->lock);
    return ref;
}

void hx_ungrant(struct hx *h, grant_ref_t ref)
{
    pthread_mutex_lock(&h->lock);
    if (ref < HX_MAX_GRANTS)
        h->gnt[ref].used = false;
    pthread_mutex_unlock(&h->lock);
}

static int map_memory(struct hx *h, char *err, size_t errlen)
{
    size_t len = (size_t)h->cfg.frames * PG;
    h->memfd = memfd_create("hx-guest", MFD_CLOEXEC);
    if (h->memfd < 0 || ftruncate(h->memfd, len) < 0) {
        snprintf(err, errlen, "memfd: %s", strerror(errno));
        return -errno;
    }
    h->mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, h->memfd, 0);
    h->bview = h->cfg.guard ? mmap(NULL, len, PROT_NONE, MAP_SHARED, h->memfd, 0) : h->mem;
    if (h->mem == MAP_FAILED || h->bview == MAP_FAILED) {
        snprintf(err, errlen, "mmap: %s", strerror(errno));
        return -errno;
    }
    h->map_ro = calloc(h->cfg.frames, sizeof(*h->map_ro));
    h->map_rw = calloc(h->cfg.frames, sizeof(*h->map_rw));
    h->ref_ro = calloc(h->cfg.frames, sizeof(*h->ref_ro));
    h->ref_rw = calloc(h->cfg.frames, sizeof(*h->ref_rw));
    return h->map_ro && h->map_rw && h->ref_ro && h->ref_rw ? 0 : -ENOMEM;
}

int hx_open(struct hx *h, const struct hx_config *cfg, char *err, size_t errlen)
{
    memset(h, 0, sizeof(*h));
    h->cfg = *cfg;
    if (!h->cfg.nr_queues)
        h->cfg.nr_queues = 1;
    cfg = &h->cfg;
    h->memfd = -1;
    h->mem = h->bview = MAP_FAILED;
    h->next_ref = HX_FIRST_REF;
    pthread_mutex_init(&h->lock, NULL);
    for (unsigned i = 0; i < BLK_MAX_QUEUES; i++)
        h->q[i].notify_fd = -1;
    unsigned pages = 1u << cfg->ring_order;
    h->first_data_frame = cfg->nr_queues * pages;
    if (cfg->frames <= h->first_data_frame) {
        snprintf(err, errlen, "%u frames leave none for data", cfg->frames);
        return -EINVAL;
    }
    int rc = map_memory(h, err, errlen);
    if (rc)
        return rc;
    rc = cfg->format ? blk_disk_open_image(&h->disk, cfg->disk, cfg->format, cfg->readonly, err,
                                           errlen)
                     : blk_disk_open(&h->disk, cfg->disk, cfg->readonly, err, errlen);
    if (rc)
        return rc;
    hx_env_init(h);
    blkback_init(&h->be, &h->disk, &h->env);
    struct blkback_ring rings[BLK_MAX_QUEUES];
    for (unsigned q = 0; q < cfg->nr_queues; q++) {
        struct hx_queue *hq = &h->q[q];
        hq->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        /* The frontend's ring is contiguous in its own address space; with
         * scatter_ring its frames are in reverse order, as a guest's virtual
         * ring may sit on any physical pages. */
        hq->fview = mmap(NULL, (size_t)pages * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (hq->fview == MAP_FAILED) {
            hq->fview = NULL;
            snprintf(err, errlen, "mmap: %s", strerror(errno));
            return -ENOMEM;
        }
        for (unsigned i = 0; i < pages; i++) {
            unsigned f = q * pages + (cfg->scatter_ring ? pages - 1 - i : i);
            hq->ring_refs[i] = hx_grant(h, f, false);
            if (mmap(hq->fview + (size_t)i * PG, PG, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_FIXED, h->memfd, (off_t)f * PG) == MAP_FAILED) {
                snprintf(err, errlen, "mmap: %s", strerror(errno));
                return -ENOMEM;
            }
        }
        if (cfg->abi32) {
            blkif_x86_32_sring_t *s = (blkif_x86_32_sring_t *)hq->fview;
            SHARED_RING_INIT(s);
            FRONT_RING_INIT(&hq->front32, s, (size_t)pages * PG);
        } else {
            blkif_sring_t *s = (blkif_sring_t *)hq->fview;
            SHARED_RING_INIT(s);
            FRONT_RING_INIT(&hq->front, s, (size_t)pages * PG);
        }
        rings[q].nr_pages = pages;
        rings[q].abi32 = cfg->abi32;
        memcpy(rings[q].refs, hq->ring_refs, pages * sizeof(grant_ref_t));
    }
    return blkback_connect(&h->be, cfg->nr_queues, rings, cfg->threaded, err, errlen);
}

void hx_close(struct hx *h)
{
    if (h->be.disk)
        blkback_disconnect(&h->be);
    blk_disk_close(&h->disk);
    for (unsigned i = 0; i < BLK_MAX_QUEUES; i++) {
        if (h->q[i].notify_fd >= 0)
            close(h->q[i].notify_fd);
        if (h->q[i].fview)
            munmap(h->q[i].fview, (size_t)PG << h->cfg.ring_order);
    }
    free(h->ref_ro);
    free(h->ref_rw);
    size_t len = (size_t)h->cfg.frames * PG;
    if (h->bview != MAP_FAILED && h->bview != h->mem)
        munmap(h->bview, len);
    if (h->mem != MAP_FAILED)
        munmap(h->mem, len);
    if (h->memfd >= 0)
        close(h->memfd);
    free(h->map_ro);
    free(h->map_rw);
    pthread_mutex_destroy(&h->lock);
}

blkif_request_t *hx_req(struct hx *h, unsigned q)
{
    struct hx_queue *hq = &h->q[q];
    blkif_request_t *r = h->cfg.abi32
        ? &hq->staged[hq->front.req_prod_pvt & (RING_SIZE(&hq->front32) - 1)]
        : RING_GET_REQUEST(&hq->front, hq->front.req_prod_pvt);
    hq->front.req_prod_pvt++;
    memset(r, 0, sizeof(*r));
    return r;
}

void *hx_slot(struct hx *h, unsigned q, size_t *len)
{
    struct hx_queue *hq = &h->q[q];
    hq->raw = true;
    RING_IDX i = hq->front.req_prod_pvt++;
    if (h->cfg.abi32) {
        *len = sizeof(struct blkif_x86_32_request);
        return RING_GET_REQUEST(&hq->front32, i);
    }
    *len = sizeof(blkif_request_t);
    return RING_GET_REQUEST(&hq->front, i);
}

/* What a 32-bit blkfront writes: the same fields, i386 layout. */
static void put_req32(struct blkif_x86_32_request *d, const blkif_request_t *s)
{
    memset(d, 0, sizeof(*d));
    if (s->operation == BLKIF_OP_DISCARD) {
        const struct blkif_request_discard *n = (const void *)s;
        struct blkif_x86_32_request_discard *c = (void *)d;
        *c = (struct blkif_x86_32_request_discard){ .operation = n->operation, .flag = n->flag,
            .handle = n->handle, .id = n->id, .sector_number = n->sector_number,
            .nr_sectors = n->nr_sectors };
    } else if (s->operation == BLKIF_OP_INDIRECT) {
        const struct blkif_request_indirect *n = (const void *)s;
        struct blkif_x86_32_request_indirect *c = (void *)d;
        *c = (struct blkif_x86_32_request_indirect){ .operation = n->operation,
            .indirect_op = n->indirect_op, .nr_segments = n->nr_segments, .id = n->id,
            .sector_number = n->sector_number, .handle = n->handle };
        memcpy(c->indirect_grefs, n->indirect_grefs, sizeof(c->indirect_grefs));
    } else {
        *d = (struct blkif_x86_32_request){ .operation = s->operation,
            .nr_segments = s->nr_segments, .handle = s->handle, .id = s->id,
            .sector_number = s->sector_number };
        memcpy(d->seg, s->seg, sizeof(d->seg));
    }
}

void hx_push(struct hx *h, unsigned q)
{
    if (h->cfg.abi32 && !h->q[q].raw) {
        struct hx_queue *hq = &h->q[q];
        for (RING_IDX i = hq->front32.sring->req_prod; i != hq->front.req_prod_pvt; i++)
            put_req32(RING_GET_REQUEST(&hq->front32, i),
                      &hq->staged[i & (RING_SIZE(&hq->front32) - 1)]);
    }
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&h->q[q].front, notify);
    if (h->cfg.threaded) {
        if (notify)
            blkback_kick(&h->be, q);
        return;
    }
    blkq_process(&h->be.q[q]);
    blkq_reap(&h->be.q[q], true);
}

int hx_rsp(struct hx *h, unsigned q, blkif_response_t *out, int timeout_ms)
{
    struct hx_queue *hq = &h->q[q];
    for (;;) {
        int more;
        RING_FINAL_CHECK_FOR_RESPONSES(&hq->front, more);
        if (more) {
            if (h->cfg.abi32) {
                struct blkif_x86_32_response r32;
                RING_COPY_RESPONSE(&hq->front32, hq->front.rsp_cons, &r32);
                *out = (blkif_response_t){ .id = r32.id, .operation = r32.operation,
                                           .status = r32.status };
            } else {
                RING_COPY_RESPONSE(&hq->front, hq->front.rsp_cons, out);
            }
            hq->front.rsp_cons++;
            return 0;
        }
        struct pollfd p = { .fd = hq->notify_fd, .events = POLLIN };
        int n = poll(&p, 1, timeout_ms);
        if (n == 0)
            return -ETIMEDOUT;
        if (n > 0) {
            uint64_t v;
            if (read(hq->notify_fd, &v, sizeof(v)) < 0) { /* raced: recheck */ }
        }
    }
}

grant_ref_t hx_frame_ref(struct hx *h, unsigned frame, bool readonly)
{
    grant_ref_t *cache = readonly ? h->ref_ro : h->ref_rw;
    if (frame >= h->cfg.frames)
        return HX_REF_INVALID;
    if (!cache[frame])
        cache[frame] = hx_grant(h, frame, readonly);
    return cache[frame];
}

uint64_t hx_rw(struct hx *h, unsigned q, uint8_t op, uint64_t sector, unsigned frame,
               unsigned nsegs, unsigned ind_frame)
{
    static uint64_t next_id = 1;
    uint64_t id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
    blkif_request_t *r = hx_req(h, q);
    bool ro = op == BLKIF_OP_WRITE;     /* the disk only reads these pages */
    if (nsegs <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
        r->operation = op;
        r->nr_segments = nsegs;
        r->id = id;
        r->sector_number = sector;
        for (unsigned i = 0; i < nsegs; i++)
            r->seg[i] = (struct blkif_request_segment){
                .gref = hx_frame_ref(h, frame + i, ro), .first_sect = 0, .last_sect = 7 };
        return id;
    }
    struct blkif_request_indirect *ind = (void *)r;
    ind->operation = BLKIF_OP_INDIRECT;
    ind->indirect_op = op;
    ind->nr_segments = nsegs;
    ind->id = id;
    ind->sector_number = sector;
    unsigned pages = (nsegs + BLK_SEGS_PER_INDIRECT_PAGE - 1) / BLK_SEGS_PER_INDIRECT_PAGE;
    for (unsigned p = 0; p < pages && p < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; p++)
        ind->indirect_grefs[p] = hx_frame_ref(h, ind_frame + p, true);
    struct blkif_request_segment *seg = (void *)hx_frame(h, ind_frame);
    for (unsigned i = 0; i < nsegs; i++)
        seg[i] = (struct blkif_request_segment){
            .gref = hx_frame_ref(h, frame + i, ro), .first_sect = 0, .last_sect = 7 };
    return id;
}

int16_t hx_wait(struct hx *h, unsigned q, uint64_t id)
{
    hx_push(h, q);
    blkif_response_t rsp;
    if (hx_rsp(h, q, &rsp, 10000) < 0 || rsp.id != id)
        return 99;
    return rsp.status;
}
