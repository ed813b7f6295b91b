/* blk: a small blkfront against xenkvm's blkback on vbd 51712 (xvda), as
 * Linux's xen-blkfront drives it: the backend's features, one ring page
 * granted to dom 0, one event channel, then requests. The host side
 * (tests/test_blk_formats.py) made the image with a known pattern and reads
 * it back afterwards. Lines starting "blk:" tell it where the guest is.
 *
 *   blk io     reads sector 0 (the pattern: byte at offset o is
 *              (o >> 9) * 31 + (o & 511) * 7 + 1), writes 4 pages at 1 MiB
 *              (XTEST-BLK text + i * 5), a flush with data (1 page at 2 MiB),
 *              a bare flush and a barrier, reads the pages back; a discard at
 *              3 MiB when offered; bad requests answered ERROR.
 *   blk io stay  the same, then stays connected and idle (for the
 *              toolstack's device counters) until the domain is destroyed.
 *   blk kill   reads one page every 10 ms after "blk: connected" until one
 *              fails (the host kills the storage daemon meanwhile): it must
 *              fail with BLKIF_RSP_ERROR, within 20 s, and so must the next.
 *   blk loop   writes page after page for good, LOOP_DEPTH requests in
 *              flight: write k goes to 4 MiB + (k % LOOP_SLOTS) pages and
 *              holds k (u64), bytes (k * 7 + i) up to 64, then zeros (cheap
 *              to make on an emulating KVM); every response's id must be one
 *              in flight and answered once; every LOOP_EVERY writes it reads
 *              the last one back, checks it and prints "blk: loop N"
 *              (writes 0..N-1 answered OKAY), after reading the backend's
 *              state through the path it read at connect. For save/restore and
 *              migration while I/O goes on (tests/test_save_devices.py). */
#include "xtest.h"
#include "cpu.h"
#include "events.h"
#include "hypercall.h"
#include "pvclock.h"
#include "report.h"
#include "xenbus.h"
#include "front.h"

#ifndef xen_mb
#define xen_mb()  asm volatile("mfence" ::: "memory")
#define xen_rmb() asm volatile("" ::: "memory")
#define xen_wmb() asm volatile("" ::: "memory")
#endif
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>

#define MS FRONT_MS
#define VBD "device/vbd/51712"
#define NR_DATA 8
#define GREF_RING 16
#define GREF_DATA 20              /* NR_DATA of them */

static uint8_t ring_page[4096] ALIGNED(4096);
static uint8_t data[NR_DATA][4096] ALIGNED(4096);
static blkif_front_ring_t ring;
static evtchn_port_t port;
static char path[160], buf[128];
static uint64_t next_id = 1;

static bool be_read(const char *be, const char *node)
{
    snprintf(path, sizeof(path), "%s/%s", be, node);
    return xb_read(0, path, buf, sizeof(buf)) == 0;
}

static unsigned long be_num(const char *be, const char *node)
{
    unsigned long v = 0;
    if (be_read(be, node))
        for (const char *c = buf; *c >= '0' && *c <= '9'; c++)
            v = v * 10 + (unsigned long)(*c - '0');
    return v;
}

static uint8_t written(unsigned page, unsigned i)
{
    return i < 9 ? (uint8_t)"XTEST-BLK"[i] : (uint8_t)(page * 5 + i);
}

static uint8_t pat(uint64_t off)
{
    return (uint8_t)((off >> 9) * 31 + (off & 511) * 7 + 1);
}

/* A request on the ring: op over pages data[first..first+n-1] (whole pages). */
static uint64_t request(uint8_t op, uint64_t sector, unsigned first, unsigned n)
{
    blkif_request_t *r = RING_GET_REQUEST(&ring, ring.req_prod_pvt);
    memset(r, 0, sizeof(*r));
    r->operation = op;
    r->nr_segments = (uint8_t)n;
    r->id = next_id++;
    r->sector_number = sector;
    for (unsigned i = 0; i < n; i++)
        r->seg[i] = (struct blkif_request_segment){ .gref = GREF_DATA + first + i,
                                                    .first_sect = 0, .last_sect = 7 };
    ring.req_prod_pvt++;
    return r->id;
}

/* Pushes what was queued and waits for the response to id; its status, or
 * 1000 after timeout. Other responses before it are skipped. */
static int wait_for(uint64_t id, uint64_t timeout_ns)
{
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&ring, notify);
    if (notify)
        evtchn_send(port);
    uint64_t end = xen_time_ns() + timeout_ns;
    while (xen_time_ns() < end) {
        if (!RING_HAS_UNCONSUMED_RESPONSES(&ring)) {
            cpu_relax();
            continue;
        }
        xen_rmb();
        blkif_response_t *r = RING_GET_RESPONSE(&ring, ring.rsp_cons);
        ring.rsp_cons++;
        if (r->id == id)
            return r->status;
    }
    return 1000;
}

static int io(uint8_t op, uint64_t sector, unsigned first, unsigned n)
{
    return wait_for(request(op, sector, first, n), 10000 * MS);
}

static void run_io(const char *be)
{
    int st = io(BLKIF_OP_READ, 0, 0, 1);
    bool same = st == BLKIF_RSP_OKAY;
    for (unsigned i = 0; same && i < 4096; i++)
        same = data[0][i] == pat(i);
    check(same, "read sector 0: the image's pattern", "status %d, byte 0 %u", st, data[0][0]);
    for (unsigned p = 0; p < 4; p++)
        for (unsigned i = 0; i < 4096; i++)
            data[p][i] = written(p, i);
    check_rc("write 4 pages at 1 MiB", io(BLKIF_OP_WRITE, 2048, 0, 4), BLKIF_RSP_OKAY);
    memset(data[4], 0xa5, 4096);
    check_rc("flush with data (1 page at 2 MiB)", io(BLKIF_OP_FLUSH_DISKCACHE, 4096, 4, 1),
             BLKIF_RSP_OKAY);
    check_rc("bare flush", io(BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0), BLKIF_RSP_OKAY);
    check_rc("bare barrier", io(BLKIF_OP_WRITE_BARRIER, 0, 0, 0), BLKIF_RSP_OKAY);
    memset(data[5], 0, 3 * 4096);
    memset(data[4], 0, 4096);
    st = io(BLKIF_OP_READ, 2048, 4, 4);
    same = st == BLKIF_RSP_OKAY;
    for (unsigned p = 0; same && p < 4; p++)
        for (unsigned i = 0; same && i < 4096; i++)
            same = data[4 + p][i] == written(p, i);
    check(same, "read back what was written", "status %d", st);
    if (be_num(be, "feature-discard")) {
        blkif_request_discard_t *d = (void *)RING_GET_REQUEST(&ring, ring.req_prod_pvt);
        memset(d, 0, sizeof(*d));
        d->operation = BLKIF_OP_DISCARD;
        d->id = next_id++;
        d->sector_number = 6144;
        d->nr_sectors = 2048;
        ring.req_prod_pvt++;
        check_rc("discard 1 MiB at 3 MiB", wait_for(d->id, 10000 * MS), BLKIF_RSP_OKAY);
    }
    unsigned long sectors = be_num(be, "sectors");
    check_rc("a read past the end answered ERROR", io(BLKIF_OP_READ, sectors - 4, 0, 1),
             BLKIF_RSP_ERROR);
    blkif_request_t *r = RING_GET_REQUEST(&ring, ring.req_prod_pvt);
    memset(r, 0, sizeof(*r));
    r->operation = BLKIF_OP_READ;
    r->nr_segments = 1;
    r->id = next_id++;
    r->seg[0] = (struct blkif_request_segment){ .gref = 400, .first_sect = 0, .last_sect = 7 };
    ring.req_prod_pvt++;
    check_rc("a read into an ungranted ref answered ERROR", wait_for(r->id, 10000 * MS),
             BLKIF_RSP_ERROR);
    check_rc("still working after bad requests", io(BLKIF_OP_READ, 0, 0, 1), BLKIF_RSP_OKAY);
    printf("blk: io done\n");
}

static void run_kill(void)
{
    printf("blk: connected\n");
    uint64_t end = xen_time_ns() + 20000 * MS;
    unsigned ok_reads = 0;
    int st = BLKIF_RSP_OKAY;
    while (xen_time_ns() < end && st == BLKIF_RSP_OKAY) {
        st = io(BLKIF_OP_READ, (ok_reads % 64) * 8, 0, 1);
        if (st == BLKIF_RSP_OKAY)
            ok_reads++;
        for (uint64_t t = xen_time_ns() + 10 * MS; xen_time_ns() < t;)
            cpu_relax();
    }
    printf("blk: %u reads before the first failure\n", ok_reads);
    check_rc("a read after the storage daemon died answered ERROR", st, BLKIF_RSP_ERROR);
    memset(data[0], 1, 4096);
    check_rc("and a write", io(BLKIF_OP_WRITE, 0, 0, 1), BLKIF_RSP_ERROR);
    check_rc("and a flush", io(BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0), BLKIF_RSP_ERROR);
}

#define LOOP_DEPTH 4
#define LOOP_SLOTS 2048
#define LOOP_BASE 8192            /* sectors: 4 MiB */
#define LOOP_EVERY 64
#define LOOP_HEAD 64              /* bytes that vary; the rest of a page stays 0 */

static uint8_t loop_byte(uint64_t k, unsigned i)
{
    return i < 8 ? (uint8_t)(k >> (8 * i)) : i < LOOP_HEAD ? (uint8_t)(k * 7 + i) : 0;
}

NORETURN static void loop_fail(const char *fmt, uint64_t a, uint64_t b, uint64_t c)
{
    printf("blk: FAIL ");
    printf(fmt, (unsigned long long)a, (unsigned long long)b, (unsigned long long)c);
    printf("\n");
    check(false, "blk loop", "see above");
    finish();
}

static void run_loop(const char *be)
{
    uint64_t issued = 0, done = 0;
    bool answered[LOOP_DEPTH] = { false };
    for (unsigned p = 0; p < LOOP_DEPTH; p++)
        memset(data[p], 0, 4096);
    printf("blk: looping\n");
    for (;;) {
        while (issued - done < LOOP_DEPTH && (issued == done || issued % LOOP_EVERY)) {
            uint8_t *page = data[issued % LOOP_DEPTH];
            for (unsigned i = 0; i < LOOP_HEAD; i++)
                page[i] = loop_byte(issued, i);
            blkif_request_t *r = RING_GET_REQUEST(&ring, ring.req_prod_pvt);
            memset(r, 0, sizeof(*r));
            r->operation = BLKIF_OP_WRITE;
            r->nr_segments = 1;
            r->id = issued + 1;          /* ids 1.. in write order */
            r->sector_number = LOOP_BASE + (issued % LOOP_SLOTS) * 8;
            r->seg[0] = (struct blkif_request_segment){
                .gref = GREF_DATA + (grant_ref_t)(issued % LOOP_DEPTH), .last_sect = 7 };
            ring.req_prod_pvt++;
            issued++;
        }
        int notify;
        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&ring, notify);
        if (notify)
            evtchn_send(port);
        uint64_t end = xen_time_ns() + 10000 * MS;
        while (!RING_HAS_UNCONSUMED_RESPONSES(&ring)) {
            if (xen_time_ns() > end)
                loop_fail("no response for 10 s (%llu answered, %llu asked, %llu)", done, issued, 0);
            cpu_relax();
        }
        while (RING_HAS_UNCONSUMED_RESPONSES(&ring)) {
            xen_rmb();
            blkif_response_t *r = RING_GET_RESPONSE(&ring, ring.rsp_cons);
            ring.rsp_cons++;
            uint64_t k = r->id - 1;
            if (r->id == 0 || k < done || k >= issued || answered[k % LOOP_DEPTH])
                loop_fail("response id %llu answered twice or never asked (%llu answered, "
                          "%llu asked)", r->id, done, issued);
            if (r->status != BLKIF_RSP_OKAY || r->operation != BLKIF_OP_WRITE)
                loop_fail("write %llu answered status %llu operation %llu", k,
                          (uint64_t)(int64_t)r->status, r->operation);
            answered[k % LOOP_DEPTH] = true;
        }
        while (done < issued && answered[done % LOOP_DEPTH])
            answered[done++ % LOOP_DEPTH] = false;
        if (done == issued && done % LOOP_EVERY == 0) {
            /* the last write, read back (its own id range) */
            uint64_t k = done - 1;
            next_id = (1ull << 62) + done;
            memset(data[LOOP_DEPTH], 0, 4096);
            int st = io(BLKIF_OP_READ, LOOP_BASE + (k % LOOP_SLOTS) * 8, LOOP_DEPTH, 1);
            for (unsigned i = 0; st == BLKIF_RSP_OKAY && i < 4096; i += i < LOOP_HEAD ? 1 : 61)
                if (data[LOOP_DEPTH][i] != loop_byte(k, i))
                    loop_fail("write %llu read back: byte %llu is %llu", k, i,
                              data[LOOP_DEPTH][i]);
            if (st != BLKIF_RSP_OKAY)
                loop_fail("read back of write %llu: status %llu (%llu)", k, (uint64_t)st, 0);
            /* the backend's path as the frontend learnt it at connect (a
             * restore moves the domain, not the path the guest knows) */
            unsigned long bst = be_num(be, "state");
            if (bst != XenbusStateConnected)
                loop_fail("backend state %llu at the backend path read at connect (%llu, %llu)",
                          bst, done, 0);
            printf("blk: loop %llu\n", (unsigned long long)done);
        }
    }
}

void prog_blk(int argc, char **argv)
{
    bool kill = argc > 1 && !strcmp(argv[1], "kill");
    bool loop = argc > 1 && !strcmp(argv[1], "loop");
    char be[128];
    if (!front_init(VBD, be, sizeof(be)))
        finish();
    check(be_num(be, "feature-flush-cache") == 1, "backend offers feature-flush-cache", "'%s'", buf);
    unsigned long sectors = be_num(be, "sectors");
    printf("blk: sectors %lu type %s\n", sectors, be_read(be, "type") ? buf : "?");

    SHARED_RING_INIT((blkif_sring_t *)ring_page);
    FRONT_RING_INIT(&ring, (blkif_sring_t *)ring_page, 4096);
    front_grant(GREF_RING, ring_page, false);
    for (unsigned i = 0; i < NR_DATA; i++)
        front_grant(GREF_DATA + i, data[i], false);
    long rc = evtchn_alloc_unbound(0, &port);
    if (!check(rc == 0, "event channel for dom 0", "%s", errname(rc)))
        finish();
    int w = front_write(VBD, "ring-ref", "%u", GREF_RING);
    w = w ? w : front_write(VBD, "event-channel", "%u", port);
    snprintf(path, sizeof(path), VBD "/protocol");
    w = w ? w : xb_write(0, path, XEN_IO_PROTO_ABI_NATIVE);
    w = w ? w : front_write(VBD, "state", "%u", XenbusStateInitialised);
    if (!check(w == 0, "frontend nodes written", "%s", xb_errname(w)) ||
        !check(front_backend_state(be, XenbusStateConnected, 5000 * MS), "backend Connected",
               "state never 4"))
        finish();
    front_write(VBD, "state", "%u", XenbusStateConnected);
    if (loop)
        run_loop(be);
    if (kill)
        run_kill();
    else
        run_io(be);
    if (argc > 2 && !strcmp(argv[2], "stay")) {
        printf("blk: staying\n");
        for (;;) {
            irq_disable();
            HYPERVISOR_sched_op(SCHEDOP_block, NULL);
            irq_enable();
        }
    }
    front_close(VBD, be);
    finish();
}
