/* blkif ring processing on io_uring. Requests are copied out of the shared
 * ring before any check; the guest's pages are reached only through the env's
 * grant mappings, each segment confined to its page by blk_check_segs. */
#include "backend/blkback_queue.h"
#include "common/log.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define TAG_DATA 1ul           /* user_data low bit: the data SQE (expects len bytes) */

struct blk_slot {
    struct blk_slot *next;       /* free list */
    struct blkq *q;
    uint64_t id;
    uint8_t op;
    int16_t status;
    unsigned pending;            /* CQEs still to come */
    uint64_t expect;             /* bytes the data SQE must move */
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

static struct io_uring_sqe *get_sqe(struct blkq *q)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&q->uring);
    if (!sqe) {
        io_uring_submit(&q->uring);
        sqe = io_uring_get_sqe(&q->uring);
    }
    return sqe;
}

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

static int pick_fd(struct blkq *q, const struct iovec *iov, int n, uint64_t off)
{
    struct blk_disk *d = q->disk;
    if (d->fd_direct < 0)
        return d->fd;
    uint64_t mask = d->dio_align - 1;
    if (off & mask)
        return d->fd;
    for (int i = 0; i < n; i++)
        if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) & mask)
            return d->fd;
    return d->fd_direct;
}

/* Queues the SQEs of a checked plan; returns false if nothing was queued. */
static bool submit_plan(struct blkq *q, struct blk_slot *s, struct blk_plan *p)
{
    const struct blkif_request_segment *seg = p->seg;
    if (p->nr_indirect) {
        if ((s->status = fetch_indirect(q, s, p)) != BLKIF_RSP_OKAY)
            return false;
        seg = s->segs;
    }
    uint8_t drain = p->drain ? IOSQE_IO_DRAIN : 0;
    if (io_uring_sq_space_left(&q->uring) < 2)
        io_uring_submit(&q->uring);   /* a data+fsync link must not be split */
    if (p->discard) {
        struct io_uring_sqe *sqe = get_sqe(q);
        if (!sqe)
            return s->status = BLKIF_RSP_ERROR, false;
        io_uring_prep_fallocate(sqe, q->disk->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                p->sector << BLK_SECTOR_SHIFT, p->nr_sectors << BLK_SECTOR_SHIFT);
        io_uring_sqe_set_data(sqe, s);
        s->pending = 1;
        return true;
    }
    if (p->read || p->write) {
        int n = map_data(q, s, p, seg);
        struct io_uring_sqe *sqe = n > 0 ? get_sqe(q) : NULL;
        if (!sqe)
            return s->status = BLKIF_RSP_ERROR, false;
        uint64_t off = p->sector << BLK_SECTOR_SHIFT;
        int fd = pick_fd(q, s->iov, n, off);
        if (p->read)
            io_uring_prep_readv(sqe, fd, s->iov, n, off);
        else
            io_uring_prep_writev(sqe, fd, s->iov, n, off);
        s->expect = p->nr_sectors << BLK_SECTOR_SHIFT;
        io_uring_sqe_set_data64(sqe, (uintptr_t)s | TAG_DATA);
        io_uring_sqe_set_flags(sqe, drain | (p->flush ? IOSQE_IO_LINK : 0));
        drain = 0;
        s->pending = 1;
        atomic_fetch_add_explicit(&q->stats.bytes, s->expect, memory_order_relaxed);
        atomic_fetch_add_explicit(p->read ? &q->stats.rd_reqs : &q->stats.wr_reqs, 1,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(p->read ? &q->stats.rd_sect : &q->stats.wr_sect,
                                  p->nr_sectors, memory_order_relaxed);
    }
    if (p->flush) {
        atomic_fetch_add_explicit(&q->stats.flush_reqs, 1, memory_order_relaxed);
        struct io_uring_sqe *sqe = get_sqe(q);
        if (!sqe)        /* the data SQE, if any, is queued: its CQE answers */
            return s->status = BLKIF_RSP_ERROR, s->pending > 0;
        io_uring_prep_fsync(sqe, q->disk->fd, IORING_FSYNC_DATASYNC);
        io_uring_sqe_set_data(sqe, s);
        io_uring_sqe_set_flags(sqe, drain);
        s->pending++;
    }
    return s->pending > 0;
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
    s->pending = 0;
    if (!submit_plan(q, s, &plan))
        slot_finish(s);
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
    io_uring_submit(&q->uring);
    push_responses(q);
}

/* ---- completion ---- */

static void complete(struct blkq *q, uint64_t data, int res)
{
    struct blk_slot *s = (struct blk_slot *)(uintptr_t)(data & ~TAG_DATA);
    bool ok = (data & TAG_DATA) ? res >= 0 && (uint64_t)res == s->expect : res == 0;
    if (!ok && s->status == BLKIF_RSP_OKAY)
        s->status = (s->op == BLKIF_OP_DISCARD && res == -EOPNOTSUPP) ? BLKIF_RSP_EOPNOTSUPP
                                                                      : BLKIF_RSP_ERROR;
    if (--s->pending == 0)
        slot_finish(s);
}

void blkq_reap(struct blkq *q, bool wait)
{
    uint64_t v;
    if (read(q->cq_fd, &v, sizeof(v)) < 0) { /* nothing signalled: fine */ }
    for (;;) {
        struct io_uring_cqe *cqe;
        unsigned head, n = 0;
        io_uring_for_each_cqe(&q->uring, head, cqe) {
            complete(q, cqe->user_data, cqe->res);
            n++;
        }
        io_uring_cq_advance(&q->uring, n);
        if (!wait || !q->inflight)
            break;
        if (n)
            continue;
        int rc = io_uring_wait_cqe(&q->uring, &cqe);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN) {
            log_err("blkback: queue %u: io_uring wait: %s", q->idx, strerror(-rc));
            break;
        }
    }
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
    q->cq_fd = -1;
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
    int rc = q->slots ? io_uring_queue_init(2 * n, &q->uring, 0) : -ENOMEM;
    if (!rc) {
        q->uring_ready = true;
        q->cq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        rc = q->cq_fd < 0 ? -errno : io_uring_register_eventfd(&q->uring, q->cq_fd);
    }
    if (rc) {
        snprintf(err, errlen, "queue %u: io_uring: %s", idx, strerror(-rc));
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
    if (q->uring_ready) {
        blkq_reap(q, true);
        io_uring_queue_exit(&q->uring);
        q->uring_ready = false;
    }
    if (q->cq_fd >= 0)
        close(q->cq_fd);
    q->cq_fd = -1;
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
