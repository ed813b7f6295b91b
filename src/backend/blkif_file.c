/* A raw image or block device: opening it, learning its geometry, and each
 * queue's requests on an io_uring of its own, straight between the file and
 * the guest's pages. */
#include "backend/blkif_disk.h"
#include "backend/blkif_ring.h"
#include "common/log.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef STATX_DIOALIGN
#define STATX_DIOALIGN 0x00002000U
#endif

/* O_DIRECT alignment: statx's answer where the kernel gives one, else the
 * logical sector size (block devices) or 512, which every common filesystem
 * accepts when its device has 512-byte sectors. */
static unsigned dio_alignment(struct blk_disk *d)
{
    struct statx stx;
    if (statx(d->fd_direct, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
        (stx.stx_mask & STATX_DIOALIGN)) {
        if (!stx.stx_dio_offset_align)
            return 0;             /* no O_DIRECT on this file */
        unsigned a = stx.stx_dio_offset_align;
        if (stx.stx_dio_mem_align > a)
            a = stx.stx_dio_mem_align;
        return a;
    }
    return d->is_bdev ? d->sector_size : 512;
}

static const struct blk_disk_ops file_ops;
static void file_close(struct blk_disk *d);

int blk_disk_open(struct blk_disk *d, const char *path, bool readonly, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    d->ops = &file_ops;
    d->fd = d->fd_direct = -1;
    d->readonly = readonly;
    snprintf(d->path, sizeof(d->path), "%s", path);
    int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    struct stat pst;
    /* A block device is claimed exclusively, as Xen's blkback does: it fails
     * while mounted or in use by another exclusive opener. */
    bool bdev = stat(path, &pst) == 0 && S_ISBLK(pst.st_mode);
    d->fd = open(path, flags | (bdev ? O_EXCL : 0));
    if (d->fd < 0) {
        int e = errno;
        snprintf(err, errlen, "disk %s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(d->fd, &st) < 0) {
        int e = errno;
        snprintf(err, errlen, "disk %s: %s", path, strerror(e));
        file_close(d);
        return -e;
    }
    uint64_t bytes;
    d->sector_size = 512;
    d->physical_sector_size = 512;
    if (S_ISBLK(st.st_mode)) {
        d->is_bdev = true;
        d->rdev = st.st_rdev;
        int lss = 0;
        unsigned pss = 0;
        if (ioctl(d->fd, BLKGETSIZE64, &bytes) < 0) {
            int e = errno;
            snprintf(err, errlen, "disk %s: cannot read its size: %s", path, strerror(e));
            file_close(d);
            return -e;
        }
        if (ioctl(d->fd, BLKSSZGET, &lss) == 0 && lss >= 512)
            d->sector_size = lss;
        if (ioctl(d->fd, BLKPBSZGET, &pss) == 0 && pss >= 512)
            d->physical_sector_size = pss;
        d->discard_granularity = d->physical_sector_size;
    } else if (S_ISREG(st.st_mode)) {
        bytes = st.st_size;
        if (st.st_blksize >= 512 && st.st_blksize <= 65536)
            d->physical_sector_size = st.st_blksize;
        d->discard_granularity = st.st_blksize >= 512 ? st.st_blksize : 4096;
    } else {
        snprintf(err, errlen, "disk %s: not a regular file or block device", path);
        file_close(d);
        return -EINVAL;
    }
    d->sectors = bytes >> 9;
    if (d->physical_sector_size < d->sector_size)
        d->physical_sector_size = d->sector_size;
    d->discard = !readonly;
    d->fd_direct = open(path, flags | O_DIRECT);
    if (d->fd_direct >= 0) {
        d->dio_align = dio_alignment(d);
        if (!d->dio_align) {
            close(d->fd_direct);
            d->fd_direct = -1;
        }
    }
    return 0;
}

static void file_close(struct blk_disk *d)
{
    if (d->fd >= 0)
        close(d->fd);
    if (d->fd_direct >= 0)
        close(d->fd_direct);
    d->fd = d->fd_direct = -1;
}

/* ---- a queue's requests on io_uring ---- */

#define TAG_DATA 1ul           /* user_data low bit: the data SQE (expects len bytes) */

struct blk_ioq {
    struct blk_disk *disk;
    struct io_uring uring;
    bool uring_ready;
    int cq_fd;                   /* eventfd: io_uring has completions */
    blk_io_done_fn *done;
    void *arg;
};

static void file_ioq_close(struct blk_ioq *q)
{
    if (q->uring_ready)
        io_uring_queue_exit(&q->uring);
    if (q->cq_fd >= 0)
        close(q->cq_fd);
    free(q);
}

static int file_ioq_open(struct blk_disk *d, unsigned idx, unsigned depth, blk_io_done_fn *done,
                         void *arg, struct blk_ioq **out, char *err, size_t errlen)
{
    struct blk_ioq *q = calloc(1, sizeof(*q));
    if (!q) {
        snprintf(err, errlen, "queue %u: out of memory", idx);
        return -ENOMEM;
    }
    q->disk = d;
    q->done = done;
    q->arg = arg;
    q->cq_fd = -1;
    int rc = io_uring_queue_init(depth, &q->uring, 0);
    if (!rc) {
        q->uring_ready = true;
        q->cq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        rc = q->cq_fd < 0 ? -errno : io_uring_register_eventfd(&q->uring, q->cq_fd);
    }
    if (rc) {
        snprintf(err, errlen, "queue %u: io_uring: %s", idx, strerror(-rc));
        file_ioq_close(q);
        return rc;
    }
    *out = q;
    return 0;
}

static struct io_uring_sqe *get_sqe(struct blk_ioq *q)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&q->uring);
    if (!sqe) {
        io_uring_submit(&q->uring);
        sqe = io_uring_get_sqe(&q->uring);
    }
    return sqe;
}

static int pick_fd(struct blk_ioq *q, const struct iovec *iov, int n, uint64_t off)
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

static void fail_now(struct blk_ioq *q, struct blk_io *io)
{
    io->status = BLKIF_RSP_ERROR;
    if (!io->pending)        /* a data SQE already queued answers otherwise */
        q->done(io, q->arg);
}

/* Data (readv/writev), then a linked fdatasync for a flush; a barrier drains. */
static void file_submit(struct blk_ioq *q, struct blk_io *io)
{
    io->pending = 0;
    uint8_t drain = io->drain ? IOSQE_IO_DRAIN : 0;
    if (io_uring_sq_space_left(&q->uring) < 2)
        io_uring_submit(&q->uring);   /* a data+fsync link must not be split */
    if (io->op == BLK_IO_DISCARD) {
        struct io_uring_sqe *sqe = get_sqe(q);
        if (!sqe) {
            fail_now(q, io);
            return;
        }
        io_uring_prep_fallocate(sqe, q->disk->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                io->off, io->len);
        io_uring_sqe_set_data(sqe, io);
        io->pending = 1;
        return;
    }
    if (io->op == BLK_IO_READ || io->op == BLK_IO_WRITE) {
        struct io_uring_sqe *sqe = get_sqe(q);
        if (!sqe) {
            fail_now(q, io);
            return;
        }
        int fd = pick_fd(q, io->iov, io->iovcnt, io->off);
        if (io->op == BLK_IO_READ)
            io_uring_prep_readv(sqe, fd, io->iov, io->iovcnt, io->off);
        else
            io_uring_prep_writev(sqe, fd, io->iov, io->iovcnt, io->off);
        io->expect = io->len;
        io_uring_sqe_set_data64(sqe, (uintptr_t)io | TAG_DATA);
        io_uring_sqe_set_flags(sqe, drain | (io->flush ? IOSQE_IO_LINK : 0));
        drain = 0;
        io->pending = 1;
    }
    if (io->flush || io->op == BLK_IO_FLUSH) {
        struct io_uring_sqe *sqe = get_sqe(q);
        if (!sqe) {
            fail_now(q, io);
            return;
        }
        io_uring_prep_fsync(sqe, q->disk->fd, IORING_FSYNC_DATASYNC);
        io_uring_sqe_set_data(sqe, io);
        io_uring_sqe_set_flags(sqe, drain);
        io->pending++;
    }
}

static void file_commit(struct blk_ioq *q)
{
    io_uring_submit(&q->uring);
}

static int file_poll_fd(struct blk_ioq *q, short *events)
{
    *events = POLLIN;
    return q->cq_fd;
}

static void complete(struct blk_ioq *q, uint64_t data, int res)
{
    struct blk_io *io = (struct blk_io *)(uintptr_t)(data & ~TAG_DATA);
    bool ok = (data & TAG_DATA) ? res >= 0 && (uint64_t)res == io->expect : res == 0;
    if (!ok && io->status == BLKIF_RSP_OKAY)
        io->status = (io->op == BLK_IO_DISCARD && res == -EOPNOTSUPP) ? BLKIF_RSP_EOPNOTSUPP
                                                                      : BLKIF_RSP_ERROR;
    if (--io->pending == 0)
        q->done(io, q->arg);
}

static int file_reap(struct blk_ioq *q, short revents, bool block)
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
        if (!block || n)
            return 0;
        int rc = io_uring_wait_cqe(&q->uring, &cqe);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN) {
            log_err("blkback: %s: io_uring wait: %s", q->disk->path, strerror(-rc));
            return -1;
        }
        block = false;
    }
}

static const struct blk_disk_ops file_ops = {
    .name = "file", .ioq_open = file_ioq_open, .submit = file_submit, .commit = file_commit,
    .poll_fd = file_poll_fd, .reap = file_reap, .ioq_close = file_ioq_close, .close = file_close,
};
