/* net: a small netfront against xenkvm's netback, as Linux's xen-netfront
 * drives it: vif 0's backend nodes, one queue (tx and rx ring pages granted
 * to dom 0, one event channel), request-rx-copy, then frames both ways.
 * The host side of the test reads the guest's frames from the tap device
 * and answers through it (tests/test_netback_guest.py); lines starting
 * "net:" tell it where the guest is.
 *
 * Frames use the local experimental EtherType 0x88b5 with a text payload:
 *   guest -> host "XTEST-PING 1" (one slot), then "XTEST-MULTI", 3000 bytes in
 *   three slots (NETTXF_more_data), then bad requests, then "XTEST-LAST";
 *   host -> guest "XTEST-PONG <n>" and a frame of 6000 bytes (two rx slots).
 *
 * "net loop" sends "XTEST-SEQ <n>" every 5 ms for good, each tx response
 * checked (its id the one sent, answered once), prints "net: tx N" every
 * 50 frames, and takes whatever comes: each rx response's id must be a
 * buffer it posted (answered once), each "XTEST-ECHO" frame counted
 * ("net: rx N"). For save/restore while frames flow
 * (tests/test_save_devices.py).
 *
 * "net hold" posts one rx buffer only, so that a frame of two slots the host
 * sends stays in the backend (read from its tap, not delivered: "net:
 * holding"); once data/net-go is "go" it posts the others and that frame,
 * "XTEST-HELD" of 6000 bytes, must arrive intact (a save and restore in
 * between: tests/test_save_devices.py). Smaller frames (the host's own
 * traffic) pass through the one buffer meanwhile and are dropped. */
#include "xtest.h"
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
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#define MS FRONT_MS
#define VIF "device/vif/0"
#define ETH_TYPE 0x88b5
#define NR_RX 16
#define NR_TX_PAGES 4
/* grant refs: 0-7 are reserved by convention; ours start at 16 */
#define GREF_TX_RING 16
#define GREF_RX_RING 17
#define GREF_TX 18              /* NR_TX_PAGES of them */
#define GREF_RX 32              /* NR_RX of them */

static uint8_t tx_ring_page[4096] ALIGNED(4096), rx_ring_page[4096] ALIGNED(4096);
static uint8_t tx_pages[NR_TX_PAGES][4096] ALIGNED(4096);
static uint8_t rx_pages[NR_RX][4096] ALIGNED(4096);
static netif_tx_front_ring_t tx;
static netif_rx_front_ring_t rx;
static evtchn_port_t port;
static char path[128], buf[256];
static uint8_t our_mac[6];

static int parse_mac(const char *s, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        unsigned v = 0;
        for (int d = 0; d < 2; d++, s++) {
            char c = *s;
            unsigned x = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                       : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                       : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
            if (x > 15)
                return -1;
            v = v * 16 + x;
        }
        mac[i] = (uint8_t)v;
        if (i < 5 && *s++ != ':')
            return -1;
    }
    return 0;
}

static void post_rx(unsigned id)
{
    netif_rx_request_t *r = RING_GET_REQUEST(&rx, rx.req_prod_pvt);
    r->id = (uint16_t)id;
    r->gref = GREF_RX + id;
    rx.req_prod_pvt++;
}

static void push_rx(void)
{
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&rx, notify);
    if (notify)
        evtchn_send(port);
}

/* Queues one tx slot; returns its ring index. */
static void tx_slot(uint16_t id, grant_ref_t ref, uint16_t off, uint16_t size, uint16_t flags)
{
    netif_tx_request_t *r = RING_GET_REQUEST(&tx, tx.req_prod_pvt);
    r->gref = ref;
    r->offset = off;
    r->flags = flags;
    r->id = id;
    r->size = size;
    tx.req_prod_pvt++;
}

static void push_tx(void)
{
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&tx, notify);
    if (notify)
        evtchn_send(port);
}

/* Waits for the next tx response; its status, or 1000 on timeout. */
static int tx_response(uint16_t *id)
{
    uint64_t end = xen_time_ns() + 3000 * MS;
    while (xen_time_ns() < end) {
        if (RING_HAS_UNCONSUMED_RESPONSES(&tx)) {
            xen_rmb();
            netif_tx_response_t *r = RING_GET_RESPONSE(&tx, tx.rsp_cons);
            tx.rsp_cons++;
            *id = r->id;
            return r->status;
        }
        cpu_relax();
    }
    return 1000;
}

/* Builds a frame to the broadcast address in tx page p. */
static uint16_t frame(uint8_t *p, const char *text, unsigned len)
{
    memset(p, 0xff, 6);
    memcpy(p + 6, our_mac, 6);
    p[12] = ETH_TYPE >> 8;
    p[13] = ETH_TYPE & 0xff;
    size_t n = strlen(text);
    memcpy(p + 14, text, n);
    for (unsigned i = 14 + n; i < len; i++)
        p[i] = (uint8_t)(i * 7);
    return (uint16_t)(len < 14 + n ? 14 + n : len);
}

/* Sends one single-slot frame and checks its answer. */
static void send_one(const char *what, const char *text, unsigned len)
{
    uint16_t size = frame(tx_pages[0], text, len), id = 0xffff;
    tx_slot(1, GREF_TX, 0, size, 0);
    push_tx();
    int st = tx_response(&id);
    check(st == NETIF_RSP_OKAY && id == 1, what, "status %d id %u", st, id);
}

/* Receives the next frame (up to two slots) into out; its length, or -1. */
static int receive(uint8_t *out, unsigned size, unsigned *slots)
{
    uint64_t end = xen_time_ns() + 10000 * MS;
    unsigned len = 0;
    *slots = 0;
    while (xen_time_ns() < end) {
        if (!RING_HAS_UNCONSUMED_RESPONSES(&rx)) {
            cpu_relax();
            continue;
        }
        xen_rmb();
        netif_rx_response_t *r = RING_GET_RESPONSE(&rx, rx.rsp_cons);
        rx.rsp_cons++;
        (*slots)++;
        unsigned id = r->id;
        if (r->status < 0 || id >= NR_RX || r->offset + r->status > 4096) {
            printf("  rx response: id %u status %d offset %u\n", id, r->status, r->offset);
            return -1;
        }
        if (len + (unsigned)r->status <= size)
            memcpy(out + len, rx_pages[id] + r->offset, r->status);
        len += r->status;
        uint16_t flags = r->flags;
        post_rx(id);                 /* the buffer goes back */
        if (flags & NETRXF_extra_info) {
            rx.rsp_cons++;           /* skip the extra slot */
        }
        if (!(flags & NETRXF_more_data)) {
            push_rx();
            /* the host's own traffic (IPv6 neighbour discovery) is skipped */
            if (len >= 14 && len <= size && out[12] == (ETH_TYPE >> 8) && out[13] == (ETH_TYPE & 0xff))
                return (int)len;
            len = 0;
            *slots = 0;
        }
    }
    return -1;
}

static uint8_t rxbuf[8192];

NORETURN static void loop_fail(const char *what, unsigned a, unsigned b)
{
    printf("net: FAIL %s (%u, %u)\n", what, a, b);
    check(false, "net loop", "see above");
    finish();
}

/* Takes the rx responses there are; counts the host's echoes. */
static void rx_poll(bool *posted, unsigned *echoes, unsigned *len)
{
    while (RING_HAS_UNCONSUMED_RESPONSES(&rx)) {
        xen_rmb();
        netif_rx_response_t *r = RING_GET_RESPONSE(&rx, rx.rsp_cons);
        rx.rsp_cons++;
        unsigned id = r->id;
        if (id >= NR_RX || !posted[id])
            loop_fail("rx response for a buffer not posted", id, rx.rsp_cons);
        if (r->status < 0 || r->offset + r->status > 4096)
            loop_fail("rx response status", (unsigned)r->status, r->offset);
        if (*len + (unsigned)r->status <= sizeof(rxbuf))
            memcpy(rxbuf + *len, rx_pages[id] + r->offset, r->status);
        *len += r->status;
        uint16_t flags = r->flags;
        posted[id] = false;
        if (flags & NETRXF_extra_info)
            rx.rsp_cons++;
        post_rx(id);
        posted[id] = true;
        if (!(flags & NETRXF_more_data)) {
            if (*len >= 24 && !memcmp(rxbuf + 14, "XTEST-ECHO", 10))
                printf("net: rx %u\n", ++*echoes);
            *len = 0;
        }
    }
    push_rx();
}

NORETURN static void run_hold(void)
{
    printf("net: holding\n");
    char v[16];
    for (;;) {
        while (RING_HAS_UNCONSUMED_RESPONSES(&rx)) {
            xen_rmb();
            netif_rx_response_t *r = RING_GET_RESPONSE(&rx, rx.rsp_cons);
            rx.rsp_cons++;
            if (r->id != 0 || (r->flags & NETRXF_more_data))
                loop_fail("held: a response beyond the one buffer posted", r->id, r->flags);
            if (r->flags & NETRXF_extra_info)
                rx.rsp_cons++;
            post_rx(0);
            push_rx();
        }
        if (xb_read(0, "data/net-go", v, sizeof(v)) == 0 && !strcmp(v, "go"))
            break;
        for (uint64_t t = xen_time_ns() + 20 * MS; xen_time_ns() < t;)
            cpu_relax();
    }
    for (unsigned i = 1; i < NR_RX; i++)
        post_rx(i);
    push_rx();
    unsigned slots;
    int n;
    do
        n = receive(rxbuf, sizeof(rxbuf), &slots);
    while (n > 0 && memcmp(rxbuf + 14, "XTEST-HELD", 10));
    bool same = n == 6000;
    for (int i = 14 + 10; same && i < n; i++)
        same = rxbuf[i] == (uint8_t)(i * 7);
    check(same && slots == 2, "rx: the frame held in the backend arrives, intact",
          "len %d slots %u", n, slots);
    printf("net: got the held frame\n");
    finish();
}

NORETURN static void run_loop(void)
{
    bool posted[NR_RX];
    for (unsigned i = 0; i < NR_RX; i++)
        posted[i] = true;
    unsigned echoes = 0, len = 0;
    char text[32];
    printf("net: looping\n");
    for (unsigned seq = 1;; seq++) {
        snprintf(text, sizeof(text), "XTEST-SEQ %u", seq);
        uint16_t size = frame(tx_pages[0], text, 60), id = 0;
        uint16_t want = (uint16_t)(seq % 60000 + 1);
        tx_slot(want, GREF_TX, 0, size, 0);
        push_tx();
        uint64_t end = xen_time_ns() + 10000 * MS;
        while (!RING_HAS_UNCONSUMED_RESPONSES(&tx)) {
            if (xen_time_ns() > end)
                loop_fail("no tx response for 10 s", seq, 0);
            rx_poll(posted, &echoes, &len);
            cpu_relax();
        }
        int st = tx_response(&id);
        if (st != NETIF_RSP_OKAY || id != want)
            loop_fail("tx response: status, id", (unsigned)st, id);
        if (RING_HAS_UNCONSUMED_RESPONSES(&tx))
            loop_fail("a second tx response for one request", seq, 0);
        if (seq % 50 == 0)
            printf("net: tx %u\n", seq);
        for (uint64_t t = xen_time_ns() + 5 * MS; xen_time_ns() < t;)
            rx_poll(posted, &echoes, &len);
    }
}

void prog_net(int argc, char **argv)
{
    /* "net gntv2": the grants are v2 entries, with the in-use bits netback
     * sets in the status frame. */
    bool gntv2 = argc > 1 && !strcmp(argv[1], "gntv2");
    bool hold = argc > 1 && !strcmp(argv[1], "hold");
    if (gntv2 && !front_use_v2())
        finish();
    char be[128];
    if (!front_init(VIF, be, sizeof(be)))
        finish();
    snprintf(path, sizeof(path), "%s/feature-rx-copy", be);
    check(xb_read(0, path, buf, sizeof(buf)) == 0 && !strcmp(buf, "1"),
          "backend offers feature-rx-copy", "'%s'", buf);
    int xr = xb_read(0, VIF "/mac", buf, sizeof(buf));
    check(xr == 0 && parse_mac(buf, our_mac) == 0, "frontend mac node", "'%s'", buf);
    printf("net: mac %s\n", buf);

    SHARED_RING_INIT((netif_tx_sring_t *)tx_ring_page);
    FRONT_RING_INIT(&tx, (netif_tx_sring_t *)tx_ring_page, 4096);
    SHARED_RING_INIT((netif_rx_sring_t *)rx_ring_page);
    FRONT_RING_INIT(&rx, (netif_rx_sring_t *)rx_ring_page, 4096);
    front_grant(GREF_TX_RING, tx_ring_page, false);
    front_grant(GREF_RX_RING, rx_ring_page, false);
    for (unsigned i = 0; i < NR_TX_PAGES; i++)
        front_grant(GREF_TX + i, tx_pages[i], true);
    for (unsigned i = 0; i < NR_RX; i++) {
        front_grant(GREF_RX + i, rx_pages[i], false);
        if (!hold || i == 0)
            post_rx(i);
    }
    long rc = evtchn_alloc_unbound(0, &port);
    if (!check(rc == 0, "event channel for dom 0", "%s", errname(rc)))
        finish();
    int w = front_write(VIF, "tx-ring-ref", "%u", GREF_TX_RING);
    w = w ? w : front_write(VIF, "rx-ring-ref", "%u", GREF_RX_RING);
    w = w ? w : front_write(VIF, "event-channel", "%u", port);
    w = w ? w : front_write(VIF, "request-rx-copy", "%u", 1);
    w = w ? w : front_write(VIF, "feature-rx-notify", "%u", 1);
    w = w ? w : front_write(VIF, "feature-sg", "%u", 1);
    w = w ? w : front_write(VIF, "feature-gso-tcpv4", "%u", 0);
    w = w ? w : front_write(VIF, "state", "%u", XenbusStateConnected);
    if (!check(w == 0, "frontend nodes written", "%s", xb_errname(w)) ||
        !check(front_backend_state(be, XenbusStateConnected, 5000 * MS), "backend Connected",
               "state never 4"))
        finish();
    push_rx();
    if (gntv2) {
        /* netback keeps both rings mapped writable while connected. */
        grant_status_t tx_st = front_v2_status(GREF_TX_RING), rx_st = front_v2_status(GREF_RX_RING);
        check(tx_st == (GTF_reading | GTF_writing) && rx_st == (GTF_reading | GTF_writing) &&
                  front_v2_flags(GREF_TX_RING) == GTF_permit_access,
              "v2: the backend's ring mappings show in the status words", "tx 0x%x rx 0x%x",
              tx_st, rx_st);
    }
    printf("net: connected\n");
    if (argc > 1 && !strcmp(argv[1], "loop"))
        run_loop();
    if (hold)
        run_hold();

    /* guest -> host: one slot, then one frame in three slots */
    send_one("tx: a one-slot frame answered OKAY", "XTEST-PING 1", 60);
    uint16_t size = frame(tx_pages[1], "XTEST-MULTI", 3000), id;
    tx_slot(2, GREF_TX + 1, 0, size, NETTXF_more_data);           /* 0..999 */
    tx_slot(3, GREF_TX + 2, 100, 1000, NETTXF_more_data);
    tx_slot(4, GREF_TX + 3, 2000, 1000, 0);
    memcpy(tx_pages[2] + 100, tx_pages[1] + 1000, 1000);
    memcpy(tx_pages[3] + 2000, tx_pages[1] + 2000, 1000);
    push_tx();
    int st[3];
    uint16_t ids[3];
    for (int i = 0; i < 3; i++)
        st[i] = tx_response(&ids[i]);
    check(st[0] == 0 && st[1] == 0 && st[2] == 0, "tx: a three-slot frame answered OKAY per slot",
          "status %d %d %d", st[0], st[1], st[2]);
    /* (the first slot's size is the frame's, 3000; its own bytes are what
     * the other slots leave: 0..999) */

    /* bad requests Linux's netback answers with ERROR and survives: a grant
     * we never gave, a frame shorter than an Ethernet header */
    tx_slot(5, 999, 0, 60, 0);
    push_tx();
    int bad = tx_response(&id);
    check(bad == NETIF_RSP_ERROR && id == 5, "tx: an ungranted ref answered ERROR",
          "status %d id %u", bad, id);
    tx_slot(6, GREF_TX, 0, 10, 0);
    push_tx();
    bad = tx_response(&id);
    check(bad == NETIF_RSP_ERROR && id == 6, "tx: a 10-byte frame answered ERROR",
          "status %d id %u", bad, id);
    send_one("tx: still working after bad requests", "XTEST-LAST", 60);
    printf("net: sent\n");

    /* host -> guest */
    unsigned slots;
    int n = receive(rxbuf, sizeof(rxbuf), &slots);
    check(n >= 14 + 12 && !memcmp(rxbuf + 14, "XTEST-PONG 1", 12) &&
              !memcmp(rxbuf, our_mac, 6), "rx: the host's frame to our MAC",
          "len %d '%.12s'", n, n > 26 ? (const char *)rxbuf + 14 : "");
    n = receive(rxbuf, sizeof(rxbuf), &slots);
    bool same = n == 6000 && !memcmp(rxbuf + 14, "XTEST-BIG", 9);
    for (int i = 14 + 9; same && i < n; i++)
        same = rxbuf[i] == (uint8_t)(i * 7);
    check(same && slots == 2, "rx: a 6000-byte frame in two slots, contents intact",
          "len %d slots %u", n, slots);
    printf("net: received\n");
    front_close(VIF, be);
    finish();
}
