/* Malformed and oversized input: an error each, and the stream goes on. */
#include "helpers.h"
#include "unit.h"

TEST(unknown_and_reply_types_refused)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    CHECK_STR(err_of(req1(c, 999, 0, "/")), "EINVAL");
    CHECK_STR(err_of(req1(c, XS_WATCH_EVENT, 0, "/")), "EINVAL");
    CHECK_STR(err_of(req1(c, XS_ERROR, 0, "/")), "EINVAL");
    CHECK_STR(err_of(req1(c, XS_INVALID, 0, "/")), "EINVAL");
    CHECK_STR(err_of(req1(c, XS_CONTROL, 0, "nonsense")), "EINVAL");
    xs_server_free(&s);
}

TEST(missing_nul_and_counts)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    CHECK_STR(err_of(req(c, XS_READ, 0, "/abc", 4)), "EINVAL");     /* no NUL */
    CHECK_STR(err_of(req(c, XS_READ, 0, "", 0)), "EINVAL");
    CHECK_STR(err_of(req(c, XS_WRITE, 0, "/abc", 4)), "EINVAL");
    CHECK_STR(err_of(req(c, XS_READ, 0, "/a\0/b", 6)), "EINVAL");   /* two strings */
    CHECK_STR(err_of(req(c, XS_WATCH, 0, "/a", 3)), "EINVAL");
    CHECK_STR(err_of(req(c, XS_DIRECTORY_PART, 0, "/\0x", 4)), "EINVAL");
    CHECK_STR(err_of(req(c, XS_DIRECTORY_PART, 0, "/\0" "1", 4)), "EINVAL");   /* mid-name */
    CHECK_STR(err_of(req(c, XS_INTRODUCE, 0, "", 0)), "EINVAL");
    CHECK_STR(err_of(req(c, XS_IS_DOMAIN_INTRODUCED, 0, "70000", 6)), "EINVAL");
    CHECK_STR(err_of(req(c, XS_TRANSACTION_END, 0, "", 0)), "EINVAL");
    CHECK_STR(err_of(req(c, XS_SET_PERMS, 0, "/\0r1x", 6)), "EINVAL");
    CHECK_EQ(req1(c, XS_READ, 0, "/")->type, XS_READ);   /* still serving */
    xs_server_free(&s);
}

TEST(oversized_payload_skipped)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    static uint8_t buf[XS_HDR_SIZE + 5000 + XS_HDR_SIZE + 2];
    struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 1, .len = 5000 };
    memcpy(buf, &h, sizeof(h));
    memset(buf + sizeof(h), 'A', 5000);
    struct xsd_sockmsg h2 = { .type = XS_READ, .req_id = 2, .len = 2 };
    memcpy(buf + sizeof(h) + 5000, &h2, sizeof(h2));
    memcpy(buf + 2 * sizeof(h) + 5000, "/", 2);
    /* in awkward pieces */
    for (size_t off = 0; off < sizeof(buf); off += 7)
        xs_conn_input(c, buf + off, sizeof(buf) - off < 7 ? sizeof(buf) - off : 7);
    char out[256];
    struct xsd_sockmsg r;
    CHECK(xs_conn_pop(c, out, sizeof(out)) > 0);
    memcpy(&r, out, sizeof(r));
    CHECK_EQ(r.type, XS_ERROR);
    CHECK_EQ(r.req_id, 1);
    CHECK_STR(out + sizeof(r), "E2BIG");
    CHECK(xs_conn_pop(c, out, sizeof(out)) > 0);
    memcpy(&r, out, sizeof(r));
    CHECK_EQ(r.type, XS_READ);
    CHECK_EQ(r.req_id, 2);
    xs_server_free(&s);
}

TEST(huge_len_header)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    struct xsd_sockmsg h = { .type = XS_READ, .req_id = 1, .len = 0xffffffffu };
    xs_conn_input(c, &h, sizeof(h));
    CHECK_EQ(c->discard, 0xffffffffu);
    char out[64];
    CHECK(xs_conn_pop(c, out, sizeof(out)) > 0);
    CHECK_STR(out + XS_HDR_SIZE, "E2BIG");
    xs_conn_input(c, &h, sizeof(h));           /* eaten by the discard */
    CHECK_EQ(c->discard, 0xffffffffu - sizeof(h));
    CHECK(xs_conn_pop(c, out, sizeof(out)) < 0);
    xs_server_free(&s);
}

TEST(errno_names)
{
    CHECK_STR(xs_errno_name(ENOENT), "ENOENT");
    CHECK_STR(xs_errno_name(EAGAIN), "EAGAIN");
    CHECK_STR(xs_errno_name(E2BIG), "E2BIG");
    CHECK_STR(xs_errno_name(12345), "EINVAL");
    CHECK_EQ(xs_errno_from_name("EACCES", 6), EACCES);
    CHECK_EQ(xs_errno_from_name("EBOGUS", 6), EIO);
}

TEST(quota_options)
{
    struct xs_quota q;
    xs_quota_defaults(&q);
    CHECK_EQ(q.nodes, 1000);
    CHECK_EQ(q.watches, 128);
    CHECK_EQ(q.txns, 10);
    CHECK_EQ(q.node_size, 2048);
    CHECK(xs_quota_set(&q, "nodes=5"));
    CHECK_EQ(q.nodes, 5);
    CHECK(xs_quota_set(&q, "node_size=99"));
    CHECK_EQ(q.node_size, 99);
    CHECK(!xs_quota_set(&q, "nodes=abc"));
    CHECK(!xs_quota_set(&q, "bogus=1"));
    CHECK(!xs_quota_set(&q, "nodes"));
}
