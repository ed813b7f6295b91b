/* Who may use xenkvm-web, decided per request from its transport and
 * headers (no I/O here: unit-tested in tests/unit/web/):
 * - over the unix socket (root-only by its mode): no token needed;
 * - over TCP: the token, as "Authorization: Bearer TOKEN" or the
 *   xenkvm_token cookie that POST /login sets (HttpOnly, SameSite=Strict);
 * - a request whose Origin is not this server's own is refused, and so is a
 *   Host that is not a loopback name on a loopback listener (DNS
 *   rebinding); a WebSocket upgrade authenticated by cookie must carry an
 *   Origin;
 * - a state-changing request (POST) authenticated by cookie must carry the
 *   CSRF token (X-CSRF-Token, from GET /api/session);
 * - wrong tokens are counted per source address: after `max_failures` in
 *   `window_s` seconds that address is refused (429) for window_s seconds,
 *   right token or not. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define AUTH_COOKIE "xenkvm_token"
#define AUTH_CSRF_HEADER "x-csrf-token"
#define AUTH_SLOTS 64

struct auth_slot {
    char addr[64];
    unsigned fails;
    time_t first, locked_until, used;
};

struct auth_policy {
    const char *token;          /* the secret */
    const char *csrf;           /* the CSRF token handed to the page */
    bool tls;                   /* TCP listener is https */
    bool loopback;              /* TCP listener is on a loopback address */
    unsigned max_failures, window_s;
    struct auth_slot slots[AUTH_SLOTS];
};

enum auth_via { AUTH_NONE, AUTH_UNIX, AUTH_BEARER, AUTH_COOKIE_TOKEN };

struct auth_request {
    bool unix_peer;
    const char *peer;           /* source address (TCP) */
    bool state_changing;        /* POST */
    bool upgrade;               /* a WebSocket upgrade */
    const char *authorization, *cookie, *origin, *host, *csrf;   /* headers, NULL if absent */
};

struct auth_verdict {
    int status;                 /* 0: allowed; else the HTTP status to answer */
    enum auth_via via;
    bool log;                   /* worth a line in the log */
    bool counted;               /* a failed authentication, counted */
    unsigned retry_after;       /* for 429 */
    char error[256];
};

void auth_decide(struct auth_policy *p, const struct auth_request *r, time_t now,
                 struct auth_verdict *v);
/* The login form's check (POST /login): same rate limit and origin rules,
 * candidate token from the form. */
void auth_login(struct auth_policy *p, const struct auth_request *r, const char *candidate,
                size_t len, time_t now, struct auth_verdict *v);
/* The value of cookie name in a Cookie header (not NUL-terminated): *len. */
const char *auth_cookie_value(const char *header, const char *name, size_t *len);
