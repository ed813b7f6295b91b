/* Connections: framing of the input stream and the queue of output messages. */
#include "xenstore/server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "xenstore/util.h"

/* One read never needs more than a maximal message; a little more lets
 * pipelined small requests arrive in one read. */
#define IN_CAP (4 * (XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX))
/* A client that does not read its replies: stop reading from it past this. */
#define OUT_MAX_BYTES ((size_t)4 << 20)
/* Watch events beyond these queued bytes are dropped (Xen drops them too when
 * a domain does not keep up). */
#define EVENTS_MAX_GUEST ((size_t)256 << 10)
#define EVENTS_MAX_DOM0 ((size_t)16 << 20)

struct xs_conn *xs_conn_new(struct xs_server *s, int fd)
{
    struct xs_conn *c = xs_xcalloc(1, sizeof(*c));
    c->srv = s;
    c->fd = fd;
    c->domid = 0;
    c->privileged = true;
    c->in_cap = IN_CAP;
    c->in = xs_xmalloc(c->in_cap);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    return c;
}

void xs_conn_kill(struct xs_conn *c)
{
    if (!c->dead) {
        c->dead = true;
        c->srv->any_dead = true;
    }
}

void xs_conn_free(struct xs_conn *c)
{
    struct xs_server *s = c->srv;
    xs_watch_clear(c);
    xs_txn_clear(c);
    xs_domain_conn_gone(c);
    while (c->out_head) {
        struct xs_outmsg *m = c->out_head;
        c->out_head = m->next;
        free(m);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->fd >= 0)
        close(c->fd);
    free(c->in);
    free(c);
}

struct xs_who xs_conn_who(struct xs_conn *c)
{
    struct xs_who w = { .domid = c->domid, .privileged = c->privileged, .target = ~0u };
    if (c->relay) {
        struct xs_domain *d = xs_domain_find(c->srv, c->domid);
        if (d)
            w.target = d->target;
    }
    return w;
}

static void queue(struct xs_conn *c, struct xs_outmsg *m)
{
    m->next = NULL;
    if (c->out_tail)
        c->out_tail->next = m;
    else
        c->out_head = m;
    c->out_tail = m;
    c->out_bytes += m->len;
    if (!m->event)
        c->out_replies++;
    if (c->srv->out_ready && c->fd >= 0 && !c->dead)
        c->srv->out_ready(c);
}

static struct xs_outmsg *build(uint32_t type, uint32_t req_id, uint32_t tx_id,
                               const void *p1, size_t l1, const void *p2, size_t l2)
{
    struct xs_outmsg *m = xs_xmalloc(sizeof(*m) + XS_HDR_SIZE + l1 + l2);
    struct xsd_sockmsg h = { .type = type, .req_id = req_id, .tx_id = tx_id,
                             .len = (uint32_t)(l1 + l2) };
    memcpy(m->data, &h, XS_HDR_SIZE);
    if (l1)
        memcpy(m->data + XS_HDR_SIZE, p1, l1);
    if (l2)
        memcpy(m->data + XS_HDR_SIZE + l1, p2, l2);
    m->len = XS_HDR_SIZE + l1 + l2;
    m->event = false;
    return m;
}

void xs_conn_send(struct xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
                  const void *payload, size_t len)
{
    if (len > XENSTORE_PAYLOAD_MAX) {   /* never send what clients must not receive */
        struct xsd_sockmsg req = { .type = type, .req_id = req_id, .tx_id = tx_id };
        xs_conn_send_error(c, &req, E2BIG);
        return;
    }
    queue(c, build(type, req_id, tx_id, payload, len, NULL, 0));
}

void xs_conn_send_error(struct xs_conn *c, const struct xsd_sockmsg *req, int err)
{
    const char *name = xs_errno_name(err);
    queue(c, build(XS_ERROR, req->req_id, req->tx_id, name, strlen(name) + 1, NULL, 0));
}

void xs_conn_send_event(struct xs_conn *c, const char *path, const char *token)
{
    size_t pl = strlen(path) + 1, tl = strlen(token) + 1;
    if (c->dead || pl + tl > XENSTORE_PAYLOAD_MAX)
        return;
    if (c->out_bytes > (c->privileged ? EVENTS_MAX_DOM0 : EVENTS_MAX_GUEST)) {
        c->srv->events_dropped++;
        if (!c->dropped_warned)
            log_warn("domain %u does not read its watch events: dropping them", c->domid);
        c->dropped_warned = true;
        return;
    }
    struct xs_outmsg *m = build(XS_WATCH_EVENT, 0, 0, path, pl, token, tl);
    m->event = true;
    queue(c, m);
}

static void pop_head(struct xs_conn *c)
{
    struct xs_outmsg *m = c->out_head;
    c->out_head = m->next;
    if (!c->out_head)
        c->out_tail = NULL;
    c->out_bytes -= m->len;
    if (!m->event)
        c->out_replies--;
    c->out_off = 0;
    free(m);
}

bool xs_conn_flush(struct xs_conn *c)
{
    while (c->out_head && c->fd >= 0 && !c->dead) {
        struct iovec iov[64];
        int n = 0;
        for (struct xs_outmsg *m = c->out_head; m && n < 64; m = m->next, n++) {
            size_t skip = n ? 0 : c->out_off;
            iov[n].iov_base = m->data + skip;
            iov[n].iov_len = m->len - skip;
        }
        ssize_t w = writev(c->fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return true;
            xs_conn_kill(c);
            return false;
        }
        size_t left = (size_t)w;
        while (left && c->out_head) {
            size_t rest = c->out_head->len - c->out_off;
            if (left >= rest) {
                left -= rest;
                pop_head(c);
            } else {
                c->out_off += left;
                left = 0;
            }
        }
    }
    return true;
}

long xs_conn_pop(struct xs_conn *c, void *buf, size_t size)
{
    struct xs_outmsg *m = c->out_head;
    if (!m)
        return -1;
    size_t n = m->len < size ? m->len : size;
    memcpy(buf, m->data, n);
    long len = (long)m->len;
    pop_head(c);
    return len;
}

bool xs_conn_throttled(const struct xs_conn *c)
{
    if (c->out_bytes > OUT_MAX_BYTES)
        return true;
    return !c->privileged && c->out_replies >= c->srv->q.outstanding;
}

size_t xs_conn_in_room(const struct xs_conn *c)
{
    return c->in_cap - c->in_len;
}

void xs_conn_process(struct xs_conn *c)
{
    size_t off = 0;
    char payload[XENSTORE_PAYLOAD_MAX + 1];
    while (!c->dead && off < c->in_len) {
        if (c->discard) {   /* the rest of an oversized message */
            size_t n = c->in_len - off;
            if (n > c->discard)
                n = (size_t)c->discard;
            c->discard -= n;
            off += n;
            continue;
        }
        if (xs_conn_throttled(c))
            break;
        struct xsd_sockmsg hdr;
        enum xs_wire_state st = xs_wire_next(c->in + off, c->in_len - off, &hdr);
        if (st == XS_WIRE_MORE)
            break;
        if (st == XS_WIRE_TOO_BIG) {
            log_info("connection of domain %u: %u-byte payload refused", c->domid, hdr.len);
            xs_conn_send_error(c, &hdr, E2BIG);
            c->discard = hdr.len;
            off += XS_HDR_SIZE;
            continue;
        }
        memcpy(payload, c->in + off + XS_HDR_SIZE, hdr.len);
        payload[hdr.len] = 0;   /* a guard: payloads are checked, never trusted */
        off += XS_HDR_SIZE + hdr.len;
        xs_dispatch(c, &hdr, payload);
        c->nreq++;
    }
    if (off) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
}

void xs_conn_input(struct xs_conn *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len && !c->dead) {
        size_t n = xs_conn_in_room(c);
        if (!n) {
            /* Only in-memory feeders get here (the daemon reads no more than
             * the room); a throttled client's bytes wait, others are handled. */
            c->in_cap *= 2;
            c->in = xs_xrealloc(c->in, c->in_cap);
            continue;
        }
        if (n > len)
            n = len;
        memcpy(c->in + c->in_len, p, n);
        c->in_len += n;
        p += n;
        len -= n;
        xs_conn_process(c);
    }
}
