/* PV console backend: drains the guest's xencons out ring to out_fd and feeds
 * in_fd's bytes into its in ring. Guest indices are checked on every pass. */
#include "backend/console.h"
#include "xen/domain.h"
#include "common/log.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xen/io/console.h>

#define INBUF_SIZE 4096

struct console {
    struct domain *d;
    struct xencons_interface *ring;
    int port;                    /* guest port */
    int host_port;
    int in_fd, out_fd;
    uint8_t inbuf[INBUF_SIZE];   /* input not yet taken by the guest */
    size_t in_len;
    bool ring_broken;            /* the guest wrote impossible indices */
};

static void write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;     /* output gone: drop, as a console does */
        p += n;
        len -= n;
    }
}

void console_write(struct console *c, const void *buf, size_t len)
{
    write_all(c->out_fd, buf, len);
}

/* Moves the guest's output to out_fd. Caller holds the domain lock. */
static bool drain_out(struct console *c)
{
    struct xencons_interface *r = c->ring;
    XENCONS_RING_IDX cons = r->out_cons;
    XENCONS_RING_IDX prod = __atomic_load_n(&r->out_prod, __ATOMIC_ACQUIRE);
    if (prod - cons > sizeof(r->out)) {
        if (!c->ring_broken)
            log_warn("domain %u: console ring has impossible indices (prod %u cons %u); ignoring it",
                     c->d->domid, prod, cons);
        c->ring_broken = true;
        return false;
    }
    bool moved = prod != cons;
    while (cons != prod) {
        size_t off = MASK_XENCONS_IDX(cons, r->out);
        size_t n = sizeof(r->out) - off;
        if (n > prod - cons)
            n = prod - cons;
        write_all(c->out_fd, r->out + off, n);
        cons += n;
    }
    __atomic_store_n(&r->out_cons, cons, __ATOMIC_RELEASE);
    return moved;
}

/* Moves buffered input into the guest's in ring. Caller holds the domain lock. */
static bool fill_in(struct console *c)
{
    struct xencons_interface *r = c->ring;
    XENCONS_RING_IDX prod = r->in_prod;
    XENCONS_RING_IDX cons = __atomic_load_n(&r->in_cons, __ATOMIC_ACQUIRE);
    if (prod - cons > sizeof(r->in)) {
        c->ring_broken = true;
        return false;
    }
    size_t done = 0;
    while (done < c->in_len && prod - cons < sizeof(r->in)) {
        r->in[MASK_XENCONS_IDX(prod, r->in)] = c->inbuf[done++];
        prod++;
    }
    if (!done)
        return false;
    memmove(c->inbuf, c->inbuf + done, c->in_len - done);
    c->in_len -= done;
    __atomic_store_n(&r->in_prod, prod, __ATOMIC_RELEASE);
    return true;
}

/* The guest kicked the console port (runs with the domain lock held). */
static void guest_kicked(void *opaque, evtchn_port_t port)
{
    struct console *c = opaque;
    (void)port;
    if (c->ring_broken)
        return;
    bool notify = drain_out(c);
    notify |= fill_in(c);
    if (notify)
        evtchn_host_notify(&c->d->ev, c->host_port);
}

static void input_ready(void *opaque)
{
    struct console *c = opaque;
    domain_lock(c->d);
    if (c->in_len < INBUF_SIZE) {
        ssize_t n = read(c->in_fd, c->inbuf + c->in_len, INBUF_SIZE - c->in_len);
        if (n > 0)
            c->in_len += n;
        else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            domain_unwatch_fd(c->d, c->in_fd);   /* end of input */
            c->in_fd = -1;
        }
    }
    if (!c->ring_broken && fill_in(c))
        evtchn_host_notify(&c->d->ev, c->host_port);
    domain_unlock(c->d);
}

static size_t conio_read(void *opaque, void *buf, size_t max)
{
    return console_read(opaque, buf, max);
}

static void conio_write(void *opaque, const void *buf, size_t len)
{
    console_write(opaque, buf, len);
}

size_t console_read(struct console *c, void *buf, size_t max)
{
    size_t n = c->in_len < max ? c->in_len : max;
    memcpy(buf, c->inbuf, n);
    memmove(c->inbuf, c->inbuf + n, c->in_len - n);
    c->in_len -= n;
    return n;
}

struct console *console_create(struct domain *d, void *ring_page, int in_fd, int out_fd)
{
    struct console *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->d = d;
    c->ring = ring_page;
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    pthread_mutex_lock(&d->lock);
    c->port = evtchn_host_alloc_bound(&d->ev, guest_kicked, c);
    c->host_port = c->port > 0 ? d->ev.ports[c->port].u.inter.host_port : -1;
    pthread_mutex_unlock(&d->lock);
    if (c->port < 0) {
        free(c);
        return NULL;
    }
    if (in_fd >= 0 && domain_watch_fd(d, in_fd, input_ready, c) < 0)
        c->in_fd = -1;
    d->conio_read = conio_read;
    d->conio_write = conio_write;
    d->conio = c;
    return c;
}

int console_port(struct console *c)
{
    return c->port;
}

void console_destroy(struct console *c)
{
    free(c);
}
