/* Helpers for the boot unit tests: a fake guest RAM, a synthetic PVH ELF
 * builder, and bzImage wrapping with each compressor. */
#pragma once
#include "boot/loader.h"

/* Fake guest RAM: [0, size) backed by a calloc'd buffer. */
struct fake_ram {
    uint8_t *base;
    uint64_t size;
    struct guest_mem mem;
};
void fake_ram_init(struct fake_ram *r, uint64_t size);
void fake_ram_free(struct fake_ram *r);

/* Layout of the synthetic ELF (file offsets and guest addresses). */
#define T_TEXT_OFF   0x1000u
#define T_TEXT_LEN   0x100u
#define T_TEXT_PADDR 0x100000u
#define T_NOTE_OFF   0x800u
#define T_DATA_OFF   0x1200u
#define T_DATA_PADDR 0x200000u
#define T_SHDR_OFF   0x1400u
#define T_FILE_LEN   0x1600u
#define T_SITE       0x40u    /* offset of the vmcall stub in the text */
#define T_ENTRY      (T_TEXT_PADDR + 0x10u)

struct seg_spec {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct elf_spec {
    bool is64;
    uint16_t machine;           /* 0: EM_X86_64 / EM_386 by class */
    unsigned nseg;
    struct seg_spec seg[4];
    uint16_t phnum;             /* 0: nseg */
    uint16_t phentsize;         /* 0: natural size */
    bool shdr_notes;            /* also describe the notes with a SHT_NOTE section */
    bool entry_note, hpage_note, guest_os_note;
    bool with_site;             /* text holds a vmcall stub */
    uint32_t entry;             /* PHYS32_ENTRY value */
    uint32_t entry_descsz;      /* 0: 4 */
};

/* The default: text PT_LOAD (R+X, with a site), PT_NOTE, data PT_LOAD (with bss). */
struct elf_spec elf_spec_default(bool is64);
/* Builds the image into a T_FILE_LEN-byte buffer (caller frees). */
uint8_t *elf_build(const struct elf_spec *s);

/* Wraps payload into a bzImage compressed with comp ("gzip", "xz", "lz4",
 * "zstd"), appending Linux's 4-byte size trailer; *len gets the size. */
uint8_t *bzimage_build(const char *comp, const uint8_t *payload, size_t plen, size_t *len);
/* Wraps raw (already compressed) bytes as a bzImage payload. */
uint8_t *bzimage_wrap(const uint8_t *raw, size_t rawlen, size_t *len);
/* File offset of the payload inside images built above. */
#define T_BZ_PAYLOAD 0x410u
