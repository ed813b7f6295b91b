/* xenstore ring relay. Guest requests go out when the guest kicks the store
 * port (on the vCPU thread, domain lock held); daemon replies and watch events
 * come in on the I/O thread and wait in a buffer until the ring has room. */
#include "backend/xenstore_relay.h"
#include "backend/xenstore_replay.h"
#include "xen/domain.h"
#include "xenstore/client.h"
#include "xenstore/ring.h"
#include "common/log.h"
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
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
    struct xs_replay *replay;     /* what a new daemon must hear again */
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
    if (!to_daemon(r, buf, (size_t)n))
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
        ssize_t n = read(r->fd, r->pending + r->npending, PENDING_MAX - r->npending);
        if (n > 0) {
            r->npending += n;
            size_t len = r->npending - r->nready;
            size_t whole = xs_replay_received(r->replay, r->pending + r->nready, &len);
            r->npending = r->nready + len;
            r->nready += whole;
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
    bool ok = to_daemon(r, a, alen) && to_daemon(r, b, blen);
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
