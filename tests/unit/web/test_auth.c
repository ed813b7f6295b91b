/* xenkvm-web's access decisions (src/web/auth.c): tokens, origins, hosts,
 * CSRF and the failed-login limiter, without a server. */
#include "unit.h"
#include "web/auth.h"
#include "web/token.h"

#define TOKEN "0123456789abcdef0123456789abcdef"
#define CSRF "c5rfc5rfc5rfc5rfc5rfc5rfc5rfc5rf"

static struct auth_policy policy(unsigned max, unsigned window)
{
    return (struct auth_policy){ .token = TOKEN, .csrf = CSRF, .loopback = true,
                                 .max_failures = max, .window_s = window };
}

static struct auth_request req(void)
{
    return (struct auth_request){ .peer = "127.0.0.1", .host = "127.0.0.1:8000" };
}

static int decide(struct auth_policy *p, struct auth_request r, time_t now, struct auth_verdict *v)
{
    auth_decide(p, &r, now, v);
    return v->status;
}

TEST(auth_bearer_and_cookie)
{
    struct auth_policy p = policy(5, 60);
    struct auth_verdict v;
    struct auth_request r = req();
    CHECK_EQ(decide(&p, r, 0, &v), 401);
    CHECK(strstr(v.error, "authentication required") && !v.counted);
    r.authorization = "Bearer " TOKEN "x";
    CHECK_EQ(decide(&p, r, 0, &v), 401);
    CHECK_STR(v.error, "wrong token");
    CHECK(v.counted);
    r.authorization = "Bearer " TOKEN;
    CHECK_EQ(decide(&p, r, 0, &v), 0);
    CHECK_EQ(v.via, AUTH_BEARER);
    r.authorization = "Basic " TOKEN;
    r.cookie = "a=1; " AUTH_COOKIE "=" TOKEN "; b=2";
    CHECK_EQ(decide(&p, r, 0, &v), 0);
    CHECK_EQ(v.via, AUTH_COOKIE_TOKEN);
    r.cookie = AUTH_COOKIE "x=" TOKEN;      /* another cookie's name */
    CHECK_EQ(decide(&p, r, 0, &v), 401);
}

TEST(auth_unix_socket_needs_no_token)
{
    struct auth_policy p = policy(5, 60);
    struct auth_verdict v;
    struct auth_request r = { .unix_peer = true, .peer = "unix", .host = "localhost",
                              .state_changing = true };
    CHECK_EQ(decide(&p, r, 0, &v), 0);
    CHECK_EQ(v.via, AUTH_UNIX);
    r.origin = "http://evil.example";       /* a page still cannot use it */
    CHECK_EQ(decide(&p, r, 0, &v), 403);
}

TEST(auth_origin_and_host)
{
    struct auth_policy p = policy(5, 60);
    struct auth_verdict v;
    struct auth_request r = req();
    r.authorization = "Bearer " TOKEN;
    r.origin = "http://127.0.0.1:8000";
    CHECK_EQ(decide(&p, r, 0, &v), 0);
    static const char *const foreign[] = { "http://evil.example", "null", "https://127.0.0.1:8000",
                                           "http://127.0.0.1:8001", "http://127.0.0.1:8000.evil" };
    for (int i = 0; i < 5; i++) {
        r.origin = foreign[i];
        CHECK_EQ(decide(&p, r, 0, &v), 403);
        CHECK(strstr(v.error, "foreign Origin"));
        CHECK(!v.counted);
    }
    r.origin = NULL;
    static const char *const hosts[] = { "localhost:8000", "[::1]:8000", "127.0.0.1", "LOCALHOST" };
    for (int i = 0; i < 4; i++) {
        r.host = hosts[i];
        CHECK_EQ(decide(&p, r, 0, &v), 0);
    }
    r.host = "evil.example:8000";          /* DNS rebinding */
    CHECK_EQ(decide(&p, r, 0, &v), 403);
    r.host = NULL;
    CHECK_EQ(decide(&p, r, 0, &v), 403);
    p.loopback = false;                    /* a TLS listener on a real address */
    p.tls = true;
    r.host = "host.example:8443";
    r.origin = "https://host.example:8443";
    CHECK_EQ(decide(&p, r, 0, &v), 0);
    r.origin = "http://host.example:8443";
    CHECK_EQ(decide(&p, r, 0, &v), 403);
}

TEST(auth_csrf_and_upgrade)
{
    struct auth_policy p = policy(5, 60);
    struct auth_verdict v;
    struct auth_request r = req();
    r.cookie = AUTH_COOKIE "=" TOKEN;
    r.state_changing = true;
    CHECK_EQ(decide(&p, r, 0, &v), 403);
    CHECK(strstr(v.error, "CSRF"));
    r.csrf = "nope";
    CHECK_EQ(decide(&p, r, 0, &v), 403);
    r.csrf = CSRF;
    CHECK_EQ(decide(&p, r, 0, &v), 0);
    r.cookie = NULL;                       /* a bearer token needs no CSRF token */
    r.csrf = NULL;
    r.authorization = "Bearer " TOKEN;
    CHECK_EQ(decide(&p, r, 0, &v), 0);
    r = req();
    r.upgrade = true;
    r.cookie = AUTH_COOKIE "=" TOKEN;
    CHECK_EQ(decide(&p, r, 0, &v), 403);   /* no Origin */
    r.origin = "http://127.0.0.1:8000";
    CHECK_EQ(decide(&p, r, 0, &v), 0);
}

TEST(auth_rate_limit)
{
    struct auth_policy p = policy(3, 30);
    struct auth_verdict v;
    struct auth_request bad = req(), good = req(), other = req();
    bad.authorization = "Bearer wrong";
    good.authorization = "Bearer " TOKEN;
    other.authorization = "Bearer " TOKEN;
    other.peer = "127.0.0.2";
    CHECK_EQ(decide(&p, bad, 100, &v), 401);
    CHECK_EQ(decide(&p, bad, 101, &v), 401);
    CHECK_EQ(decide(&p, good, 102, &v), 0);        /* two failures: still allowed */
    CHECK_EQ(decide(&p, bad, 103, &v), 401);       /* the third locks the address */
    CHECK_EQ(decide(&p, good, 104, &v), 429);
    CHECK_EQ(v.retry_after, 29);
    CHECK(strstr(v.error, "too many failed authentications from 127.0.0.1"));
    CHECK_EQ(decide(&p, bad, 105, &v), 429);       /* no guessing while locked */
    CHECK(!v.counted);
    CHECK_EQ(decide(&p, other, 105, &v), 0);       /* another address is not locked */
    struct auth_verdict lv;
    auth_login(&p, &good, TOKEN, strlen(TOKEN), 110, &lv);
    CHECK_EQ(lv.status, 429);
    CHECK_EQ(decide(&p, good, 133, &v), 0);        /* the window passed */
    /* Failures spread wider than the window never lock. */
    struct auth_policy q = policy(3, 30);
    for (int i = 0; i < 10; i++)
        CHECK_EQ(decide(&q, bad, 1000 + 20 * i, &v), 401);
    CHECK_EQ(decide(&q, good, 1200, &v), 0);
}

TEST(auth_limiter_slots_are_bounded)
{
    struct auth_policy p = policy(1, 60);
    struct auth_verdict v;
    char addr[AUTH_SLOTS * 2][32];
    struct auth_request r = req();
    r.authorization = "Bearer wrong";
    for (int i = 0; i < AUTH_SLOTS * 2; i++) {
        snprintf(addr[i], sizeof(addr[i]), "10.0.%d.%d", i / 256, i % 256);
        r.peer = addr[i];
        CHECK_EQ(decide(&p, r, i, &v), 401);
    }
    r.peer = addr[AUTH_SLOTS * 2 - 1];       /* the newest are remembered */
    r.authorization = "Bearer " TOKEN;
    CHECK_EQ(decide(&p, r, 150, &v), 429);
}

TEST(auth_login_and_tokens)
{
    struct auth_policy p = policy(5, 60);
    struct auth_verdict v;
    struct auth_request r = req();
    auth_login(&p, &r, TOKEN, strlen(TOKEN), 0, &v);
    CHECK_EQ(v.status, 0);
    auth_login(&p, &r, TOKEN, strlen(TOKEN) - 1, 0, &v);
    CHECK_EQ(v.status, 401);
    r.origin = "http://evil.example";
    auth_login(&p, &r, TOKEN, strlen(TOKEN), 0, &v);
    CHECK_EQ(v.status, 403);
    CHECK(token_equal("abc", "abc", 3));
    CHECK(!token_equal("abc", "abcd", 4));
    CHECK(!token_equal("abc", "ab", 2));
    CHECK(!token_equal("abc", "abd", 3));
    size_t len;
    const char *c = auth_cookie_value("x=1;" AUTH_COOKIE "=v;y", AUTH_COOKIE, &len);
    CHECK(c && len == 1 && *c == 'v');
    CHECK(!auth_cookie_value(NULL, AUTH_COOKIE, &len));
    char hex[65];
    CHECK_EQ(token_random_hex(hex, 32), 0);
    CHECK_EQ(strlen(hex), 64);
}
