#include "xenstore/client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "xenstore/wire.h"

struct event {
    struct event *next;
    char *path, *token;
};

struct xs_client {
    int fd;
    uint32_t req_id;
    struct event *events, **events_tail;
};

static int connect_to(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (!path)
        path = getenv("XENSTORED_PATH");
    if (!path)
        path = XS_DEFAULT_SOCKET;
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (void *)&sa, sizeof(sa))) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

struct xs_client *xs_open(const char *path)
{
    int fd = connect_to(path);
    if (fd < 0) {
        errno = -fd;
        return NULL;
    }
    struct xs_client *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    c->fd = fd;
    c->events_tail = &c->events;
    return c;
}

void xs_close(struct xs_client *c)
{
    if (!c)
        return;
    while (c->events) {
        struct event *e = c->events;
        c->events = e->next;
        free(e->path);
        free(e);
    }
    close(c->fd);
    free(c);
}

int xs_client_fd(const struct xs_client *c)
{
    return c->fd;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -ECONNRESET;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads one message; *payload malloc'd with a NUL guard. */
static int read_msg(struct xs_client *c, struct xsd_sockmsg *h, char **payload)
{
    int rc = read_all(c->fd, h, sizeof(*h));
    if (rc)
        return rc;
    if (h->len > XENSTORE_PAYLOAD_MAX)
        return -EPROTO;
    *payload = malloc(h->len + 1);
    if (!*payload)
        return -ENOMEM;
    if ((rc = read_all(c->fd, *payload, h->len))) {
        free(*payload);
        return rc;
    }
    (*payload)[h->len] = 0;
    return 0;
}

static void keep_event(struct xs_client *c, char *payload, size_t len)
{
    /* <path>\0<token>\0 */
    size_t pl = strnlen(payload, len);
    struct event *e = malloc(sizeof(*e));
    if (!e || pl + 1 >= len) {
        free(e);
        free(payload);
        return;
    }
    e->next = NULL;
    e->path = payload;
    e->token = payload + pl + 1;
    *c->events_tail = e;
    c->events_tail = &e->next;
}

int xs_request(struct xs_client *c, uint32_t type, uint32_t tx, const void *payload,
               size_t len, char **reply, size_t *rlen)
{
    if (len > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    struct xsd_sockmsg h = { .type = type, .req_id = ++c->req_id, .tx_id = tx, .len = (uint32_t)len };
    char buf[sizeof(h) + XENSTORE_PAYLOAD_MAX];
    memcpy(buf, &h, sizeof(h));
    if (len)
        memcpy(buf + sizeof(h), payload, len);
    int rc = write_all(c->fd, buf, sizeof(h) + len);
    if (rc)
        return rc;
    for (;;) {
        struct xsd_sockmsg r;
        char *p;
        if ((rc = read_msg(c, &r, &p)))
            return rc;
        if (r.type == XS_WATCH_EVENT) {
            keep_event(c, p, r.len);
            continue;
        }
        if (r.req_id != h.req_id) {   /* not ours: a protocol error */
            free(p);
            return -EPROTO;
        }
        if (r.type == XS_ERROR) {
            rc = -xs_errno_from_name(p, strnlen(p, r.len));
            free(p);
            return rc;
        }
        if (r.type != type) {
            free(p);
            return -EPROTO;
        }
        if (reply)
            *reply = p;
        else
            free(p);
        if (rlen)
            *rlen = r.len;
        return 0;
    }
}

static int req_str(struct xs_client *c, uint32_t type, uint32_t tx, const char *s, char **reply,
                   size_t *rlen)
{
    return xs_request(c, type, tx, s, strlen(s) + 1, reply, rlen);
}

int xs_read(struct xs_client *c, uint32_t tx, const char *path, char **value, size_t *len)
{
    return req_str(c, XS_READ, tx, path, value, len);
}

int xs_write(struct xs_client *c, uint32_t tx, const char *path, const void *value, size_t len)
{
    size_t pl = strlen(path) + 1;
    if (pl + len > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    char buf[XENSTORE_PAYLOAD_MAX];
    memcpy(buf, path, pl);
    if (len)
        memcpy(buf + pl, value, len);
    return xs_request(c, XS_WRITE, tx, buf, pl + len, NULL, NULL);
}

int xs_write_str(struct xs_client *c, uint32_t tx, const char *path, const char *value)
{
    return xs_write(c, tx, path, value, strlen(value));
}

int xs_mkdir(struct xs_client *c, uint32_t tx, const char *path)
{
    return req_str(c, XS_MKDIR, tx, path, NULL, NULL);
}

int xs_rm(struct xs_client *c, uint32_t tx, const char *path)
{
    return req_str(c, XS_RM, tx, path, NULL, NULL);
}

int xs_directory(struct xs_client *c, uint32_t tx, const char *path, char ***names, unsigned *n)
{
    char *p;
    size_t len;
    int rc = req_str(c, XS_DIRECTORY, tx, path, &p, &len);
    if (rc)
        return rc;
    unsigned count = xs_count_strings(p, len);
    char **v = malloc((count + 1) * sizeof(char *) + len + 1);
    if (!v) {
        free(p);
        return -ENOMEM;
    }
    char *s = (char *)(v + count + 1);
    memcpy(s, p, len + 1);
    free(p);
    for (unsigned i = 0; i < count; i++, s += strlen(s) + 1)
        v[i] = s;
    v[count] = NULL;
    *names = v;
    *n = count;
    return 0;
}

int xs_get_perms(struct xs_client *c, uint32_t tx, const char *path, struct xs_perm **perms,
                 unsigned *n)
{
    char *p;
    size_t len;
    int rc = req_str(c, XS_GET_PERMS, tx, path, &p, &len);
    if (rc)
        return rc;
    struct xs_perms ps;
    rc = xs_perms_parse(p, len, &ps);
    free(p);
    if (rc)
        return -rc;
    *perms = ps.p;
    *n = ps.n;
    return 0;
}

int xs_set_perms(struct xs_client *c, uint32_t tx, const char *path,
                 const struct xs_perm *perms, unsigned n)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    size_t pl = strlen(path) + 1;
    if (!n || pl > sizeof(buf))
        return -EINVAL;
    memcpy(buf, path, pl);
    struct xs_perms ps = { .n = n, .p = (struct xs_perm *)perms };
    size_t len = xs_perms_format(&ps, buf + pl, sizeof(buf) - pl);
    if (len > sizeof(buf) - pl)
        return -E2BIG;
    return xs_request(c, XS_SET_PERMS, tx, buf, pl + len, NULL, NULL);
}

static int two_strings(struct xs_client *c, uint32_t type, uint32_t tx, const char *a,
                       const char *b, char **reply)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    size_t al = strlen(a) + 1, bl = strlen(b) + 1;
    if (al + bl > sizeof(buf))
        return -E2BIG;
    memcpy(buf, a, al);
    memcpy(buf + al, b, bl);
    return xs_request(c, type, tx, buf, al + bl, reply, NULL);
}

int xs_watch(struct xs_client *c, const char *path, const char *token)
{
    return two_strings(c, XS_WATCH, 0, path, token, NULL);
}

int xs_unwatch(struct xs_client *c, const char *path, const char *token)
{
    return two_strings(c, XS_UNWATCH, 0, path, token, NULL);
}

int xs_read_watch(struct xs_client *c, char **path, char **token, int timeout_ms)
{
    while (!c->events) {
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        int n = poll(&pfd, 1, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -ETIMEDOUT;
        struct xsd_sockmsg r;
        char *p;
        int rc = read_msg(c, &r, &p);
        if (rc)
            return rc;
        if (r.type != XS_WATCH_EVENT) {
            free(p);
            return -EPROTO;
        }
        keep_event(c, p, r.len);
    }
    struct event *e = c->events;
    c->events = e->next;
    if (!c->events)
        c->events_tail = &c->events;
    *path = e->path;   /* path and token share this block: copy the token */
    *token = strdup(e->token);
    free(e);
    if (!*token)
        return -ENOMEM;
    return 0;
}

int xs_reset_watches(struct xs_client *c)
{
    return xs_request(c, XS_RESET_WATCHES, 0, "", 1, NULL, NULL);
}

int xs_txn_start(struct xs_client *c, uint32_t *tx)
{
    char *p;
    int rc = xs_request(c, XS_TRANSACTION_START, 0, "", 1, &p, NULL);
    if (rc)
        return rc;
    char *end;
    unsigned long v = strtoul(p, &end, 10);
    rc = (*p && !*end && v && v <= UINT32_MAX) ? 0 : -EPROTO;
    free(p);
    *tx = (uint32_t)v;
    return rc;
}

int xs_txn_end(struct xs_client *c, uint32_t tx, bool commit)
{
    return xs_request(c, XS_TRANSACTION_END, tx, commit ? "T" : "F", 2, NULL, NULL);
}

static int domid_req(struct xs_client *c, uint32_t type, unsigned domid, char **reply)
{
    char buf[16];
    snprintf(buf, sizeof(buf), "%u", domid);
    return req_str(c, type, 0, buf, reply, NULL);
}

int xs_introduce(struct xs_client *c, unsigned domid, uint64_t gfn, unsigned port)
{
    char buf[80];
    int n = snprintf(buf, sizeof(buf), "%u%c%llu%c%u", domid, 0, (unsigned long long)gfn, 0, port);
    return xs_request(c, XS_INTRODUCE, 0, buf, (size_t)n + 1, NULL, NULL);
}

int xs_release(struct xs_client *c, unsigned domid)
{
    return domid_req(c, XS_RELEASE, domid, NULL);
}

int xs_is_introduced(struct xs_client *c, unsigned domid, bool *yes)
{
    char *p;
    int rc = domid_req(c, XS_IS_DOMAIN_INTRODUCED, domid, &p);
    if (rc)
        return rc;
    *yes = p[0] == 'T';
    free(p);
    return 0;
}

int xs_get_domain_path(struct xs_client *c, unsigned domid, char **path)
{
    return domid_req(c, XS_GET_DOMAIN_PATH, domid, path);
}

int xs_set_target(struct xs_client *c, unsigned domid, unsigned target)
{
    char a[16], b[16];
    snprintf(a, sizeof(a), "%u", domid);
    snprintf(b, sizeof(b), "%u", target);
    return two_strings(c, XS_SET_TARGET, 0, a, b, NULL);
}

int xs_resume(struct xs_client *c, unsigned domid)
{
    return domid_req(c, XS_RESUME, domid, NULL);
}

int xs_scrub(struct xs_client *c, unsigned domid)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "xenkvm-scrub%c%u", 0, domid);
    return xs_request(c, XS_CONTROL, 0, buf, (size_t)n + 1, NULL, NULL);
}

int xs_rm_tidy(struct xs_client *c, uint32_t tx, const char *path)
{
    int rc = xs_rm(c, tx, path);
    if (rc)
        return rc;
    char p[XENSTORE_ABS_PATH_MAX + 1];
    snprintf(p, sizeof(p), "%s", path);
    for (char *slash = strrchr(p, '/'); slash && slash != p; slash = strrchr(p, '/')) {
        *slash = 0;
        char *val = NULL, **names = NULL;
        size_t len = 0;
        unsigned n = 1;
        bool empty = !xs_read(c, tx, p, &val, &len) && len == 0 &&
                     !xs_directory(c, tx, p, &names, &n) && n == 0;
        free(val);
        free(names);
        if (!empty)
            break;
        if ((rc = xs_rm(c, tx, p)) && rc != -ENOENT)
            return rc;
    }
    return 0;
}

int xs_relay_open(const char *socket_path, unsigned domid)
{
    int fd = connect_to(socket_path);
    if (fd < 0)
        return fd;
    struct xs_client c = { .fd = fd };
    c.events_tail = &c.events;
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "xenkvm-relay%c%u", 0, domid);
    int rc = xs_request(&c, XS_CONTROL, 0, buf, (size_t)n + 1, NULL, NULL);
    if (rc) {
        close(fd);
        return rc;
    }
    return fd;
}
