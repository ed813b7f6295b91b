/* The store through the wire protocol: read/write/mkdir/rm/directory/perms. */
#include "helpers.h"
#include "unit.h"

#include "xenstore/path.h"

#define W(c, path_val) req(c, XS_WRITE, 0, path_val, sizeof(path_val) - 1)

TEST(write_read_creates_parents)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    CHECK_STR(err_of(W(c, "/a/b/c\0hello")), "");
    struct reply *r = req1(c, XS_READ, 0, "/a/b/c");
    CHECK_EQ(r->type, XS_READ);
    CHECK_EQ(r->len, 5);
    CHECK_STR(r->data, "hello");
    r = req1(c, XS_READ, 0, "/a/b");
    CHECK_EQ(r->type, XS_READ);
    CHECK_EQ(r->len, 0);
    r = req1(c, XS_DIRECTORY, 0, "/a");
    CHECK_EQ(r->len, 2);
    CHECK_STR(r->data, "b");
    CHECK_STR(err_of(req1(c, XS_READ, 0, "/a/x")), "ENOENT");
    xs_server_free(&s);
}

TEST(binary_values_and_empty)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    CHECK_STR(err_of(req(c, XS_WRITE, 0, "/bin\0a\0b", 8)), "");
    struct reply *r = req1(c, XS_READ, 0, "/bin");
    CHECK_EQ(r->len, 3);
    CHECK(!memcmp(r->data, "a\0b", 3));
    CHECK_STR(err_of(req(c, XS_WRITE, 0, "/empty", 7)), "");
    CHECK_EQ(req1(c, XS_READ, 0, "/empty")->len, 0);
    xs_server_free(&s);
}

TEST(mkdir_keeps_value)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    W(c, "/m\0v");
    CHECK_STR(err_of(req1(c, XS_MKDIR, 0, "/m")), "");
    CHECK_STR(req1(c, XS_READ, 0, "/m")->data, "v");
    CHECK_STR(err_of(req1(c, XS_MKDIR, 0, "/m/n/o")), "");
    CHECK_STR(req1(c, XS_DIRECTORY, 0, "/m/n")->data, "o");
    xs_server_free(&s);
}

TEST(rm_subtree_and_missing)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    W(c, "/r/a/b\0" "1");
    W(c, "/r/a/c\0" "2");
    W(c, "/r/d\0" "3");
    CHECK_STR(err_of(req1(c, XS_RM, 0, "/r/a")), "");
    CHECK_STR(err_of(req1(c, XS_READ, 0, "/r/a/b")), "ENOENT");
    CHECK_STR(req1(c, XS_DIRECTORY, 0, "/r")->data, "d");
    CHECK_STR(err_of(req1(c, XS_RM, 0, "/r/nothing")), "");     /* parent exists */
    CHECK_STR(err_of(req1(c, XS_RM, 0, "/r/no/thing")), "ENOENT");
    CHECK_STR(err_of(req1(c, XS_RM, 0, "/")), "EINVAL");
    CHECK(xs_store_lookup(&s.st, "/r/a/c") == NULL);
    xs_server_free(&s);
}

TEST(directory_order_and_part)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    char buf[64];
    for (int i = 0; i < 400; i++) {
        int n = snprintf(buf, sizeof(buf), "/big/entry-with-a-long-name-%03d", i);
        req(c, XS_WRITE, 0, buf, (size_t)n + 1);
    }
    CHECK_STR(err_of(req1(c, XS_DIRECTORY, 0, "/big")), "E2BIG");
    /* DIRECTORY_PART: gen, then whole names; the last chunk ends with "\0". */
    unsigned off = 0, names = 0;
    char gen[32] = "";
    for (int round = 0; round < 10; round++) {
        int n = snprintf(buf, sizeof(buf), "/big%c%u", 0, off);
        struct reply *r = req(c, XS_DIRECTORY_PART, 0, buf, (size_t)n + 1);
        CHECK_EQ(r->type, XS_DIRECTORY_PART);
        if (!gen[0])
            strcpy(gen, r->data);
        CHECK_STR(r->data, gen);
        size_t gl = strlen(r->data) + 1;
        const char *p = r->data + gl, *end = r->data + r->len;
        bool last = r->len > gl && end[-1] == 0 && end[-2] == 0;
        while (p < end && *p) {
            if (names == 0)
                CHECK_STR(p, "entry-with-a-long-name-000");
            names++;
            off += (unsigned)strlen(p) + 1;
            p += strlen(p) + 1;
        }
        if (last || r->len == gl + 1)
            break;
    }
    CHECK_EQ(names, 400);
    xs_server_free(&s);
}

TEST(perms_owner_and_default)
{
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    W(c, "/p/x\0v");
    CHECK_STR(err_of(req(c, XS_SET_PERMS, 0, "/p/x\0n0\0r5\0b6", 14)), "");
    struct reply *r = req1(c, XS_GET_PERMS, 0, "/p/x");
    CHECK_EQ(r->len, 9);
    CHECK(!memcmp(r->data, "n0\0r5\0b6", 9));
    CHECK_STR(err_of(req(c, XS_SET_PERMS, 0, "/p/x\0q0", 8)), "EINVAL");
    CHECK_STR(err_of(req(c, XS_SET_PERMS, 0, "/p/x\0r99999", 12)), "EINVAL");
    CHECK_STR(err_of(req1(c, XS_SET_PERMS, 0, "/p/x")), "EINVAL");
    /* children inherit */
    W(c, "/p/x/y\0" "1");
    r = req1(c, XS_GET_PERMS, 0, "/p/x/y");
    CHECK(!memcmp(r->data, "n0\0r5\0b6", 9));
    xs_server_free(&s);
}

TEST(perm_for_rules)
{
    struct xs_perm p[] = { { 3, XS_PERM_READ }, { 5, XS_PERM_WRITE }, { 7, XS_PERM_NONE } };
    struct xs_perms ps = { 3, p };
    struct xs_who dom0 = { 0, true, ~0u }, owner = { 3, false, ~0u }, d5 = { 5, false, ~0u },
                  d7 = { 7, false, ~0u }, d9 = { 9, false, ~0u }, d9t3 = { 9, false, 3 },
                  d9t5 = { 9, false, 5 };
    CHECK_EQ(xs_perm_for(&ps, &dom0), XS_PERM_BOTH | XS_PERM_OWNER);
    CHECK_EQ(xs_perm_for(&ps, &owner), XS_PERM_BOTH | XS_PERM_OWNER);
    CHECK_EQ(xs_perm_for(&ps, &d5), XS_PERM_WRITE);
    CHECK_EQ(xs_perm_for(&ps, &d7), XS_PERM_NONE);
    CHECK_EQ(xs_perm_for(&ps, &d9), XS_PERM_READ);   /* the default */
    CHECK_EQ(xs_perm_for(&ps, &d9t3), XS_PERM_BOTH | XS_PERM_OWNER);
    CHECK_EQ(xs_perm_for(&ps, &d9t5), XS_PERM_WRITE | XS_PERM_READ);
}

TEST(path_syntax)
{
    char out[XENSTORE_ABS_PATH_MAX + 1];
    CHECK_EQ(xs_path_canon("/a/b", 0, true, 2048, false, out, sizeof(out)), 0);
    CHECK_EQ(xs_path_canon("x/y", 7, false, 2048, false, out, sizeof(out)), 0);
    CHECK_STR(out, "/local/domain/7/x/y");
    CHECK_EQ(xs_path_canon("", 0, true, 2048, false, out, sizeof(out)), EINVAL);
    CHECK_EQ(xs_path_canon("/a//b", 0, true, 2048, false, out, sizeof(out)), EINVAL);
    CHECK_EQ(xs_path_canon("/a/", 0, true, 2048, false, out, sizeof(out)), EINVAL);
    CHECK_EQ(xs_path_canon("/", 0, true, 2048, false, out, sizeof(out)), 0);
    CHECK_EQ(xs_path_canon("/a b", 0, true, 2048, false, out, sizeof(out)), EINVAL);
    CHECK_EQ(xs_path_canon("/a.b", 0, true, 2048, false, out, sizeof(out)), EINVAL);
    CHECK_EQ(xs_path_canon("@releaseDomain", 0, true, 2048, false, out, sizeof(out)), EINVAL);
    CHECK_EQ(xs_path_canon("@releaseDomain", 0, true, 2048, true, out, sizeof(out)), 0);
    char longp[XENSTORE_ABS_PATH_MAX + 8];
    memset(longp, 'a', sizeof(longp));
    longp[0] = '/';
    longp[XENSTORE_ABS_PATH_MAX] = 0;
    CHECK_EQ(xs_path_canon(longp, 0, true, 2048, false, out, sizeof(out)), 0);
    longp[XENSTORE_ABS_PATH_MAX] = 'a';
    longp[XENSTORE_ABS_PATH_MAX + 1] = 0;
    CHECK_EQ(xs_path_canon(longp, 0, true, 2048, false, out, sizeof(out)), EINVAL);
    /* relative: the part below /local/domain/N/ is limited for guests */
    char rel[2100];
    memset(rel, 'r', sizeof(rel));
    rel[2048] = 0;
    CHECK_EQ(xs_path_canon(rel, 3, false, 2048, false, out, sizeof(out)), 0);
    rel[2048] = 'r';
    rel[2049] = 0;
    CHECK_EQ(xs_path_canon(rel, 3, false, 2048, false, out, sizeof(out)), EINVAL);
    CHECK(xs_path_is_child("/a/b", "/a"));
    CHECK(xs_path_is_child("/a", "/a"));
    CHECK(!xs_path_is_child("/ab", "/a"));
    CHECK(xs_path_is_child("/ab", "/"));
    CHECK_STR(xs_path_relative("/local/domain/4/x", 4), "x");
    CHECK_STR(xs_path_relative("/local/domain/44/x", 4), "/local/domain/44/x");
}
