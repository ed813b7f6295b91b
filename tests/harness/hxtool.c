/* blk-harness: drives blkback through the frontend harness from the command
 * line, for the durability test and the benchmark.
 *   blk-harness [-f FORMAT] COMMAND ...
 *       FORMAT: a QEMU block driver (qcow2, vpc, ...): DISK is served by a
 *       qemu-storage-daemon over NBD; without -f it is a raw file (io_uring).
 *   blk-harness write-flush DISK SECTOR PAGES BYTE
 *       writes PAGES pages of BYTE at SECTOR, then FLUSH; prints "flushed PID"
 *       once the flush is answered (PID: the storage daemon's, 0 for a raw
 *       file), then waits to be killed.
 *   blk-harness bench DISK MODE BS QD SECONDS [QUEUES]
 *       MODE: read|write|randread|randwrite; BS bytes (4096..1 MiB, pages);
 *       QD requests in flight per queue; prints "MB/s N IOPS N". */
#include "harness/blkfront.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *format;

static int open_hx(struct hx *h, const char *disk, unsigned queues, unsigned frames)
{
    struct hx_config cfg = { .disk = disk, .format = format, .nr_queues = queues,
                             .ring_order = 2, .frames = frames, .threaded = true };
    char err[256];
    if (hx_open(h, &cfg, err, sizeof(err))) {
        fprintf(stderr, "blk-harness: %s\n", err);
        return -1;
    }
    return 0;
}

static int write_flush(int argc, char **argv)
{
    if (argc != 6)
        return 2;
    uint64_t sector = strtoull(argv[3], NULL, 0);
    unsigned pages = strtoul(argv[4], NULL, 0);
    int byte = strtol(argv[5], NULL, 0);
    static struct hx h;
    if (pages == 0 || pages > 256 || open_hx(&h, argv[2], 1, 1024))
        return 1;
    unsigned f = h.first_data_frame;
    memset(hx_frame(&h, f), byte, (size_t)pages * BLK_PAGE_SIZE);
    int16_t st = hx_wait(&h, 0, hx_rw(&h, 0, BLKIF_OP_WRITE, sector, f, pages, f + 300));
    if (st != BLKIF_RSP_OKAY) {
        fprintf(stderr, "blk-harness: write failed: %d\n", st);
        return 1;
    }
    blkif_request_t *r = hx_req(&h, 0);
    r->operation = BLKIF_OP_FLUSH_DISKCACHE;
    r->id = 999;
    if ((st = hx_wait(&h, 0, 999)) != BLKIF_RSP_OKAY) {
        fprintf(stderr, "blk-harness: flush failed: %d\n", st);
        return 1;
    }
    printf("flushed %d\n", (int)blk_disk_helper_pid(&h.disk));
    fflush(stdout);
    for (;;)
        pause();
}

struct bench {
    struct hx *h;
    unsigned q, qd, pages;
    bool write, random;
    uint64_t disk_sectors;
    double seconds;
    uint64_t done, errors;
    uint64_t seq_next;
    unsigned base_frame;
};

/* Requests use id = slot; slot s owns pages frames and one indirect page. */
static void issue(struct bench *b, unsigned slot)
{
    struct hx *h = b->h;
    uint64_t sectors = (uint64_t)b->pages * 8, sector;
    if (b->random) {
        sector = ((uint64_t)rand() * 2654435761u) % (b->disk_sectors / sectors) * sectors;
    } else {
        sector = b->seq_next;
        b->seq_next = (b->seq_next + sectors) % (b->disk_sectors / sectors * sectors);
    }
    unsigned f = b->base_frame + slot * (b->pages + 1);
    uint8_t op = b->write ? BLKIF_OP_WRITE : BLKIF_OP_READ;
    blkif_request_t *r = hx_req(h, b->q);
    if (b->pages <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
        r->operation = op;
        r->nr_segments = b->pages;
        r->id = slot;
        r->sector_number = sector;
        for (unsigned i = 0; i < b->pages; i++)
            r->seg[i] = (struct blkif_request_segment){ hx_frame_ref(h, f + 1 + i, b->write), 0, 7 };
        return;
    }
    struct blkif_request_indirect *ind = (void *)r;
    ind->operation = BLKIF_OP_INDIRECT;
    ind->indirect_op = op;
    ind->nr_segments = b->pages;
    ind->id = slot;
    ind->sector_number = sector;
    ind->indirect_grefs[0] = hx_frame_ref(h, f, true);
    struct blkif_request_segment *seg = (void *)hx_frame(h, f);
    for (unsigned i = 0; i < b->pages; i++)
        seg[i] = (struct blkif_request_segment){ hx_frame_ref(h, f + 1 + i, b->write), 0, 7 };
}

static void *bench_queue(void *arg)
{
    struct bench *b = arg;
    for (unsigned s = 0; s < b->qd; s++)
        issue(b, s);
    hx_push(b->h, b->q);
    double end = now() + b->seconds;
    unsigned outstanding = b->qd;
    bool stopping = false;
    while (outstanding) {
        blkif_response_t r;
        if (hx_rsp(b->h, b->q, &r, 10000) < 0) {
            fprintf(stderr, "blk-harness: queue %u: no response\n", b->q);
            b->errors++;
            break;
        }
        outstanding--;
        b->done++;
        b->errors += r.status != BLKIF_RSP_OKAY;
        if ((b->done & 63) == 0 && now() >= end)
            stopping = true;
        if (!stopping && r.id < b->qd) {
            issue(b, r.id);
            outstanding++;
        }
        /* publish once no more responses are ready: batches the kicks */
        if (!RING_HAS_UNCONSUMED_RESPONSES(&b->h->q[b->q].front))
            hx_push(b->h, b->q);
    }
    return NULL;
}

static int bench(int argc, char **argv)
{
    if (argc < 7)
        return 2;
    const char *mode = argv[3];
    unsigned bs = strtoul(argv[4], NULL, 0), qd = strtoul(argv[5], NULL, 0);
    double secs = strtod(argv[6], NULL);
    unsigned queues = argc > 7 ? strtoul(argv[7], NULL, 0) : 1;
    unsigned pages = bs / BLK_PAGE_SIZE;
    if (pages < 1 || pages > BLK_MAX_INDIRECT_SEGS || bs % BLK_PAGE_SIZE || qd < 1 || qd > 64 ||
        queues < 1 || queues > BLK_MAX_QUEUES)
        return 2;
    static struct hx h;
    unsigned frames = queues * 16 + queues * qd * (pages + 1) + 16;
    if (open_hx(&h, argv[2], queues, frames))
        return 1;
    struct bench b[BLK_MAX_QUEUES];
    pthread_t t[BLK_MAX_QUEUES];
    for (unsigned q = 0; q < queues; q++) {
        b[q] = (struct bench){
            .h = &h, .q = q, .qd = qd, .pages = pages, .seconds = secs,
            .write = strstr(mode, "write") != NULL, .random = strncmp(mode, "rand", 4) == 0,
            .disk_sectors = h.disk.sectors,
            .seq_next = h.disk.sectors / queues * q / (pages * 8) * (pages * 8),
            .base_frame = h.first_data_frame + q * qd * (pages + 1),
        };
    }
    double t0 = now();
    for (unsigned q = 0; q < queues; q++)
        pthread_create(&t[q], NULL, bench_queue, &b[q]);
    uint64_t done = 0, errors = 0;
    for (unsigned q = 0; q < queues; q++) {
        pthread_join(t[q], NULL);
        done += b[q].done;
        errors += b[q].errors;
    }
    double el = now() - t0;
    printf("%s bs=%u qd=%u queues=%u: %.1f MB/s %.0f IOPS (%llu requests, %llu errors, %.2f s)\n",
           mode, bs, qd, queues, done * (double)bs / el / 1e6, done / el,
           (unsigned long long)done, (unsigned long long)errors, el);
    hx_close(&h);
    return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
    int rc = 2;
    if (argc > 2 && !strcmp(argv[1], "-f")) {
        format = argv[2];
        argv[2] = argv[0];
        argv += 2;
        argc -= 2;
    }
    if (argc > 1 && !strcmp(argv[1], "write-flush"))
        rc = write_flush(argc, argv);
    else if (argc > 1 && !strcmp(argv[1], "bench"))
        rc = bench(argc, argv);
    if (rc == 2)
        fprintf(stderr, "usage: blk-harness [-f FORMAT] write-flush DISK SECTOR PAGES BYTE\n"
                        "       blk-harness [-f FORMAT] bench DISK read|write|randread|randwrite BS QD SECONDS [QUEUES]\n");
    return rc;
}
