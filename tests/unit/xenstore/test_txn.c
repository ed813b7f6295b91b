/* Transactions: isolation, commit, abort, EAGAIN on conflicts. */
#include <stdlib.h>

#include "helpers.h"
#include "unit.h"

static uint32_t start(struct xs_conn *c)
{
    struct reply *r = req(c, XS_TRANSACTION_START, 0, "", 1);
    CHECK_EQ(r->type, XS_TRANSACTION_START);
    return (uint32_t)strtoul(r->data, NULL, 10);
}

static const char *end(struct xs_conn *c, uint32_t tx, const char *tf)
{
    return err_of(req(c, XS_TRANSACTION_END, tx, tf, 2));
}

TEST(txn_commit_and_isolation)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *a = xs_conn_new(&s, -1), *b = xs_conn_new(&s, -1);
    uint32_t tx = start(a);
    CHECK(tx != 0);
    CHECK_STR(err_of(req(a, XS_WRITE, tx, "/t/x\0" "1", 6)), "");
    CHECK_STR(req1(a, XS_READ, tx, "/t/x")->data, "1");
    CHECK_STR(err_of(req1(b, XS_READ, 0, "/t/x")), "ENOENT");   /* not yet visible */
    CHECK_STR(err_of(req1(a, XS_READ, 0, "/t/x")), "ENOENT");
    CHECK_STR(end(a, tx, "T"), "");
    CHECK_STR(req1(b, XS_READ, 0, "/t/x")->data, "1");
    CHECK_STR(err_of(req1(a, XS_READ, tx, "/t/x")), "ENOENT");   /* tx is gone */
    xs_server_free(&s);
}

TEST(txn_abort)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *a = xs_conn_new(&s, -1);
    req(a, XS_WRITE, 0, "/k\0v", 4);
    uint32_t tx = start(a);
    req1(a, XS_RM, tx, "/k");
    CHECK_STR(err_of(req1(a, XS_READ, tx, "/k")), "ENOENT");
    CHECK_STR(end(a, tx, "F"), "");
    CHECK_STR(req1(a, XS_READ, 0, "/k")->data, "v");
    xs_server_free(&s);
}

TEST(txn_conflict_eagain)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *a = xs_conn_new(&s, -1), *b = xs_conn_new(&s, -1);
    req(a, XS_WRITE, 0, "/c\0" "0", 4);
    uint32_t tx = start(a);
    CHECK_STR(req1(a, XS_READ, tx, "/c")->data, "0");
    req(b, XS_WRITE, 0, "/c\0" "5", 4);     /* someone else changes what tx read */
    req(a, XS_WRITE, tx, "/c\0" "1", 4);
    CHECK_STR(end(a, tx, "T"), "EAGAIN");
    CHECK_STR(req1(a, XS_READ, 0, "/c")->data, "5");
    /* Unrelated changes do not conflict. */
    tx = start(a);
    CHECK_STR(req1(a, XS_READ, tx, "/c")->data, "5");
    req(b, XS_WRITE, 0, "/other\0" "x", 8);
    req(a, XS_WRITE, tx, "/c\0" "6", 4);
    CHECK_STR(end(a, tx, "T"), "");
    CHECK_STR(req1(a, XS_READ, 0, "/c")->data, "6");
    xs_server_free(&s);
}

TEST(txn_conflict_on_created_and_deleted)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *a = xs_conn_new(&s, -1), *b = xs_conn_new(&s, -1);
    /* Both create the same new node: the second commit fails. */
    uint32_t t1 = start(a), t2 = start(b);
    req(a, XS_WRITE, t1, "/n/x\0" "a", 6);
    req(b, XS_WRITE, t2, "/n/x\0" "b", 6);
    CHECK_STR(end(a, t1, "T"), "");
    CHECK_STR(end(b, t2, "T"), "EAGAIN");
    CHECK_STR(req1(a, XS_READ, 0, "/n/x")->data, "a");
    /* A child appears deep under what the transaction removes. */
    req(a, XS_WRITE, 0, "/d/e/f\0" "1", 8);
    t1 = start(a);
    req1(a, XS_RM, t1, "/d");
    req(b, XS_WRITE, 0, "/d/e/f\0" "2", 8);
    CHECK_STR(end(a, t1, "T"), "EAGAIN");
    CHECK_STR(req1(a, XS_READ, 0, "/d/e/f")->data, "2");
    xs_server_free(&s);
}

TEST(txn_directory_and_rm_inside)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *a = xs_conn_new(&s, -1);
    req(a, XS_WRITE, 0, "/q/a\0" "1", 6);
    req(a, XS_WRITE, 0, "/q/b\0" "2", 6);
    uint32_t tx = start(a);
    req1(a, XS_RM, tx, "/q/a");
    req(a, XS_WRITE, tx, "/q/c\0" "3", 6);
    struct reply *r = req1(a, XS_DIRECTORY, tx, "/q");
    CHECK_EQ(r->len, 4);
    CHECK(!memcmp(r->data, "b\0c", 4));
    CHECK_EQ(req1(a, XS_DIRECTORY, 0, "/q")->len, 4);   /* still a, b outside */
    CHECK_STR(end(a, tx, "T"), "");
    r = req1(a, XS_DIRECTORY, 0, "/q");
    CHECK(!memcmp(r->data, "b\0c", 4));
    CHECK(xs_store_lookup(&s.st, "/q/a") == NULL);
    xs_server_free(&s);
}

TEST(txn_errors)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *a = xs_conn_new(&s, -1);
    CHECK_STR(err_of(req1(a, XS_READ, 77, "/")), "ENOENT");            /* unknown tx */
    CHECK_STR(end(a, 77, "T"), "ENOENT");
    uint32_t tx = start(a);
    CHECK_STR(err_of(req(a, XS_TRANSACTION_START, tx, "", 1)), "EBUSY");
    CHECK_STR(end(a, tx, "X"), "EINVAL");
    CHECK_STR(end(a, tx, "F"), "");
    xs_server_free(&s);
}

TEST(txn_events_only_on_commit)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *a = xs_conn_new(&s, -1), *w = xs_conn_new(&s, -1);
    req(w, XS_WATCH, 0, "/ev\0tok", 8);
    CHECK_STR(next_event(w), "/ev|tok");
    uint32_t tx = start(a);
    req(a, XS_WRITE, tx, "/ev/x\0" "1", 7);
    CHECK(next_event(w) == NULL);
    CHECK_STR(end(a, tx, "T"), "");
    CHECK_STR(next_event(w), "/ev/x|tok");
    CHECK(next_event(w) == NULL);
    tx = start(a);
    req(a, XS_WRITE, tx, "/ev/y\0" "1", 7);
    CHECK_STR(end(a, tx, "F"), "");
    CHECK(next_event(w) == NULL);
    xs_server_free(&s);
}
