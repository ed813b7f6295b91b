/* xenstore ring relay. Guest requests go out when the guest kicks the store
 * port (on the vCPU thread, domain lock held); daemon replies and watch events
 * come in on the I/O thread and wait in a buffer until the ring has room. */
#include "backend/xenstore_relay.h"
#include "backend/xenstore_replay.h"
#include "backend/xenstore_domid.h"
#include "xen/domain.h"
#include "xenstore/client.h"
#include "xenstore/ring.h"
#include "common/log.h"
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PENDING_MAX (64 * 1024)

struct xs_relay {
    struct domain *d;
    struct xenstore_domain_interface *ring;
    int port, host_port;
    int fd;                       /* daemon connection, -1 until connected */
    bool watching;                /* fd is in the I/O thread's epoll set */
    bool broken;                  /* guest indices went wrong, or the daemon left */
    bool lost;                    /* the daemon left (reconnectable) */
    size_t npending;
    size_t nready;                /* pending[0..nready): whole messages */
    struct xs_replay *replay;     /* unanswered requests and watches: for a new daemon, a save */
    /* The id the guest sees in paths (xenstore_domid.h): its first domain's,
     * carried across restores; requests are framed here to rewrite them. */
    unsigned vis;
    bool raw;                     /* the guest's stream cannot be framed: passed as it is */
    size_t nframe;
    uint8_t frame[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
    uint8_t pending[PENDING_MAX]; /* daemon bytes not yet in the ring (last: see create) */
};

/* Stops relaying; ring_error (XENSTORE_ERROR_*) is reported in the page. */
static void stop(struct xs_relay *r, uint32_t ring_error, const char *why)
{
    if (!r->broken)
        log_warn("domain %u: xenstore connection stopped: %s", r->d->domid, why);
    if (!r->broken && ring_error == XENSTORE_ERROR_COMM)
        r->lost = true;
    r->broken = true;
    __atomic_store_n(&r->ring->error, ring_error, __ATOMIC_RELEASE);
}

/* Moves buffered daemon bytes into the rsp ring. Domain lock held. */
static bool flush_to_ring(struct xs_relay *r)
{
    if (!r->nready || r->broken)
        return false;
    /* whole messages only: a partial one from a daemon that died is dropped */
    ssize_t n = xs_ring_write_rsp(r->ring, r->pending, r->nready);
    if (n < 0) {
        stop(r, XENSTORE_ERROR_RINGIDX, "impossible response-ring indices from the guest");
        return false;
    }
    memmove(r->pending, r->pending + n, r->npending - n);
    r->npending -= n;
    r->nready -= n;
    return n > 0;
}

static void daemon_readable(void *opaque);

static void watch_daemon(struct xs_relay *r, bool on)
{
    if (on == r->watching || r->fd < 0)
        return;
    if (on)
        r->watching = domain_watch_fd(r->d, r->fd, daemon_readable, r) == 0;
    else {
        domain_unwatch_fd(r->d, r->fd);
        r->watching = false;
    }
}

/* Writes all of buf to the daemon; false (relay stopped) if it failed. */
static bool to_daemon(struct xs_relay *r, const uint8_t *buf, size_t n)
{
    for (size_t off = 0; off < n; ) {
        ssize_t w = write(r->fd, buf + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            stop(r, XENSTORE_ERROR_COMM, "the daemon connection failed");
            return false;
        }
        off += w;
    }
    return true;
}

/* Sends guest bytes, their paths rewritten to the real id when the guest
 * sees another (framed: a request goes once it is whole). */
static bool guest_to_daemon(struct xs_relay *r, const uint8_t *buf, size_t n)
{
    if (r->vis == r->d->domid || r->raw)
        return to_daemon(r, buf, n);
    const size_t hs = sizeof(struct xsd_sockmsg);
    while (n) {
        size_t want = hs;
        struct xsd_sockmsg h;
        if (r->nframe >= hs) {
            memcpy(&h, r->frame, hs);
            want = hs + h.len;
        }
        size_t k = want - r->nframe < n ? want - r->nframe : n;
        memcpy(r->frame + r->nframe, buf, k);
        r->nframe += k;
        buf += k;
        n -= k;
        if (r->nframe < hs)
            break;                    /* n is 0 */
        memcpy(&h, r->frame, hs);
        if (h.len > XENSTORE_PAYLOAD_MAX) {
            r->raw = true;            /* the daemon refuses it: pass it on as it is */
            size_t f = r->nframe;
            r->nframe = 0;
            return to_daemon(r, r->frame, f) && to_daemon(r, buf, n);
        }
        if (r->nframe < hs + h.len)
            continue;                 /* more of its body */
        uint8_t out[sizeof(r->frame) + 64];
        size_t m = xsdomid_request(r->frame, r->vis, r->d->domid, out, sizeof(out));
        r->nframe = 0;
        if (!to_daemon(r, out, m))
            return false;
    }
    return true;
}

/* Daemon messages pending[start, start + whole) with watch-event paths put
 * back in the guest's form; returns their new length (the partial message
 * after them moves along). Domain lock held. */
static size_t daemon_to_guest(struct xs_relay *r, size_t start, size_t whole)
{
    if (r->vis == r->d->domid)
        return whole;
    const uint8_t *w;
    unsigned nw;
    size_t wlen = xs_replay_watches(r->replay, &w, &nw);
    size_t off = start, end = start + whole;
    while (off + sizeof(struct xsd_sockmsg) <= end) {
        struct xsd_sockmsg h;
        memcpy(&h, r->pending + off, sizeof(h));
        size_t len = sizeof(h) + h.len;
        uint8_t out[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX + 64];
        size_t m = xsdomid_event(r->pending + off, w, wlen, r->vis, r->d->domid, out, sizeof(out));
        if (m != len && r->npending + m - len <= PENDING_MAX) {
            memmove(r->pending + off + m, r->pending + off + len, r->npending - off - len);
            r->npending = r->npending + m - len;
            end = end + m - len;
            memcpy(r->pending + off, out, m);
            len = m;
        } else if (m == len) {
            memcpy(r->pending + off, out, m);
        }
        off += len;
    }
    return end - start;
}

/* Forwards the guest's requests (as many as the replay log has room for) and
 * refills responses. Domain lock held. */
static void pump(struct xs_relay *r)
{
    if (r->broken || r->fd < 0)
        return;
    uint8_t buf[XENSTORE_RING_SIZE];
    size_t room = xs_replay_room(r->replay);
    ssize_t n = xs_ring_read_req(r->ring, buf, room < sizeof(buf) ? room : sizeof(buf));
    if (n < 0) {
        stop(r, XENSTORE_ERROR_RINGIDX, "impossible request-ring indices from the guest");
        return;
    }
    /* logged first: bytes lost with a dying daemon go to the next one */
    xs_replay_sent(r->replay, buf, (size_t)n);
    if (!guest_to_daemon(r, buf, (size_t)n))
        return;
    bool notify = n > 0;
    notify |= flush_to_ring(r);
    if (r->npending < PENDING_MAX)
        watch_daemon(r, true);    /* room again for daemon bytes */
    if (notify)
        evtchn_host_notify(&r->d->ev, r->host_port);
}

/* The guest kicked the store port. */
static void guest_kicked(void *opaque, evtchn_port_t port)
{
    (void)port;
    pump(opaque);
}

static void daemon_readable(void *opaque)
{
    struct xs_relay *r = opaque;
    domain_lock(r->d);
    if (!r->broken) {
        /* Never blocks: an event from the same epoll batch may be stale when
         * xs_relay_quiesce (a save or migration's stop, on this thread) has
         * already read what was there, and a blocking read here would hang
         * holding the domain lock. */
        ssize_t n = recv(r->fd, r->pending + r->npending, PENDING_MAX - r->npending,
                         MSG_DONTWAIT);
        if (n > 0) {
            r->npending += n;
            size_t len = r->npending - r->nready;
            size_t whole = xs_replay_received(r->replay, r->pending + r->nready, &len);
            r->npending = r->nready + len;
            r->nready += daemon_to_guest(r, r->nready, whole);
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            stop(r, XENSTORE_ERROR_COMM, "the daemon closed the connection");
        }
        /* replies free room in the log: requests waiting in the ring go now */
        pump(r);
    }
    /* A guest that does not read its responses stops the relay reading the
     * daemon (not the daemon or other guests). */
    if (r->broken || r->npending == PENDING_MAX)
        watch_daemon(r, false);
    domain_unlock(r->d);
}

struct xs_relay *xs_relay_create(struct domain *d, void *ring_page)
{
    /* The buffer is not cleared: its pages stay out of the process's resident
     * memory until replies queue up in it (with no daemon, never). */
    struct xs_relay *r = malloc(sizeof(*r));
    if (!r)
        return NULL;
    memset(r, 0, offsetof(struct xs_relay, pending));
    r->replay = xs_replay_new();
    if (!r->replay) {
        free(r);
        return NULL;
    }
    r->d = d;
    r->vis = d->domid;
    r->ring = ring_page;
    r->fd = -1;
    memset(r->ring, 0, sizeof(*r->ring));
    /* Errors are reported in the page; reconnection is not offered. */
    r->ring->server_features = XENSTORE_SERVER_FEATURE_ERROR;
    r->ring->connection = XENSTORE_CONNECTED;
    pthread_mutex_lock(&d->lock);
    r->port = evtchn_host_alloc_bound(&d->ev, guest_kicked, r);
    r->host_port = r->port > 0 ? d->ev.ports[r->port].u.inter.host_port : -1;
    pthread_mutex_unlock(&d->lock);
    if (r->port < 0) {
        xs_replay_free(r->replay);
        free(r);
        return NULL;
    }
    return r;
}

int xs_relay_port(struct xs_relay *r)
{
    return r->port;
}

int xs_relay_connect(struct xs_relay *r, const char *socket_path)
{
    int fd = xs_relay_open(socket_path, r->d->domid);
    if (fd < 0)
        return fd;
    pthread_mutex_lock(&r->d->lock);
    r->fd = fd;
    watch_daemon(r, true);
    pthread_mutex_unlock(&r->d->lock);
    return 0;
}

bool xs_relay_lost(struct xs_relay *r)
{
    pthread_mutex_lock(&r->d->lock);
    bool lost = r->lost;
    pthread_mutex_unlock(&r->d->lock);
    return lost;
}

int xs_relay_reconnect(struct xs_relay *r, const char *socket_path)
{
    int fd = xs_relay_open(socket_path, r->d->domid);
    if (fd < 0)
        return fd;
    domain_lock(r->d);
    watch_daemon(r, false);
    if (r->fd >= 0)
        close(r->fd);
    r->fd = fd;
    r->npending = r->nready;      /* the old daemon's last, partial message goes */
    r->broken = r->lost = false;
    __atomic_store_n(&r->ring->error, 0, __ATOMIC_RELEASE);
    /* The new daemon hears the guest's watches and unanswered requests
     * again, then what the guest queued meanwhile. */
    const uint8_t *a, *b;
    size_t alen, blen;
    xs_replay_resend(r->replay, &a, &alen, &b, &blen);
    r->nframe = 0;
    bool ok = guest_to_daemon(r, a, alen) && guest_to_daemon(r, b, blen);
    if (ok) {
        watch_daemon(r, true);
        pump(r);
    }
    domain_unlock(r->d);
    if (!ok)
        return -EPIPE;            /* lost again: the next check tries again */
    log_info("domain %u: xenstore connection restored", r->d->domid);
    return 0;
}

void xs_relay_destroy(struct xs_relay *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    xs_replay_free(r->replay);
    free(r);
}

/* ---- save and restore ---- */

int xs_relay_quiesce(struct xs_relay *r, int timeout_ms)
{
    for (int waited = 0;; waited += 10) {
        pthread_mutex_lock(&r->d->lock);
        /* nothing unanswered, and no daemon message (a watch event) half read */
        bool idle = xs_replay_idle(r->replay) && r->npending == r->nready;
        bool broken = r->broken, half = xs_replay_mid_request(r->replay);
        pthread_mutex_unlock(&r->d->lock);
        if (broken)
            return -EPIPE;
        if (idle)
            return 0;
        if (half || waited >= timeout_ms)
            return half ? -EBUSY : -ETIMEDOUT;
        /* The caller is the I/O thread: read the daemon's answers here. */
        struct pollfd p = { .fd = r->fd, .events = POLLIN };
        if (r->fd >= 0 && poll(&p, 1, 10) > 0)
            daemon_readable(r);
    }
}

static void put32(uint8_t **p, uint32_t v)
{
    memcpy(*p, &v, 4);
    *p += 4;
}

size_t xs_relay_state(struct xs_relay *r, uint8_t **out)
{
    pthread_mutex_lock(&r->d->lock);
    const uint8_t *w;
    unsigned n;
    size_t wlen = xs_replay_watches(r->replay, &w, &n);
    /* each watch as (length, "path\0token\0"); then the whole messages not yet
     * in the ring (a save waits for any part of one) */
    size_t len = 8 + r->nready + wlen - (size_t)n * (sizeof(struct xsd_sockmsg) - 4);
    uint8_t *p = *out = malloc(len);
    if (p) {
        put32(&p, n);
        for (size_t off = 0; off < wlen; ) {
            struct xsd_sockmsg h;
            memcpy(&h, w + off, sizeof(h));
            put32(&p, h.len);
            memcpy(p, w + off + sizeof(h), h.len);
            p += h.len;
            off += sizeof(h) + h.len;
        }
        put32(&p, r->nready);
        memcpy(p, r->pending, r->nready);
    }
    pthread_mutex_unlock(&r->d->lock);
    return p ? len : 0;
}

static int read_all(int fd, void *buf, size_t n)
{
    for (size_t off = 0; off < n; ) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 5000) <= 0)
            return -ETIMEDOUT;
        ssize_t k = read(fd, (uint8_t *)buf + off, n - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -EIO;
        off += k;
    }
    return 0;
}

unsigned xs_relay_visible_domid(struct xs_relay *r)
{
    return r->vis;
}

#define RESTORE_REQ_ID 0x7e570000u

int xs_relay_restore(struct xs_relay *r, const uint8_t *state, size_t len, unsigned vis)
{
    uint32_t n, k;
    const uint8_t *p = state, *end = state + len;
    if (len < 4 || r->fd < 0)
        return -EINVAL;
    memcpy(&n, p, 4);
    p += 4;
    /* The guest's watches, registered again on the new connection before
     * its vCPUs run. Each also fires once at registration (as on Xen): the
     * guest sees a spurious event, never misses one. */
    uint32_t sent = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (end - p < 4)
            return -EINVAL;
        memcpy(&k, p, 4);
        p += 4;
        if (k > (size_t)(end - p) || k > XENSTORE_PAYLOAD_MAX)
            return -EINVAL;
        struct { struct xsd_sockmsg h; char body[XENSTORE_PAYLOAD_MAX + 64]; } m;
        /* the watch's path (the guest's form) as the daemon must see it */
        const char *nul = memchr(p, 0, k);
        size_t pl = nul ? (size_t)(nul - (const char *)p) : k;
        size_t blen = xsdomid_path((const char *)p, pl, vis, r->d->domid, m.body, sizeof(m.body));
        if (!blen || blen + (k - pl) > sizeof(m.body))
            return -EINVAL;
        memcpy(m.body + blen, p + pl, k - pl);
        blen += k - pl;
        p += k;
        m.h = (struct xsd_sockmsg){ .type = XS_WATCH, .req_id = RESTORE_REQ_ID + i,
                                    .len = blen };
        if (!to_daemon(r, (const uint8_t *)&m, sizeof(m.h) + blen))
            return -EIO;
        sent++;
    }
    if (end - p < 4)
        return -EINVAL;
    memcpy(&k, p, 4);
    p += 4;
    if (k != (size_t)(end - p) || k > PENDING_MAX)
        return -EINVAL;
    pthread_mutex_lock(&r->d->lock);
    r->vis = vis;
    memcpy(r->pending, p, k);       /* answers the guest had not taken yet */
    r->npending = r->nready = k;
    pthread_mutex_unlock(&r->d->lock);
    while (sent) {
        struct { struct xsd_sockmsg h; char body[XENSTORE_PAYLOAD_MAX]; } m;
        if (read_all(r->fd, &m.h, sizeof(m.h)) < 0 || m.h.len > XENSTORE_PAYLOAD_MAX ||
            read_all(r->fd, m.body, m.h.len) < 0)
            return -EIO;
        if (m.h.type != XS_WATCH_EVENT && (m.h.req_id & 0xffff0000u) == RESTORE_REQ_ID) {
            sent--;
            continue;
        }
        pthread_mutex_lock(&r->d->lock);
        if (r->npending + sizeof(m.h) + m.h.len <= PENDING_MAX) {
            memcpy(r->pending + r->npending, &m, sizeof(m.h) + m.h.len);
            r->npending += sizeof(m.h) + m.h.len;
            r->nready = r->npending;
        }
        pthread_mutex_unlock(&r->d->lock);
    }
    /* The watches are the guest's again: track them as its own. */
    p = state + 4;
    for (uint32_t i = 0; i < n; i++) {
        memcpy(&k, p, 4);
        struct { struct xsd_sockmsg h; char body[XENSTORE_PAYLOAD_MAX]; } m = {
            .h = { .type = XS_WATCH, .len = k } };
        memcpy(m.body, p + 4, k);
        p += 4 + k;
        /* as the replay's, so a later save or daemon restart has them: the
         * request and the daemon's "OK" as if they had passed */
        pthread_mutex_lock(&r->d->lock);
        xs_replay_sent(r->replay, (const uint8_t *)&m, sizeof(m.h) + k);
        struct { struct xsd_sockmsg h; char ok[3]; } ack = {
            .h = { .type = XS_WATCH, .req_id = m.h.req_id, .len = 3 }, .ok = "OK" };
        size_t alen = sizeof(ack);
        xs_replay_received(r->replay, (uint8_t *)&ack, &alen);
        pthread_mutex_unlock(&r->d->lock);
    }
    /* the registrations' events, now that the watches are known */
    pthread_mutex_lock(&r->d->lock);
    r->nready = daemon_to_guest(r, 0, r->nready);
    pthread_mutex_unlock(&r->d->lock);
    return 0;
}
