/* Save-file framing: header, checksummed records, END (snapshot_file.h). */
#include "vmm/snapshot_file.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

_Static_assert(sizeof(struct snap_header) == 64, "snap_header is 64 bytes");
_Static_assert(sizeof(struct snap_record) == 16, "snap_record is 16 bytes");

const char *snap_rec_name(uint32_t type)
{
    switch (type) {
    case SNAP_REC_CONFIG: return "CONFIG";
    case SNAP_REC_DOMAIN: return "DOMAIN";
    case SNAP_REC_VCPU: return "VCPU";
    case SNAP_REC_EVTCHN: return "EVTCHN";
    case SNAP_REC_GNTTAB: return "GNTTAB";
    case SNAP_REC_PAGES: return "PAGES";
    case SNAP_REC_RAM: return "RAM";
    case SNAP_REC_RAM_ABSENT: return "RAM_ABSENT";
    case SNAP_REC_XENSTORE: return "XENSTORE";
    case SNAP_REC_DEVICES: return "DEVICES";
    case SNAP_REC_VCPU_SCHED: return "VCPU_SCHED";
    case SNAP_REC_DEV_DATA: return "DEV_DATA";
    case SNAP_REC_END: return "END";
    default: return "unknown";
    }
}

static uint32_t crc_of(const void *p, size_t n)
{
    return (uint32_t)crc32(crc32(0, NULL, 0), p, (uInt)n);
}

static void wr(struct snap_writer *w, const void *p, size_t n)
{
    if (!w->error && n && fwrite(p, 1, n, w->f) != n)
        w->error = errno ? errno : EIO;
    w->bytes += n;
}

static void put_header(struct snap_writer *w)
{
    struct snap_header h = { .version = SNAP_VERSION, .arch = SNAP_ARCH_X86_64,
                             .header_size = sizeof(h), .created = (uint64_t)time(NULL) };
    memcpy(h.magic, SNAP_MAGIC, 8);
    h.crc = crc_of(&h, offsetof(struct snap_header, crc));
    wr(w, &h, sizeof(h));
}

int snap_stream(struct snap_writer *w, int fd)
{
    memset(w, 0, sizeof(*w));
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0 || !(w->f = fdopen(copy, "w"))) {
        int e = errno;
        if (copy >= 0)
            close(copy);
        return -e;
    }
    put_header(w);
    return 0;
}

int snap_stream_end(struct snap_writer *w)
{
    uint64_t n = w->records;
    snap_put(w, SNAP_REC_END, &n, sizeof(n));
    if (!w->error && fflush(w->f) != 0)
        w->error = errno ? errno : EIO;
    fclose(w->f);
    w->f = NULL;
    return -w->error;
}

int snap_create(struct snap_writer *w, const char *path)
{
    memset(w, 0, sizeof(*w));
    w->path = strdup(path);
    if (!w->path || asprintf(&w->tmp, "%s.tmp.%d", path, (int)getpid()) < 0) {
        free(w->path);
        return -ENOMEM;
    }
    /* 0600: the file holds the guest's memory. */
    int fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    w->f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!w->f) {
        if (fd >= 0) {
            close(fd);
            unlink(w->tmp);
        }
        int e = errno;
        free(w->path);
        free(w->tmp);
        return -e;
    }
    put_header(w);
    return 0;
}

void snap_putv(struct snap_writer *w, uint32_t type, const void *const *parts,
               const size_t *lens, int nparts)
{
    struct snap_record rec = { .type = type };
    uLong crc = crc32(0, NULL, 0);
    for (int i = 0; i < nparts; i++) {
        rec.len += lens[i];
        crc = crc32(crc, parts[i], (uInt)lens[i]);
    }
    rec.crc = (uint32_t)crc;
    wr(w, &rec, sizeof(rec));
    for (int i = 0; i < nparts; i++)
        wr(w, parts[i], lens[i]);
    w->records++;
}

void snap_put(struct snap_writer *w, uint32_t type, const void *payload, size_t len)
{
    snap_putv(w, type, &payload, &len, 1);
}

static void writer_free(struct snap_writer *w)
{
    free(w->path);
    free(w->tmp);
    w->path = w->tmp = NULL;
}

int snap_commit(struct snap_writer *w)
{
    uint64_t n = w->records;
    snap_put(w, SNAP_REC_END, &n, sizeof(n));
    if (!w->error && (fflush(w->f) != 0 || fsync(fileno(w->f)) < 0))
        w->error = errno;
    if (fclose(w->f) != 0 && !w->error)
        w->error = errno;
    w->f = NULL;
    if (!w->error && rename(w->tmp, w->path) < 0)
        w->error = errno;
    int rc = -w->error;
    if (rc)
        unlink(w->tmp);
    writer_free(w);
    return rc;
}

void snap_abort(struct snap_writer *w)
{
    if (w->f)
        fclose(w->f);
    w->f = NULL;
    if (w->tmp)
        unlink(w->tmp);
    writer_free(w);
}

__attribute__((format(printf, 4, 5)))
static int fail(const struct snap_reader *r, char *err, size_t errlen, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: %s", r->path, why);
    return -1;
}

int snap_open(struct snap_reader *r, const char *path, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    r->path = path;
    r->f = fopen(path, "re");
    if (!r->f)
        return fail(r, err, errlen, "%s", strerror(errno));
    size_t n = fread(&r->h, 1, sizeof(r->h), r->f);
    int rc = -1;
    if (n < 8 || memcmp(r->h.magic, SNAP_MAGIC, 8))
        fail(r, err, errlen, "not a xenkvm save file (no %s signature)", SNAP_MAGIC);
    else if (n < sizeof(r->h))
        fail(r, err, errlen, "truncated: the header ends after %zu of %zu bytes", n, sizeof(r->h));
    else if (r->h.crc != crc_of(&r->h, offsetof(struct snap_header, crc)))
        fail(r, err, errlen, "corrupt: the header's checksum does not match");
    else if (r->h.version != SNAP_VERSION)
        fail(r, err, errlen, "format version %u; this xenkvm reads version %u", r->h.version,
             SNAP_VERSION);
    else if (r->h.arch != SNAP_ARCH_X86_64)
        fail(r, err, errlen, "saved on architecture %u, not x86-64 (%u)", r->h.arch,
             SNAP_ARCH_X86_64);
    else if (r->h.header_size != sizeof(r->h))
        fail(r, err, errlen, "header size %u, expected %zu", r->h.header_size, sizeof(r->h));
    else
        rc = 0;
    if (rc) {
        fclose(r->f);
        r->f = NULL;
        return rc;
    }
    r->offset = sizeof(r->h);
    return 0;
}

int snap_next(struct snap_reader *r, uint32_t *type, void **payload, uint64_t *len,
              char *err, size_t errlen)
{
    struct snap_record rec;
    *payload = NULL;
    size_t n = fread(&rec, 1, sizeof(rec), r->f);
    if (n == 0)
        return fail(r, err, errlen, "truncated: ends at byte %llu, before the end record",
                    (unsigned long long)r->offset);
    if (n < sizeof(rec))
        return fail(r, err, errlen, "truncated: a record header at byte %llu is cut short",
                    (unsigned long long)r->offset);
    if (rec.len > SNAP_MAX_RECORD)
        return fail(r, err, errlen, "corrupt: record at byte %llu (type %#x) claims %llu bytes",
                    (unsigned long long)r->offset, rec.type, (unsigned long long)rec.len);
    uint8_t *p = malloc(rec.len + 1);
    if (!p)
        return fail(r, err, errlen, "out of memory");
    if (fread(p, 1, rec.len, r->f) != rec.len) {
        free(p);
        return fail(r, err, errlen, "truncated: the %s record at byte %llu is cut short",
                    snap_rec_name(rec.type), (unsigned long long)r->offset);
    }
    p[rec.len] = 0;
    if (crc_of(p, rec.len) != rec.crc) {
        free(p);
        return fail(r, err, errlen, "corrupt: checksum mismatch in the %s record at byte %llu",
                    snap_rec_name(rec.type), (unsigned long long)r->offset);
    }
    r->offset += sizeof(rec) + rec.len;
    if (rec.type == SNAP_REC_END) {
        uint64_t count = 0;
        if (rec.len == sizeof(count))
            memcpy(&count, p, sizeof(count));
        free(p);
        if (rec.len != sizeof(count) || count != r->records)
            return fail(r, err, errlen, "corrupt: the end record counts %llu records, found %llu",
                        (unsigned long long)count, (unsigned long long)r->records);
        if (fgetc(r->f) != EOF)
            return fail(r, err, errlen, "corrupt: data after the end record (byte %llu)",
                        (unsigned long long)r->offset);
        return 0;
    }
    r->records++;
    *type = rec.type;
    *payload = p;
    *len = rec.len;
    return 1;
}

void snap_close(struct snap_reader *r)
{
    if (r->f)
        fclose(r->f);
    r->f = NULL;
}

char *snap_verify(const char *path, char *err, size_t errlen)
{
    struct snap_reader r;
    if (snap_open(&r, path, err, errlen) < 0)
        return NULL;
    char *config = NULL;
    uint32_t type;
    void *p;
    uint64_t len;
    int rc;
    while ((rc = snap_next(&r, &type, &p, &len, err, errlen)) > 0) {
        if (type == SNAP_REC_CONFIG && !config)
            config = p;
        else
            free(p);
    }
    snap_close(&r);
    if (rc < 0) {
        free(config);
        return NULL;
    }
    if (!config)
        snprintf(err, errlen, "%s: corrupt: no domain config in the file", path);
    return config;
}
