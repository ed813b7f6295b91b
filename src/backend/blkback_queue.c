/* blkif ring processing. Requests are copied out of the shared ring before
 * any check; the guest's pages are reached only through the env's grant
 * mappings, each segment confined to its page by blk_check_segs; the disk's
 * implementation (blkif_disk.h) moves the data and says when it is done. */
#include "backend/blkback_queue.h"
#include "common/log.h"
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct blk_slot {
    struct blk_slot *next;       /* free list */
    struct blkq *q;
    uint64_t id;
    uint8_t op;
    int16_t status;
    struct blk_io io;            /* what the disk is doing for it */
    bool map_ro;
    unsigned nmapped;
    unsigned cap;                /* capacity of the arrays below */
    grant_ref_t *refs;
    void **pages;
    struct iovec *iov;
    struct blkif_request_segment *segs;
    grant_ref_t refs_i[BLKIF_MAX_SEGMENTS_PER_REQUEST];
    void *pages_i[BLKIF_MAX_SEGMENTS_PER_REQUEST];
    struct iovec iov_i[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} __attribute__((aligned(8)));

/* ---- responses ---- */

static void respond(struct blkq *q, uint64_t id, uint8_t op, int16_t status)
{
    if (q->abi32) {
        struct blkif_x86_32_response *r = RING_GET_RESPONSE(&q->ring32, q->ring.rsp_prod_pvt);
        r->id = id;
        r->operation = op;
        r->status = status;
    } else {
        blkif_response_t *r = RING_GET_RESPONSE(&q->ring, q->ring.rsp_prod_pvt);
        r->id = id;
        r->operation = op;
        r->status = status;
    }
    q->ring.rsp_prod_pvt++;
    atomic_fetch_add_explicit(&q->stats.requests, 1, memory_order_relaxed);
    if (status != BLKIF_RSP_OKAY)
        atomic_fetch_add_explicit(&q->stats.errors, 1, memory_order_relaxed);
    q->notify_pending = true;
}

static void push_responses(struct blkq *q)
{
    if (!q->notify_pending)
        return;
    q->notify_pending = false;
    int notify;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->ring, notify);
    if (notify)
        q->env->notify(q->env->opaque, q->idx);
}

/* ---- slots ---- */

static struct blk_slot *slot_get(struct blkq *q)
{
    struct blk_slot *s = q->free;
    if (s) {
        q->free = s->next;
        q->inflight++;
    }
    return s;
}

static void slot_finish(struct blk_slot *s)
{
    struct blkq *q = s->q;
    if (s->nmapped)
        q->env->unmap(q->env->opaque, s->refs, s->nmapped, s->map_ro);
    s->nmapped = 0;
    respond(q, s->id, s->op, s->status);
    s->next = q->free;
    q->free = s;
    q->inflight--;
}

/* Grows the slot's arrays to n entries (indirect requests). */
static bool slot_reserve(struct blk_slot *s, unsigned n)
{
    if (n <= s->cap)
        return true;
    grant_ref_t *refs = calloc(n, sizeof(*refs));
    void **pages = calloc(n, sizeof(*pages));
    struct iovec *iov = calloc(n, sizeof(*iov));
    struct blkif_request_segment *segs = calloc(n, sizeof(*segs));
    if (!refs || !pages || !iov || !segs) {
        free(refs); free(pages); free(iov); free(segs);
        return false;
    }
    if (s->refs != s->refs_i) {
        free(s->refs); free(s->pages); free(s->iov);
    }
    free(s->segs);
    s->refs = refs; s->pages = pages; s->iov = iov; s->segs = segs;
    s->cap = n;
    return true;
}

/* ---- submission ---- */

/* Fetches an indirect request's segments into s->segs. */
static int16_t fetch_indirect(struct blkq *q, struct blk_slot *s, struct blk_plan *p)
{
    void *pages[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    if (!slot_reserve(s, q->lim.max_indirect))
        return BLKIF_RSP_ERROR;
    if (q->env->map(q->env->opaque, p->indirect, p->nr_indirect, true, pages) != GNTST_okay)
        return BLKIF_RSP_ERROR;
    for (unsigned i = 0; i < p->nr_segs; i++) {
        const struct blkif_request_segment *src = pages[i / BLK_SEGS_PER_INDIRECT_PAGE];
        memcpy(&s->segs[i], &src[i % BLK_SEGS_PER_INDIRECT_PAGE], sizeof(s->segs[i]));
    }
    q->env->unmap(q->env->opaque, p->indirect, p->nr_indirect, true);
    return blk_check_segs(p, s->segs, p->nr_segs, &q->lim);
}

/* Maps the data pages and builds the iovec; returns the iovec count or -1. */
static int map_data(struct blkq *q, struct blk_slot *s, const struct blk_plan *p,
                    const struct blkif_request_segment *seg)
{
    for (unsigned i = 0; i < p->nr_segs; i++)
        s->refs[i] = seg[i].gref;
    s->map_ro = p->write;         /* a read fills guest pages: writable mapping */
    if (q->env->map(q->env->opaque, s->refs, p->nr_segs, s->map_ro, s->pages) != GNTST_okay)
        return -1;
    s->nmapped = p->nr_segs;
    int n = 0;
    for (unsigned i = 0; i < p->nr_segs; i++) {
        uint8_t *base = (uint8_t *)s->pages[i] + ((size_t)seg[i].first_sect << BLK_SECTOR_SHIFT);
        size_t len = (size_t)(seg[i].last_sect - seg[i].first_sect + 1) << BLK_SECTOR_SHIFT;
        if (n && (uint8_t *)s->iov[n - 1].iov_base + s->iov[n - 1].iov_len == base)
            s->iov[n - 1].iov_len += len;     /* contiguous with the previous one */
        else
            s->iov[n++] = (struct iovec){ base, len };
    }
    return n;
}

/* Hands a checked plan to the disk; the slot is finished (answered) from
 * io_done, or here when the request fails before reaching the disk. */
static void submit_plan(struct blkq *q, struct blk_slot *s, struct blk_plan *p)
{
    const struct blkif_request_segment *seg = p->seg;
    if (p->nr_indirect) {
        if ((s->status = fetch_indirect(q, s, p)) != BLKIF_RSP_OKAY) {
            slot_finish(s);
            return;
        }
        seg = s->segs;
    }
    struct blk_io *io = &s->io;
    *io = (struct blk_io){ .status = BLKIF_RSP_OKAY, .flush = p->flush, .drain = p->drain };
    if (p->discard) {
        io->op = BLK_IO_DISCARD;
        io->off = p->sector << BLK_SECTOR_SHIFT;
        io->len = p->nr_sectors << BLK_SECTOR_SHIFT;
    } else if (p->read || p->write) {
        int n = map_data(q, s, p, seg);
        if (n <= 0) {
            s->status = BLKIF_RSP_ERROR;
            slot_finish(s);
            return;
        }
        io->op = p->read ? BLK_IO_READ : BLK_IO_WRITE;
        io->iov = s->iov;
        io->iovcnt = n;
        io->off = p->sector << BLK_SECTOR_SHIFT;
        io->len = p->nr_sectors << BLK_SECTOR_SHIFT;
        atomic_fetch_add_explicit(&q->stats.bytes, io->len, memory_order_relaxed);
        atomic_fetch_add_explicit(p->read ? &q->stats.rd_reqs : &q->stats.wr_reqs, 1,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(p->read ? &q->stats.rd_sect : &q->stats.wr_sect,
                                  p->nr_sectors, memory_order_relaxed);
    } else {
        io->op = BLK_IO_FLUSH;
    }
    if (p->flush)
        atomic_fetch_add_explicit(&q->stats.flush_reqs, 1, memory_order_relaxed);
    q->disk->ops->submit(q->io, io);
}

static void take_request(struct blkq *q, const blkif_request_t *req)
{
    struct blk_plan plan;
    int16_t st = blk_parse(req, &q->lim, &plan);
    struct blk_slot *s = st == BLKIF_RSP_OKAY ? slot_get(q) : NULL;
    if (!s) {
        respond(q, plan.id, plan.rsp_op, st == BLKIF_RSP_OKAY ? BLKIF_RSP_ERROR : st);
        return;
    }
    s->id = plan.id;
    s->op = plan.rsp_op;
    s->status = BLKIF_RSP_OKAY;
    submit_plan(q, s, &plan);
}

static void stop_ring(struct blkq *q, RING_IDX prod)
{
    if (!q->broken)
        log_warn("blkback: queue %u: frontend produced impossible requests (req_prod %u, "
                 "rsp_prod %u, ring size %u); ring stopped", q->idx, prod,
                 q->ring.rsp_prod_pvt, RING_SIZE(&q->ring));
    q->broken = true;
}

void blkq_process(struct blkq *q)
{
    if (q->broken)
        return;
    for (;;) {
        RING_IDX prod = __atomic_load_n(&q->ring.sring->req_prod, __ATOMIC_ACQUIRE);
        if (RING_REQUEST_PROD_OVERFLOW(&q->ring, prod)) {
            stop_ring(q, prod);
            break;
        }
        RING_IDX cons = q->ring.req_cons;
        while (cons != prod && !RING_REQUEST_CONS_OVERFLOW(&q->ring, cons) && q->free) {
            blkif_request_t req;
            if (q->abi32) {
                struct blkif_x86_32_request req32;
                RING_COPY_REQUEST(&q->ring32, cons, &req32);
                blkif_x86_32_get_req(&req, &req32);
            } else {
                RING_COPY_REQUEST(&q->ring, cons, &req);
            }
            q->ring.req_cons = ++cons;
            take_request(q, &req);
        }
        if (cons != prod)
            break;                /* waiting for answers to free slots */
        int more;
        RING_FINAL_CHECK_FOR_REQUESTS(&q->ring, more);
        if (!more)
            break;
    }
    q->disk->ops->commit(q->io);
    push_responses(q);
}

/* ---- completion ---- */

static void io_done(struct blk_io *io, void *arg)
{
    struct blk_slot *s = (struct blk_slot *)((char *)io - offsetof(struct blk_slot, io));
    (void)arg;
    s->status = io->status;
    slot_finish(s);
}

void blkq_reap(struct blkq *q, bool wait)
{
    const struct blk_disk_ops *ops = q->disk->ops;
    ops->reap(q->io, 0, false);            /* what is ready without polling */
    while (wait && q->inflight)
        if (ops->reap(q->io, 0, true) < 0)
            break;
    push_responses(q);
}

int blkq_poll_fd(struct blkq *q, short *events)
{
    return q->disk->ops->poll_fd(q->io, events);
}

void blkq_ready(struct blkq *q, short revents)
{
    q->disk->ops->reap(q->io, revents, false);
    push_responses(q);
}

/* ---- set-up ---- */

int blkq_init(struct blkq *q, unsigned idx, const struct gnt_env *env, struct blk_disk *disk,
              const struct blk_limits *lim, const grant_ref_t *refs, unsigned nr_pages,
              bool abi32, char *err, size_t errlen)
{
    memset(q, 0, sizeof(*q));
    q->idx = idx;
    q->env = env;
    q->disk = disk;
    q->lim = *lim;
    if (!nr_pages || nr_pages > BLK_MAX_RING_PAGES || (nr_pages & (nr_pages - 1))) {
        snprintf(err, errlen, "queue %u: %u ring pages (a power of two up to %u)", idx,
                 nr_pages, BLK_MAX_RING_PAGES);
        return -EINVAL;
    }
    int16_t gst;
    q->sring = env->map_ring(env->opaque, refs, nr_pages, &gst);
    if (!q->sring) {
        snprintf(err, errlen, "queue %u: cannot map the ring (grant status %d)", idx, gst);
        return -EFAULT;
    }
    memcpy(q->ring_refs, refs, nr_pages * sizeof(*refs));
    q->nr_ring_pages = nr_pages;
    q->abi32 = abi32;
    if (abi32)
        BACK_RING_INIT(&q->ring32, (blkif_x86_32_sring_t *)q->sring, (size_t)nr_pages * BLK_PAGE_SIZE);
    else
        BACK_RING_INIT(&q->ring, (blkif_sring_t *)q->sring, (size_t)nr_pages * BLK_PAGE_SIZE);
    unsigned n = RING_SIZE(&q->ring);
    q->slots = calloc(n, sizeof(*q->slots));
    int rc = q->slots ? disk->ops->ioq_open(disk, idx, 2 * n, io_done, q, &q->io, err, errlen)
                      : -ENOMEM;
    if (rc) {
        if (!q->slots)
            snprintf(err, errlen, "queue %u: out of memory", idx);
        blkq_fini(q);
        return rc;
    }
    for (unsigned i = n; i-- > 0; ) {
        struct blk_slot *s = &q->slots[i];
        s->q = q;
        s->cap = BLKIF_MAX_SEGMENTS_PER_REQUEST;
        s->refs = s->refs_i;
        s->pages = s->pages_i;
        s->iov = s->iov_i;
        s->next = q->free;
        q->free = s;
    }
    return 0;
}

void blkq_fini(struct blkq *q)
{
    if (q->io) {
        blkq_reap(q, true);
        q->disk->ops->ioq_close(q->io);
        q->io = NULL;
    }
    if (q->slots) {
        unsigned n = RING_SIZE(&q->ring);
        for (unsigned i = 0; i < n; i++) {
            struct blk_slot *s = &q->slots[i];
            if (s->refs != s->refs_i) {
                free(s->refs); free(s->pages); free(s->iov);
            }
            free(s->segs);
        }
        free(q->slots);
        q->slots = NULL;
    }
    if (q->sring)
        q->env->unmap_ring(q->env->opaque, q->sring, q->ring_refs, q->nr_ring_pages);
    q->sring = NULL;
}
