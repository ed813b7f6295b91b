/* libFuzzer target: the message parser and request dispatcher. The input is a
 * series of records, each sending bytes on one of four connections (two dom0
 * sockets, guests 5 and 6 through relay bindings) or closing and reopening
 * one; every reply is checked to be well-formed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstore/server.h"

static struct xs_conn *open_conn(struct xs_server *s, int i)
{
    struct xs_conn *c = xs_conn_new(s, -1);
    if (i >= 2) {
        char p[32];
        int n = snprintf(p, sizeof(p), "xenkvm-relay%c%d", 0, i + 3);
        struct xsd_sockmsg h = { .type = XS_CONTROL, .len = (uint32_t)n + 1 };
        xs_conn_input(c, &h, sizeof(h));
        xs_conn_input(c, p, (size_t)n + 1);
    }
    return c;
}

static void drain(struct xs_conn *c)
{
    uint8_t buf[XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX + 1];
    long n;
    while ((n = xs_conn_pop(c, buf, sizeof(buf))) >= 0) {
        struct xsd_sockmsg h;
        if ((size_t)n < XS_HDR_SIZE || (size_t)n > sizeof(buf) - 1)
            abort();
        memcpy(&h, buf, sizeof(h));
        if (h.len != (size_t)n - XS_HDR_SIZE || h.len > XENSTORE_PAYLOAD_MAX)
            abort();
        if (h.type == XS_ERROR && (h.len < 2 || buf[n - 1]))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xs_server s;
    struct xs_quota q;
    xs_quota_defaults(&q);
    q.nodes = 40;            /* small limits reach the quota paths quickly */
    q.txn_nodes = 50;
    q.outstanding = 8;
    xs_server_init(&s, &q);
    struct xs_conn *c[4];
    for (int i = 0; i < 4; i++)
        c[i] = open_conn(&s, i);
    /* homes for the guests, as the toolstack would make them */
    static const char setup[][40] = { "/local/domain/5\0n0\0r5", "/local/domain/6\0n0\0r6" };
    for (int i = 0; i < 2; i++) {
        struct xsd_sockmsg h = { .type = XS_MKDIR, .len = 16 };
        xs_conn_input(c[0], &h, sizeof(h));
        xs_conn_input(c[0], setup[i], 16);
        h.type = XS_SET_PERMS;
        h.len = 22;
        xs_conn_input(c[0], &h, sizeof(h));
        xs_conn_input(c[0], setup[i], 22);
    }

    size_t off = 0;
    while (off + 2 <= size) {
        uint8_t sel = data[off], len = data[off + 1];
        off += 2;
        int i = sel & 3;
        if (sel & 0x80) {   /* close and reopen: tears down watches and transactions */
            xs_conn_free(c[i]);
            c[i] = open_conn(&s, i);
        }
        size_t n = len < size - off ? len : size - off;
        xs_conn_input(c[i], data + off, n);
        off += n;
        if (!(sel & 0x40))  /* sometimes leave replies unread: exercises throttling */
            for (int k = 0; k < 4; k++)
                drain(c[k]);
        /* dead connections (RELEASE closes relays) go, as in the daemon */
        for (int k = 0; k < 4; k++)
            if (c[k]->dead) {
                xs_conn_free(c[k]);
                c[k] = open_conn(&s, k);
            }
    }
    xs_server_free(&s);
    return 0;
}
