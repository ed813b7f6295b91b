/* The toolstack's wire format: one JSON object per line over a unix stream
 * socket. Requests are {"op": NAME, ...}; replies {"ok": true, ...} or
 * {"ok": false, "error": MESSAGE}. After a "console" reply the connection
 * carries raw console bytes both ways. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#define JL_MAX (4u << 20)      /* longest line accepted */

/* A connected socket (close-on-exec), or -errno. */
int jl_connect(const char *path);
/* A listening socket at path, mode 0600: a stale socket is replaced, a live
 * one is refused with -EADDRINUSE. fd (non-blocking, close-on-exec) or -errno. */
int jl_listen(const char *path);

/* Writes o and a newline. 0 or -errno. */
int jl_send(int fd, struct json_object *o);
/* Reads one line within timeout_ms (-1: no limit) without reading past it,
 * and parses it. NULL with errno set (ETIMEDOUT, ECONNRESET for EOF, EPROTO
 * for a line that is not a JSON object, EMSGSIZE). */
struct json_object *jl_recv(int fd, int timeout_ms);

/* connect + send + receive. NULL with err filled in on failure (the daemon's
 * own error replies are returned as replies). */
struct json_object *jl_call(const char *path, struct json_object *req, int timeout_ms,
                            char *err, size_t errlen);

/* Reply helpers. */
struct json_object *jl_ok(void);
struct json_object *jl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Field access with defaults. */
const char *jl_str(struct json_object *o, const char *key, const char *def);
long long jl_int(struct json_object *o, const char *key, long long def);
bool jl_bool(struct json_object *o, const char *key, bool def);
/* Whether a reply says ok; if not, its error text (or a generic one). */
bool jl_reply_ok(struct json_object *reply, const char **error);
