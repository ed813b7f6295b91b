/* A guest that boots from its own disk: Xen's pygrub (or another bootloader
 * speaking its interface) run as libxl runs it, on a pseudo-terminal, with
 *   BOOTLOADER [--kernel=K] [--ramdisk=R] [--args=CMDLINE] --output=FILE
 *     --output-format=simple0 --output-directory=DIR [bootloader_args...] DISK
 * It copies the kernel and ramdisk it chose out of the disk image into DIR and
 * writes "kernel PATH\0ramdisk PATH\0args CMDLINE\0" to FILE. */
#pragma once
#include <limits.h>
#include <stddef.h>

struct bootloader_req {
    const char *prog;             /* a path, or a name: DOMCFG_BOOTLOADER_DIR, then PATH */
    char *const *args;            /* bootloader_args */
    int nargs;
    const char *disk;             /* the boot disk (the first disk's target) */
    const char *kernel, *ramdisk, *cmdline;   /* passed on as --kernel= etc. if set */
    unsigned domid;
    int in_fd, out_fd;            /* the domain's console: the bootloader's menu (-1: none) */
};

struct bootloader_result {
    char *kernel, *ramdisk, *args;      /* malloc'd; ramdisk and args may be NULL */
    char dir[PATH_MAX];                 /* the output directory ("" once removed) */
    char out[PATH_MAX];                 /* the output file */
};

/* Runs the bootloader to its end. Returns 0 with res filled (the caller frees
 * it with bootloader_done once the kernel is loaded), or -1 with err naming
 * the bootloader and what went wrong (its last line of output, when it failed). */
int bootloader_run(const struct bootloader_req *req, struct bootloader_result *res, char *err,
                   size_t errlen);
/* Removes the files the bootloader left (kernel, ramdisk, output, directory)
 * and frees res's strings. */
void bootloader_done(struct bootloader_result *res);

/* Parses simple0 output (NUL-separated "kernel PATH", "ramdisk PATH", "args
 * LINE" items, as libxl reads them) into res's strings. Unknown items are
 * skipped. Returns 0, or -1 with err set (no kernel, an item too long). */
int bootloader_parse_simple0(const char *buf, size_t len, struct bootloader_result *res,
                             char *err, size_t errlen);
