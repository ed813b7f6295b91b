/* What both ends of a migration share (migrate_stream.h). */
#include "cli/migrate_stream.h"
#include "cli/tsclient.h"
#include "toolstack/jsonline.h"
#include "vmm/snapshot_file.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int migrate_read(int fd, void *buf, size_t n)
{
    for (size_t done = 0; done < n; ) {
        ssize_t r = read(fd, (char *)buf + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : -ECONNRESET;
        done += (size_t)r;
    }
    return 0;
}

int migrate_write(int fd, const void *buf, size_t n)
{
    for (size_t done = 0; done < n; ) {
        ssize_t w = write(fd, (const char *)buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        done += (size_t)w;
    }
    return 0;
}

bool migrate_expect(int fd, const char *msg, size_t n, const char *stream, const char *what,
                    const char *rune)
{
    char buf[128];
    int rc = migrate_read(fd, buf, n);
    if (rc < 0) {
        fprintf(stderr, "%s: %s while reading %s\n", stream,
                rc == -ECONNRESET ? "unexpected end of stream" : strerror(-rc), what);
        return false;
    }
    if (memcmp(buf, msg, n)) {
        fprintf(stderr, "%s contained unexpected data instead of %s\n", stream, what);
        if (rune)
            fprintf(stderr, "(command run was: %s )\n", rune);
        return false;
    }
    return true;
}

int migrate_copy_stream(int in, int out, uint64_t *bytes)
{
    struct snap_header h;
    *bytes = 0;
    if (migrate_read(in, &h, sizeof(h)) < 0)
        return -1;
    if (memcmp(h.magic, SNAP_MAGIC, 8))
        return -1;
    if (migrate_write(out, &h, sizeof(h)) < 0)
        return -2;
    int rc = migrate_copy_records(in, out, bytes);
    *bytes += sizeof(h);
    return rc;
}

int migrate_copy_records(int in, int out, uint64_t *bytes)
{
    static __thread char buf[1 << 16];
    *bytes = 0;
    for (;;) {
        struct snap_record rec;
        if (migrate_read(in, &rec, sizeof(rec)) < 0)
            return -1;
        if (rec.len > SNAP_MAX_RECORD)
            return -1;
        if (migrate_write(out, &rec, sizeof(rec)) < 0)
            return -2;
        *bytes += sizeof(rec) + rec.len;
        for (uint64_t left = rec.len; left; ) {
            size_t n = left < sizeof(buf) ? left : sizeof(buf);
            if (migrate_read(in, buf, n) < 0)
                return -1;
            if (migrate_write(out, buf, n) < 0)
                return -2;
            left -= n;
        }
        if (rec.type == SNAP_REC_END)
            return 0;
    }
}

bool migrate_rename(long long domid, const char *name)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", domid);
    struct json_object *req = ts_req("rename", id);
    json_object_object_add(req, "name", json_object_new_string(name));
    return ts_simple(req) == 0;
}
