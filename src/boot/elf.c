/* ELF kernel loading: header validation, Xen ELF notes, PT_LOAD placement at
 * physical addresses, then hypercall-site rewriting. The file is hostile:
 * every header field is checked against the file size (without overflow)
 * before it is used. */
#include "boot/loader.h"
#include "boot/seterr.h"
#include "boot/stream.h"

#include <elf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/elfnote.h>


/* [off, off+size) lies inside [0, len), computed without overflow. */
static bool in_file(uint64_t off, uint64_t size, uint64_t len)
{
    return off <= len && size <= len - off;
}

static uint64_t rd_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* The ELF header fields we use, class-independent. */
struct elf {
    const uint8_t *img;
    size_t len;
    bool is64;
    uint64_t phoff, shoff;
    unsigned phnum, phentsize, shnum, shentsize;
};

/* A program or section header, class-independent. */
struct hdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static int parse_ehdr(struct elf *e, const uint8_t *img, size_t len, char *err, size_t errlen)
{
    memset(e, 0, sizeof(*e));
    e->img = img;
    e->len = len;
    if (len < EI_NIDENT || memcmp(img, ELFMAG, SELFMAG)) {
        boot_seterr(err, errlen, "not an ELF file or bzImage (bad magic)");
        return -1;
    }
    if (img[EI_CLASS] != ELFCLASS32 && img[EI_CLASS] != ELFCLASS64) {
        boot_seterr(err, errlen, "ELF header: e_ident[EI_CLASS] = %u is neither ELFCLASS32 nor ELFCLASS64",
               img[EI_CLASS]);
        return -1;
    }
    if (img[EI_DATA] != ELFDATA2LSB) {
        boot_seterr(err, errlen, "ELF header: e_ident[EI_DATA] = %u, only little-endian is supported",
               img[EI_DATA]);
        return -1;
    }
    if (img[EI_VERSION] != EV_CURRENT) {
        boot_seterr(err, errlen, "ELF header: e_ident[EI_VERSION] = %u, expected 1", img[EI_VERSION]);
        return -1;
    }
    e->is64 = img[EI_CLASS] == ELFCLASS64;
    size_t ehsize = e->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    if (len < ehsize) {
        boot_seterr(err, errlen, "ELF header: file truncated (%zu bytes, header needs %zu)", len, ehsize);
        return -1;
    }
    uint16_t type, machine, ph_entsize, ph_num, sh_entsize, sh_num;
    if (e->is64) {
        Elf64_Ehdr h;
        memcpy(&h, img, sizeof(h));
        type = h.e_type, machine = h.e_machine, e->phoff = h.e_phoff, e->shoff = h.e_shoff;
        ph_entsize = h.e_phentsize, ph_num = h.e_phnum, sh_entsize = h.e_shentsize, sh_num = h.e_shnum;
    } else {
        Elf32_Ehdr h;
        memcpy(&h, img, sizeof(h));
        type = h.e_type, machine = h.e_machine, e->phoff = h.e_phoff, e->shoff = h.e_shoff;
        ph_entsize = h.e_phentsize, ph_num = h.e_phnum, sh_entsize = h.e_shentsize, sh_num = h.e_shnum;
    }
    /* Either x86 machine in either class, as Xen's loader for a PVH guest
     * (which never looks at e_machine): `objcopy -O elf32-x86-64` makes
     * ELF32 images of 64-bit code (XTF's hvm64 tests). Other machines cannot
     * run here and are refused by name. */
    if (machine != EM_X86_64 && machine != EM_386) {
        boot_seterr(err, errlen, "ELF header: e_machine = %u, expected EM_X86_64 (62) or EM_386 (3)",
               machine);
        return -1;
    }
    if (type != ET_EXEC && type != ET_DYN) {
        boot_seterr(err, errlen, "ELF header: e_type = %u, expected ET_EXEC or ET_DYN", type);
        return -1;
    }
    size_t phsize = e->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    if (ph_num == 0) {
        boot_seterr(err, errlen, "ELF header: e_phnum = 0, no program headers");
        return -1;
    }
    if (ph_num == PN_XNUM) {
        boot_seterr(err, errlen, "ELF header: e_phnum = PN_XNUM (extended numbering) is not supported");
        return -1;
    }
    if (ph_entsize < phsize) {
        boot_seterr(err, errlen, "ELF header: e_phentsize = %u, smaller than a program header (%zu)",
               ph_entsize, phsize);
        return -1;
    }
    if (!in_file(e->phoff, (uint64_t)ph_num * ph_entsize, len)) {
        boot_seterr(err, errlen, "ELF header: program header table (e_phoff %#" PRIx64 ", %u x %u bytes) "
               "extends past the end of the %zu-byte file", e->phoff, ph_num, ph_entsize, len);
        return -1;
    }
    e->phnum = ph_num;
    e->phentsize = ph_entsize;
    /* Section headers are optional: checked here, used only to find notes. */
    size_t shsize = e->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
    if (e->shoff != 0 && sh_num != 0) {
        if (sh_entsize < shsize) {
            boot_seterr(err, errlen, "ELF header: e_shentsize = %u, smaller than a section header (%zu)",
                   sh_entsize, shsize);
            return -1;
        }
        if (!in_file(e->shoff, (uint64_t)sh_num * sh_entsize, len)) {
            boot_seterr(err, errlen, "ELF header: section header table (e_shoff %#" PRIx64 ", %u x %u bytes) "
                   "extends past the end of the %zu-byte file", e->shoff, sh_num, sh_entsize, len);
            return -1;
        }
        e->shnum = sh_num;
        e->shentsize = sh_entsize;
    }
    return 0;
}

static void get_phdr(const struct elf *e, unsigned i, struct hdr *h)
{
    const uint8_t *p = e->img + e->phoff + (uint64_t)i * e->phentsize;
    if (e->is64) {
        Elf64_Phdr ph;
        memcpy(&ph, p, sizeof(ph));
        *h = (struct hdr){ ph.p_type, ph.p_flags, ph.p_offset, ph.p_vaddr, ph.p_paddr,
                           ph.p_filesz, ph.p_memsz, ph.p_align };
    } else {
        Elf32_Phdr ph;
        memcpy(&ph, p, sizeof(ph));
        *h = (struct hdr){ ph.p_type, ph.p_flags, ph.p_offset, ph.p_vaddr, ph.p_paddr,
                           ph.p_filesz, ph.p_memsz, ph.p_align };
    }
}

/* Section header, mapped onto struct hdr: type, offset, size (as filesz), addralign. */
static void get_shdr(const struct elf *e, unsigned i, struct hdr *h)
{
    const uint8_t *p = e->img + e->shoff + (uint64_t)i * e->shentsize;
    if (e->is64) {
        Elf64_Shdr sh;
        memcpy(&sh, p, sizeof(sh));
        *h = (struct hdr){ sh.sh_type, 0, sh.sh_offset, sh.sh_addr, sh.sh_addr, sh.sh_size,
                           sh.sh_size, sh.sh_addralign };
    } else {
        Elf32_Shdr sh;
        memcpy(&sh, p, sizeof(sh));
        *h = (struct hdr){ sh.sh_type, 0, sh.sh_offset, sh.sh_addr, sh.sh_addr, sh.sh_size,
                           sh.sh_size, sh.sh_addralign };
    }
}

/* Checks one program header; PT_LOAD and PT_NOTE must lie inside the file. */
static int check_phdr(const struct elf *e, unsigned i, const struct hdr *h, char *err, size_t errlen)
{
    if (h->type != PT_LOAD && h->type != PT_NOTE)
        return 0;
    const char *what = h->type == PT_LOAD ? "PT_LOAD" : "PT_NOTE";
    if (h->type == PT_LOAD && h->filesz > h->memsz) {
        boot_seterr(err, errlen, "ELF program header %u (%s): p_filesz %#" PRIx64 " exceeds p_memsz %#" PRIx64,
               i, what, h->filesz, h->memsz);
        return -1;
    }
    if (!in_file(h->offset, h->filesz, e->len)) {
        boot_seterr(err, errlen, "ELF program header %u (%s): p_offset %#" PRIx64 " + p_filesz %#" PRIx64
               " exceeds file size %#zx", i, what, h->offset, h->filesz, e->len);
        return -1;
    }
    if (h->type == PT_LOAD && h->paddr + h->memsz < h->paddr) {
        boot_seterr(err, errlen, "ELF program header %u (PT_LOAD): p_paddr %#" PRIx64 " + p_memsz %#" PRIx64
               " overflows", i, h->paddr, h->memsz);
        return -1;
    }
    return 0;
}

/* Rejects PT_LOAD segments whose physical ranges overlap: loading one would
 * overwrite another, and rewritten sites could be counted twice. */
static int check_overlap(const struct elf *e, char *err, size_t errlen)
{
    for (unsigned i = 0; i < e->phnum; i++) {
        struct hdr a;
        get_phdr(e, i, &a);
        if (a.type != PT_LOAD || a.memsz == 0)
            continue;
        for (unsigned j = 0; j < i; j++) {
            struct hdr b;
            get_phdr(e, j, &b);
            if (b.type != PT_LOAD || b.memsz == 0)
                continue;
            if (a.paddr < b.paddr + b.memsz && b.paddr < a.paddr + a.memsz) {
                boot_seterr(err, errlen, "ELF program header %u (PT_LOAD): physical range [%#" PRIx64 ", %#" PRIx64
                       ") overlaps program header %u", i, a.paddr, a.paddr + a.memsz, j);
                return -1;
            }
        }
    }
    return 0;
}

static int validate(struct elf *e, const uint8_t *img, size_t len, char *err, size_t errlen)
{
    if (parse_ehdr(e, img, len, err, errlen))
        return -1;
    for (unsigned i = 0; i < e->phnum; i++) {
        struct hdr h;
        get_phdr(e, i, &h);
        if (check_phdr(e, i, &h, err, errlen))
            return -1;
    }
    return check_overlap(e, err, errlen);
}

/* The program headers of one type (PT_LOAD: the non-empty ones in memory;
 * PT_NOTE: the non-empty ones in the file) of a valid image. */
static int list_segments(const uint8_t *img, size_t len, uint32_t type, struct elf_segment *segs,
                         unsigned max, char *err, size_t errlen)
{
    struct elf e;
    if (validate(&e, img, len, err, errlen))
        return -1;
    int n = 0;
    for (unsigned i = 0; i < e.phnum; i++) {
        struct hdr h;
        get_phdr(&e, i, &h);
        if (h.type != type || (type == PT_LOAD ? h.memsz : h.filesz) == 0)
            continue;
        if ((unsigned)n < max)
            segs[n] = (struct elf_segment){ h.offset, h.vaddr, h.paddr, h.filesz, h.memsz, h.flags };
        n++;
    }
    return n;
}

int elf_load_segments(const uint8_t *img, size_t len, struct elf_segment *segs, unsigned max,
                      char *err, size_t errlen)
{
    return list_segments(img, len, PT_LOAD, segs, max, err, errlen);
}

int elf_note_segments(const uint8_t *img, size_t len, struct elf_segment *notes, unsigned max)
{
    return list_segments(img, len, PT_NOTE, notes, max, NULL, 0);
}

/* ---- Xen ELF notes ---- */

struct xen_notes {
    bool any;                 /* some "Xen" note seen */
    bool has_entry;
    uint32_t entry;
    bool has_hpage;
    uint64_t hpage;
    char guest_os[32];
};

/* A numeric note value: 4 or 8 bytes, little-endian. */
static int note_number(const uint8_t *desc, uint32_t descsz, const char *name, const char *where,
                       uint64_t *v, char *err, size_t errlen)
{
    if (descsz != 4 && descsz != 8) {
        boot_seterr(err, errlen, "%s: %s note has %u-byte value (expected 4 or 8)", where, name, descsz);
        return -1;
    }
    *v = rd_le(desc, descsz);
    return 0;
}

static int xen_note(uint32_t type, const uint8_t *desc, uint32_t descsz, const char *where,
                    struct xen_notes *xn, char *err, size_t errlen)
{
    uint64_t v;
    xn->any = true;
    switch (type) {
    case XEN_ELFNOTE_PHYS32_ENTRY:
        if (note_number(desc, descsz, "XEN_ELFNOTE_PHYS32_ENTRY", where, &v, err, errlen))
            return -1;
        if (v > UINT32_MAX) {
            boot_seterr(err, errlen, "%s: XEN_ELFNOTE_PHYS32_ENTRY %#" PRIx64 " is above 4 GiB", where, v);
            return -1;
        }
        xn->has_entry = true;
        xn->entry = (uint32_t)v;
        break;
    case XEN_ELFNOTE_HYPERCALL_PAGE:
        if (note_number(desc, descsz, "XEN_ELFNOTE_HYPERCALL_PAGE", where, &v, err, errlen))
            return -1;
        xn->has_hpage = true;
        xn->hpage = v;
        break;
    case XEN_ELFNOTE_GUEST_OS: {
        /* A string; keep its printable prefix only. */
        size_t n = 0;
        while (n < descsz && n < sizeof(xn->guest_os) - 1 && desc[n] >= 0x20 && desc[n] < 0x7f) {
            xn->guest_os[n] = (char)desc[n];
            n++;
        }
        xn->guest_os[n] = 0;
        break;
    }
    default:
        break;
    }
    return 0;
}

/* Walks the notes in [off, off+size) of the file (already bounds-checked). */
static int parse_notes(const struct elf *e, uint64_t off, uint64_t size, uint64_t align,
                       const char *where, struct xen_notes *xn, char *err, size_t errlen)
{
    const uint8_t *p = e->img + off;
    uint64_t a = align == 8 ? 8 : 4;  /* Xen notes use 4; 8 only for 8-aligned note segments */
    uint64_t pos = 0;
    while (size - pos >= 12) {
        uint32_t namesz = (uint32_t)rd_le(p + pos, 4);
        uint32_t descsz = (uint32_t)rd_le(p + pos + 4, 4);
        uint32_t type = (uint32_t)rd_le(p + pos + 8, 4);
        uint64_t name_off = pos + 12;
        /* Name and descriptor each start aligned from the note's start (for 8:
         * header and name padded together, as GRUB's Xen images have them). */
        uint64_t desc_off = pos + ((12 + (uint64_t)namesz + a - 1) & ~(a - 1));
        uint64_t next = desc_off + ((descsz + a - 1) & ~(a - 1));
        if (desc_off > size || descsz > size - desc_off || namesz > size - name_off) {
            boot_seterr(err, errlen, "%s: malformed note at offset %#" PRIx64 " (name %u + desc %u bytes "
                   "run past the end)", where, pos, namesz, descsz);
            return -1;
        }
        if (namesz == 4 && !memcmp(p + name_off, "Xen", 4) &&
            xen_note(type, p + desc_off, descsz, where, xn, err, errlen))
            return -1;
        if (next > size)
            break;  /* last note's padding may be cut off */
        pos = next;
    }
    return 0;
}

static int notes_from_phdrs(const struct elf *e, struct xen_notes *xn, char *err, size_t errlen)
{
    for (unsigned i = 0; i < e->phnum; i++) {
        struct hdr h;
        get_phdr(e, i, &h);
        if (h.type != PT_NOTE)
            continue;
        char where[48];
        snprintf(where, sizeof(where), "ELF program header %u (PT_NOTE)", i);
        if (parse_notes(e, h.offset, h.filesz, h.align, where, xn, err, errlen))
            return -1;
    }
    return 0;
}

static int notes_from_shdrs(const struct elf *e, struct xen_notes *xn, char *err, size_t errlen)
{
    for (unsigned i = 0; i < e->shnum; i++) {
        struct hdr h;
        get_shdr(e, i, &h);
        if (h.type != SHT_NOTE)
            continue;
        char where[48];
        snprintf(where, sizeof(where), "ELF section header %u (SHT_NOTE)", i);
        if (!in_file(h.offset, h.filesz, e->len)) {
            boot_seterr(err, errlen, "%s: sh_offset %#" PRIx64 " + sh_size %#" PRIx64 " exceeds file size %#zx",
                   where, h.offset, h.filesz, e->len);
            return -1;
        }
        if (parse_notes(e, h.offset, h.filesz, h.align, where, xn, err, errlen))
            return -1;
    }
    return 0;
}

/* ---- loading ---- */

static bool entry_in_segment(const struct elf *e, uint32_t entry)
{
    for (unsigned i = 0; i < e->phnum; i++) {
        struct hdr h;
        get_phdr(e, i, &h);
        if (h.type == PT_LOAD && entry >= h.paddr && entry - h.paddr < h.filesz)
            return true;
    }
    return false;
}

static int load_segments(const struct elf *e, const struct guest_mem *mem, struct kernel_info *info,
                         char *err, size_t errlen)
{
    bool first = true;
    for (unsigned i = 0; i < e->phnum; i++) {
        struct hdr h;
        get_phdr(e, i, &h);
        if (h.type != PT_LOAD || h.memsz == 0)
            continue;
        uint8_t *dst = mem->at(mem->opaque, h.paddr, h.memsz);
        if (!dst) {
            boot_seterr(err, errlen, "ELF program header %u (PT_LOAD): physical range [%#" PRIx64 ", %#" PRIx64
                   ") does not fit in guest RAM", i, h.paddr, h.paddr + h.memsz);
            return -1;
        }
        if (mem->write && mem->zero) {
            if (ram_put(mem, h.paddr, e->img + h.offset, h.filesz) < 0 ||
                mem->zero(mem->opaque, h.paddr + h.filesz, h.memsz - h.filesz) < 0) {
                boot_seterr(err, errlen, "ELF program header %u (PT_LOAD): cannot write guest RAM at %#" PRIx64,
                       i, h.paddr);
                return -1;
            }
        } else {
            memcpy(dst, e->img + h.offset, h.filesz);
            memset(dst + h.filesz, 0, h.memsz - h.filesz);
        }
        if (first || h.paddr < info->paddr_lo)
            info->paddr_lo = h.paddr;
        if (first || h.paddr + h.memsz > info->paddr_hi)
            info->paddr_hi = h.paddr + h.memsz;
        first = false;
    }
    return 0;
}

struct site_ctx {
    const struct guest_mem *mem;
    struct kernel_info *info;
    uint64_t paddr;
    unsigned done, room;
};

static void patch_loaded(void *opaque, size_t off)
{
    struct site_ctx *c = opaque;
    uint8_t *p = c->mem->at(c->mem->opaque, c->paddr + off, 3);
    if (p)                       /* loaded above: always there */
        hcall_patch(p);
    if (c->done < c->room)
        c->info->site_paddr[c->info->rewritten_sites + c->done] = c->paddr + off;
    c->done++;
}

/* Rewrites hypercall sites in the loaded bytes of every executable segment.
 * Loaded segments never overlap (validate refuses that), so those bytes are
 * the file's: they are scanned there (already in this process's memory) and
 * only the sites are patched in guest RAM, which is not read back. */
static void rewrite_segments(const struct elf *e, const struct guest_mem *mem, struct kernel_info *info)
{
    for (unsigned i = 0; i < e->phnum; i++) {
        struct hdr h;
        get_phdr(e, i, &h);
        if (h.type != PT_LOAD || !(h.flags & PF_X) || h.filesz == 0)
            continue;
        unsigned done = info->rewritten_sites;
        unsigned room = done < KERNEL_INFO_MAX_SITES ? KERNEL_INFO_MAX_SITES - done : 0;
        struct site_ctx c = { mem, info, h.paddr, 0, room };
        info->rewritten_sites += hcall_scan(e->img + h.offset, h.filesz, h.paddr, patch_loaded, &c);
    }
}

/* elf_prepare; with shdr_notes false, an image whose PT_NOTE segments hold
 * no Xen note is refused instead of having its section headers read. */
static int prepare(const uint8_t *img, size_t len, bool shdr_notes, struct kernel_info *info,
                   char *err, size_t errlen)
{
    struct elf e;
    if (validate(&e, img, len, err, errlen))
        return -1;
    info->elf64 = e.is64;

    struct xen_notes xn = { 0 };
    if (notes_from_phdrs(&e, &xn, err, errlen))
        return -1;
    if (!xn.any && !shdr_notes) {
        boot_seterr(err, errlen, "no Xen note in the PT_NOTE segments");
        return -1;
    }
    if (!xn.any && notes_from_shdrs(&e, &xn, err, errlen))
        return -1;
    if (!xn.has_entry) {
        boot_seterr(err, errlen, "no XEN_ELFNOTE_PHYS32_ENTRY note: not a PVH kernel");
        return -1;
    }
    if (!entry_in_segment(&e, xn.entry)) {
        boot_seterr(err, errlen, "XEN_ELFNOTE_PHYS32_ENTRY %#x is not inside any PT_LOAD segment's file bytes",
               xn.entry);
        return -1;
    }
    info->pvh_entry = xn.entry;
    info->has_hypercall_page_note = xn.has_hpage;
    info->hypercall_page = xn.hpage;
    memcpy(info->guest_os, xn.guest_os, sizeof(info->guest_os));
    return 0;
}

int elf_prepare(const uint8_t *img, size_t len, struct kernel_info *info, char *err, size_t errlen)
{
    return prepare(img, len, true, info, err, errlen);
}

int elf_prepare_phdr_notes(const uint8_t *img, size_t len, struct kernel_info *info, char *err, size_t errlen)
{
    return prepare(img, len, false, info, err, errlen);
}

int elf_place(const uint8_t *img, size_t len, const struct guest_mem *mem, struct kernel_info *info,
              char *err, size_t errlen)
{
    struct elf e;
    if (validate(&e, img, len, err, errlen))
        return -1;
    if (load_segments(&e, mem, info, err, errlen))
        return -1;
    /* A kernel with no sites and no hypercall-page note is loaded too: it
     * installs the page at run time through the MSR that CPUID leaf base+2
     * names (Mini-OS, GRUB, XTF), as on Xen. */
    rewrite_segments(&e, mem, info);
    return 0;
}

size_t elf_headers_end(const uint8_t *img, size_t avail)
{
    if (avail < EI_NIDENT || memcmp(img, ELFMAG, SELFMAG))
        return 0;
    uint64_t phoff, phnum, phentsize, ehsize;
    if (img[EI_CLASS] == ELFCLASS64 && avail >= sizeof(Elf64_Ehdr)) {
        Elf64_Ehdr h;
        memcpy(&h, img, sizeof(h));
        phoff = h.e_phoff, phnum = h.e_phnum, phentsize = h.e_phentsize, ehsize = sizeof(h);
    } else if (img[EI_CLASS] == ELFCLASS32 && avail >= sizeof(Elf32_Ehdr)) {
        Elf32_Ehdr h;
        memcpy(&h, img, sizeof(h));
        phoff = h.e_phoff, phnum = h.e_phnum, phentsize = h.e_phentsize, ehsize = sizeof(h);
    } else {
        return 0;
    }
    uint64_t phend = phoff + phnum * phentsize;  /* phnum * phentsize < 2^32 */
    if (phend < phoff)
        return 0;
    return phend > ehsize ? phend : ehsize;
}
