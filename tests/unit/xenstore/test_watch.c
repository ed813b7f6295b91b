/* Watches: the first event, changes below, removals above, specials. */
#include "helpers.h"
#include "unit.h"

TEST(watch_fires_on_register_and_below)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    struct reply *r = req(c, XS_WATCH, 0, "/w\0t1", 6);
    CHECK_EQ(r->type, XS_WATCH);
    CHECK_STR(next_event(c), "/w|t1");
    req(c, XS_WRITE, 0, "/w/a/b\0x", 8);
    CHECK_STR(next_event(c), "/w/a/b|t1");
    req(c, XS_WRITE, 0, "/wx\0x", 5);          /* not below /w */
    CHECK(next_event(c) == NULL);
    req(c, XS_SET_PERMS, 0, "/w/a\0n0", 8);
    CHECK_STR(next_event(c), "/w/a|t1");
    req1(c, XS_RM, 0, "/w/a");
    CHECK_STR(next_event(c), "/w/a|t1");
    req1(c, XS_MKDIR, 0, "/w");                /* exists: no change, no event */
    CHECK(next_event(c) == NULL);
    CHECK_STR(err_of(req(c, XS_WATCH, 0, "/w\0t1", 6)), "EEXIST");
    CHECK_STR(err_of(req(c, XS_UNWATCH, 0, "/w\0t1", 6)), "");
    CHECK_STR(err_of(req(c, XS_UNWATCH, 0, "/w\0t1", 6)), "ENOENT");
    req(c, XS_WRITE, 0, "/w/z\0x", 6);
    CHECK(next_event(c) == NULL);
    xs_server_free(&s);
}

TEST(watch_removal_of_parent)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    req(c, XS_WRITE, 0, "/p/q/r\0x", 8);
    req(c, XS_WATCH, 0, "/p/q/r\0t", 9);
    CHECK_STR(next_event(c), "/p/q/r|t");
    req1(c, XS_RM, 0, "/p");
    CHECK_STR(next_event(c), "/p/q/r|t");   /* reported as the watched path */
    xs_server_free(&s);
}

TEST(watch_special_and_relative)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    req(c, XS_WATCH, 0, "@introduceDomain\0i", 19);
    req(c, XS_WATCH, 0, "@releaseDomain\0r", 17);
    CHECK_STR(next_event(c), "@introduceDomain|i");
    CHECK_STR(next_event(c), "@releaseDomain|r");
    CHECK_STR(err_of(req(c, XS_INTRODUCE, 0, "5\0" "123\0" "4", 8)), "");
    CHECK_STR(next_event(c), "@introduceDomain|i");
    CHECK(next_event(c) == NULL);
    struct xs_conn *g = guest_conn(&s, 5);
    CHECK(g != NULL);
    req(g, XS_WATCH, 0, "data\0rel", 9);
    CHECK_STR(next_event(g), "data|rel");
    req(g, XS_WATCH, 0, "@releaseDomain\0r", 17);   /* not readable by guests: no events */
    CHECK_STR(next_event(g), "@releaseDomain|r");     /* the first one still comes */
    req(c, XS_MKDIR, 0, "/local/domain/5", 16);
    req(c, XS_SET_PERMS, 0, "/local/domain/5\0" "b5", 19);
    next_event(g);
    req(c, XS_WRITE, 0, "/local/domain/5/data/x\0" "1", 24);
    CHECK_STR(next_event(g), "data/x|rel");
    CHECK_STR(err_of(req1(c, XS_RELEASE, 0, "5")), "");
    CHECK_STR(next_event(c), "@releaseDomain|r");
    CHECK(next_event(g) == NULL);
    CHECK_STR(err_of(req1(c, XS_RELEASE, 0, "5")), "ENOENT");
    xs_server_free(&s);
}

TEST(watch_respects_read_perms)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    struct xs_conn *g = guest_conn(&s, 3);
    req(g, XS_WATCH, 0, "/secret\0t", 10);
    CHECK_STR(next_event(g), "/secret|t");
    req(c, XS_WRITE, 0, "/secret/x\0" "1", 11);      /* n0: not for dom3 */
    CHECK(next_event(g) == NULL);
    req(c, XS_SET_PERMS, 0, "/secret/x\0n0\0r3", 16);
    CHECK_STR(next_event(g), "/secret/x|t");
    xs_server_free(&s);
}

TEST(reset_watches)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    req(c, XS_WATCH, 0, "/a\0t", 5);
    next_event(c);
    req(c, XS_TRANSACTION_START, 0, "", 1);
    CHECK_EQ(c->ntxns, 1);
    CHECK_STR(err_of(req(c, XS_RESET_WATCHES, 0, "", 1)), "");
    CHECK_EQ(c->nwatches, 0);
    CHECK_EQ(c->ntxns, 0);
    req(c, XS_WRITE, 0, "/a\0" "1", 4);
    CHECK(next_event(c) == NULL);
    xs_server_free(&s);
}
