/* Virtual disk names to Xen device numbers (xen-vbd-interface(7)):
 *   xvdX[N]: 202<<8 | disk<<4 | N  for disk < 16, N < 16,
 *            else (1<<28) | disk<<8 | N  for disk < 2^20, N < 256
 *   hdX[N]:  3<<8 (hda, hdb) or 22<<8 (hdc, hdd) | (disk&1)<<6 | N, N < 64
 *   sdX[N]:  8<<8 | disk<<4 | N  for disk < 16, N < 16
 *   dK[pN]:  as xvd with disk K
 * Disk letters count a..z, aa..az, ... (a=0, z=25, aa=26). */
#include "config/disk.h"
#include <limits.h>
#include <string.h>

#define XVD_EXT_DISKS (1 << 20)

/* Reads disk letters; returns the index or -1. */
static long letters(const char **p)
{
    long v = 0;
    const char *s = *p;
    if (*s < 'a' || *s > 'z')
        return -1;
    for (; *s >= 'a' && *s <= 'z'; s++) {
        v = v * 26 + (*s - 'a' + 1);
        if (v > XVD_EXT_DISKS)
            return -1;
    }
    *p = s;
    return v - 1;
}

/* Reads a decimal without leading zeros. A partition (empty_ok) may be ""
 * (whole disk, 0) but not "0". -1 if bad. */
static long number(const char *s, bool empty_ok)
{
    if (!*s)
        return empty_ok ? 0 : -1;
    if (*s == '0' && (s[1] || empty_ok))   /* "xvda0" is not a partition */
        return -1;
    long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
        if (v > INT_MAX)
            return -1;
    }
    return v;
}

static int xvd(long disk, long part)
{
    if (disk < 0 || part < 0)
        return -1;
    if (disk < 16 && part < 16)
        return (202 << 8) | (int)(disk << 4) | (int)part;
    if (disk < XVD_EXT_DISKS && part < 256)
        return (1 << 28) | (int)(disk << 8) | (int)part;
    return -1;
}

int disk_vdev_devid(const char *v)
{
    if (!v || !*v)
        return -1;
    if (*v >= '0' && *v <= '9')
        return (int)number(v, false);
    if (v[0] == 'd' && v[1] >= '0' && v[1] <= '9') {
        char buf[32];
        const char *p = strchr(v, 'p');
        size_t n = p ? (size_t)(p - v - 1) : strlen(v + 1);
        if (n >= sizeof(buf))
            return -1;
        memcpy(buf, v + 1, n);
        buf[n] = 0;
        return xvd(number(buf, false), p ? number(p + 1, false) : 0);
    }
    const char *p = v + 2;
    if (!strncmp(v, "xvd", 3)) {
        p = v + 3;
        long disk = letters(&p);
        return disk < 0 ? -1 : xvd(disk, number(p, true));
    }
    if (!strncmp(v, "hd", 2)) {
        long disk = letters(&p), part = disk < 0 ? -1 : number(p, true);
        if (disk < 0 || disk > 3 || part < 0 || part > 63)
            return -1;
        return ((disk < 2 ? 3 : 22) << 8) | (int)((disk & 1) << 6) | (int)part;
    }
    if (!strncmp(v, "sd", 2)) {
        long disk = letters(&p), part = disk < 0 ? -1 : number(p, true);
        if (disk < 0 || disk > 15 || part < 0 || part > 15)
            return -1;
        return (8 << 8) | (int)(disk << 4) | (int)part;
    }
    return -1;
}

const char *disk_vdev_bus(const char *vdev)
{
    if (!strncmp(vdev, "hd", 2))
        return "ide";
    if (!strncmp(vdev, "sd", 2))
        return "scsi";
    return "xen";
}
