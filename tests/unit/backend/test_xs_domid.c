/* A restored guest's domain id in xenstore paths (src/backend/xenstore_domid.c):
 * requests rewritten to the real id, watch events back to the guest's. */
#include "unit.h"
#include "backend/xenstore_domid.h"
#include "xenstore/wire.h"

static size_t msg(uint8_t *buf, uint32_t type, const void *payload, uint32_t len)
{
    struct xsd_sockmsg h = { .type = type, .req_id = 7, .len = len };
    memcpy(buf, &h, XS_HDR_SIZE);
    memcpy(buf + XS_HDR_SIZE, payload, len);
    return XS_HDR_SIZE + len;
}

static const char *path(const char *in, unsigned from, unsigned to, char *out)
{
    size_t n = xsdomid_path(in, strlen(in), from, to, out, 200);
    out[n] = 0;
    return out;
}

TEST(paths_naming_the_visible_id_in_either_form)
{
    char o[201];
    CHECK_STR(path("/local/domain/3", 3, 12, o), "/local/domain/12");
    CHECK_STR(path("/local/domain/3/device/vbd", 3, 12, o), "/local/domain/12/device/vbd");
    CHECK_STR(path("/local/domain/0/backend/vbd/3/51712/state", 3, 12, o),
              "/local/domain/0/backend/vbd/12/51712/state");
    CHECK_STR(path("/local/domain/0/backend/vif/3", 3, 12, o), "/local/domain/0/backend/vif/12");
    /* not the id: another domain, a longer number, a relative path, dom0's own */
    CHECK_STR(path("/local/domain/31/x", 3, 12, o), "/local/domain/31/x");
    CHECK_STR(path("/local/domain/0/backend/vbd/31/1", 3, 12, o), "/local/domain/0/backend/vbd/31/1");
    CHECK_STR(path("device/vbd/51712", 3, 12, o), "device/vbd/51712");
    CHECK_STR(path("/local/domain/12/x", 12, 3, o), "/local/domain/3/x");
    /* too long for the room: 0 */
    CHECK_EQ(xsdomid_path("/local/domain/3/x", 17, 3, 12345, o, 18), 0);
}

TEST(requests_are_rewritten_and_others_pass)
{
    uint8_t in[256], out[320];
    static const char w[] = "/local/domain/0/backend/vbd/3/51712/state\0tok";
    size_t n = msg(in, XS_WATCH, w, sizeof(w));
    size_t m = xsdomid_request(in, 3, 12, out, sizeof(out));
    struct xsd_sockmsg h;
    memcpy(&h, out, XS_HDR_SIZE);
    CHECK_EQ(m, n + 1);
    CHECK_EQ(h.len, sizeof(w) + 1);
    CHECK_EQ(h.req_id, 7);
    CHECK(!memcmp(out + XS_HDR_SIZE, "/local/domain/0/backend/vbd/12/51712/state\0tok", h.len));
    /* a write keeps its value; a transaction start passes as it is */
    static const char wr[] = "/local/domain/3/data/x\0/local/domain/3";
    n = msg(in, XS_WRITE, wr, sizeof(wr) - 1);
    m = xsdomid_request(in, 3, 12, out, sizeof(out));
    CHECK(!memcmp(out + XS_HDR_SIZE, "/local/domain/12/data/x\0/local/domain/3", m - XS_HDR_SIZE));
    /* permissions naming the guest's visible id name its real one */
    static const char sp[] = "/local/domain/3/data\0b3\0r0\0r33";
    msg(in, XS_SET_PERMS, sp, sizeof(sp));
    m = xsdomid_request(in, 3, 12, out, sizeof(out));
    static const char want[] = "/local/domain/12/data\0b12\0r0\0r33";
    memcpy(&h, out, XS_HDR_SIZE);
    CHECK_EQ(h.len, sizeof(want));
    CHECK(!memcmp(out + XS_HDR_SIZE, want, sizeof(want)));
    n = msg(in, XS_TRANSACTION_START, "", 1);
    CHECK_EQ(xsdomid_request(in, 3, 12, out, sizeof(out)), n);
    /* the same id: nothing to do */
    n = msg(in, XS_WATCH, w, sizeof(w));
    CHECK_EQ(xsdomid_request(in, 12, 12, out, sizeof(out)), n);
}

TEST(watch_events_go_back_to_the_guests_form)
{
    uint8_t watches[512], in[256], out[320];
    static const char be[] = "/local/domain/0/backend/vbd/3/51712/state\0be";
    static const char own[] = "/local/domain/12/x\0own";   /* the guest used the real id */
    size_t wl = msg(watches, XS_WATCH, be, sizeof(be));
    wl += msg(watches + wl, XS_WATCH, own, sizeof(own));
    static const char ev[] = "/local/domain/0/backend/vbd/12/51712/state\0be";
    msg(in, XS_WATCH_EVENT, ev, sizeof(ev));
    size_t m = xsdomid_event(in, watches, wl, 3, 12, out, sizeof(out));
    CHECK_EQ(m, XS_HDR_SIZE + sizeof(be));
    CHECK(!memcmp(out + XS_HDR_SIZE, be, sizeof(be)));
    /* a watch registered with the real id keeps its events as they are */
    static const char ev2[] = "/local/domain/12/x/y\0own";
    size_t n = msg(in, XS_WATCH_EVENT, ev2, sizeof(ev2));
    CHECK_EQ(xsdomid_event(in, watches, wl, 3, 12, out, sizeof(out)), n);
    CHECK(!memcmp(out + XS_HDR_SIZE, ev2, sizeof(ev2)));
    /* an unknown token, or a reply: as they are */
    static const char ev3[] = "/local/domain/0/backend/vbd/12/51712/state\0other";
    n = msg(in, XS_WATCH_EVENT, ev3, sizeof(ev3));
    CHECK_EQ(xsdomid_event(in, watches, wl, 3, 12, out, sizeof(out)), n);
    n = msg(in, XS_READ, "4", 1);
    CHECK_EQ(xsdomid_event(in, watches, wl, 3, 12, out, sizeof(out)), n);
}
