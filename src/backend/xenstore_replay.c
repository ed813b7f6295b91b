/* The xenstore relay's log of unanswered requests and list of watches (see
 * xenstore_replay.h), for a daemon restart and for a save. */
#include "backend/xenstore_replay.h"
#include "xenstore/wire.h"
#include "common/log.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct xs_replay {
    bool off;                            /* framing lost: pass-through only */
    size_t nlog;
    size_t nwhole;                       /* log[0..nwhole): whole requests */
    size_t nwatches;
    unsigned count;                      /* messages in watches[] */
    unsigned swallow;                    /* replies still due to the relay's own requests */
    bool warned;
    /* last, not cleared: untouched pages stay out of the resident memory */
    uint8_t log[XS_REPLAY_LOG_MAX];      /* requests sent, not answered yet */
    uint8_t watches[XS_REPLAY_WATCH_MAX]; /* XS_WATCH messages, req_id 0 */
};

struct xs_replay *xs_replay_new(void)
{
    struct xs_replay *rp = malloc(sizeof(*rp));
    if (rp)
        memset(rp, 0, offsetof(struct xs_replay, log));
    return rp;
}

void xs_replay_free(struct xs_replay *rp)
{
    free(rp);
}

static void turn_off(struct xs_replay *rp, const char *why)
{
    log_warn("xenstore relay: %s: requests will not be sent again after a daemon restart", why);
    rp->off = true;
    rp->nlog = rp->nwhole = rp->nwatches = 0;
    rp->count = rp->swallow = 0;
}

size_t xs_replay_room(const struct xs_replay *rp)
{
    return rp->off ? SIZE_MAX : XS_REPLAY_LOG_MAX - rp->nlog;
}

/* The watch message in watches[] with this payload: its offset, or -1. */
static long find_watch(const struct xs_replay *rp, const uint8_t *payload, uint32_t len)
{
    for (size_t off = 0; off < rp->nwatches; ) {
        struct xsd_sockmsg h;
        memcpy(&h, rp->watches + off, XS_HDR_SIZE);
        if (h.len == len && !memcmp(rp->watches + off + XS_HDR_SIZE, payload, len))
            return (long)off;
        off += XS_HDR_SIZE + h.len;
    }
    return -1;
}

/* An answered XS_WATCH, XS_UNWATCH or XS_RESET_WATCHES: the list follows it. */
static void track_watches(struct xs_replay *rp, const struct xsd_sockmsg *h, const uint8_t *payload)
{
    long at = find_watch(rp, payload, h->len);
    if (h->type == XS_RESET_WATCHES) {
        rp->nwatches = 0;
        rp->count = 0;
    } else if (h->type == XS_UNWATCH && at >= 0) {
        size_t n = XS_HDR_SIZE + h->len;
        memmove(rp->watches + at, rp->watches + at + n, rp->nwatches - at - n);
        rp->nwatches -= n;
        rp->count--;
    } else if (h->type == XS_WATCH && at < 0) {
        if (rp->nwatches + XS_HDR_SIZE + h->len > sizeof(rp->watches)) {
            if (!rp->warned)
                log_warn("xenstore relay: too many watches to register again after a "
                         "daemon restart: the later ones will be lost then");
            rp->warned = true;
            return;
        }
        struct xsd_sockmsg w = { .type = XS_WATCH, .len = h->len };
        memcpy(rp->watches + rp->nwatches, &w, XS_HDR_SIZE);
        memcpy(rp->watches + rp->nwatches + XS_HDR_SIZE, payload, h->len);
        rp->nwatches += XS_HDR_SIZE + h->len;
        rp->count++;
    }
}

void xs_replay_sent(struct xs_replay *rp, const uint8_t *buf, size_t n)
{
    if (rp->off)
        return;
    if (n > XS_REPLAY_LOG_MAX - rp->nlog) {
        turn_off(rp, "more bytes than the log holds");
        return;
    }
    memcpy(rp->log + rp->nlog, buf, n);
    rp->nlog += n;
    for (;;) {
        struct xsd_sockmsg h;
        enum xs_wire_state st = xs_wire_next(rp->log + rp->nwhole, rp->nlog - rp->nwhole, &h);
        if (st == XS_WIRE_TOO_BIG) {
            turn_off(rp, "the guest sent an oversized request");
            return;
        }
        if (st == XS_WIRE_MORE)
            return;
        rp->nwhole += XS_HDR_SIZE + h.len;
    }
}

size_t xs_replay_received(struct xs_replay *rp, uint8_t *buf, size_t *len)
{
    size_t pos = 0;
    while (!rp->off) {
        struct xsd_sockmsg h;
        enum xs_wire_state st = xs_wire_next(buf + pos, *len - pos, &h);
        if (st == XS_WIRE_TOO_BIG)
            turn_off(rp, "the daemon sent an oversized message");
        if (st != XS_WIRE_MSG)
            break;
        size_t n = XS_HDR_SIZE + h.len;
        if (h.type == XS_WATCH_EVENT) {
            pos += n;
        } else if (rp->swallow) {
            /* the reply to a watch registered again: the relay's, not the guest's */
            rp->swallow--;
            memmove(buf + pos, buf + pos + n, *len - pos - n);
            *len -= n;
        } else if (rp->nwhole) {
            struct xsd_sockmsg q;
            memcpy(&q, rp->log, XS_HDR_SIZE);
            size_t qn = XS_HDR_SIZE + q.len;
            if (h.type != XS_ERROR)       /* the daemon took it: its watches as they are now */
                track_watches(rp, &q, rp->log + XS_HDR_SIZE);
            memmove(rp->log, rp->log + qn, rp->nlog - qn);
            rp->nlog -= qn;
            rp->nwhole -= qn;
            pos += n;
        } else {
            turn_off(rp, "a reply to no request");
        }
    }
    return rp->off ? *len : pos;
}

void xs_replay_resend(struct xs_replay *rp, const uint8_t **a, size_t *alen,
                      const uint8_t **b, size_t *blen)
{
    /* replies due from the old daemon will never come */
    rp->swallow = rp->count;
    *a = rp->watches;
    *alen = rp->nwatches;
    *b = rp->log;
    *blen = rp->nlog;
}

bool xs_replay_idle(const struct xs_replay *rp)
{
    return !rp->off && rp->nlog == 0;
}

bool xs_replay_mid_request(const struct xs_replay *rp)
{
    return rp->nlog > rp->nwhole;
}

size_t xs_replay_watches(const struct xs_replay *rp, const uint8_t **buf, unsigned *count)
{
    *buf = rp->watches;
    *count = rp->count;
    return rp->nwatches;
}
