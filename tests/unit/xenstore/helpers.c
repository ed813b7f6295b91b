#include "helpers.h"

#include <stdio.h>
#include <string.h>

static struct reply last;
static char events[64][XENSTORE_PAYLOAD_MAX + 2];
static struct xs_conn *event_conn[64];
static int nevents;

static void drain(struct xs_conn *c)
{
    uint8_t buf[XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX];
    long n;
    while ((n = xs_conn_pop(c, buf, sizeof(buf))) >= 0) {
        struct xsd_sockmsg h;
        memcpy(&h, buf, sizeof(h));
        if (h.type == XS_WATCH_EVENT) {
            if (nevents < 64) {
                char *e = events[nevents];
                memcpy(e, buf + sizeof(h), h.len);
                e[h.len] = 0;
                e[strlen(e)] = '|';   /* path|token */
                event_conn[nevents++] = c;
            }
            continue;
        }
        last.type = h.type;
        last.req_id = h.req_id;
        last.tx_id = h.tx_id;
        last.len = h.len;
        memcpy(last.data, buf + sizeof(h), h.len);
        last.data[h.len] = 0;
    }
}

struct reply *req(struct xs_conn *c, uint32_t type, uint32_t tx, const char *payload, size_t plen)
{
    static uint32_t id;
    uint8_t buf[XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX + 64];
    struct xsd_sockmsg h = { .type = type, .req_id = ++id, .tx_id = tx, .len = (uint32_t)plen };
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), payload, plen);
    memset(&last, 0, sizeof(last));
    last.type = 0xffff;
    xs_conn_input(c, buf, sizeof(h) + plen);
    /* Other connections' events are gathered too (they may be watchers). */
    for (struct xs_conn *o = c->srv->conns; o; o = o->next)
        drain(o);
    return &last;
}

struct reply *req1(struct xs_conn *c, uint32_t type, uint32_t tx, const char *s)
{
    return req(c, type, tx, s, strlen(s) + 1);
}

const char *err_of(const struct reply *r)
{
    return r->type == XS_ERROR ? r->data : "";
}

const char *next_event(struct xs_conn *c)
{
    static char out[XENSTORE_PAYLOAD_MAX + 2];
    for (struct xs_conn *o = c->srv->conns; o; o = o->next)
        drain(o);
    for (int i = 0; i < nevents; i++) {
        if (event_conn[i] != c)
            continue;
        strcpy(out, events[i]);
        memmove(&events[i], &events[i + 1], (size_t)(nevents - i - 1) * sizeof(events[0]));
        memmove(&event_conn[i], &event_conn[i + 1], (size_t)(nevents - i - 1) * sizeof(event_conn[0]));
        nevents--;
        return out;
    }
    return NULL;
}

struct xs_conn *guest_conn(struct xs_server *s, unsigned domid)
{
    char p[32];
    int n = snprintf(p, sizeof(p), "xenkvm-relay%c%u", 0, domid);
    struct xs_conn *c = xs_conn_new(s, -1);
    struct reply *r = req(c, XS_CONTROL, 0, p, (size_t)n + 1);
    if (r->type != XS_CONTROL)
        return NULL;
    return c;
}
