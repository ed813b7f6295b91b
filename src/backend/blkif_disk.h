/* A disk image behind blkback: a raw file or a host block device. Requests
 * whose buffers and offset meet the O_DIRECT alignment go to an O_DIRECT
 * descriptor; others (and every request when O_DIRECT is refused, e.g. on
 * some filesystems) go to a buffered descriptor of the same file. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct blk_disk {
    int fd;                     /* buffered */
    int fd_direct;              /* O_DIRECT, or -1 */
    bool readonly;
    bool is_bdev;
    dev_t rdev;                 /* block device number (is_bdev) */
    uint64_t sectors;           /* size in 512-byte sectors (rounded down) */
    unsigned sector_size;       /* logical sector size */
    unsigned physical_sector_size;
    unsigned dio_align;         /* buffer/offset/length alignment for fd_direct */
    bool discard;               /* punching holes is worth offering */
    unsigned discard_granularity;
    char path[256];
};

/* Opens path (read-only if readonly). Returns 0 or -errno with a message in err. */
int blk_disk_open(struct blk_disk *d, const char *path, bool readonly, char *err, size_t errlen);
void blk_disk_close(struct blk_disk *d);
