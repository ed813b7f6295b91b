/* Domains: relay binding, confinement, privileged operations, quotas. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "unit.h"

/* dom0 sets up /local/domain/N as the toolstack does: n0,rN; data owned by N. */
static void make_home(struct xs_conn *c, unsigned domid)
{
    char p[128];
    int n = snprintf(p, sizeof(p), "/local/domain/%u", domid);
    req(c, XS_MKDIR, 0, p, (size_t)n + 1);
    n = snprintf(p, sizeof(p), "/local/domain/%u%cn0%cr%u", domid, 0, 0, domid);
    req(c, XS_SET_PERMS, 0, p, (size_t)n + 1);
    n = snprintf(p, sizeof(p), "/local/domain/%u/data", domid);
    req(c, XS_MKDIR, 0, p, (size_t)n + 1);
    n = snprintf(p, sizeof(p), "/local/domain/%u/data%cn%u", domid, 0, domid);
    req(c, XS_SET_PERMS, 0, p, (size_t)n + 1);
}

TEST(relay_handshake_rules)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    req1(c, XS_READ, 0, "/");
    /* only on a fresh connection */
    CHECK_STR(err_of(req(c, XS_CONTROL, 0, "xenkvm-relay\0" "4", 15)), "EISCONN");
    CHECK_STR(err_of(req(xs_conn_new(&s, -1), XS_CONTROL, 0, "xenkvm-relay\0" "0", 15)), "EINVAL");
    CHECK_STR(err_of(req(xs_conn_new(&s, -1), XS_CONTROL, 0, "xenkvm-relay\0" "x", 15)), "EINVAL");
    CHECK_STR(err_of(req(xs_conn_new(&s, -1), XS_CONTROL, 0, "xenkvm-relay\0" "40000", 19)), "EINVAL");
    struct xs_conn *f = xs_conn_new(&s, -1);
    CHECK_STR(err_of(req(f, XS_CONTROL, 0, "xenkvm-relay\0" "4", 15)), "");
    CHECK(f->relay && !f->privileged && f->domid == 4);
    /* the guest cannot rebind or run privileged requests */
    CHECK_STR(err_of(req(f, XS_CONTROL, 0, "xenkvm-relay\0" "0", 15)), "EACCES");
    CHECK_STR(err_of(req(f, XS_CONTROL, 0, "help", 5)), "EACCES");
    CHECK_STR(err_of(req(f, XS_INTRODUCE, 0, "9\0" "1\0" "1", 6)), "EACCES");
    CHECK_STR(err_of(req1(f, XS_RELEASE, 0, "4")), "EACCES");
    CHECK_STR(err_of(req(f, XS_SET_TARGET, 0, "4\0" "0", 4)), "EACCES");
    CHECK_STR(err_of(req1(f, XS_RESUME, 0, "4")), "EACCES");
    /* introduced by the toolstack once its tree is written, not by the
     * binding; one relay per domain */
    CHECK_STR(req1(c, XS_IS_DOMAIN_INTRODUCED, 0, "4")->data, "F");
    CHECK_STR(err_of(req(c, XS_INTRODUCE, 0, "4\0" "1\0" "1", 6)), "");
    CHECK_STR(req1(c, XS_IS_DOMAIN_INTRODUCED, 0, "4")->data, "T");
    struct xs_conn *g = xs_conn_new(&s, -1);
    CHECK_STR(err_of(req(g, XS_CONTROL, 0, "xenkvm-relay\0" "4", 15)), "EBUSY");
    /* closing the relay keeps the domain introduced */
    xs_conn_free(f);
    CHECK_STR(req1(c, XS_IS_DOMAIN_INTRODUCED, 0, "4")->data, "T");
    struct xs_conn *h = xs_conn_new(&s, -1);
    CHECK_STR(err_of(req(h, XS_CONTROL, 0, "xenkvm-relay\0" "4", 15)), "");
    xs_server_free(&s);
}

TEST(guest_confinement)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    make_home(c, 5);
    make_home(c, 6);
    req(c, XS_WRITE, 0, "/local/domain/6/data/secret\0" "s", 30);
    req(c, XS_WRITE, 0, "/local/domain/0/x\0" "y", 20);
    struct xs_conn *g = guest_conn(&s, 5);
    /* relative paths land in its home */
    CHECK_STR(err_of(req(g, XS_WRITE, 0, "data/k\0v", 8)), "");
    CHECK_STR(req1(c, XS_READ, 0, "/local/domain/5/data/k")->data, "v");
    CHECK_STR(req1(g, XS_READ, 0, "data/k")->data, "v");
    CHECK_STR(req1(g, XS_READ, 0, "/local/domain/5/data/k")->data, "v");
    /* it owns what it creates */
    struct reply *r = req1(c, XS_GET_PERMS, 0, "/local/domain/5/data/k");
    CHECK_STR(r->data, "n5");
    /* its home is read-only to it */
    CHECK_STR(err_of(req(g, XS_WRITE, 0, "name\0evil", 10)), "EACCES");
    CHECK_STR(err_of(req1(g, XS_RM, 0, "/local/domain/5")), "EACCES");
    CHECK_EQ(req1(g, XS_DIRECTORY, 0, "")->type == XS_ERROR, 1);   /* empty path */
    CHECK_STR(req1(g, XS_DIRECTORY, 0, "/local/domain/5")->data, "data");
    /* other domains and dom0 are off limits */
    CHECK_STR(err_of(req1(g, XS_READ, 0, "/local/domain/6/data/secret")), "EACCES");
    CHECK_STR(err_of(req1(g, XS_READ, 0, "/local/domain/0/x")), "EACCES");
    CHECK_STR(err_of(req1(g, XS_READ, 0, "/local/domain/0/nothing")), "EACCES");
    CHECK_STR(err_of(req(g, XS_WRITE, 0, "/local/domain/6/data/x\0v", 25)), "EACCES");
    CHECK_STR(err_of(req(g, XS_WRITE, 0, "/local/domain/0/x\0v", 20)), "EACCES");
    CHECK_STR(err_of(req(g, XS_WRITE, 0, "/newtop\0v", 10)), "EACCES");
    CHECK_STR(err_of(req1(g, XS_RM, 0, "/local/domain/6")), "EACCES");
    CHECK_STR(err_of(req1(g, XS_DIRECTORY, 0, "/local/domain")), "EACCES");
    CHECK_STR(err_of(req1(g, XS_GET_PERMS, 0, "/local/domain/6/data")), "EACCES");
    /* it cannot give its nodes away, but may share them */
    CHECK_STR(err_of(req(g, XS_SET_PERMS, 0, "data/k\0n6", 10)), "EPERM");
    CHECK_STR(err_of(req(g, XS_SET_PERMS, 0, "data/k\0n5\0r6", 13)), "");
    CHECK_STR(err_of(req(g, XS_SET_PERMS, 0, "/local/domain/6/data\0n5", 24)), "EACCES");
    /* a watch elsewhere is allowed but tells nothing */
    req(g, XS_WATCH, 0, "/local/domain/6\0t", 18);
    CHECK_STR(next_event(g), "/local/domain/6|t");
    req(c, XS_WRITE, 0, "/local/domain/6/data/secret\0" "2", 30);
    CHECK(next_event(g) == NULL);
    /* domain queries anyone may make */
    CHECK_STR(req1(g, XS_GET_DOMAIN_PATH, 0, "5")->data, "/local/domain/5");
    CHECK_STR(req1(g, XS_IS_DOMAIN_INTRODUCED, 0, "5")->data, "F");
    CHECK_STR(err_of(req(c, XS_INTRODUCE, 0, "5\0" "1\0" "1", 6)), "");
    CHECK_STR(req1(g, XS_IS_DOMAIN_INTRODUCED, 0, "5")->data, "T");
    xs_server_free(&s);
}

TEST(guest_quotas)
{
    struct xs_server s;
    struct xs_quota q;
    xs_quota_defaults(&q);
    q.nodes = 10;
    q.watches = 3;
    q.txns = 2;
    q.node_size = 100;
    q.perms = 2;
    xs_server_init(&s, &q);
    struct xs_conn *c = xs_conn_new(&s, -1);
    make_home(c, 7);
    struct xs_conn *g = guest_conn(&s, 7);
    char p[64];
    int ok = 0;
    for (int i = 0; i < 20; i++) {
        int n = snprintf(p, sizeof(p), "data/n%d", i);
        if (!*err_of(req(g, XS_WRITE, 0, p, (size_t)n + 1)))
            ok++;
        else
            CHECK_STR(err_of(req(g, XS_WRITE, 0, p, (size_t)n + 1)), "ENOSPC");
    }
    CHECK_EQ(ok, 9);   /* data itself is its tenth node */
    CHECK_EQ(xs_store_owned(&s.st, 7), 10);
    /* dom0 is not limited */
    for (int i = 0; i < 20; i++) {
        int n = snprintf(p, sizeof(p), "/local/domain/7/data/z%d", i);
        CHECK_STR(err_of(req(c, XS_WRITE, 0, p, (size_t)n + 1)), "");
    }
    req1(g, XS_RM, 0, "data/n0");
    char big[200] = "data/n1";
    memset(big + 8, 'x', 150);
    CHECK_STR(err_of(req(g, XS_WRITE, 0, big, 8 + 101)), "ENOSPC");
    CHECK_STR(err_of(req(g, XS_WRITE, 0, big, 8 + 100)), "");
    CHECK_STR(err_of(req(g, XS_WATCH, 0, "a\0" "1", 4)), "");
    CHECK_STR(err_of(req(g, XS_WATCH, 0, "a\0" "2", 4)), "");
    CHECK_STR(err_of(req(g, XS_WATCH, 0, "a\0" "3", 4)), "");
    CHECK_STR(err_of(req(g, XS_WATCH, 0, "a\0" "4", 4)), "E2BIG");
    CHECK_EQ(req(g, XS_TRANSACTION_START, 0, "", 1)->type, XS_TRANSACTION_START);
    CHECK_EQ(req(g, XS_TRANSACTION_START, 0, "", 1)->type, XS_TRANSACTION_START);
    CHECK_STR(err_of(req(g, XS_TRANSACTION_START, 0, "", 1)), "ENOSPC");
    CHECK_STR(err_of(req(g, XS_SET_PERMS, 0, "data/n1\0n7\0r1\0r2", 17)), "ENOSPC");
    /* long relative paths */
    char lp[2200];
    memset(lp, 'l', sizeof(lp));
    memcpy(lp, "data/", 5);
    lp[2049] = 0;
    CHECK_STR(err_of(req(g, XS_READ, 0, lp, 2050)), "EINVAL");
    xs_server_free(&s);
}

TEST(outstanding_quota_throttles)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *g = guest_conn(&s, 8);
    xs_conn_pop(g, (char[64]){ 0 }, 64);
    /* 30 pipelined requests nobody reads: only 20 are answered for now */
    uint8_t buf[30 * (XS_HDR_SIZE + 2)];
    for (int i = 0; i < 30; i++) {
        struct xsd_sockmsg h = { .type = XS_READ, .req_id = (uint32_t)i, .len = 2 };
        memcpy(buf + i * (XS_HDR_SIZE + 2), &h, XS_HDR_SIZE);
        memcpy(buf + i * (XS_HDR_SIZE + 2) + XS_HDR_SIZE, "x", 2);
    }
    xs_conn_input(g, buf, sizeof(buf));
    CHECK_EQ(g->out_replies, 20);
    CHECK(xs_conn_throttled(g));
    char out[256];
    for (int i = 0; i < 20; i++)
        xs_conn_pop(g, out, sizeof(out));
    xs_conn_process(g);
    CHECK_EQ(g->out_replies, 10);
    CHECK_EQ(g->in_len, 0);
    xs_server_free(&s);
}

TEST(introduce_release_target)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    CHECK_STR(req1(c, XS_IS_DOMAIN_INTRODUCED, 0, "9")->data, "F");
    CHECK_STR(req1(c, XS_IS_DOMAIN_INTRODUCED, 0, "0")->data, "T");
    CHECK_STR(err_of(req(c, XS_INTRODUCE, 0, "0\0" "1\0" "1", 6)), "EINVAL");
    CHECK_STR(err_of(req(c, XS_INTRODUCE, 0, "9\0" "1", 4)), "EINVAL");
    CHECK_STR(err_of(req(c, XS_INTRODUCE, 0, "9\0" "-5\0" "3", 7)), "");
    CHECK_STR(err_of(req(c, XS_INTRODUCE, 0, "10\0" "1\0" "3", 7)), "");
    CHECK_STR(req1(c, XS_IS_DOMAIN_INTRODUCED, 0, "9")->data, "T");
    CHECK_STR(err_of(req1(c, XS_RESUME, 0, "9")), "");
    CHECK_STR(err_of(req1(c, XS_RESUME, 0, "11")), "ENOENT");
    CHECK_STR(err_of(req(c, XS_SET_TARGET, 0, "10\0" "9", 5)), "");
    CHECK_STR(err_of(req(c, XS_SET_TARGET, 0, "10\0" "99", 6)), "ENOENT");
    /* dom10 targets dom9: full access to dom9's nodes */
    req(c, XS_WRITE, 0, "/t9\0v", 5);
    req(c, XS_SET_PERMS, 0, "/t9\0n9", 7);
    struct xs_conn *g = guest_conn(&s, 10);
    CHECK_STR(req1(g, XS_READ, 0, "/t9")->data, "v");
    CHECK_STR(err_of(req(g, XS_WRITE, 0, "/t9\0w", 5)), "");
    CHECK_STR(req1(c, XS_GET_DOMAIN_PATH, 0, "9")->data, "/local/domain/9");
    CHECK_STR(err_of(req1(c, XS_GET_DOMAIN_PATH, 0, "x")), "EINVAL");
    /* release: rights of the domain are revoked, its relay closed */
    struct xs_conn *g9 = guest_conn(&s, 9);
    CHECK_STR(err_of(req1(c, XS_RELEASE, 0, "9")), "");
    CHECK(g9->dead);
    CHECK_STR(req1(c, XS_GET_PERMS, 0, "/t9")->data, "n0");
    CHECK_STR(req1(c, XS_IS_DOMAIN_INTRODUCED, 0, "9")->data, "F");
    CHECK_STR(err_of(req(g, XS_WRITE, 0, "/t9\0w", 5)), "EACCES");
    xs_server_free(&s);
}

/* xenkvm-scrub: what a dead domain left under its id goes before the id is
 * used again; a live one's id is refused. */
/* payload: a string literal, its NULs included */
#define REQ(conn, type, lit) req(conn, type, 0, lit, sizeof(lit))
/* a write: the value without a NUL */
#define WR(conn, lit) req(conn, XS_WRITE, 0, lit, sizeof(lit) - 1)

TEST(scrub_before_reuse)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    make_home(c, 7);
    WR(c, "/local/domain/7/vm\0/vm/u7");
    WR(c, "/vm/u7/name\0g");
    WR(c, "/vm/u8/name\0h");
    WR(c, "/local/domain/7/device/vbd/51712/state\0" "4");
    WR(c, "/local/domain/0/backend/vbd/7/51712/state\0" "4");
    WR(c, "/local/domain/0/backend/vif/7/0/state\0" "4");
    WR(c, "/local/domain/0/backend/vif/70/0/state\0" "4");
    WR(c, "/t7\0v");
    REQ(c, XS_SET_PERMS, "/t7\0n7");
    CHECK_STR(err_of(REQ(c, XS_INTRODUCE, "7\0" "1\0" "1")), "");
    struct xs_conn *g = guest_conn(&s, 7);
    CHECK_STR(err_of(WR(g, "data/x\0y")), "");
    REQ(c, XS_WATCH, "@releaseDomain\0r");
    REQ(c, XS_WATCH, "/local/domain/0/backend\0b");
    while (next_event(c)) {}
    /* its relay is live: the id is in use */
    CHECK_STR(err_of(REQ(c, XS_CONTROL, "xenkvm-scrub\0" "7")), "EBUSY");
    CHECK_STR(req1(c, XS_READ, 0, "/local/domain/7/data/x")->data, "y");
    /* the process died (SIGKILL): nothing released it */
    xs_conn_free(g);
    CHECK_STR(err_of(REQ(c, XS_CONTROL, "xenkvm-scrub\0" "7")), "");
    CHECK_STR(err_of(req1(c, XS_READ, 0, "/local/domain/7")), "ENOENT");
    CHECK_STR(err_of(req1(c, XS_READ, 0, "/vm/u7")), "ENOENT");
    CHECK_STR(req1(c, XS_READ, 0, "/vm/u8/name")->data, "h");
    CHECK_STR(err_of(req1(c, XS_READ, 0, "/local/domain/0/backend/vbd/7")), "ENOENT");
    CHECK_STR(err_of(req1(c, XS_READ, 0, "/local/domain/0/backend/vif/7")), "ENOENT");
    CHECK_STR(err_of(req1(c, XS_READ, 0, "/local/domain/0/backend/vbd")), "ENOENT");  /* emptied */
    CHECK_STR(req1(c, XS_READ, 0, "/local/domain/0/backend/vif/70/0/state")->data, "4");
    CHECK_STR(req1(c, XS_IS_DOMAIN_INTRODUCED, 0, "7")->data, "F");
    CHECK_STR(req1(c, XS_GET_PERMS, 0, "/t7")->data, "n0");       /* its rights are gone */
    bool released = false, removed = false;
    for (const char *e; (e = next_event(c)); ) {
        released |= !strcmp(e, "@releaseDomain|r");
        removed |= !strcmp(e, "/local/domain/0/backend/vbd/7|b");
    }
    CHECK(released && removed);
    /* the next domain with the id binds and finds nothing of the old one */
    struct xs_conn *h = guest_conn(&s, 7);
    CHECK(h != NULL);
    /* nothing left: fine again; bad ids and guests refused */
    CHECK_STR(err_of(REQ(c, XS_CONTROL, "xenkvm-scrub\0" "9")), "");
    CHECK_STR(err_of(REQ(c, XS_CONTROL, "xenkvm-scrub\0" "0")), "EINVAL");
    CHECK_STR(err_of(REQ(c, XS_CONTROL, "xenkvm-scrub\0" "x")), "EINVAL");
    CHECK_STR(err_of(REQ(c, XS_CONTROL, "xenkvm-scrub")), "EINVAL");
    CHECK_STR(err_of(REQ(h, XS_CONTROL, "xenkvm-scrub\0" "9")), "EACCES");
    xs_server_free(&s);
}
