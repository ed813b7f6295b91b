/* Interop: Debian's libxenstore (XENSTORED_PATH=<socket>) against xenkvmd. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

static int failed;
#define EXPECT(c) do { if (!(c)) { printf("FAIL %s:%d: %s (errno %d)\n", __FILE__, __LINE__, #c, errno); failed++; } } while (0)

static bool read_is(struct xs_handle *h, xs_transaction_t t, const char *path, const char *want)
{
    unsigned len;
    char *v = xs_read(h, t, path, &len);
    bool ok = v && len == strlen(want) && !memcmp(v, want, len);
    free(v);
    return ok;
}

int main(void)
{
    struct xs_handle *h = xs_open(0), *h2 = xs_open(0);
    if (!h || !h2) {
        printf("FAIL xs_open: %s\n", strerror(errno));
        return 1;
    }
    EXPECT(xs_write(h, XBT_NULL, "/lx/a", "one", 3));
    EXPECT(read_is(h, XBT_NULL, "/lx/a", "one"));
    EXPECT(xs_mkdir(h, XBT_NULL, "/lx/dir"));
    unsigned n = 0;
    char **dir = xs_directory(h, XBT_NULL, "/lx", &n);
    EXPECT(dir && n == 2 && !strcmp(dir[0], "a") && !strcmp(dir[1], "dir"));
    free(dir);
    EXPECT(!xs_read(h, XBT_NULL, "/lx/none", &n) && errno == ENOENT);

    /* permissions */
    struct xs_permissions perms[2] = { { 0, XS_PERM_NONE }, { 4, XS_PERM_READ } };
    EXPECT(xs_set_permissions(h, XBT_NULL, "/lx/a", perms, 2));
    struct xs_permissions *got = xs_get_permissions(h, XBT_NULL, "/lx/a", &n);
    EXPECT(got && n == 2 && got[1].id == 4 && got[1].perms == XS_PERM_READ);
    free(got);

    /* transactions: commit, then a conflict */
    xs_transaction_t t = xs_transaction_start(h);
    EXPECT(t != XBT_NULL);
    EXPECT(xs_write(h, t, "/lx/t", "in-tx", 5));
    EXPECT(!xs_read(h2, XBT_NULL, "/lx/t", &n));
    EXPECT(xs_transaction_end(h, t, false));
    EXPECT(read_is(h2, XBT_NULL, "/lx/t", "in-tx"));
    t = xs_transaction_start(h);
    EXPECT(read_is(h, t, "/lx/t", "in-tx"));
    EXPECT(xs_write(h2, XBT_NULL, "/lx/t", "other", 5));
    EXPECT(xs_write(h, t, "/lx/t", "mine", 4));
    EXPECT(!xs_transaction_end(h, t, false) && errno == EAGAIN);
    EXPECT(read_is(h, XBT_NULL, "/lx/t", "other"));
    t = xs_transaction_start(h);
    EXPECT(xs_write(h, t, "/lx/aborted", "x", 1));
    EXPECT(xs_transaction_end(h, t, true));
    EXPECT(!xs_read(h, XBT_NULL, "/lx/aborted", &n) && errno == ENOENT);

    /* watches */
    EXPECT(xs_watch(h, "/lx/w", "tok"));
    char **ev = xs_read_watch(h, &n);
    EXPECT(ev && !strcmp(ev[XS_WATCH_PATH], "/lx/w") && !strcmp(ev[XS_WATCH_TOKEN], "tok"));
    free(ev);
    EXPECT(xs_write(h2, XBT_NULL, "/lx/w/x", "1", 1));
    ev = xs_read_watch(h, &n);
    EXPECT(ev && !strcmp(ev[XS_WATCH_PATH], "/lx/w/x"));
    free(ev);
    EXPECT(xs_unwatch(h, "/lx/w", "tok"));

    /* domains */
    EXPECT(xs_watch(h, "@introduceDomain", "intro"));
    free(xs_read_watch(h, &n));
    EXPECT(xs_introduce_domain(h, 9, 4242, 3));
    ev = xs_read_watch(h, &n);
    EXPECT(ev && !strcmp(ev[XS_WATCH_PATH], "@introduceDomain"));
    free(ev);
    EXPECT(xs_is_domain_introduced(h, 9));
    char *dp = xs_get_domain_path(h, 9);
    EXPECT(dp && !strcmp(dp, "/local/domain/9"));
    free(dp);
    EXPECT(xs_release_domain(h, 9));
    EXPECT(!xs_is_domain_introduced(h, 9));

    EXPECT(xs_rm(h, XBT_NULL, "/lx"));
    EXPECT(!xs_read(h, XBT_NULL, "/lx/a", &n) && errno == ENOENT);
    xs_close(h2);
    xs_close(h);
    if (!failed)
        printf("libxenstore: all checks passed\n");
    return failed ? 1 : 0;
}
