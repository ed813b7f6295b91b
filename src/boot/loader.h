/* Kernel image loading: bzImage unwrapping, ELF parsing, Xen ELF notes, and
 * rewriting of direct vmcall/vmmcall hypercall sites. Pure logic: it touches
 * guest memory only through struct guest_mem, so it is unit-testable without KVM. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A view of guest-physical memory. at() returns a host pointer to [gpa, gpa+len)
 * or NULL when any byte of that range is not guest RAM. */
struct guest_mem {
    void *opaque;
    uint8_t *(*at)(void *opaque, uint64_t gpa, uint64_t len);
    /* Optional, for bulk loading: copy src to [gpa, gpa+len) / zero that range
     * without going through at()'s mapping (e.g. pwrite into the file behind
     * guest RAM, so that fresh pages are not faulted in one at a time).
     * Return 0, or -1 when the range is not RAM. NULL: memcpy/memset at at(). */
    int (*write)(void *opaque, uint64_t gpa, const void *src, uint64_t len);
    int (*zero)(void *opaque, uint64_t gpa, uint64_t len);
};

/* The port that hypercall traps write to: `out %eax, $XENKVM_HCALL_PORT`
 * (bytes E7 XENKVM_HCALL_PORT). The hypercall page stubs and rewritten
 * vmcall/vmmcall sites both use it. */
#define XENKVM_HCALL_PORT 0x5e

/* Largest image file accepted, and largest decompressed vmlinux. */
#define LOADER_MAX_IMAGE   (256u << 20)
#define LOADER_MAX_VMLINUX (512u << 20)

#define KERNEL_INFO_MAX_SITES 512

struct kernel_info {
    bool elf64;
    bool from_bzimage;
    char compression[8];           /* "none", "gzip", "xz", "lz4", "zstd", ... */
    uint32_t pvh_entry;            /* XEN_ELFNOTE_PHYS32_ENTRY (required) */
    bool has_hypercall_page_note;  /* XEN_ELFNOTE_HYPERCALL_PAGE present */
    uint64_t hypercall_page;       /* its value (a virtual address) */
    char guest_os[32];             /* XEN_ELFNOTE_GUEST_OS, "" if absent */
    uint64_t paddr_lo, paddr_hi;   /* guest-physical extent loaded [lo, hi) */
    unsigned rewritten_sites;      /* vmcall/vmmcall sites rewritten */
    /* Guest-physical addresses of the first KERNEL_INFO_MAX_SITES rewritten
     * sites, in load order (rewritten_sites may be larger). */
    uint64_t site_paddr[KERNEL_INFO_MAX_SITES];
};

/* Loads a kernel file image (ELF32/ELF64 vmlinux or bzImage wrapping one) into
 * guest memory at its physical addresses, then rewrites hypercall sites in its
 * executable segments. Returns 0, or -1 with err set to a one-line reason that
 * names what is wrong (e.g. "ELF program header 3: p_filesz exceeds file size").
 * Refuses an image with no PVH entry note, and an image with neither rewritable
 * hypercall sites nor a XEN_ELFNOTE_HYPERCALL_PAGE note. */
int kernel_load(const uint8_t *image, size_t len, const struct guest_mem *mem,
                struct kernel_info *info, char *err, size_t errlen);

/* If image is a bzImage, decompresses its payload into a new malloc'd buffer.
 * Returns 1 (found; *out and *outlen set; compression named in comp), 0 (not a
 * bzImage), or -1 with err set. */
int bzimage_extract(const uint8_t *image, size_t len, uint8_t **out, size_t *outlen,
                    char comp[8], char *err, size_t errlen);

/* Rewrites hypercall instruction sites in one executable region in place:
 * each accepted `vmcall` (0F 01 C1) or `vmmcall` (0F 01 D9) becomes
 * `out %eax, $XENKVM_HCALL_PORT; nop` (E7 5E 90). Bytes that only look like the
 * instruction (inside other instructions, data) are left alone, and so are
 * other hypervisors' (KVM, VMware, SEV) calls; the acceptance rule and the
 * real images it was derived from are described in rewrite.c. Returns the
 * number of sites rewritten; if sites != NULL, stores up to max_sites offsets. */
unsigned hcall_rewrite(uint8_t *code, size_t len, size_t *sites, unsigned max_sites);

/* hcall_rewrite for a region whose first byte is at guest address base: the
 * acceptance rule looks at 16-byte alignment of addresses, which kernel_load
 * takes from the segment's p_paddr. hcall_rewrite is this with base 0. */
unsigned hcall_rewrite_at(uint8_t *code, size_t len, uint64_t base, size_t *sites, unsigned max_sites);

/* The rule's decisions without the patching: calls site(opaque, offset) for
 * each site hcall_rewrite_at would rewrite, in order (each once the scan is
 * 16 bytes past it, so a caller patching code itself is safe), and returns
 * their number. hcall_patch rewrites one site's 3 bytes. */
unsigned hcall_scan(const uint8_t *code, size_t len, uint64_t base,
                    void (*site)(void *opaque, size_t off), void *opaque);
void hcall_patch(uint8_t *site);

/* One PT_LOAD program header of a validated ELF image. */
struct elf_segment {
    uint64_t offset, vaddr, paddr, filesz, memsz;
    uint32_t flags;  /* PF_X, PF_W, PF_R */
};

/* Validates an ELF32/ELF64 x86 image's headers and lists its non-empty
 * PT_LOAD segments (at most max). Returns the number of segments (which may
 * exceed max), or -1 with err set. Used by kernel_load and by tools that
 * compare loaded memory against the file. */
int elf_load_segments(const uint8_t *elf, size_t len, struct elf_segment *segs, unsigned max,
                      char *err, size_t errlen);
