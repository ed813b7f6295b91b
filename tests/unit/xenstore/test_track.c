/* The xenstore relay's tracker (src/backend/xenstore_track.c): framing of
 * both streams in arbitrary pieces, the guest's watches, unanswered requests. */
#include "backend/xenstore_track.h"
#include "unit.h"
#include <stdlib.h>

static size_t msg(uint8_t *out, uint32_t type, uint32_t req_id, const char *body, size_t len)
{
    struct xsd_sockmsg h = { .type = type, .req_id = req_id, .len = len };
    memcpy(out, &h, sizeof(h));
    memcpy(out + sizeof(h), body, len);
    return sizeof(h) + len;
}

static unsigned nwatches(const struct xs_track *t)
{
    unsigned n = 0;
    for (const struct xs_watch_rec *w = t->watches; w; w = w->next)
        n++;
    return n;
}

TEST(track_watches_and_answers_byte_by_byte)
{
    struct xs_track t = { 0 };
    uint8_t buf[512];
    size_t n = msg(buf, XS_WATCH, 1, "data/a\0tok1", 12);
    n += msg(buf + n, XS_WATCH, 2, "/local/domain/3/b\0t2", 21);
    n += msg(buf + n, XS_READ, 3, "x", 2);
    for (size_t i = 0; i < n; i++)          /* one byte at a time */
        xs_track_req(&t, buf + i, 1);
    CHECK_EQ(t.unanswered, 3);
    CHECK_EQ(nwatches(&t), 2);
    CHECK(!xs_track_idle(&t));
    /* Answers, with a watch event among them (not an answer). */
    n = msg(buf, XS_WATCH, 1, "OK", 3);
    n += msg(buf + n, XS_WATCH_EVENT, 0, "data/a\0tok1", 12);
    n += msg(buf + n, XS_WATCH, 2, "OK", 3);
    xs_track_rsp(&t, buf, n - 5);           /* the last one cut short */
    CHECK_EQ(t.unanswered, 2);
    CHECK(!xs_track_idle(&t));
    xs_track_rsp(&t, buf + n - 5, 5);
    CHECK_EQ(t.unanswered, 1);
    n = msg(buf, XS_READ, 3, "v", 1);
    xs_track_rsp(&t, buf, n);
    CHECK(xs_track_idle(&t));
    /* Unwatch drops the one named; reset drops them all. */
    n = msg(buf, XS_UNWATCH, 4, "data/a\0tok1", 12);
    xs_track_req(&t, buf, n);
    CHECK_EQ(nwatches(&t), 1);
    CHECK_EQ(t.watches->len, 21);
    CHECK(!memcmp(t.watches->spec, "/local/domain/3/b\0t2", 21));
    n = msg(buf, XS_RESET_WATCHES, 5, "", 0);
    xs_track_req(&t, buf, n);
    CHECK_EQ(nwatches(&t), 0);
    xs_track_free(&t);
}

TEST(track_hostile_watch_bodies)
{
    struct xs_track t = { 0 };
    uint8_t buf[8192];
    /* No token, no NULs, a second registration of the same watch, an
     * oversized message: nothing recorded twice, nothing read beyond. */
    size_t n = msg(buf, XS_WATCH, 1, "nonul", 5);
    n += msg(buf + n, XS_WATCH, 2, "p\0", 2);
    n += msg(buf + n, XS_WATCH, 3, "p\0t", 3);
    n += msg(buf + n, XS_WATCH, 4, "p\0t\0", 4);
    xs_track_req(&t, buf, n);
    CHECK_EQ(nwatches(&t), 1);
    static char big[5000];
    memset(big, 'a', sizeof(big));
    n = msg(buf, XS_WATCH, 5, big, sizeof(big) - 1000);
    xs_track_req(&t, buf, n);
    CHECK_EQ(nwatches(&t), 1);
    CHECK_EQ(t.unanswered, 5);
    xs_track_free(&t);
}
