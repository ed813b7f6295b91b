/* The relay's view of the guest's xenstore conversation (xenstore_track.h). */
#include "backend/xenstore_track.h"
#include <stdlib.h>
#include <string.h>

/* Feeds bytes; done() gets each complete message (its body cut at
 * XENSTORE_PAYLOAD_MAX, which the daemon refuses anyway). */
static void feed(struct xs_framer *f, const uint8_t *p, size_t n,
                 void (*done)(struct xs_track *, const struct xs_framer *), struct xs_track *t)
{
    while (n) {
        if (f->hdr_have < sizeof(f->h)) {
            size_t k = sizeof(f->h) - f->hdr_have;
            k = k < n ? k : n;
            memcpy((uint8_t *)&f->h + f->hdr_have, p, k);
            f->hdr_have += k;
            p += k;
            n -= k;
            f->body_have = 0;
        } else {
            size_t k = f->h.len - f->body_have;
            k = k < n ? k : n;
            if (f->body_have < XENSTORE_PAYLOAD_MAX) {
                size_t c = XENSTORE_PAYLOAD_MAX - f->body_have;
                memcpy(f->body + f->body_have, p, c < k ? c : k);
            }
            f->body_have += k;
            p += k;
            n -= k;
        }
        if (f->hdr_have == sizeof(f->h) && f->body_have == f->h.len) {
            f->body[f->h.len < XENSTORE_PAYLOAD_MAX ? f->h.len : XENSTORE_PAYLOAD_MAX] = 0;
            done(t, f);
            f->hdr_have = f->body_have = 0;
        }
    }
}

static void drop_watch(struct xs_track *t, const char *spec, size_t len)
{
    for (struct xs_watch_rec **w = &t->watches; *w; w = &(*w)->next)
        if ((*w)->len == len && !memcmp((*w)->spec, spec, len)) {
            struct xs_watch_rec *gone = *w;
            *w = gone->next;
            free(gone->spec);
            free(gone);
            return;
        }
}

static void req_done(struct xs_track *t, const struct xs_framer *f)
{
    t->unanswered++;
    if (f->h.type == XS_RESET_WATCHES) {
        while (t->watches)
            drop_watch(t, t->watches->spec, t->watches->len);
        return;
    }
    if ((f->h.type != XS_WATCH && f->h.type != XS_UNWATCH) || f->h.len > XENSTORE_PAYLOAD_MAX)
        return;
    /* "path\0token\0": the spec is both strings with their NULs. */
    size_t plen = strnlen(f->body, f->h.len);
    if (plen + 1 >= f->h.len)
        return;
    size_t tlen = strnlen(f->body + plen + 1, f->h.len - plen - 1);
    size_t len = plen + 1 + tlen + 1;
    if (len > f->h.len + 1)
        return;
    char spec[XENSTORE_PAYLOAD_MAX + 2];
    memcpy(spec, f->body, len - 1);
    spec[len - 1] = 0;
    drop_watch(t, spec, len);
    if (f->h.type == XS_UNWATCH)
        return;
    struct xs_watch_rec *w = calloc(1, sizeof(*w));
    if (!w || !(w->spec = malloc(len))) {
        free(w);
        return;
    }
    memcpy(w->spec, spec, len);
    w->len = len;
    w->next = t->watches;
    t->watches = w;
}

static void rsp_done(struct xs_track *t, const struct xs_framer *f)
{
    if (f->h.type != XS_WATCH_EVENT && t->unanswered)
        t->unanswered--;
}

void xs_track_req(struct xs_track *t, const uint8_t *p, size_t n)
{
    feed(&t->req, p, n, req_done, t);
}

void xs_track_rsp(struct xs_track *t, const uint8_t *p, size_t n)
{
    feed(&t->rsp, p, n, rsp_done, t);
}

bool xs_track_idle(const struct xs_track *t)
{
    return !t->unanswered && !t->req.hdr_have && !t->rsp.hdr_have;
}

void xs_track_free(struct xs_track *t)
{
    while (t->watches)
        drop_watch(t, t->watches->spec, t->watches->len);
}
