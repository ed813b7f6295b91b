#include "boot_test_util.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <lzma.h>
#include <xen/elfnote.h>
#include <zlib.h>
#include <zstd.h>

static uint8_t *ram_at(void *opaque, uint64_t gpa, uint64_t len)
{
    struct fake_ram *r = opaque;
    if (gpa > r->size || len > r->size - gpa)
        return NULL;
    return r->base + gpa;
}

void fake_ram_init(struct fake_ram *r, uint64_t size)
{
    r->base = calloc(1, size);
    r->size = r->base ? size : 0;
    r->mem = (struct guest_mem){ .opaque = r, .at = ram_at };
}

void fake_ram_free(struct fake_ram *r)
{
    free(r->base);
    r->base = NULL;
}

struct elf_spec elf_spec_default(bool is64)
{
    struct elf_spec s = { .is64 = is64, .nseg = 3, .entry_note = true, .guest_os_note = true,
                          .with_site = true, .entry = T_ENTRY };
    s.seg[0] = (struct seg_spec){ PT_LOAD, PF_R | PF_X, T_TEXT_OFF, 0xffffffff80000000ull + T_TEXT_PADDR,
                                  T_TEXT_PADDR, T_TEXT_LEN, 0x200, 0x1000 };
    s.seg[1] = (struct seg_spec){ PT_NOTE, PF_R, T_NOTE_OFF, 0, 0, 0 /* set by elf_build */, 0, 4 };
    s.seg[2] = (struct seg_spec){ PT_LOAD, PF_R | PF_W, T_DATA_OFF, 0xffffffff80000000ull + T_DATA_PADDR,
                                  T_DATA_PADDR, 0x10, 0x1000, 0x1000 };
    if (!is64)
        s.seg[0].vaddr = s.seg[2].vaddr = 0;
    return s;
}

static size_t put_note(uint8_t *p, uint32_t type, const void *desc, uint32_t descsz)
{
    uint32_t hdr[3] = { 4, descsz, type };
    memcpy(p, hdr, 12);
    memcpy(p + 12, "Xen", 4);
    memcpy(p + 16, desc, descsz);
    return 16 + ((descsz + 3) & ~3u);
}

static size_t put_notes(uint8_t *p, const struct elf_spec *s)
{
    size_t n = 0;
    if (s->guest_os_note)
        n += put_note(p + n, XEN_ELFNOTE_GUEST_OS, "linux", 6);
    if (s->hpage_note) {
        uint64_t v = 0xffffffff80101000ull;
        n += put_note(p + n, XEN_ELFNOTE_HYPERCALL_PAGE, &v, 8);
    }
    if (s->entry_note) {
        uint64_t v = s->entry;
        n += put_note(p + n, XEN_ELFNOTE_PHYS32_ENTRY, &v, s->entry_descsz ? s->entry_descsz : 4);
    }
    /* A foreign note the parser must skip. */
    uint32_t gnu[3] = { 4, 4, 1 };
    memcpy(p + n, gnu, 12);
    memcpy(p + n + 12, "GNU\0\1\2\3\4", 8);
    return n + 20;
}

static void put_text(uint8_t *t, bool with_site)
{
    memset(t, 0xcc, T_TEXT_LEN);
    t[0x10] = 0xf4;  /* entry: hlt */
    if (with_site) {
        static const uint8_t stub[] = { 0x0f, 0x01, 0xc1, 0xc3 };  /* vmcall; ret */
        memcpy(t + T_SITE, stub, sizeof(stub));
    }
    /* A near miss: mov $0x00c1010f, %eax. */
    static const uint8_t miss[] = { 0xb8, 0x0f, 0x01, 0xc1, 0x00 };
    memcpy(t + 0x80, miss, sizeof(miss));
}

static void put_phdr(uint8_t *p, bool is64, const struct seg_spec *g)
{
    if (is64) {
        Elf64_Phdr ph = { g->type, g->flags, g->offset, g->vaddr, g->paddr, g->filesz, g->memsz, g->align };
        memcpy(p, &ph, sizeof(ph));
    } else {
        Elf32_Phdr ph = { g->type, (Elf32_Off)g->offset, (Elf32_Addr)g->vaddr, (Elf32_Addr)g->paddr,
                          (Elf32_Word)g->filesz, (Elf32_Word)g->memsz, g->flags, (Elf32_Word)g->align };
        memcpy(p, &ph, sizeof(ph));
    }
}

static void put_shdrs(uint8_t *p, bool is64, size_t notelen)
{
    if (is64) {
        Elf64_Shdr sh[2] = { { 0 }, { .sh_type = SHT_NOTE, .sh_offset = T_NOTE_OFF, .sh_size = notelen,
                                      .sh_addralign = 4 } };
        memcpy(p, sh, sizeof(sh));
    } else {
        Elf32_Shdr sh[2] = { { 0 }, { .sh_type = SHT_NOTE, .sh_offset = T_NOTE_OFF, .sh_size = (Elf32_Word)notelen,
                                      .sh_addralign = 4 } };
        memcpy(p, sh, sizeof(sh));
    }
}

static void put_ehdr(uint8_t *img, const struct elf_spec *s)
{
    uint16_t phnum = s->phnum ? s->phnum : (uint16_t)s->nseg;
    if (s->is64) {
        Elf64_Ehdr h = { .e_type = ET_EXEC, .e_machine = s->machine ? s->machine : EM_X86_64,
                         .e_version = EV_CURRENT, .e_entry = s->entry, .e_phoff = sizeof(Elf64_Ehdr),
                         .e_ehsize = sizeof(Elf64_Ehdr),
                         .e_phentsize = s->phentsize ? s->phentsize : sizeof(Elf64_Phdr), .e_phnum = phnum };
        if (s->shdr_notes)
            h.e_shoff = T_SHDR_OFF, h.e_shentsize = sizeof(Elf64_Shdr), h.e_shnum = 2;
        memcpy(img, &h, sizeof(h));
    } else {
        Elf32_Ehdr h = { .e_type = ET_EXEC, .e_machine = s->machine ? s->machine : EM_386,
                         .e_version = EV_CURRENT, .e_entry = s->entry, .e_phoff = sizeof(Elf32_Ehdr),
                         .e_ehsize = sizeof(Elf32_Ehdr),
                         .e_phentsize = s->phentsize ? s->phentsize : sizeof(Elf32_Phdr), .e_phnum = phnum };
        if (s->shdr_notes)
            h.e_shoff = T_SHDR_OFF, h.e_shentsize = sizeof(Elf32_Shdr), h.e_shnum = 2;
        memcpy(img, &h, sizeof(h));
    }
    memcpy(img, ELFMAG, SELFMAG);
    img[EI_CLASS] = s->is64 ? ELFCLASS64 : ELFCLASS32;
    img[EI_DATA] = ELFDATA2LSB;
    img[EI_VERSION] = EV_CURRENT;
}

uint8_t *elf_build(const struct elf_spec *s)
{
    uint8_t *img = calloc(1, T_FILE_LEN);
    if (!img)
        abort();
    put_ehdr(img, s);
    size_t notelen = put_notes(img + T_NOTE_OFF, s);
    put_text(img + T_TEXT_OFF, s->with_site);
    memset(img + T_DATA_OFF, 0x5a, 0x10);
    size_t phsize = s->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    size_t phoff = s->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    for (unsigned i = 0; i < s->nseg; i++) {
        struct seg_spec g = s->seg[i];
        if (g.type == PT_NOTE && g.filesz == 0)
            g.filesz = g.memsz = notelen;
        put_phdr(img + phoff + i * phsize, s->is64, &g);
    }
    if (s->shdr_notes)
        put_shdrs(img + T_SHDR_OFF, s->is64, notelen);
    return img;
}

/* ---- bzImage ---- */

uint8_t *bzimage_wrap(const uint8_t *raw, size_t rawlen, size_t *len)
{
    *len = T_BZ_PAYLOAD + rawlen + 16;  /* a little tail after the payload */
    uint8_t *img = calloc(1, *len);
    if (!img)
        abort();
    img[0x1f1] = 1;                     /* setup_sects: code at (1+1)*512 = 0x400 */
    memcpy(img + 0x1fe, "\x55\xaa", 2);
    memcpy(img + 0x202, "HdrS", 4);
    img[0x206] = 0x0f, img[0x207] = 0x02;  /* protocol 2.15 */
    uint32_t off = T_BZ_PAYLOAD - 0x400, plen = (uint32_t)rawlen;
    memcpy(img + 0x248, &off, 4);
    memcpy(img + 0x24c, &plen, 4);
    memcpy(img + T_BZ_PAYLOAD, raw, rawlen);
    return img;
}

static size_t gz(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    z_stream z = { 0 };
    deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)in, z.avail_in = (uInt)n;
    z.next_out = out, z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    size_t len = z.total_out;
    deflateEnd(&z);
    return len;
}

static size_t xz(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    size_t pos = 0;
    if (lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, n, out, &pos, cap) != LZMA_OK)
        abort();
    return pos;
}

/* LZ4 legacy frame, as Linux's `lz4 -l` makes it: magic, then 8 MiB chunks. */
static size_t lz4l(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    const size_t chunk = 8u << 20;
    uint32_t magic = 0x184c2102;
    memcpy(out, &magic, 4);
    size_t pos = 4;
    for (size_t done = 0; done < n; done += chunk) {
        size_t take = n - done < chunk ? n - done : chunk;
        int c = LZ4_compress_default((const char *)in + done, (char *)out + pos + 4, (int)take,
                                     (int)(cap - pos - 4));
        if (c <= 0)
            abort();
        uint32_t c32 = (uint32_t)c;
        memcpy(out + pos, &c32, 4);
        pos += 4 + (size_t)c;
    }
    return pos;
}

static size_t zst(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    size_t r = ZSTD_compress(out, cap, in, n, 19);
    if (ZSTD_isError(r))
        abort();
    return r;
}

uint8_t *bzimage_build(const char *comp, const uint8_t *payload, size_t plen, size_t *len)
{
    size_t cap = plen + plen / 2 + (1 << 16);
    uint8_t *buf = malloc(cap);
    if (!buf)
        abort();
    size_t n;
    if (!strcmp(comp, "gzip"))
        n = gz(payload, plen, buf, cap - 4);
    else if (!strcmp(comp, "xz"))
        n = xz(payload, plen, buf, cap - 4);
    else if (!strcmp(comp, "lz4"))
        n = lz4l(payload, plen, buf, cap - 4);
    else
        n = zst(payload, plen, buf, cap - 4);
    uint32_t size = (uint32_t)plen;  /* Linux's size_append trailer */
    memcpy(buf + n, &size, 4);
    uint8_t *img = bzimage_wrap(buf, n + 4, len);
    free(buf);
    return img;
}
