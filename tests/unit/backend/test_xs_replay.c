/* The xenstore relay's replay log (src/backend/xenstore_replay.c): what it
 * sends a restarted daemon again, and which replies it keeps from the guest. */
#include "unit.h"
#include "backend/xenstore_replay.h"
#include "xenstore/wire.h"

/* A message (header + payload of len bytes) into buf; its size. */
static size_t msg(uint8_t *buf, uint32_t type, uint32_t req_id, const void *payload, uint32_t len)
{
    struct xsd_sockmsg h = { .type = type, .req_id = req_id, .len = len };
    memcpy(buf, &h, XS_HDR_SIZE);
    memcpy(buf + XS_HDR_SIZE, payload, len);
    return XS_HDR_SIZE + len;
}

static const char WATCH[] = "control/shutdown\0tok";      /* both NULs sent */

/* The type and req_id of the message at buf. */
static uint32_t type_at(const uint8_t *buf, uint32_t *req_id)
{
    struct xsd_sockmsg h;
    memcpy(&h, buf, XS_HDR_SIZE);
    if (req_id)
        *req_id = h.req_id;
    return h.type;
}

TEST(unanswered_requests_are_sent_again)
{
    struct xs_replay *rp = xs_replay_new();
    uint8_t req[256], rsp[256];
    size_t n1 = msg(req, XS_READ, 1, "name", 5);
    size_t n2 = msg(req + n1, XS_READ, 2, "vm", 3);
    /* the second request arrives in two pieces */
    xs_replay_sent(rp, req, n1 + 4);
    xs_replay_sent(rp, req + n1 + 4, n2 - 4);
    CHECK_EQ(xs_replay_room(rp), XS_REPLAY_LOG_MAX - n1 - n2);
    /* the reply to the first, and half of the second's */
    size_t r1 = msg(rsp, XS_READ, 1, "k1", 2);
    size_t r2 = msg(rsp + r1, XS_READ, 2, "/vm/x", 5);
    size_t len = r1 + 6;
    CHECK_EQ(xs_replay_received(rp, rsp, &len), r1);
    CHECK_EQ(len, r1 + 6);
    const uint8_t *a, *b;
    size_t alen, blen;
    xs_replay_resend(rp, &a, &alen, &b, &blen);
    CHECK_EQ(alen, 0);
    CHECK_EQ(blen, n2);
    CHECK(!memcmp(b, req + n1, n2));
    /* the new daemon answers it: the log is empty again */
    len = r2;
    CHECK_EQ(xs_replay_received(rp, rsp + r1, &len), r2);
    CHECK_EQ(xs_replay_room(rp), XS_REPLAY_LOG_MAX);
    xs_replay_free(rp);
}

TEST(watches_are_registered_again_and_their_replies_dropped)
{
    struct xs_replay *rp = xs_replay_new();
    uint8_t req[256], rsp[512];
    size_t n = msg(req, XS_WATCH, 7, WATCH, sizeof(WATCH));
    xs_replay_sent(rp, req, n);
    size_t len = msg(rsp, XS_WATCH, 7, "OK", 3);
    len += msg(rsp + len, XS_WATCH_EVENT, 0, WATCH, sizeof(WATCH));
    size_t all = len;
    CHECK_EQ(xs_replay_received(rp, rsp, &len), all);
    /* an unanswered read, then the daemon restarts */
    size_t nr = msg(req, XS_READ, 8, "control/shutdown", 17);
    xs_replay_sent(rp, req, nr);
    const uint8_t *a, *b;
    size_t alen, blen;
    xs_replay_resend(rp, &a, &alen, &b, &blen);
    CHECK_EQ(alen, XS_HDR_SIZE + sizeof(WATCH));
    CHECK_EQ(type_at(a, NULL), XS_WATCH);
    CHECK(!memcmp(a + XS_HDR_SIZE, WATCH, sizeof(WATCH)));
    CHECK_EQ(blen, nr);
    /* the new daemon: the registration's reply (dropped), its event, the
     * read's reply (kept) */
    len = msg(rsp, XS_WATCH, 0, "OK", 3);
    size_t ev = msg(rsp + len, XS_WATCH_EVENT, 0, WATCH, sizeof(WATCH));
    len += ev;
    size_t rd = msg(rsp + len, XS_READ, 8, "", 0);
    len += rd;
    CHECK_EQ(xs_replay_received(rp, rsp, &len), ev + rd);
    CHECK_EQ(len, ev + rd);
    uint32_t id;
    CHECK_EQ(type_at(rsp, NULL), XS_WATCH_EVENT);
    CHECK_EQ(type_at(rsp + ev, &id), XS_READ);
    CHECK_EQ(id, 8);
    /* unwatched (and answered): nothing to register after the next restart */
    n = msg(req, XS_UNWATCH, 9, WATCH, sizeof(WATCH));
    xs_replay_sent(rp, req, n);
    len = msg(rsp, XS_UNWATCH, 9, "OK", 3);
    xs_replay_received(rp, rsp, &len);
    xs_replay_resend(rp, &a, &alen, &b, &blen);
    CHECK_EQ(alen, 0);
    CHECK_EQ(blen, 0);
    xs_replay_free(rp);
}

TEST(refused_watch_is_not_kept)
{
    struct xs_replay *rp = xs_replay_new();
    uint8_t req[256], rsp[256];
    xs_replay_sent(rp, req, msg(req, XS_WATCH, 1, WATCH, sizeof(WATCH)));
    size_t len = msg(rsp, XS_ERROR, 1, "EACCES", 7);
    CHECK_EQ(xs_replay_received(rp, rsp, &len), len);
    const uint8_t *a, *b;
    size_t alen, blen;
    xs_replay_resend(rp, &a, &alen, &b, &blen);
    CHECK_EQ(alen + blen, 0);
    xs_replay_free(rp);
}

TEST(unframeable_stream_passes_through)
{
    struct xs_replay *rp = xs_replay_new();
    uint8_t req[64] = { 0 };
    struct xsd_sockmsg h = { .type = XS_READ, .len = XENSTORE_PAYLOAD_MAX + 1 };
    memcpy(req, &h, XS_HDR_SIZE);
    xs_replay_sent(rp, req, sizeof(req));
    CHECK_EQ(xs_replay_room(rp), SIZE_MAX);
    uint8_t rsp[40] = { 0 };
    size_t len = 21;                        /* not even whole: passed as it is */
    CHECK_EQ(xs_replay_received(rp, rsp, &len), 21);
    const uint8_t *a, *b;
    size_t alen, blen;
    xs_replay_resend(rp, &a, &alen, &b, &blen);
    CHECK_EQ(alen + blen, 0);
    xs_replay_free(rp);
}

TEST(log_is_bounded)
{
    struct xs_replay *rp = xs_replay_new();
    static uint8_t big[XENSTORE_PAYLOAD_MAX + XS_HDR_SIZE];
    static char payload[XENSTORE_PAYLOAD_MAX];
    size_t n = msg(big, XS_WRITE, 1, payload, sizeof(payload));
    unsigned sent = 0;
    while (xs_replay_room(rp) >= n) {
        xs_replay_sent(rp, big, n);
        sent++;
    }
    CHECK_EQ(sent, XS_REPLAY_LOG_MAX / n);
    CHECK(xs_replay_room(rp) < n);
    xs_replay_free(rp);
}

/* What a save asks (xs_relay_quiesce, xs_relay_state): idle once every request
 * is answered, a request cut in two noticed, the watches the daemon took (not
 * one it refused, not one unwatched) in the order they were set. */
TEST(save_sees_idle_and_the_watches)
{
    struct xs_replay *rp = xs_replay_new();
    uint8_t req[512], rsp[512];
    static const char W2[] = "/local/domain/3/b\0t2";
    static const char BAD[] = "p\0";
    CHECK(xs_replay_idle(rp));
    size_t n = msg(req, XS_WATCH, 1, WATCH, sizeof(WATCH));
    n += msg(req + n, XS_WATCH, 2, W2, sizeof(W2));
    n += msg(req + n, XS_WATCH, 3, BAD, sizeof(BAD));
    xs_replay_sent(rp, req, n - 3);                 /* the last one cut short */
    CHECK(!xs_replay_idle(rp));
    CHECK(xs_replay_mid_request(rp));
    xs_replay_sent(rp, req + n - 3, 3);
    CHECK(!xs_replay_mid_request(rp));
    size_t len = msg(rsp, XS_WATCH, 1, "OK", 3);
    len += msg(rsp + len, XS_WATCH_EVENT, 0, WATCH, sizeof(WATCH));   /* not an answer */
    len += msg(rsp + len, XS_WATCH, 2, "OK", 3);
    size_t all = len;
    CHECK_EQ(xs_replay_received(rp, rsp, &len), all);
    CHECK(!xs_replay_idle(rp));                     /* the third is unanswered */
    len = msg(rsp, XS_ERROR, 3, "EINVAL", 7);
    CHECK_EQ(xs_replay_received(rp, rsp, &len), len);
    CHECK(xs_replay_idle(rp));
    const uint8_t *w;
    unsigned count;
    size_t wlen = xs_replay_watches(rp, &w, &count);
    CHECK_EQ(count, 2);
    CHECK_EQ(wlen, 2 * XS_HDR_SIZE + sizeof(WATCH) + sizeof(W2));
    CHECK(!memcmp(w + XS_HDR_SIZE, WATCH, sizeof(WATCH)));
    CHECK(!memcmp(w + 2 * XS_HDR_SIZE + sizeof(WATCH), W2, sizeof(W2)));
    /* unwatch the first: the second is left */
    n = msg(req, XS_UNWATCH, 4, WATCH, sizeof(WATCH));
    xs_replay_sent(rp, req, n);
    len = msg(rsp, XS_UNWATCH, 4, "OK", 3);
    CHECK_EQ(xs_replay_received(rp, rsp, &len), len);
    wlen = xs_replay_watches(rp, &w, &count);
    CHECK_EQ(count, 1);
    CHECK_EQ(wlen, XS_HDR_SIZE + sizeof(W2));
    CHECK(!memcmp(w + XS_HDR_SIZE, W2, sizeof(W2)));
    xs_replay_free(rp);
}
