/* Opening a raw image or block device and learning its geometry. */
#include "backend/blkif_disk.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
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

int blk_disk_open(struct blk_disk *d, const char *path, bool readonly, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
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
        blk_disk_close(d);
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
            blk_disk_close(d);
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
        blk_disk_close(d);
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

void blk_disk_close(struct blk_disk *d)
{
    if (d->fd >= 0)
        close(d->fd);
    if (d->fd_direct >= 0)
        close(d->fd_direct);
    d->fd = d->fd_direct = -1;
}
