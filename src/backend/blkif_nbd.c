/* Disk images in QEMU's formats (qcow2, vhd, ...): a qemu-storage-daemon of
 * the disk's own (storage_daemon.c) exports the image over NBD, and each
 * blkback queue talks to it on a connection of its own through libnbd's
 * asynchronous API, driven from the queue's worker thread (nbd_aio_get_fd /
 * nbd_aio_get_direction in its poll, nbd_aio_notify_read/write on events).
 *
 *  - Reads and writes: one NBD command per request, straight into / out of
 *    the guest's page when the request is one contiguous buffer; a request
 *    over several pages goes through a bounce buffer of the queue (a few,
 *    reused), or when none is free as one command per contiguous piece.
 *    Commands never exceed the server's advertised maximum block size.
 *  - Flush: NBD_CMD_FLUSH, answered only from the server's reply: QEMU
 *    replies once the format's metadata and the image file are flushed
 *    (fdatasync). A write with a flush (blkif's FLUSH_DISKCACHE or barrier
 *    with data) is the write, then a flush once the write has completed:
 *    blkif promises every earlier completed write durable too, which an NBD
 *    FUA write alone does not. The connections of one export share QEMU's
 *    block node, so a flush on one covers writes completed on the others.
 *  - Barrier (drain): held until every earlier request of the queue has
 *    completed; later requests wait until it has.
 *  - Discard: NBD_CMD_TRIM (QEMU unmaps the clusters), in pieces of 1 GiB.
 *  - A storage daemon that dies closes the sockets: libnbd fails every
 *    command in flight (each is answered BLKIF_RSP_ERROR), and every later
 *    one at once. No request hangs and none is answered OK.
 *
 * libnbd's completion callbacks only record results (no libnbd call may be
 * made from inside one); finished requests are handled after each call into
 * libnbd returns. */
#include "backend/blkif_disk.h"
#include "backend/blkif_ring.h"
#include "backend/nbd_lib.h"
#include "backend/storage_daemon.h"
#include "common/log.h"
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NBD_BOUNCE_BUFS 8
#define NBD_BOUNCE_SIZE ((size_t)BLK_MAX_INDIRECT_SEGS * BLK_PAGE_SIZE)   /* largest request */
#define NBD_TRIM_CHUNK (1ull << 30)
#define NBD_HANDSHAKE_MS 30000

struct blk_nbd {
    struct storage_daemon *sd;
    struct nbd_handle *h[BLK_MAX_QUEUES];    /* one connection per queue */
    uint64_t max_len;                        /* largest payload per command */
    bool can_flush, can_trim;
};

struct blk_ioq {
    struct blk_disk *disk;
    struct nbd_handle *h;
    unsigned idx;
    blk_io_done_fn *done;
    void *arg;
    unsigned inflight;                       /* started, not finished */
    struct blk_io *barrier;                  /* a drain request in flight */
    struct blk_io *held, **held_tail;        /* waiting behind a drain */
    struct blk_io *completed;                /* recorded by callbacks */
    bool in_release;
    bool dead_logged;
    char why[160];                           /* libnbd's words when a notify failed */
    void *bounce[NBD_BOUNCE_BUFS];
    unsigned nbounce;                        /* free ones in bounce[] */
};

/* io's bookkeeping here: pending = commands in flight + 1 while being
 * started; expect = 1 while the flush after a write is still to be sent;
 * next = held / completed lists; owner = the queue; bounce = its bounce
 * buffer. */

static const struct blk_disk_ops img_ops;
static const struct nbd_lib *L;      /* libnbd, loaded by the first blk_disk_open_image */

/* ---- commands ---- */

static void pend_done(struct blk_ioq *q, struct blk_io *io)
{
    if (--io->pending == 0) {
        io->next = q->completed;
        q->completed = io;
    }
}

static int cmd_done(void *user_data, int *error)
{
    struct blk_io *io = user_data;
    struct blk_ioq *q = io->owner;
    if (*error && io->status == BLKIF_RSP_OKAY)
        io->status = io->op == BLK_IO_DISCARD && (*error == ENOTSUP || *error == EOPNOTSUPP)
                         ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR;
    pend_done(q, io);
    return 1;                 /* retired: no nbd_aio_command_completed needed */
}

enum { CMD_READ, CMD_WRITE, CMD_FLUSH, CMD_TRIM };

/* One NBD command for io; a command libnbd refuses fails io at once. */
static void cmd(struct blk_ioq *q, struct blk_io *io, int what, void *buf, uint64_t len,
                uint64_t off)
{
    io->pending++;
    nbd_completion_callback cb = { .callback = cmd_done, .user_data = io };
    int64_t r;
    switch (what) {
    case CMD_READ:  r = L->nbd_aio_pread(q->h, buf, len, off, cb, 0); break;
    case CMD_WRITE: r = L->nbd_aio_pwrite(q->h, buf, len, off, cb, 0); break;
    case CMD_FLUSH: r = L->nbd_aio_flush(q->h, cb, 0); break;
    default:        r = L->nbd_aio_trim(q->h, len, off, cb, 0); break;
    }
    if (r < 0) {              /* not queued: the callback will not come */
        io->status = BLKIF_RSP_ERROR;
        pend_done(q, io);
    }
}

/* A buffer in pieces of at most the server's maximum block size. */
static void cmd_split(struct blk_ioq *q, struct blk_io *io, int what, uint8_t *buf, uint64_t len,
                      uint64_t off)
{
    uint64_t max = what == CMD_TRIM ? NBD_TRIM_CHUNK : q->disk->nbd->max_len;
    for (uint64_t done = 0; done < len && io->status == BLKIF_RSP_OKAY; ) {
        uint64_t n = len - done < max ? len - done : max;
        cmd(q, io, what, buf ? buf + done : NULL, n, off + done);
        done += n;
    }
}

static void start(struct blk_ioq *q, struct blk_io *io)
{
    q->inflight++;
    io->owner = q;
    if (io->drain)
        q->barrier = io;
    io->pending = 1;
    io->bounce = NULL;
    io->expect = io->op == BLK_IO_WRITE && io->flush;
    switch (io->op) {
    case BLK_IO_FLUSH:
        if (q->disk->nbd->can_flush)
            cmd(q, io, CMD_FLUSH, NULL, 0, 0);
        break;                /* (a read-only export that cannot: nothing to flush) */
    case BLK_IO_DISCARD:
        if (!q->disk->nbd->can_trim)
            io->status = BLKIF_RSP_EOPNOTSUPP;
        else
            cmd_split(q, io, CMD_TRIM, NULL, io->len, io->off);
        break;
    default: {
        int what = io->op == BLK_IO_READ ? CMD_READ : CMD_WRITE;
        if (io->iovcnt > 1 && q->nbounce && io->len <= NBD_BOUNCE_SIZE)
            io->bounce = q->bounce[--q->nbounce];
        if (io->iovcnt == 1) {
            cmd_split(q, io, what, io->iov[0].iov_base, io->len, io->off);
        } else if (io->bounce) {
            if (what == CMD_WRITE) {
                size_t at = 0;
                for (int i = 0; i < io->iovcnt; i++) {
                    memcpy((uint8_t *)io->bounce + at, io->iov[i].iov_base, io->iov[i].iov_len);
                    at += io->iov[i].iov_len;
                }
            }
            cmd_split(q, io, what, io->bounce, io->len, io->off);
        } else {
            uint64_t off = io->off;
            for (int i = 0; i < io->iovcnt && io->status == BLKIF_RSP_OKAY; i++) {
                cmd_split(q, io, what, io->iov[i].iov_base, io->iov[i].iov_len, off);
                off += io->iov[i].iov_len;
            }
        }
    }
    }
    pend_done(q, io);         /* the starter's own count */
}

static void release_held(struct blk_ioq *q);

/* A request whose commands have all completed: its flush, or its answer. */
static void finish(struct blk_ioq *q, struct blk_io *io)
{
    if (io->expect && io->status == BLKIF_RSP_OKAY) {
        io->expect = 0;       /* the write is done: now the flush */
        io->pending = 1;
        cmd(q, io, CMD_FLUSH, NULL, 0, 0);
        pend_done(q, io);
        return;
    }
    if (io->bounce) {
        if (io->op == BLK_IO_READ && io->status == BLKIF_RSP_OKAY) {
            size_t at = 0;
            for (int i = 0; i < io->iovcnt; i++) {
                memcpy(io->iov[i].iov_base, (uint8_t *)io->bounce + at, io->iov[i].iov_len);
                at += io->iov[i].iov_len;
            }
        }
        q->bounce[q->nbounce++] = io->bounce;
        io->bounce = NULL;
    }
    q->inflight--;
    if (q->barrier == io)
        q->barrier = NULL;
    q->done(io, q->arg);
}

/* Handles what the callbacks recorded, and starts requests that were
 * waiting behind a barrier once it allows. Iterative: starting a request
 * may complete others at once (a dead connection). */
static void process_completed(struct blk_ioq *q)
{
    if (q->in_release)
        return;
    q->in_release = true;
    for (;;) {
        if (q->completed) {
            struct blk_io *io = q->completed;
            q->completed = io->next;
            finish(q, io);
            continue;
        }
        release_held(q);
        if (!q->completed)
            break;
    }
    q->in_release = false;
}

static void release_held(struct blk_ioq *q)
{
    while (q->held && !q->barrier && !(q->held->drain && q->inflight)) {
        struct blk_io *io = q->held;
        q->held = io->next;
        if (!q->held)
            q->held_tail = &q->held;
        start(q, io);
    }
}

static void note_failure(struct blk_ioq *q, int rc)
{
    if (rc < 0 && !q->why[0])
        snprintf(q->why, sizeof(q->why), "%s", L->nbd_get_error() ? L->nbd_get_error() : "?");
}

static void note_dead(struct blk_ioq *q)
{
    if (!q->dead_logged && (L->nbd_aio_is_dead(q->h) || L->nbd_aio_is_closed(q->h))) {
        q->dead_logged = true;
        log_err("disk %s: queue %u: connection to the storage daemon lost (%s): requests "
                "fail from now on", q->disk->path, q->idx, q->why[0] ? q->why : "closed");
    }
}

/* ---- the queue interface ---- */

static void img_submit(struct blk_ioq *q, struct blk_io *io)
{
    if (q->held || q->barrier || (io->drain && q->inflight)) {
        io->next = NULL;
        *q->held_tail = io;
        q->held_tail = &io->next;
        return;
    }
    start(q, io);
    process_completed(q);
}

static void img_commit(struct blk_ioq *q)
{
    (void)q;                  /* libnbd sends at once, or on POLLOUT */
}

static int img_poll_fd(struct blk_ioq *q, short *events)
{
    unsigned dir = L->nbd_aio_get_direction(q->h);
    *events = ((dir & LIBNBD_AIO_DIRECTION_READ) ? POLLIN : 0) |
              ((dir & LIBNBD_AIO_DIRECTION_WRITE) ? POLLOUT : 0);
    return L->nbd_aio_get_fd(q->h);      /* -1 once the connection is gone */
}

static int img_reap(struct blk_ioq *q, short revents, bool block)
{
    bool stuck = false;
    if (block) {
        int rc = L->nbd_poll(q->h, -1);
        note_failure(q, rc);
        stuck = rc < 0;                      /* the connection is gone */
    } else {
        /* only on real readiness: a spurious notify_read makes libnbd stop
         * sending a write's payload to wait for a reply */
        if (revents & (POLLIN | POLLHUP | POLLERR))
            note_failure(q, L->nbd_aio_notify_read(q->h));
        if ((revents & POLLOUT) && !L->nbd_aio_is_dead(q->h))
            note_failure(q, L->nbd_aio_notify_write(q->h));
    }
    process_completed(q);
    note_dead(q);
    return stuck && q->inflight ? -1 : 0;
}

static int img_ioq_open(struct blk_disk *d, unsigned idx, unsigned depth, blk_io_done_fn *done,
                        void *arg, struct blk_ioq **out, char *err, size_t errlen)
{
    (void)depth;
    if (idx >= BLK_MAX_QUEUES || !d->nbd->h[idx]) {
        snprintf(err, errlen, "queue %u: no connection to the storage daemon", idx);
        return -EINVAL;
    }
    struct blk_ioq *q = calloc(1, sizeof(*q));
    if (!q) {
        snprintf(err, errlen, "queue %u: out of memory", idx);
        return -ENOMEM;
    }
    *q = (struct blk_ioq){ .disk = d, .h = d->nbd->h[idx], .idx = idx, .done = done, .arg = arg };
    q->held_tail = &q->held;
    for (; q->nbounce < NBD_BOUNCE_BUFS; q->nbounce++)
        if (!(q->bounce[q->nbounce] = malloc(NBD_BOUNCE_SIZE)))
            break;
    *out = q;
    return 0;
}

static void img_ioq_close(struct blk_ioq *q)
{
    for (unsigned i = 0; i < q->nbounce; i++)
        free(q->bounce[i]);
    free(q);
}

/* ---- opening: start the daemon, shake hands on every connection ---- */

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int handshake(struct blk_nbd *n, int *fds, char *err, size_t errlen)
{
    for (unsigned i = 0; i < BLK_MAX_QUEUES; i++) {
        struct nbd_handle *h = n->h[i] = L->nbd_create();
        if (!h || L->nbd_set_export_name(h, SD_EXPORT_NAME) < 0 ||
            L->nbd_set_pread_initialize(h, false) < 0 ||
            /* QEMU then reports a minimum block size of 1 and aligns
             * requests itself: 512-byte guest sectors on a 4 KiB host disk */
            L->nbd_set_request_block_size(h, false) < 0 ||
            L->nbd_aio_connect_socket(h, fds[i]) < 0) {
            snprintf(err, errlen, "libnbd: %s", L->nbd_get_error());
            for (unsigned j = i + 1; j < BLK_MAX_QUEUES; j++)
                close(fds[j]);
            return -1;
        }
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd pfd[BLK_MAX_QUEUES];
        struct nbd_handle *ph[BLK_MAX_QUEUES];
        unsigned np = 0;
        for (unsigned i = 0; i < BLK_MAX_QUEUES; i++) {
            struct nbd_handle *h = n->h[i];
            if (L->nbd_aio_is_ready(h))
                continue;
            if (L->nbd_aio_is_dead(h) || L->nbd_aio_is_closed(h)) {
                snprintf(err, errlen, "%s", L->nbd_get_error() ? L->nbd_get_error() : "connection closed");
                return -1;
            }
            unsigned dir = L->nbd_aio_get_direction(h);
            ph[np] = h;
            pfd[np++] = (struct pollfd){ .fd = L->nbd_aio_get_fd(h),
                .events = ((dir & LIBNBD_AIO_DIRECTION_READ) ? POLLIN : 0) |
                          ((dir & LIBNBD_AIO_DIRECTION_WRITE) ? POLLOUT : 0) };
        }
        if (!np)
            return 0;
        if (ms_since(&t0) > NBD_HANDSHAKE_MS) {
            snprintf(err, errlen, "the storage daemon did not answer in %d s",
                     NBD_HANDSHAKE_MS / 1000);
            return -1;
        }
        if (poll(pfd, np, 100) < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return -1;
        }
        for (unsigned i = 0; i < np; i++) {
            if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
                L->nbd_aio_notify_read(ph[i]);
            if (pfd[i].revents & POLLOUT)
                L->nbd_aio_notify_write(ph[i]);
        }
    }
}

static void close_nbd(struct blk_disk *d, bool quiet)
{
    struct blk_nbd *n = d->nbd;
    if (!n)
        return;
    for (unsigned i = 0; i < BLK_MAX_QUEUES; i++)
        if (n->h[i])
            L->nbd_close(n->h[i]);
    sd_stop(n->sd, quiet);
    free(n);
    d->nbd = NULL;
}

static void img_close_disk(struct blk_disk *d)
{
    close_nbd(d, false);
}

int blk_disk_open_image(struct blk_disk *d, const char *path, const char *format, bool readonly,
                        char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    d->ops = &img_ops;
    d->fd = d->fd_direct = -1;
    snprintf(d->path, sizeof(d->path), "%s", path);
    struct blk_nbd *n = d->nbd = calloc(1, sizeof(*n));
    if (!n) {
        snprintf(err, errlen, "disk %s: out of memory", path);
        return -ENOMEM;
    }
    int fds[BLK_MAX_QUEUES];
    char why[512];
    if (!(L = nbd_lib_load(why, sizeof(why)))) {
        snprintf(err, errlen, "disk %s (%s): %s", path, format, why);
        goto fail;
    }
    /* xl's name for Microsoft's VHD is QEMU's vpc driver */
    struct sd_image img = { .path = path, .driver = strcmp(format, "vhd") ? format : "vpc",
                            .readonly = readonly };
    n->sd = sd_start(&img, fds, BLK_MAX_QUEUES, why, sizeof(why));
    if (!n->sd) {
        snprintf(err, errlen, "disk %s (%s): %s", path, format, why);
        goto fail;
    }
    if (handshake(n, fds, why, sizeof(why)) < 0) {
        /* The daemon's own words say why (no such file, not in this format,
         * locked by another process); give it a moment to exit and say so. */
        struct timespec t0;
        char how[64] = "", said[512];
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (!sd_exited(n->sd, how, sizeof(how)) && ms_since(&t0) < 2000)
            nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
        sd_error(n->sd, said, sizeof(said));
        if (said[0])
            snprintf(err, errlen, "disk %s (%s): %s", path, format, said);
        else
            snprintf(err, errlen, "disk %s (%s): storage daemon%s%s: %s", path, format,
                     how[0] ? " ended with " : "", how, why);
        close_nbd(d, true);
        return -EIO;
    }
    struct nbd_handle *h = n->h[0];
    int64_t size = L->nbd_get_size(h);
    int64_t max = L->nbd_get_block_size(h, LIBNBD_SIZE_MAXIMUM);
    int64_t pref = L->nbd_get_block_size(h, LIBNBD_SIZE_PREFERRED);
    if (size < 0) {
        snprintf(err, errlen, "disk %s (%s): no size from the storage daemon: %s", path, format,
                 L->nbd_get_error());
        goto fail;
    }
    n->can_flush = L->nbd_can_flush(h) == 1;
    if (!readonly && !n->can_flush) {
        snprintf(err, errlen, "disk %s (%s): the storage daemon's export cannot flush", path, format);
        goto fail;
    }
    n->max_len = max >= 512 && max <= (32 << 20) ? (uint64_t)max : 32 << 20;
    n->can_trim = !readonly && L->nbd_can_trim(h) == 1;
    d->readonly = readonly || L->nbd_is_read_only(h) == 1;
    d->sectors = (uint64_t)size >> 9;
    d->sector_size = 512;
    d->physical_sector_size = pref >= 4096 && pref <= 65536 && !(pref & (pref - 1)) ? pref : 4096;
    d->discard = n->can_trim;
    d->discard_granularity = d->physical_sector_size;
    return 0;
fail:
    close_nbd(d, true);
    return -EIO;
}

pid_t blk_disk_helper_pid(const struct blk_disk *d)
{
    return d->nbd && d->nbd->sd ? sd_pid(d->nbd->sd) : 0;
}

static const struct blk_disk_ops img_ops = {
    .name = "nbd", .ioq_open = img_ioq_open, .submit = img_submit, .commit = img_commit,
    .poll_fd = img_poll_fd, .reap = img_reap, .ioq_close = img_ioq_close, .close = img_close_disk,
};
