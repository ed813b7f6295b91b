/* inspect-image: loads a kernel image into a fake guest RAM with kernel_load
 * and prints what happened, one JSON object per line, for
 * tests/test_boot_images.py:
 *   {"info": {...kernel_info...}}
 *   {"segment": {"vaddr": V, "paddr": P, "filesz": F, "memsz": M, "flags": X}}
 *   {"site": PADDR, "old": HEX, "new": HEX}  each rewritten site, its 3 bytes
 *                                         in the file and in RAM
 *   {"changed": PADDR, "len": N}          each run of RAM bytes that differ
 *                                         from the ELF file's segment contents
 *   {"error": "..."}                      (exit status 1)
 * Usage: inspect-image IMAGE [RAM_MIB]   (fake RAM at gpa 0, default 1024 MiB) */
#include "boot/loader.h"
#include "kvm/vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Fake RAM as xenkvm's: a memfd region of a struct vm (no /dev/kvm needed),
 * loaded through vm_write_ram/vm_zero_ram as the domain process does. */
struct ram {
    uint8_t *base;
    uint64_t size;
    struct vm vm;
};

static uint8_t *ram_at(void *opaque, uint64_t gpa, uint64_t len)
{
    struct ram *r = opaque;
    if (gpa > r->size || len > r->size - gpa)
        return NULL;
    return r->base + gpa;
}

static int ram_write(void *opaque, uint64_t gpa, const void *src, uint64_t len)
{
    return vm_write_ram(&((struct ram *)opaque)->vm, gpa, src, len) < 0 ? -1 : 0;
}

static int ram_zero(void *opaque, uint64_t gpa, uint64_t len)
{
    return vm_zero_ram(&((struct ram *)opaque)->vm, gpa, len) < 0 ? -1 : 0;
}

static void print_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static int fail(const char *msg)
{
    printf("{\"error\": ");
    print_str(msg);
    printf("}\n");
    return 1;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            if (cap > LOADER_MAX_IMAGE)
                break;  /* kernel_load will reject it */
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *len = n;
    return buf;
}

static void print_info(const struct kernel_info *ki)
{
    printf("{\"info\": {\"compression\": ");
    print_str(ki->compression);
    printf(", \"from_bzimage\": %s, \"elf64\": %s, \"pvh_entry\": %u, \"hypercall_page_note\": %s, "
           "\"hypercall_page\": %llu, \"guest_os\": ",
           ki->from_bzimage ? "true" : "false", ki->elf64 ? "true" : "false", ki->pvh_entry,
           ki->has_hypercall_page_note ? "true" : "false", (unsigned long long)ki->hypercall_page);
    print_str(ki->guest_os);
    printf(", \"paddr_lo\": %llu, \"paddr_hi\": %llu, \"rewritten_sites\": %u}}\n",
           (unsigned long long)ki->paddr_lo, (unsigned long long)ki->paddr_hi, ki->rewritten_sites);
}

/* Prints each run of bytes where RAM differs from want (NULL: zeroes). */
static void print_changes(const uint8_t *ram, const uint8_t *want, uint64_t paddr, uint64_t n)
{
    uint64_t i = 0;
    while (i < n) {
        if (want ? ram[i] == want[i] : ram[i] == 0) {
            i++;
            continue;
        }
        uint64_t start = i;
        while (i < n && (want ? ram[i] != want[i] : ram[i] != 0))
            i++;
        printf("{\"changed\": %llu, \"len\": %llu}\n", (unsigned long long)(paddr + start),
               (unsigned long long)(i - start));
    }
}

/* A site with its bytes in the file and in RAM. */
static void print_site(uint64_t paddr, const struct ram *r, const uint8_t *elf,
                       const struct elf_segment *segs, int n)
{
    printf("{\"site\": %llu, \"old\": \"", (unsigned long long)paddr);
    for (int i = 0; i < n; i++)
        if (paddr >= segs[i].paddr && paddr - segs[i].paddr + 3 <= segs[i].filesz)
            for (int k = 0; k < 3; k++)
                printf("%02x", elf[segs[i].offset + paddr - segs[i].paddr + k]);
    printf("\", \"new\": \"");
    for (int k = 0; k < 3; k++)
        printf("%02x", r->base[paddr + k]);
    printf("\"}\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s IMAGE [RAM_MIB]\n", argv[0]);
        return 2;
    }
    static struct ram r;
    r.size = (argc == 3 ? strtoull(argv[2], NULL, 0) : 1024) << 20;
    r.vm.mem_fd = memfd_create("inspect-image", MFD_CLOEXEC);
    if (r.vm.mem_fd < 0 || ftruncate(r.vm.mem_fd, (off_t)r.size) < 0)
        return fail("cannot create fake guest RAM");
    r.base = mmap(NULL, r.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, r.vm.mem_fd, 0);
    if (r.base == MAP_FAILED)
        return fail("cannot map fake guest RAM");
    r.vm.regions[0] = (struct mem_region){ .gpa = 0, .size = r.size, .host = r.base, .ram = true };
    r.vm.nr_regions = 1;
    size_t len;
    uint8_t *img = read_file(argv[1], &len);
    if (!img)
        return fail("cannot read image");

    /* The ELF that is loaded, to compare RAM against. */
    char err[512];
    uint8_t *elf = img, *vmlinux = NULL;
    size_t elflen = len, vlen;
    char comp[8];
    if (bzimage_extract(img, len, &vmlinux, &vlen, comp, err, sizeof(err)) == 1)
        elf = vmlinux, elflen = vlen;
    struct elf_segment segs[64];
    int n = elf_load_segments(elf, elflen, segs, 64, err, sizeof(err));
    if (n < 0 || n > 64)
        return fail(n < 0 ? err : "too many segments");
    /* Junk where the segments go: the loader must overwrite all of it, bss too. */
    for (int i = 0; i < n; i++)
        if (segs[i].paddr < r.size && segs[i].memsz <= r.size - segs[i].paddr)
            memset(r.base + segs[i].paddr, 0xa5, segs[i].memsz);

    struct guest_mem mem = { .opaque = &r, .at = ram_at, .write = ram_write, .zero = ram_zero };
    static struct kernel_info ki;
    if (kernel_load(img, len, &mem, &ki, err, sizeof(err)))
        return fail(err);
    print_info(&ki);
    for (int i = 0; i < n; i++) {
        const struct elf_segment *s = &segs[i];
        printf("{\"segment\": {\"vaddr\": %llu, \"paddr\": %llu, \"filesz\": %llu, \"memsz\": %llu, "
               "\"flags\": %u}}\n", (unsigned long long)s->vaddr, (unsigned long long)s->paddr,
               (unsigned long long)s->filesz, (unsigned long long)s->memsz, s->flags);
    }
    unsigned shown = ki.rewritten_sites < KERNEL_INFO_MAX_SITES ? ki.rewritten_sites : KERNEL_INFO_MAX_SITES;
    for (unsigned i = 0; i < shown; i++)
        print_site(ki.site_paddr[i], &r, elf, segs, n);
    for (int i = 0; i < n; i++) {
        const struct elf_segment *s = &segs[i];
        print_changes(r.base + s->paddr, elf + s->offset, s->paddr, s->filesz);
        print_changes(r.base + s->paddr + s->filesz, NULL, s->paddr + s->filesz, s->memsz - s->filesz);
    }
    free(vmlinux);
    free(img);
    munmap(r.base, r.size);
    close(r.vm.mem_fd);
    return 0;
}
