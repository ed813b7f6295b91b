/* Line-delimited JSON over unix sockets. */
#include "toolstack/jsonline.h"
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int addr_of(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path))
        return -ENAMETOOLONG;
    strcpy(sa->sun_path, path);
    return 0;
}

int jl_connect(const char *path)
{
    struct sockaddr_un sa;
    int rc = addr_of(path, &sa);
    if (rc)
        return rc;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (void *)&sa, sizeof(sa)) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

int jl_listen(const char *path)
{
    struct sockaddr_un sa;
    int rc = addr_of(path, &sa);
    if (rc)
        return rc;
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return -EEXIST;
        int probe = jl_connect(path);
        if (probe >= 0) {
            close(probe);
            return -EADDRINUSE;
        }
        unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    mode_t old = umask(0177);
    rc = bind(fd, (void *)&sa, sizeof(sa));
    umask(old);
    if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

int jl_send(int fd, struct json_object *o)
{
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    size_t len = strlen(s);
    char *buf = malloc(len + 1);
    if (!buf)
        return -ENOMEM;
    memcpy(buf, s, len);
    buf[len++] = '\n';
    size_t off = 0;
    int rc = 0;
    while (off < len) {
        ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            if (poll(&p, 1, 5000) <= 0) {
                rc = -ETIMEDOUT;
                break;
            }
            continue;
        }
        if (n <= 0) {
            rc = n < 0 ? -errno : -EPIPE;
            break;
        }
        off += n;
    }
    free(buf);
    return rc;
}

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

struct json_object *jl_recv(int fd, int timeout_ms)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    long long end = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
    int err = 0;
    while (buf) {
        int wait = -1;
        if (timeout_ms >= 0) {
            long long left = end - now_ms();
            if (left <= 0) {
                err = ETIMEDOUT;
                break;
            }
            wait = (int)left;
        }
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, wait);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            err = r < 0 ? errno : ETIMEDOUT;
            break;
        }
        if (len == cap) {
            if (cap >= JL_MAX) {
                err = EMSGSIZE;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                err = ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        /* Peek, then take bytes up to the newline only: what follows it
         * (console data) stays in the socket. */
        ssize_t n = recv(fd, buf + len, cap - len, MSG_PEEK);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            err = n < 0 ? errno : ECONNRESET;
            break;
        }
        char *nl = memchr(buf + len, '\n', n);
        size_t take = nl ? (size_t)(nl - (buf + len)) + 1 : (size_t)n;
        if (recv(fd, buf + len, take, 0) != (ssize_t)take) {
            err = EIO;
            break;
        }
        len += take;
        if (nl) {
            buf[len - 1] = 0;
            struct json_object *o = json_tokener_parse(buf);
            free(buf);
            if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                errno = EPROTO;
                return NULL;
            }
            return o;
        }
    }
    free(buf);
    errno = err ? err : ENOMEM;
    return NULL;
}

struct json_object *jl_call(const char *path, struct json_object *req, int timeout_ms,
                            char *err, size_t errlen)
{
    int fd = jl_connect(path);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(-fd));
        return NULL;
    }
    int rc = jl_send(fd, req);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        close(fd);
        return NULL;
    }
    struct json_object *r = jl_recv(fd, timeout_ms);
    if (!r)
        snprintf(err, errlen, "%s: no reply: %s", path,
                 errno == ECONNRESET ? "connection closed" : strerror(errno));
    close(fd);
    return r;
}

struct json_object *jl_ok(void)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "ok", json_object_new_boolean(1));
    return o;
}

struct json_object *jl_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "ok", json_object_new_boolean(0));
    json_object_object_add(o, "error", json_object_new_string(msg));
    return o;
}

const char *jl_str(struct json_object *o, const char *key, const char *def)
{
    struct json_object *v;
    if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return def;
}

long long jl_int(struct json_object *o, const char *key, long long def)
{
    struct json_object *v;
    if (o && json_object_object_get_ex(o, key, &v) &&
        (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
        return json_object_get_int64(v);
    return def;
}

bool jl_bool(struct json_object *o, const char *key, bool def)
{
    struct json_object *v;
    if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_boolean))
        return json_object_get_boolean(v);
    return def;
}

bool jl_reply_ok(struct json_object *reply, const char **error)
{
    if (jl_bool(reply, "ok", false))
        return true;
    if (error)
        *error = jl_str(reply, "error", "the daemon gave no reason");
    return false;
}
