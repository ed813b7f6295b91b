/* Plays a domain process and its guest against a running xenkvmd: the guest
 * writes requests into an in-memory xenstore ring page, the "domain process"
 * moves bytes between the page and its relay connection with the ring
 * helpers, and the checks confirm the guest is confined to its domain.
 * usage: xs_relay_check SOCKET [--keep]  (--keep: set up domains 5 and 6 and
 * leave them, for inspection with other clients) */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xenstore/client.h"
#include "xenstore/ring.h"
#include "xenstore/wire.h"

static int failed;
#define EXPECT(c) do { if (!(c)) { printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); failed++; } } while (0)

static struct xenstore_domain_interface intf;
static int relay = -1;
static char pend[XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX];
static size_t pend_off, pend_len;
static bool relay_eof;

/* The domain process: ring -> socket, socket -> ring. */
static void pump(bool block)
{
    char buf[XENSTORE_RING_SIZE];
    ssize_t n = xs_ring_read_req(&intf, buf, sizeof(buf));
    if (n < 0) {
        printf("FAIL bad ring indices\n");
        exit(1);
    }
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(relay, buf + off, (size_t)(n - off));
        if (w <= 0) {
            perror("relay write");
            exit(1);
        }
        off += w;
    }
    if (pend_off == pend_len) {
        struct pollfd p = { .fd = relay, .events = POLLIN };
        if (poll(&p, 1, block ? 3000 : 0) == 1) {
            ssize_t r = read(relay, pend, sizeof(pend));
            if (r <= 0)
                relay_eof = true;
            pend_off = 0;
            pend_len = r > 0 ? (size_t)r : 0;
        } else if (block) {
            printf("FAIL no reply from the daemon\n");
            exit(1);
        }
    }
    n = xs_ring_write_rsp(&intf, pend + pend_off, pend_len - pend_off);
    if (n < 0)
        exit(1);
    pend_off += (size_t)n;
}

/* The guest's side of the ring. */
static void guest_put(const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        uint32_t space = XENSTORE_RING_SIZE - (intf.req_prod - intf.req_cons);
        if (!space) {
            pump(false);
            continue;
        }
        size_t n = len < space ? len : space;
        for (size_t i = 0; i < n; i++)
            intf.req[MASK_XENSTORE_IDX(intf.req_prod + (uint32_t)i)] = p[i];
        __atomic_store_n(&intf.req_prod, intf.req_prod + (uint32_t)n, __ATOMIC_RELEASE);
        p += n;
        len -= n;
    }
}

static void guest_get(void *data, size_t len)
{
    char *p = data;
    while (len) {
        uint32_t avail = __atomic_load_n(&intf.rsp_prod, __ATOMIC_ACQUIRE) - intf.rsp_cons;
        if (!avail) {
            pump(true);
            continue;
        }
        size_t n = len < avail ? len : avail;
        for (size_t i = 0; i < n; i++)
            p[i] = intf.rsp[MASK_XENSTORE_IDX(intf.rsp_cons + (uint32_t)i)];
        intf.rsp_cons += (uint32_t)n;
        p += n;
        len -= n;
    }
}

static char events[16][256];
static int nevents;
static char reply[XENSTORE_PAYLOAD_MAX + 1];
static struct xsd_sockmsg rhdr;

/* One request; returns the error name or "" and leaves the payload in reply. */
static const char *greq(uint32_t type, uint32_t tx, const void *payload, size_t len)
{
    static uint32_t id;
    struct xsd_sockmsg h = { .type = type, .req_id = ++id, .tx_id = tx, .len = (uint32_t)len };
    guest_put(&h, sizeof(h));
    guest_put(payload, len);
    for (;;) {
        guest_get(&rhdr, sizeof(rhdr));
        if (rhdr.len > XENSTORE_PAYLOAD_MAX) {
            printf("FAIL oversized reply\n");
            exit(1);
        }
        guest_get(reply, rhdr.len);
        reply[rhdr.len] = 0;
        if (rhdr.type == XS_WATCH_EVENT) {
            if (nevents < 16) {
                snprintf(events[nevents++], 256, "%.120s|%.120s", reply, reply + strlen(reply) + 1);
            }
            continue;
        }
        if (rhdr.req_id != id) {
            printf("FAIL reply to %u, expected %u\n", rhdr.req_id, id);
            exit(1);
        }
        return rhdr.type == XS_ERROR ? reply : "";
    }
}

static const char *greq1(uint32_t type, const char *s)
{
    return greq(type, 0, s, strlen(s) + 1);
}

static const char *gwrite(const char *path, const char *val)
{
    char buf[512];
    size_t pl = strlen(path) + 1, vl = strlen(val);
    memcpy(buf, path, pl);
    memcpy(buf + pl, val, vl);
    return greq(XS_WRITE, 0, buf, pl + vl);
}

static bool take_event(const char *want)
{
    for (int i = 0; i < nevents; i++)
        if (!strcmp(events[i], want)) {
            memmove(events[i], events[i + 1], (size_t)(nevents - i - 1) * 256);
            nevents--;
            return true;
        }
    return false;
}

static void make(struct xs_client *c, unsigned domid, const char *name, const char *uuid)
{
    struct xs_domain_info d = { .domid = domid, .name = name, .uuid = uuid,
                                .memory_kib = 131072, .vcpus = 2, .store_port = 1,
                                .store_gfn = 0xfeffc, .console_port = 2, .console_gfn = 0xfeffd };
    int rc = xs_domain_create_tree(c, &d);
    if (rc) {
        printf("FAIL create tree %u: %s\n", domid, strerror(-rc));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *sock = argv[1];
    bool keep = argc > 2 && !strcmp(argv[2], "--keep");
    struct xs_client *c = xs_open(sock);
    if (!c) {
        printf("FAIL connect: %s\n", strerror(errno));
        return 1;
    }
    EXPECT(!xs_watch(c, "@releaseDomain", "rel"));
    char *p, *t;
    EXPECT(!xs_read_watch(c, &p, &t, 1000));
    free(p);
    free(t);
    make(c, 5, "guest5", "00000000-0000-0000-0000-000000000005");
    make(c, 6, "guest6", "00000000-0000-0000-0000-000000000006");
    EXPECT(!xs_write_str(c, 0, "/local/domain/5/target", "65536"));
    EXPECT(!xs_write_str(c, 0, "/local/domain/0/secret", "s"));
    bool yes = false;
    EXPECT(!xs_is_introduced(c, 5, &yes) && yes);

    relay = xs_relay_open(sock, 5);
    EXPECT(relay >= 0);
    if (relay < 0)
        return 1;
    EXPECT(xs_relay_open(sock, 5) == -EBUSY);

    /* what the guest may do */
    EXPECT(!*greq1(XS_READ, "name") && !strcmp(reply, "guest5"));
    EXPECT(!*greq1(XS_READ, "domid") && !strcmp(reply, "5"));
    EXPECT(!*greq1(XS_READ, "memory/target") && !strcmp(reply, "131072"));
    EXPECT(!*greq1(XS_READ, "/local/domain/5/store/ring-ref"));
    EXPECT(!*greq1(XS_GET_DOMAIN_PATH, "5") && !strcmp(reply, "/local/domain/5"));
    EXPECT(!*gwrite("data/hello", "world"));
    char *v = NULL;
    size_t len;
    EXPECT(!xs_read(c, 0, "/local/domain/5/data/hello", &v, &len) && !strcmp(v, "world"));
    free(v);
    EXPECT(!*greq1(XS_GET_PERMS, "data/hello") && !strcmp(reply, "n5"));
    EXPECT(!strcmp(gwrite("device/suspend", "x"), "EACCES"));   /* device: the toolstack's */
    if (keep) {
        printf("relay: domains 5 and 6 left in place\n");
        xs_close(c);
        close(relay);
        return failed ? 1 : 0;
    }

    /* what it may not */
    EXPECT(!strcmp(gwrite("name", "evil"), "EACCES"));
    EXPECT(!strcmp(greq1(XS_READ, "/local/domain/0/secret"), "EACCES"));
    EXPECT(!strcmp(greq1(XS_READ, "/local/domain/6/name"), "EACCES"));
    EXPECT(!strcmp(gwrite("/local/domain/6/data/x", "1"), "EACCES"));
    EXPECT(!strcmp(gwrite("/local/domain/6/name", "1"), "EACCES"));
    EXPECT(!strcmp(gwrite("/local/domain/0/x", "1"), "EACCES"));
    EXPECT(!strcmp(greq1(XS_DIRECTORY, "/local/domain"), "EACCES"));
    EXPECT(!strcmp(greq1(XS_RM, "/local/domain/6"), "EACCES"));
    EXPECT(!strcmp(greq(XS_SET_PERMS, 0, "/local/domain/6/data\0b5", 24), "EACCES"));
    EXPECT(!strcmp(greq(XS_CONTROL, 0, "xenkvm-relay\0" "0", 15), "EACCES"));
    EXPECT(!strcmp(greq(XS_INTRODUCE, 0, "7\0" "1\0" "1", 6), "EACCES"));
    EXPECT(!strcmp(greq1(XS_RELEASE, "6"), "EACCES"));
    EXPECT(!strcmp(greq1(XS_READ, "../6/name"), "EINVAL"));

    /* a transaction */
    EXPECT(!*greq(XS_TRANSACTION_START, 0, "", 1));
    uint32_t tx = (uint32_t)strtoul(reply, NULL, 10);
    EXPECT(!*greq(XS_WRITE, tx, "data/tx\0" "1", 9));
    EXPECT(!*greq(XS_TRANSACTION_END, tx, "T", 2));
    EXPECT(!*greq1(XS_READ, "data/tx") && !strcmp(reply, "1"));

    /* watches: relative, and the toolstack's shutdown request */
    EXPECT(!*greq(XS_WATCH, 0, "control/shutdown\0sd", 20));
    EXPECT(!*greq1(XS_READ, "name"));   /* collects the first event */
    EXPECT(take_event("control/shutdown|sd"));
    EXPECT(!xs_write_str(c, 0, "/local/domain/5/control/shutdown", "poweroff"));
    EXPECT(!*greq1(XS_READ, "control/shutdown") && !strcmp(reply, "poweroff"));
    EXPECT(take_event("control/shutdown|sd"));
    EXPECT(!*gwrite("control/shutdown", ""));   /* the guest acknowledges */
    EXPECT(!*greq(XS_WATCH, 0, "a\0" "1", 4));
    EXPECT(!*greq(XS_WATCH, 0, "a\0" "2", 4));
    EXPECT(!*greq(XS_WATCH, 0, "a\0" "3", 4));
    EXPECT(!strcmp(greq(XS_WATCH, 0, "a\0" "4", 4), "E2BIG"));   /* --quota watches=4 */

    /* an oversized message: an error, and the connection goes on */
    struct xsd_sockmsg big = { .type = XS_WRITE, .req_id = 999, .len = 5000 };
    static char junk[5000];
    guest_put(&big, sizeof(big));
    guest_put(junk, sizeof(junk));
    guest_get(&rhdr, sizeof(rhdr));
    guest_get(reply, rhdr.len);
    EXPECT(rhdr.type == XS_ERROR && rhdr.req_id == 999 && !strcmp(reply, "E2BIG"));
    EXPECT(!*greq1(XS_READ, "name"));

    /* node quota (--quota nodes=60) */
    int made = 0;
    const char *err = "";
    for (int i = 0; i < 100 && !*err; i++) {
        char path[32];
        snprintf(path, sizeof(path), "data/q%d", i);
        err = gwrite(path, "x");
        if (!*err)
            made++;
    }
    EXPECT(!strcmp(err, "ENOSPC"));
    EXPECT(made > 30 && made < 60);

    /* destruction: tree gone, @releaseDomain, relay closed */
    int rc = xs_domain_destroy_tree(c, 5);
    EXPECT(!rc);
    EXPECT(!xs_read_watch(c, &p, &t, 2000) && !strcmp(p, "@releaseDomain"));
    free(p);
    free(t);
    EXPECT(xs_read(c, 0, "/local/domain/5/name", &v, &len) == -ENOENT);
    EXPECT(xs_read(c, 0, "/vm/00000000-0000-0000-0000-000000000005/name", &v, &len) == -ENOENT);
    EXPECT(!xs_is_introduced(c, 5, &yes) && !yes);
    for (int i = 0; i < 100 && !relay_eof; i++)
        pump(true);
    EXPECT(relay_eof);

    /* the ring helpers refuse impossible indices */
    intf.req_prod = intf.req_cons + XENSTORE_RING_SIZE + 1;
    char buf[8];
    EXPECT(xs_ring_read_req(&intf, buf, sizeof(buf)) == -1);

    xs_close(c);
    if (!failed)
        printf("relay: all checks passed\n");
    return failed ? 1 : 0;
}
