/* blkback on images in QEMU's formats: the frontend harness against a real
 * qemu-storage-daemon (Debian's qemu-system-common) exporting qcow2, vhd,
 * qcow, qed and vmdk images over NBD, driven through libnbd. Images are made
 * and read back with Debian's qemu-img (qemu-utils). */
#include "blk_util.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024 * 1024ull)

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* qemu-img's name of a format: xl's vhd is QEMU's vpc */
static const char *qfmt(const char *fmt)
{
    return strcmp(fmt, "vhd") ? fmt : "vpc";
}

/* An image of format fmt holding blk_pat over bytes bytes; path in buf. */
static void mkimage(const char *fmt, char *buf, size_t len, uint64_t bytes)
{
    char raw[64];
    blk_mkdisk(raw, sizeof(raw), bytes);
    snprintf(buf, len, "%s.%s", raw, fmt);
    CHECK_EQ(run("qemu-img convert -q -f raw -O %s %s %s", qfmt(fmt), raw, buf), 0);
    unlink(raw);
}

/* The image's first len bytes of content, as qemu-img reads them (malloc'd). */
static uint8_t *image_content(const char *fmt, const char *path, size_t len)
{
    char raw[64] = "/tmp/blkread.XXXXXX";
    int fd = mkstemp(raw);
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ(run("qemu-img convert -q -f %s -O raw %s %s", qfmt(fmt), path, raw), 0);
    uint8_t *buf = calloc(1, len);
    fd = open(raw, O_RDONLY);
    CHECK(fd >= 0 && pread(fd, buf, len, 0) == (ssize_t)len);
    close(fd);
    unlink(raw);
    return buf;
}

static void open_image(struct hx *h, struct hx_config *c, const char *fmt, const char *path)
{
    c->disk = path;
    c->format = fmt;
    if (!c->nr_queues)
        c->nr_queues = 1;
    if (!c->frames)
        c->frames = 2048;
    char err[512] = "";
    if (hx_open(h, c, err, sizeof(err)))
        unit_fail(__FILE__, __LINE__, "hx_open %s (%s): %s", path, fmt, err);
}

static void close_image(struct hx *h)
{
    pid_t pid = blk_disk_helper_pid(&h->disk);
    hx_close(h);
    CHECK_EQ(h->live_maps, 0);
    CHECK_EQ(h->ring_maps, 0);
    CHECK(pid > 0 && kill(pid, 0) < 0 && errno == ESRCH);     /* stopped and reaped */
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 13 + seed + (i >> 12));
}

/* Reads, writes (direct, indirect 1 MiB, partial segments over two pages)
 * and a flush on an image of fmt; the image holds what was written. */
static void read_write(const char *fmt)
{
    const uint64_t size = 4 * MIB;
    char path[96];
    mkimage(fmt, path, sizeof(path), size);
    struct hx h;
    struct hx_config c = { .guard = true };
    open_image(&h, &c, fmt, path);
    CHECK(h.disk.sectors >= size / 512);
    uint8_t *want = malloc(size);
    for (uint64_t i = 0; i < size; i++)
        want[i] = blk_pat(i);
    unsigned f = h.first_data_frame, ind = f + 600;
    /* one page read */
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_READ, 24, f, 1, 0)), BLKIF_RSP_OKAY);
    CHECK(memcmp(hx_frame(&h, f), want + 24 * 512, 4096) == 0);
    /* 11 direct segments */
    fill(hx_frame(&h, f), 11 * 4096, 1);
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_WRITE, 800, f, 11, 0)), BLKIF_RSP_OKAY);
    memcpy(want + 800 * 512, hx_frame(&h, f), 11 * 4096);
    /* 1 MiB indirect */
    fill(hx_frame(&h, f), MIB, 2);
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_WRITE, 4096, f, 256, ind)), BLKIF_RSP_OKAY);
    memcpy(want + 4096 * 512, hx_frame(&h, f), MIB);
    /* sectors 2..5 of one page and 7 of the next: two separate buffers */
    fill(hx_frame(&h, f + 300), 2 * 4096, 3);
    blkif_request_t *r = hx_req(&h, 0);
    r->operation = BLKIF_OP_WRITE;
    r->nr_segments = 2;
    r->id = 77;
    r->sector_number = 100;
    r->seg[0] = (struct blkif_request_segment){ hx_frame_ref(&h, f + 300, true), 2, 5 };
    r->seg[1] = (struct blkif_request_segment){ hx_frame_ref(&h, f + 301, true), 7, 7 };
    CHECK_EQ(blk_do(&h, 0, 77), BLKIF_RSP_OKAY);
    memcpy(want + 100 * 512, hx_frame(&h, f + 300) + 1024, 2048);
    memcpy(want + 104 * 512, hx_frame(&h, f + 301) + 3584, 512);
    /* the same shape read back into fresh pages */
    memset(hx_frame(&h, f + 400), 0xee, 2 * 4096);
    r = hx_req(&h, 0);
    r->operation = BLKIF_OP_READ;
    r->nr_segments = 2;
    r->id = 78;
    r->sector_number = 100;
    r->seg[0] = (struct blkif_request_segment){ hx_frame_ref(&h, f + 400, false), 2, 5 };
    r->seg[1] = (struct blkif_request_segment){ hx_frame_ref(&h, f + 401, false), 7, 7 };
    CHECK_EQ(blk_do(&h, 0, 78), BLKIF_RSP_OKAY);
    CHECK(memcmp(hx_frame(&h, f + 400) + 1024, want + 100 * 512, 2048) == 0);
    CHECK(hx_frame(&h, f + 400)[1023] == 0xee && hx_frame(&h, f + 400)[3072] == 0xee);
    CHECK(memcmp(hx_frame(&h, f + 401) + 3584, want + 104 * 512, 512) == 0);
    /* 1 MiB read back (indirect, through a bounce buffer) */
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_READ, 4096, f + 1000, 256, ind)), BLKIF_RSP_OKAY);
    CHECK(memcmp(hx_frame(&h, f + 1000), want + 4096 * 512, MIB) == 0);
    r = hx_req(&h, 0);
    r->operation = BLKIF_OP_FLUSH_DISKCACHE;
    r->id = 5;
    CHECK_EQ(blk_do(&h, 0, 5), BLKIF_RSP_OKAY);
    /* past the end of the disk */
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_READ, h.disk.sectors - 4, f, 1, 0)),
             BLKIF_RSP_ERROR);
    close_image(&h);
    uint8_t *got = image_content(fmt, path, size);
    for (uint64_t i = 0; i < size; i++)
        if (got[i] != want[i]) {
            unit_fail(__FILE__, __LINE__, "%s: byte %llu is %u, want %u", fmt,
                      (unsigned long long)i, got[i], want[i]);
            break;
        }
    int chk = run("qemu-img check -q -f %s %s 2>/dev/null", qfmt(fmt), path);
    CHECK(chk == 0 || chk == 63);     /* 63: the format has no checks (vpc, qcow) */
    free(got);
    free(want);
    unlink(path);
}

TEST(nbd_qcow2_read_write) { read_write("qcow2"); }
TEST(nbd_vhd_read_write) { read_write("vhd"); }
TEST(nbd_qcow_qed_vmdk_read_write)
{
    read_write("qcow");
    read_write("qed");
    read_write("vmdk");
}

/* Threaded: 8 writes, a barrier write, 4 more writes pushed together. The
 * barrier is answered after all 8, the 4 after the barrier. */
TEST(nbd_barrier_orders)
{
    char path[96];
    mkimage("qcow2", path, sizeof(path), 4 * MIB);
    struct hx h;
    struct hx_config c = { .guard = true, .threaded = true, .ring_order = 1 };
    open_image(&h, &c, "qcow2", path);
    unsigned f = h.first_data_frame;
    fill(hx_frame(&h, f), 16 * 4096, 9);
    for (int round = 0; round < 5; round++) {
        uint64_t ids[13];
        for (unsigned i = 0; i < 13; i++)
            ids[i] = hx_rw(&h, 0, i == 8 ? BLKIF_OP_WRITE_BARRIER : BLKIF_OP_WRITE, i * 64, f + i, 1, 0);
        hx_push(&h, 0);
        int pos[13];
        for (unsigned n = 0; n < 13; n++) {
            blkif_response_t r;
            CHECK_EQ(hx_rsp(&h, 0, &r, 10000), 0);
            CHECK_EQ(r.status, BLKIF_RSP_OKAY);
            for (unsigned i = 0; i < 13; i++)
                if (ids[i] == r.id)
                    pos[i] = n;
        }
        for (unsigned i = 0; i < 8; i++)
            CHECK(pos[i] < pos[8]);
        for (unsigned i = 9; i < 13; i++)
            CHECK(pos[i] > pos[8]);
    }
    /* a bare barrier */
    blkif_request_t *r = hx_req(&h, 0);
    r->operation = BLKIF_OP_WRITE_BARRIER;
    r->id = 900;
    CHECK_EQ(blk_do(&h, 0, 900), BLKIF_RSP_OKAY);
    uint8_t *sent = malloc(13 * 4096);
    memcpy(sent, hx_frame(&h, f), 13 * 4096);
    close_image(&h);
    uint8_t *got = image_content("qcow2", path, 4 * MIB);
    for (unsigned i = 0; i < 13; i++)
        CHECK(memcmp(got + i * 64 * 512, sent + i * 4096, 4096) == 0);
    free(got);
    free(sent);
    unlink(path);
}

TEST(nbd_discard)
{
    char path[96];
    mkimage("qcow2", path, sizeof(path), 4 * MIB);
    struct hx h;
    struct hx_config c = { .guard = true };
    open_image(&h, &c, "qcow2", path);
    CHECK(h.disk.discard);
    struct blkif_request_discard *d = (void *)hx_req(&h, 0);
    d->operation = BLKIF_OP_DISCARD;
    d->id = 3;
    d->sector_number = 2048;
    d->nr_sectors = 2048;
    CHECK_EQ(blk_do(&h, 0, 3), BLKIF_RSP_OKAY);
    unsigned f = h.first_data_frame;
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_READ, 2048 + 64, f, 4, 0)), BLKIF_RSP_OKAY);
    for (unsigned i = 0; i < 4 * 4096; i++)
        if (hx_frame(&h, f)[i]) {
            unit_fail(__FILE__, __LINE__, "byte %u of a discarded range is %u", i, hx_frame(&h, f)[i]);
            break;
        }
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_READ, 2040, f, 1, 0)), BLKIF_RSP_OKAY);
    for (unsigned i = 0; i < 4096; i++)
        CHECK(hx_frame(&h, f)[i] == blk_pat(2040 * 512 + i));
    close_image(&h);
    /* the clusters are gone from the image, not just zeroed */
    CHECK_EQ(run("qemu-img map -f qcow2 --output=json %s | grep -Eq '\"start\": 1048576, "
                 "\"length\": 1048576, .*\"zero\": true, \"data\": false'", path), 0);
    unlink(path);
}

TEST(nbd_read_only)
{
    char path[96];
    mkimage("qcow2", path, sizeof(path), 1 * MIB);
    struct hx h;
    struct hx_config c = { .guard = true, .readonly = true };
    open_image(&h, &c, "qcow2", path);
    CHECK(h.disk.readonly && !h.disk.discard);
    unsigned f = h.first_data_frame;
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_READ, 8, f, 2, 0)), BLKIF_RSP_OKAY);
    for (unsigned i = 0; i < 8192; i++)
        CHECK(hx_frame(&h, f)[i] == blk_pat(4096 + i));
    memset(hx_frame(&h, f), 0x11, 4096);
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_WRITE, 0, f, 1, 0)), BLKIF_RSP_ERROR);
    blkif_request_t *r = hx_req(&h, 0);
    r->operation = BLKIF_OP_FLUSH_DISKCACHE;
    r->id = 4;
    CHECK_EQ(blk_do(&h, 0, 4), BLKIF_RSP_OKAY);
    /* a second reader at the same time: read-only opens share the image */
    struct hx h2;
    struct hx_config c2 = { .readonly = true };
    open_image(&h2, &c2, "qcow2", path);
    close_image(&h2);
    close_image(&h);
    uint8_t *got = image_content("qcow2", path, MIB);
    for (unsigned i = 0; i < MIB; i++)
        if (got[i] != blk_pat(i)) {
            unit_fail(__FILE__, __LINE__, "byte %u changed", i);
            break;
        }
    free(got);
    unlink(path);
}

/* Four queues, four NBD connections, each with its own worker. */
TEST(nbd_multi_queue)
{
    char path[96];
    mkimage("qcow2", path, sizeof(path), 16 * MIB);
    struct hx h;
    struct hx_config c = { .guard = true, .nr_queues = 4, .ring_order = 1, .threaded = true,
                           .frames = 4096 };
    open_image(&h, &c, "qcow2", path);
    unsigned f = h.first_data_frame;
    for (unsigned q = 0; q < 4; q++)
        fill(hx_frame(&h, f + q * 64), 64 * 4096, q + 20);
    for (unsigned q = 0; q < 4; q++) {
        for (unsigned i = 0; i < 64; i++)
            hx_rw(&h, q, BLKIF_OP_WRITE, (uint64_t)(q * 64 + i) * 8, f + q * 64 + i, 1, 0);
        hx_push(&h, q);
    }
    for (unsigned q = 0; q < 4; q++)
        for (unsigned i = 0; i < 64; i++) {
            blkif_response_t r;
            CHECK_EQ(hx_rsp(&h, q, &r, 10000), 0);
            CHECK_EQ(r.status, BLKIF_RSP_OKAY);
        }
    /* read back across queues: queue 3 reads what queue 0 wrote */
    CHECK_EQ(blk_do(&h, 3, hx_rw(&h, 3, BLKIF_OP_READ, 0, f + 1000, 64, f + 1100)), BLKIF_RSP_OKAY);
    CHECK(memcmp(hx_frame(&h, f + 1000), hx_frame(&h, f), 64 * 4096) == 0);
    uint8_t *sent = malloc(MIB);
    memcpy(sent, hx_frame(&h, f), MIB);
    close_image(&h);
    uint8_t *got = image_content("qcow2", path, 1 * MIB);
    CHECK(memcmp(got, sent, MIB) == 0);
    free(got);
    free(sent);
    unlink(path);
}

/* A qcow2 overlay on a backing file: reads come from the base, writes go to
 * the overlay only. */
TEST(nbd_backing_file)
{
    char base[96], over[128];
    mkimage("qcow2", base, sizeof(base), 2 * MIB);
    snprintf(over, sizeof(over), "%s.overlay", base);
    CHECK_EQ(run("qemu-img create -q -f qcow2 -b %s -F qcow2 %s", base, over), 0);
    struct hx h;
    struct hx_config c = { .guard = true };
    open_image(&h, &c, "qcow2", over);
    CHECK_EQ(h.disk.sectors, 2 * MIB / 512);
    unsigned f = h.first_data_frame;
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_READ, 1000, f, 4, 0)), BLKIF_RSP_OKAY);
    for (unsigned i = 0; i < 4 * 4096; i++)
        CHECK(hx_frame(&h, f)[i] == blk_pat(1000 * 512 + i));
    memset(hx_frame(&h, f), 0x42, 4096);
    CHECK_EQ(blk_do(&h, 0, hx_rw(&h, 0, BLKIF_OP_WRITE, 16, f, 1, 0)), BLKIF_RSP_OKAY);
    close_image(&h);
    uint8_t *b = image_content("qcow2", base, 2 * MIB), *o = image_content("qcow2", over, 2 * MIB);
    for (unsigned i = 0; i < 2 * MIB; i++) {
        uint8_t want = i >= 8192 && i < 8192 + 4096 ? 0x42 : blk_pat(i);
        if (b[i] != blk_pat(i) || o[i] != want) {
            unit_fail(__FILE__, __LINE__, "byte %u: base %u overlay %u", i, b[i], o[i]);
            break;
        }
    }
    CHECK_EQ(run("qemu-img check -q %s && qemu-img check -q %s", base, over), 0);
    free(b);
    free(o);
    unlink(over);
    unlink(base);
}

static void open_fails(const char *fmt, const char *path, const char *want)
{
    struct hx h;
    struct hx_config c = { .disk = path, .format = fmt, .nr_queues = 1, .frames = 64 };
    char err[512] = "";
    int rc = hx_open(&h, &c, err, sizeof(err));
    if (rc == 0 || !strstr(err, want))
        unit_fail(__FILE__, __LINE__, "%s (%s): rc %d, '%s', want '%s'", path, fmt, rc, err, want);
    CHECK(strstr(err, path) != NULL);
    hx_close(&h);
}

/* What cannot be opened is a clear error, in the storage daemon's words. */
TEST(nbd_open_errors)
{
    open_fails("qcow2", "/nonexistent/x.qcow2", "No such file or directory");
    char raw[64], img[96], over[128];
    blk_mkdisk(raw, sizeof(raw), MIB);
    open_fails("qcow2", raw, "Image is not in qcow2 format");
    open_fails("vhd", raw, "invalid VPC image");
    open_fails("vmdk", raw, "invalid VMDK image descriptor");
    mkimage("qcow2", img, sizeof(img), MIB);
    /* locked: a second writer of an image in use */
    struct hx h;
    struct hx_config c = { 0 };
    open_image(&h, &c, "qcow2", img);
    open_fails("qcow2", img, "Failed to get \"write\" lock");
    close_image(&h);
    snprintf(over, sizeof(over), "%s.overlay", img);
    CHECK_EQ(run("qemu-img create -q -f qcow2 -b %s -F qcow2 %s", img, over), 0);
    unlink(img);
    open_fails("qcow2", over, "Could not open backing file");
    setenv("XENKVM_STORAGE_DAEMON", "/nonexistent/qemu-storage-daemon", 1);
    open_fails("qcow2", over, "not found");
    unsetenv("XENKVM_STORAGE_DAEMON");
    unlink(over);
    unlink(raw);
}

/* The storage daemon killed under load: every request is answered (none
 * hangs), and from then on each fails; none is answered OK after the kill. */
TEST(nbd_daemon_killed)
{
    char path[96];
    mkimage("qcow2", path, sizeof(path), 8 * MIB);
    struct hx h;
    struct hx_config c = { .guard = true, .threaded = true, .ring_order = 2 };
    open_image(&h, &c, "qcow2", path);
    unsigned f = h.first_data_frame;
    CHECK_EQ(hx_wait(&h, 0, hx_rw(&h, 0, BLKIF_OP_READ, 0, f, 1, 0)), BLKIF_RSP_OKAY);
    pid_t pid = blk_disk_helper_pid(&h.disk);
    CHECK(pid > 0);
    for (unsigned i = 0; i < 64; i++)
        hx_rw(&h, 0, i & 1 ? BLKIF_OP_WRITE : BLKIF_OP_READ, i * 256, f + 4 * i, 4, 0);
    hx_push(&h, 0);
    CHECK_EQ(kill(pid, SIGKILL), 0);
    for (unsigned i = 0; i < 64; i++) {
        blkif_response_t r;
        CHECK_EQ(hx_rsp(&h, 0, &r, 10000), 0);
        CHECK(r.status == BLKIF_RSP_OKAY || r.status == BLKIF_RSP_ERROR);
    }
    nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
    for (unsigned i = 0; i < 32; i++)
        hx_rw(&h, 0, i % 3 ? BLKIF_OP_READ : BLKIF_OP_WRITE, i * 8, f + i, 1, 0);
    blkif_request_t *r = hx_req(&h, 0);
    r->operation = BLKIF_OP_FLUSH_DISKCACHE;
    r->id = 4242;
    hx_push(&h, 0);
    for (unsigned i = 0; i < 33; i++) {
        blkif_response_t rsp;
        CHECK_EQ(hx_rsp(&h, 0, &rsp, 10000), 0);
        CHECK_EQ(rsp.status, BLKIF_RSP_ERROR);
    }
    hx_close(&h);                    /* logs how the daemon ended; does not hang */
    CHECK_EQ(h.live_maps, 0);
    unlink(path);
}
