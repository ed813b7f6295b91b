/* Copying an image's bytes into guest RAM, leaving its all-zero pages as
 * holes. A Linux vmlinux's segments are about a third zeros (.bss, .brk and
 * padding inside the file: 16 of 45 MiB for Debian's cloud kernel): written
 * out, each such page costs the host a page allocation and a copy now; as a
 * hole of the memfd behind guest RAM it reads as zeros all the same and is
 * allocated only if the guest writes it. */
#include "boot/stream.h"

#include <string.h>

#define PAGE 4096u

static bool zero_page(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof(w));
    return !w && !memcmp(p, p + sizeof(w), PAGE - sizeof(w));  /* each byte equals the one 8 before */
}

static int put_run(const struct guest_mem *mem, uint64_t gpa, const uint8_t *src, uint64_t len, bool zero)
{
    return zero ? mem->zero(mem->opaque, gpa, len) : mem->write(mem->opaque, gpa, src, len);
}

int ram_put(const struct guest_mem *mem, uint64_t gpa, const uint8_t *src, uint64_t len)
{
    uint64_t run = 0;
    bool run_zero = false;
    for (uint64_t pos = 0; pos < len; ) {
        uint64_t n = PAGE - ((gpa + pos) & (PAGE - 1));
        if (n > len - pos)
            n = len - pos;
        bool z = n == PAGE && zero_page(src + pos);
        if (pos == run) {
            run_zero = z;
        } else if (z != run_zero) {
            if (put_run(mem, gpa + run, src + run, pos - run, run_zero) < 0)
                return -1;
            run = pos;
            run_zero = z;
        }
        pos += n;
    }
    return len > run ? put_run(mem, gpa + run, src + run, len - run, run_zero) : 0;
}
