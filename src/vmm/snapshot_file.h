/* The save file (docs/save-restore.md): a header, then records, each with its
 * type, length and a CRC-32 of its payload, ending with an END record. This
 * file only frames and checks records; snapshot_save.c and
 * snapshot_restore.c decide what goes in them. Little-endian (x86-64 only). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SNAP_MAGIC     "XKVMSAVE"
#define SNAP_VERSION   1
#define SNAP_ARCH_X86_64 1

struct snap_header {                 /* 64 bytes at offset 0 */
    char magic[8];                   /* SNAP_MAGIC, no NUL */
    uint32_t version;                /* SNAP_VERSION */
    uint32_t arch;                   /* SNAP_ARCH_X86_64 */
    uint32_t header_size;            /* sizeof(struct snap_header) */
    uint32_t flags;                  /* 0 */
    uint64_t created;                /* Unix time of the save */
    uint8_t reserved[28];
    uint32_t crc;                    /* CRC-32 of the 60 bytes before */
};

struct snap_record {                 /* 16 bytes, then len bytes of payload */
    uint32_t type;                   /* SNAP_REC_* */
    uint32_t crc;                    /* CRC-32 (zlib's) of the payload */
    uint64_t len;
};

enum snap_rec {
    SNAP_REC_CONFIG = 1,             /* the domain's config, JSON as the CLI sent it */
    SNAP_REC_DOMAIN = 2,             /* struct snap_domain */
    SNAP_REC_VCPU = 3,               /* one per vCPU: struct snap_vcpu + XSAVE area */
    SNAP_REC_EVTCHN = 4,             /* struct snap_evtchn_hdr + ports in use */
    SNAP_REC_GNTTAB = 5,             /* u32 nr_frames, u32 0, then per frame: u64 gfn + page */
    SNAP_REC_PAGES = 6,              /* shared_info page, then the special pages */
    SNAP_REC_RAM = 7,                /* struct snap_ram + u64 gfns[count] + zstd frame of pages */
    SNAP_REC_RAM_ABSENT = 8,         /* u64 gfns handed back by the guest (ballooned out) */
    SNAP_REC_XENSTORE = 9,           /* the guest's subtree and watches (snapshot_xenstore.c) */
    SNAP_REC_DEVICES = 10,           /* drained backends' ring state (snapshot_devices.c) */
    SNAP_REC_VCPU_SCHED = 11,        /* vCPUs down, available, affinity (snapshot_vcpus.c) */
    SNAP_REC_DEV_DATA = 12,          /* drained backends' other bytes (xenbus_backend.h) */
    SNAP_REC_END = 0x454e4421,       /* u64 number of records before it */
};

/* Largest payload a reader accepts: a RAM record holds at most
 * SNAP_RAM_CHUNK pages, compressed. */
#define SNAP_RAM_CHUNK 1024
#define SNAP_MAX_RECORD (64ull << 20)

struct snap_writer {
    FILE *f;
    char *path, *tmp;               /* tmp: written, renamed to path by snap_commit */
    uint64_t records;
    uint64_t bytes;                  /* written so far */
    int error;                       /* first errno */
};

/* Creates path's temporary sibling and writes the header. 0 or -errno. */
int snap_create(struct snap_writer *w, const char *path);
/* The same records into a stream (a migration's connection): the header is
 * written to a copy of fd; snap_stream_end writes END and flushes. 0 or -errno. */
int snap_stream(struct snap_writer *w, int fd);
int snap_stream_end(struct snap_writer *w);
void snap_put(struct snap_writer *w, uint32_t type, const void *payload, size_t len);
/* A record from pieces (header struct, then arrays). */
void snap_putv(struct snap_writer *w, uint32_t type, const void *const *parts,
               const size_t *lens, int nparts);
/* Writes END, syncs and renames into place. 0 or -errno; the temporary file
 * is gone either way. */
int snap_commit(struct snap_writer *w);
/* Drops the temporary file (a failed save leaves nothing behind). */
void snap_abort(struct snap_writer *w);

struct snap_reader {
    FILE *f;
    const char *path;
    uint64_t offset;                 /* of the next record */
    uint64_t records;
    struct snap_header h;
};

/* Opens and checks the header. 0, or -1 with err naming the file and what is
 * wrong with it. */
int snap_open(struct snap_reader *r, const char *path, char *err, size_t errlen);
/* The next record: 1 with *payload malloc'd (caller frees), 0 at END (its
 * count checked), -1 with err on a short, oversized or corrupt record. */
int snap_next(struct snap_reader *r, uint32_t *type, void **payload, uint64_t *len,
              char *err, size_t errlen);
void snap_close(struct snap_reader *r);
/* Reads the whole file, checking every record; returns the CONFIG payload
 * (malloc'd, NUL-terminated) or NULL with err. */
char *snap_verify(const char *path, char *err, size_t errlen);
const char *snap_rec_name(uint32_t type);
