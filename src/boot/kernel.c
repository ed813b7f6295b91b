/* kernel_load: a kernel file (an ELF vmlinux, or a bzImage wrapping one) into
 * guest RAM. A bzImage's vmlinux is placed while it is decompressed where its
 * payload allows (stream.c), otherwise once it is whole (elf.c): the guest
 * memory, the sites rewritten and the errors are the same either way. */
#include "boot/loader.h"
#include "boot/seterr.h"
#include "boot/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load_elf(const uint8_t *img, size_t len, const struct guest_mem *mem,
                    struct kernel_info *info, char *err, size_t errlen)
{
    if (elf_prepare(img, len, info, err, errlen))
        return -1;
    return elf_place(img, len, mem, info, err, errlen);
}

int kernel_load(const uint8_t *image, size_t len, const struct guest_mem *mem,
                struct kernel_info *info, char *err, size_t errlen)
{
    memset(info, 0, sizeof(*info));
    if (!image || !mem || !mem->at) {
        boot_seterr(err, errlen, "kernel_load: no image or no guest memory");
        return -1;
    }
    if (len > LOADER_MAX_IMAGE) {
        boot_seterr(err, errlen, "image is %zu bytes, larger than the %u MiB limit", len, LOADER_MAX_IMAGE >> 20);
        return -1;
    }
    uint8_t *vmlinux = NULL;
    size_t vlen = 0;
    struct stream st;
    struct chunk_sink sink;
    stream_init(&st, mem, &sink);
    int bz = bzimage_extract_to(image, len, &vmlinux, &vlen, info->compression, err, errlen, &sink);
    bool streamed = bz == 2 && stream_finish(&st, info);
    stream_free(&st);
    if (streamed) {
        info->from_bzimage = true;
        return 0;
    }
    if (bz == 2) {
        /* Whatever the stream did not settle goes the whole way, which
         * places every segment again and alone gives the errors. */
        char comp[8];
        memcpy(comp, info->compression, sizeof(comp));
        memset(info, 0, sizeof(*info));
        memcpy(info->compression, comp, sizeof(comp));
        bz = bzimage_extract(image, len, &vmlinux, &vlen, info->compression, err, errlen);
    }
    if (bz < 0)
        return -1;
    if (bz == 0) {
        snprintf(info->compression, sizeof(info->compression), "none");
        return load_elf(image, len, mem, info, err, errlen);
    }
    info->from_bzimage = true;
    int rc = load_elf(vmlinux, vlen, mem, info, err, errlen);
    free(vmlinux);
    if (rc < 0 && err && errlen) {
        char why[256];
        snprintf(why, sizeof(why), "%s", err);
        boot_seterr(err, errlen, "bzImage's %s-compressed vmlinux: %s", info->compression, why);
    }
    return rc;
}
