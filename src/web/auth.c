/* Authentication, origin and CSRF checks, and the failed-login limiter. */
#include "web/auth.h"
#include "web/token.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void refuse(struct auth_verdict *v, int status, const char *fmt, const char *arg)
{
    v->status = status;
    v->log = true;
    snprintf(v->error, sizeof(v->error), fmt, arg);
}

static struct auth_slot *slot(struct auth_policy *p, const char *addr, time_t now, bool make)
{
    struct auth_slot *oldest = &p->slots[0];
    for (int i = 0; i < AUTH_SLOTS; i++) {
        struct auth_slot *s = &p->slots[i];
        if (s->addr[0] && !strcmp(s->addr, addr)) {
            s->used = now;
            return s;
        }
        if (s->used < oldest->used)
            oldest = s;
    }
    if (!make)
        return NULL;
    memset(oldest, 0, sizeof(*oldest));
    snprintf(oldest->addr, sizeof(oldest->addr), "%s", addr);
    oldest->used = now;
    return oldest;
}

/* True while addr is locked out; *retry: seconds left. */
static bool locked(struct auth_policy *p, const char *addr, time_t now, unsigned *retry)
{
    struct auth_slot *s = slot(p, addr, now, false);
    if (!s || s->locked_until <= now)
        return false;
    *retry = (unsigned)(s->locked_until - now);
    return true;
}

static void count_failure(struct auth_policy *p, const char *addr, time_t now)
{
    struct auth_slot *s = slot(p, addr, now, true);
    if (now - s->first >= (time_t)p->window_s) {
        s->first = now;
        s->fails = 0;
    }
    if (++s->fails >= p->max_failures)
        s->locked_until = now + p->window_s;
}

/* The host part of a Host header: "[::1]:8000" -> "[::1]", "a:1" -> "a". */
static size_t host_len(const char *host)
{
    if (host[0] == '[') {
        const char *e = strchr(host, ']');
        return e ? (size_t)(e - host + 1) : strlen(host);
    }
    const char *c = strchr(host, ':');
    return c ? (size_t)(c - host) : strlen(host);
}

static bool loopback_host(const char *host)
{
    static const char *const names[] = { "127.0.0.1", "localhost", "[::1]" };
    size_t n = host_len(host);
    for (int i = 0; i < 3; i++)
        if (strlen(names[i]) == n && !strncasecmp(host, names[i], n))
            return true;
    return false;
}

/* Origin must be scheme://Host exactly (Host as the client sent it). */
static bool own_origin(const struct auth_policy *p, const struct auth_request *r)
{
    const char *scheme = r->unix_peer ? "http" : p->tls ? "https" : "http";
    size_t sl = strlen(scheme);
    const char *o = r->origin;
    return r->host && !strncasecmp(o, scheme, sl) && !strncmp(o + sl, "://", 3) &&
           !strcasecmp(o + sl + 3, r->host);
}

/* Origin, Host: the checks that come before any credential. 0 or refused. */
static int check_site(struct auth_policy *p, const struct auth_request *r, struct auth_verdict *v)
{
    if (!r->unix_peer && p->loopback && (!r->host || !loopback_host(r->host))) {
        refuse(v, 403, "Host '%s' is not this server's loopback address", r->host ? r->host : "");
        return -1;
    }
    if (r->origin && !own_origin(p, r)) {
        refuse(v, 403, "foreign Origin '%s' refused", r->origin);
        return -1;
    }
    return 0;
}

const char *auth_cookie_value(const char *h, const char *name, size_t *len)
{
    size_t n = strlen(name);
    while (h && *h) {
        while (*h == ' ' || *h == ';')
            h++;
        const char *end = strchr(h, ';');
        size_t l = end ? (size_t)(end - h) : strlen(h);
        if (l > n && !strncmp(h, name, n) && h[n] == '=') {
            *len = l - n - 1;
            return h + n + 1;
        }
        h = end;
    }
    return NULL;
}

static void check_token(struct auth_policy *p, const struct auth_request *r, const char *cand,
                        size_t len, time_t now, struct auth_verdict *v)
{
    if (locked(p, r->peer, now, &v->retry_after)) {
        v->status = 429;
        v->log = true;
        snprintf(v->error, sizeof(v->error), "too many failed authentications from %s: "
                 "try again in %u s", r->peer, v->retry_after);
        return;
    }
    if (!token_equal(p->token, cand, len)) {
        refuse(v, 401, "%s", "wrong token");
        v->counted = true;
        count_failure(p, r->peer, now);
    }
}

void auth_decide(struct auth_policy *p, const struct auth_request *r, time_t now,
                 struct auth_verdict *v)
{
    memset(v, 0, sizeof(*v));
    if (check_site(p, r, v))
        return;
    if (r->unix_peer) {
        v->via = AUTH_UNIX;
        return;
    }
    const char *cand = NULL;
    size_t len = 0;
    if (r->authorization && !strncasecmp(r->authorization, "Bearer ", 7)) {
        cand = r->authorization + 7;
        len = strlen(cand);
        v->via = AUTH_BEARER;
    } else if ((cand = auth_cookie_value(r->cookie, AUTH_COOKIE, &len))) {
        v->via = AUTH_COOKIE_TOKEN;
    } else {
        v->status = 401;
        snprintf(v->error, sizeof(v->error), "authentication required: send the token "
                 "(Authorization: Bearer TOKEN) or log in at /login");
        v->log = true;
        return;
    }
    check_token(p, r, cand, len, now, v);
    if (v->status || v->via != AUTH_COOKIE_TOKEN)
        return;
    if (r->upgrade && !r->origin)
        refuse(v, 403, "%s", "a WebSocket upgrade with the cookie must carry an Origin");
    else if (r->state_changing && (!r->csrf || strcmp(r->csrf, p->csrf)))
        refuse(v, 403, "%s", "CSRF token missing or wrong (X-CSRF-Token, from GET /api/session)");
}

void auth_login(struct auth_policy *p, const struct auth_request *r, const char *cand,
                size_t len, time_t now, struct auth_verdict *v)
{
    memset(v, 0, sizeof(*v));
    if (check_site(p, r, v))
        return;
    v->via = AUTH_COOKIE_TOKEN;
    check_token(p, r, cand, len, now, v);
}
