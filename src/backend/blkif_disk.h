/* A disk image behind blkback, and the interface its I/O goes through. Two
 * implementations, one per kind of disk, so the ring core does not care:
 *  - blkif_file.c: a raw file or host block device, io_uring on the file.
 *    Requests whose buffers and offset meet the O_DIRECT alignment go to an
 *    O_DIRECT descriptor; others (and every request when O_DIRECT is refused,
 *    e.g. on some filesystems) go to a buffered descriptor of the same file.
 *  - blkif_nbd.c: an image format QEMU's block layer opens (qcow2, vhd, ...):
 *    a qemu-storage-daemon of the disk's own exports it over NBD on a unix
 *    socket, and the requests go there through libnbd's asynchronous API. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

enum blk_io_op { BLK_IO_READ, BLK_IO_WRITE, BLK_IO_DISCARD, BLK_IO_FLUSH };

/* One request as a disk implementation sees it, built by the ring core from
 * a checked request over the mapped grant pages. */
struct blk_io {
    uint8_t op;                 /* enum blk_io_op */
    bool flush;                 /* WRITE: then a flush of the whole disk */
    bool drain;                 /* start after every earlier request of the queue has
                                 * completed; later ones start after this one */
    uint64_t off, len;          /* bytes (READ/WRITE/DISCARD) */
    const struct iovec *iov;    /* READ/WRITE: the guest's pages */
    int iovcnt;
    int16_t status;             /* BLKIF_RSP_*: OKAY on entry, the implementation
                                 * sets the error it met */
    /* the implementation's bookkeeping */
    unsigned pending;
    uint64_t expect;
    struct blk_io *next;
    void *owner;
    void *bounce;
};

struct blk_disk;
struct blk_ioq;                 /* one queue's I/O context, the implementation's */
typedef void blk_io_done_fn(struct blk_io *io, void *arg);

struct blk_disk_ops {
    const char *name;
    /* Opens queue idx's context for up to depth requests in flight; each
     * finished request is handed to done(io, arg) on the queue's thread. */
    int (*ioq_open)(struct blk_disk *d, unsigned idx, unsigned depth, blk_io_done_fn *done,
                    void *arg, struct blk_ioq **out, char *err, size_t errlen);
    /* Takes io; done is called exactly once for it, possibly before submit
     * returns (a request that cannot be started). */
    void (*submit)(struct blk_ioq *q, struct blk_io *io);
    /* Sends what submit queued (the end of a batch). */
    void (*commit)(struct blk_ioq *q);
    /* The fd and poll(2) events that mean completions may be ready (fd -1:
     * nothing to wait on). Asked before each wait: the events may change. */
    int (*poll_fd)(struct blk_ioq *q, short *events);
    /* Runs the completions that revents (from polling poll_fd) made ready;
     * with block, first waits until at least one request completes. Returns
     * -1 when waiting is impossible (nothing can complete any more). */
    int (*reap)(struct blk_ioq *q, short revents, bool block);
    /* Nothing in flight any more. */
    void (*ioq_close)(struct blk_ioq *q);
    void (*close)(struct blk_disk *d);
};

struct blk_disk {
    const struct blk_disk_ops *ops;
    bool readonly;
    bool is_bdev;
    dev_t rdev;                 /* block device number (is_bdev) */
    uint64_t sectors;           /* size in 512-byte sectors (rounded down) */
    unsigned sector_size;       /* logical sector size */
    unsigned physical_sector_size;
    bool discard;               /* discarding is worth offering */
    unsigned discard_granularity;
    char path[256];
    /* raw files (blkif_file.c) */
    int fd;                     /* buffered */
    int fd_direct;              /* O_DIRECT, or -1 */
    unsigned dio_align;         /* buffer/offset/length alignment for fd_direct */
    /* images through qemu-storage-daemon (blkif_nbd.c) */
    struct blk_nbd *nbd;
};

/* Opens path as a raw file or block device (read-only if readonly).
 * Returns 0 or -errno with a message in err. */
int blk_disk_open(struct blk_disk *d, const char *path, bool readonly, char *err, size_t errlen);
/* Opens path as an image of format ("qcow2", "vhd", "qcow", "qed", "vmdk",
 * "raw" or any other QEMU block driver's name) served by a
 * qemu-storage-daemon started for it. Errors (no
 * such file, locked by another process, not in that format, no storage
 * daemon) come back here, with the storage daemon's own words in err. */
int blk_disk_open_image(struct blk_disk *d, const char *path, const char *format, bool readonly,
                        char *err, size_t errlen);

/* The pid of the disk's qemu-storage-daemon, or 0 (a raw file). */
pid_t blk_disk_helper_pid(const struct blk_disk *d);

static inline void blk_disk_close(struct blk_disk *d)
{
    if (d->ops)
        d->ops->close(d);
}
