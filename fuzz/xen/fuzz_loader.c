/* libFuzzer target: the kernel loader's public entry, kernel_load
 * (src/boot): the input is the kernel file, an ELF32/ELF64 vmlinux with its
 * Xen notes or a bzImage around one (gzip, xz, lz4, zstd payloads), loaded
 * into 4 MiB of guest RAM at guest-physical 0 through the bulk write and zero
 * callbacks the domain process uses. A bad image must be refused
 * with a message, a good one land wholly inside RAM with its PVH entry in its
 * file bytes; ASan/UBSan catch any access outside the image or RAM. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "boot/loader.h"

#define RAM_SIZE (4u << 20)

static uint8_t *ram;

static uint8_t *ram_at(void *opaque, uint64_t gpa, uint64_t len)
{
    (void)opaque;
    return gpa <= RAM_SIZE && len <= RAM_SIZE - gpa ? ram + gpa : NULL;
}

/* The bulk callbacks, as the domain process gives them (there a pwrite into
 * the memfd and a hole punched in it): the loader's ram_put path. */
static int ram_write(void *opaque, uint64_t gpa, const void *src, uint64_t len)
{
    uint8_t *p = ram_at(opaque, gpa, len);
    if (!p)
        return -1;
    memcpy(p, src, len);
    return 0;
}

static int ram_zero(void *opaque, uint64_t gpa, uint64_t len)
{
    uint8_t *p = ram_at(opaque, gpa, len);
    if (!p)
        return -1;
    memset(p, 0, len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ram) {
        ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (ram == MAP_FAILED)
            abort();
    }
    /* The image in a buffer of its own size: a read past its end is caught. */
    uint8_t *image = malloc(size ? size : 1);
    memcpy(image, data, size);
    struct guest_mem mem = { .at = ram_at, .write = ram_write, .zero = ram_zero };
    static struct kernel_info info;
    char err[256] = "";
    int rc = kernel_load(image, size, &mem, &info, err, sizeof(err));
    if (rc == 0) {
        if (info.paddr_lo > info.paddr_hi || info.paddr_hi > RAM_SIZE)
            abort();
        if (info.pvh_entry < info.paddr_lo || info.pvh_entry >= info.paddr_hi)
            abort();
        for (unsigned i = 0; i < info.rewritten_sites && i < KERNEL_INFO_MAX_SITES; i++)
            if (info.site_paddr[i] < info.paddr_lo || info.site_paddr[i] + 3 > info.paddr_hi)
                abort();
    } else if (rc != -1 || !err[0] || !memchr(err, 0, sizeof(err))) {
        abort();      /* a refusal is -1 with its reason */
    }
    free(image);
    return 0;
}
