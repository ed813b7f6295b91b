/* The HTTP side: authentication of every request (auth.c), the login and
 * session calls, the page's static files, and API calls handed to worker
 * jobs whose JSON answer is written back here. */
#include "web/server.h"
#include "common/log.h"
#include <json-c/json.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PATH_MAX_LEN 1024
#define CHUNK 16384

struct http_pss {
    struct job *job;            /* an API call in flight */
    bool post, refused, body_json;
    enum auth_via via;
    char path[PATH_MAX_LEN];
    char *body;
    size_t body_len;
    /* The response being written. */
    bool ready, headers_done, close_after;
    int status;
    char *resp;
    size_t resp_len, sent;
    const char *ctype;
    char cookie[300], location[64];
    unsigned retry_after;
};

#define JSON_TYPE "application/json"

static void reset(struct http_pss *pss)
{
    if (pss->job)
        jobs_orphan(pss->job);
    free(pss->body);
    free(pss->resp);
    memset(pss, 0, sizeof(*pss));
}

static bool unix_peer(struct lws *wsi)
{
    return srv.unix_vh && lws_get_vhost(wsi) == srv.unix_vh;
}

/* The unix socket is root-only by its mode; the peer's uid is checked too. */
static bool unix_peer_allowed(struct lws *wsi)
{
    struct ucred uc;
    socklen_t l = sizeof(uc);
    return getsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_PEERCRED, &uc, &l) == 0 &&
           (uc.uid == 0 || uc.uid == geteuid());
}

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                      unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

/* On every response: no sniffing, no framing, no referrer, no caching, and
 * scripts from this server only. */
static int add_security_headers(struct lws *wsi, unsigned char **p, unsigned char *end)
{
    return add_header(wsi, "x-content-type-options:", "nosniff", p, end) ||
           add_header(wsi, "x-frame-options:", "DENY", p, end) ||
           add_header(wsi, "referrer-policy:", "no-referrer", p, end) ||
           add_header(wsi, "cache-control:", "no-store", p, end) ||
           add_header(wsi, "content-security-policy:",
                      "default-src 'self'; script-src 'self'; connect-src 'self'; "
                      "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                      "frame-ancestors 'none'; base-uri 'none'; form-action 'self'", p, end);
}

static void respond(struct lws *wsi, struct http_pss *pss, int status, char *json)
{
    free(pss->resp);
    pss->status = status;
    pss->resp = json;
    pss->resp_len = json ? strlen(json) : 0;
    pss->ctype = JSON_TYPE;
    pss->sent = 0;
    pss->ready = true;
    pss->headers_done = false;
    lws_callback_on_writable(wsi);
}

static void respond_error(struct lws *wsi, struct http_pss *pss, int status, const char *msg)
{
    respond(wsi, pss, status, api_error_body(msg));
}

int http_respond_now(struct lws *wsi, int status, const char *msg)
{
    char *body = api_error_body(msg);
    size_t len = strlen(body);
    unsigned char buf[LWS_PRE + 4096], *start = buf + LWS_PRE, *p = start,
                  *end = buf + sizeof(buf) - 1;
    int rc = -1;
    if (len < sizeof(buf) - LWS_PRE - 2048 &&
        !lws_add_http_common_headers(wsi, status, JSON_TYPE, len, &p, end) &&
        !add_security_headers(wsi, &p, end) && !lws_finalize_write_http_header(wsi, start, &p, end)) {
        memcpy(start, body, len);
        rc = lws_write(wsi, start, len, LWS_WRITE_HTTP_FINAL) < 0 ? -1 : 1;
    }
    free(body);
    return rc;
}

/* The source address, an IPv4 one without its IPv6-mapped prefix. */
static void peer_name(struct lws *wsi, char *buf, size_t size)
{
    if (unix_peer(wsi)) {
        snprintf(buf, size, "unix");
        return;
    }
    lws_get_peer_simple(wsi, buf, size);
    if (!strncmp(buf, "::ffff:", 7) && strchr(buf + 7, '.'))
        memmove(buf, buf + 7, strlen(buf + 7) + 1);
}

void http_auth_request(struct lws *wsi, struct auth_request *r, char *hdrs, size_t size)
{
    /* Each header gets a slice of hdrs; absent ones stay NULL. */
    static const struct { enum lws_token_indexes tok; size_t off; } std[] = {
        { WSI_TOKEN_HTTP_AUTHORIZATION, offsetof(struct auth_request, authorization) },
        { WSI_TOKEN_HTTP_COOKIE, offsetof(struct auth_request, cookie) },
        { WSI_TOKEN_ORIGIN, offsetof(struct auth_request, origin) },
        { WSI_TOKEN_HOST, offsetof(struct auth_request, host) },
    };
    size_t slice = size / 6, used = 0;
    memset(r, 0, sizeof(*r));
    for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++, used += slice)
        if (lws_hdr_total_length(wsi, std[i].tok) > 0 &&
            lws_hdr_copy(wsi, hdrs + used, (int)slice, std[i].tok) > 0)
            *(const char **)((char *)r + std[i].off) = hdrs + used;
    if (lws_hdr_custom_copy(wsi, hdrs + used, (int)slice, AUTH_CSRF_HEADER ":",
                            (int)strlen(AUTH_CSRF_HEADER) + 1) > 0)
        r->csrf = hdrs + used;
    used += slice;
    r->unix_peer = unix_peer(wsi);
    peer_name(wsi, hdrs + used, slice);
    r->peer = hdrs + used;
}

void http_log_refusal(struct lws *wsi, const struct auth_verdict *v, const char *what)
{
    char peer[64];
    peer_name(wsi, peer, sizeof(peer));
    log_warn("refused %s from %s (%d): %s", what, peer, v->status, v->error);
}

static void set_cookie(struct http_pss *pss, const char *value, bool clear)
{
    snprintf(pss->cookie, sizeof(pss->cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s",
             AUTH_COOKIE, value, srv.tls ? "; Secure" : "", clear ? "; Max-Age=0" : "");
}

/* ---- static files ---- */

static const char *mime_of(const char *path)
{
    static const char *const types[][2] = {
        { ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
        { ".css", "text/css; charset=utf-8" }, { ".map", "application/json" },
        { ".svg", "image/svg+xml" }, { ".png", "image/png" }, { ".ico", "image/x-icon" },
        { ".woff2", "font/woff2" },
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(dot, types[i][0]))
            return types[i][1];
    return NULL;
}

/* The file behind a page path: "/" the page, "/login" the login page,
 * "/assets/NAME" the bundle. Anything else (or a name with odd
 * characters) is not served. */
static bool file_of(const char *path, char *out, size_t size)
{
    const char *rel = !strcmp(path, "/") ? "index.html" : !strcmp(path, "/login") ? "login.html"
                      : !strncmp(path, "/assets/", 8) ? path + 1 : NULL;
    if (!rel || !srv.webroot[0])
        return false;
    for (const char *c = rel; *c; c++)
        if (!(isalnum((unsigned char)*c) || strchr("._-/", *c)) || (c[0] == '.' && c[1] == '.'))
            return false;
    struct stat st;
    return snprintf(out, size, "%s/%s", srv.webroot, rel) < (int)size && stat(out, &st) == 0 &&
           S_ISREG(st.st_mode) && mime_of(out);
}

/* Pages the login page needs before there is a cookie. */
static bool public_path(const char *path)
{
    return !strcmp(path, "/login") || !strcmp(path, "/assets/login.js") ||
           !strcmp(path, "/assets/style.css");
}

static int serve_file(struct lws *wsi, struct http_pss *pss, const char *path)
{
    char file[4200];
    if (!file_of(path, file, sizeof(file))) {
        respond_error(wsi, pss, 404, srv.webroot[0] ? "no such page"
                      : "the web page is not built (see README: scripts/deps.sh, scripts/build.sh)");
        return 0;
    }
    unsigned char hdr[2048], *p = hdr, *end = hdr + sizeof(hdr);
    if (add_security_headers(wsi, &p, end))
        return -1;
    int n = lws_serve_http_file(wsi, file, mime_of(file), (const char *)hdr, (int)(p - hdr));
    if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi)))
        return -1;
    return 0;
}

/* ---- API calls ---- */

static void api_run(struct job *j)
{
    api_handle(&j->rq, &j->rs);
}

static void api_finish(struct job *j)
{
    struct http_pss *pss = lws_wsi_user(j->wsi);
    pss->job = NULL;
    respond(j->wsi, pss, j->rs.status, j->rs.body);
    j->rs.body = NULL;
    job_free(j);
}

static void start_api_call(struct lws *wsi, struct http_pss *pss)
{
    struct job *j = calloc(1, sizeof(*j));
    if (!j) {
        respond_error(wsi, pss, 500, "out of memory");
        return;
    }
    j->fd = -1;
    j->wsi = wsi;
    j->run = api_run;
    j->finish = api_finish;
    j->path = strdup(pss->path);
    j->body = pss->body ? pss->body : strdup("");
    pss->body = NULL;
    j->rq = (struct api_request){ .post = pss->post, .path = j->path, .body = j->body,
                                  .body_len = pss->body_len, .body_is_json = pss->body_json };
    if (!j->path || !j->body || jobs_start(j) < 0) {
        job_free(j);
        respond_error(wsi, pss, 503, "too many requests in progress: try again");
        return;
    }
    pss->job = j;
}

/* ---- the routes that are not API calls ---- */

static void session(struct lws *wsi, struct http_pss *pss, enum auth_via via)
{
    static const char *const names[] = { "none", "unix", "bearer", "cookie" };
    char *body;
    if (asprintf(&body, "{\"csrf\":\"%s\",\"via\":\"%s\"}", srv.policy.csrf, names[via]) < 0)
        body = NULL;
    respond(wsi, pss, 200, body);
}

/* POST /login {"token": TOKEN}: sets the cookie. */
static void login(struct lws *wsi, struct http_pss *pss)
{
    char hdrs[3072];
    struct auth_request r;
    struct auth_verdict v;
    http_auth_request(wsi, &r, hdrs, sizeof(hdrs));
    struct json_object *o = pss->body ? json_tokener_parse(pss->body) : NULL, *t;
    const char *cand = o && json_object_object_get_ex(o, "token", &t) ? json_object_get_string(t) : "";
    auth_login(&srv.policy, &r, cand, strlen(cand), time(NULL), &v);
    json_object_put(o);
    if (v.status) {
        http_log_refusal(wsi, &v, "POST /login");
        pss->retry_after = v.retry_after;
        respond_error(wsi, pss, v.status, v.error);
        return;
    }
    set_cookie(pss, srv.policy.token, false);
    respond(wsi, pss, 200, strdup("{}"));
}

/* Everything is known about the request (its body read, if any). */
static void dispatch(struct lws *wsi, struct http_pss *pss, enum auth_via via)
{
    const char *p = pss->path;
    if (pss->post && !strcmp(p, "/login"))
        login(wsi, pss);
    else if (pss->post && !strcmp(p, "/logout")) {
        set_cookie(pss, "", true);
        respond(wsi, pss, 200, strdup("{}"));
    } else if (!strcmp(p, "/api/session"))
        session(wsi, pss, via);
    else if (!strncmp(p, "/api/", 5) || !strcmp(p, "/api"))
        start_api_call(wsi, pss);
    else
        respond_error(wsi, pss, pss->post ? 405 : 404, pss->post ? "POST: not here" : "no such page");
}

/* Authenticates the request: 0 to go on (*via set), else answered. */
static int authenticate(struct lws *wsi, struct http_pss *pss, enum auth_via *via)
{
    char hdrs[3072], what[PATH_MAX_LEN + 8];
    struct auth_request r;
    struct auth_verdict v;
    if (unix_peer(wsi) && !unix_peer_allowed(wsi)) {
        respond_error(wsi, pss, 403, "the unix socket is for root only");
        return -1;
    }
    http_auth_request(wsi, &r, hdrs, sizeof(hdrs));
    r.state_changing = pss->post;
    auth_decide(&srv.policy, &r, time(NULL), &v);
    *via = v.via;
    if (!v.status)
        return 0;
    snprintf(what, sizeof(what), "%s %s", pss->post ? "POST" : "GET", pss->path);
    if (!pss->post && v.status == 401 && strncmp(pss->path, "/api", 4)) {
        /* A browser without the cookie: to the login page. */
        snprintf(pss->location, sizeof(pss->location), "/login");
        respond(wsi, pss, 303, strdup("{}"));
        return -1;
    }
    http_log_refusal(wsi, &v, what);
    pss->retry_after = v.retry_after;
    respond_error(wsi, pss, v.status, v.error);
    return -1;
}

static int on_request(struct lws *wsi, struct http_pss *pss, const char *uri)
{
    reset(pss);
    bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    pss->post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    snprintf(pss->path, sizeof(pss->path), "%s", uri);
    if (!get && !pss->post) {
        pss->close_after = true;
        respond_error(wsi, pss, 405, "only GET and POST are served");
        return 0;
    }
    if (strlen(uri) >= sizeof(pss->path)) {
        pss->close_after = true;
        respond_error(wsi, pss, 414, "URI too long");
        return 0;
    }
    char cl[32] = "";
    lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH);
    unsigned long long body = strtoull(cl, NULL, 10);
    char ct[64] = "";
    lws_hdr_copy(wsi, ct, sizeof(ct), WSI_TOKEN_HTTP_CONTENT_TYPE);
    pss->body_json = !strncasecmp(ct, "application/json", 16);
    if (get && public_path(pss->path))
        return serve_file(wsi, pss, pss->path);
    bool is_login = pss->post && !strcmp(pss->path, "/login");
    if (!is_login && authenticate(wsi, pss, &pss->via) < 0) {
        pss->refused = true;
        pss->close_after = body > 0;     /* its body is not read */
        return 0;
    }
    if (body > BODY_MAX) {
        pss->refused = pss->close_after = true;
        respond_error(wsi, pss, 413, "request body larger than 2 MiB");
        return 0;
    }
    if (pss->post && body > 0)
        return 0;                        /* dispatched once the body is in */
    if (get && strncmp(pss->path, "/api", 4))
        return serve_file(wsi, pss, pss->path);
    dispatch(wsi, pss, pss->via);
    return 0;
}

static int write_response(struct lws *wsi, struct http_pss *pss)
{
    unsigned char buf[LWS_PRE + CHUNK], *start = buf + LWS_PRE;
    if (!pss->headers_done) {
        unsigned char *p = start, *end = buf + sizeof(buf) - 1;
        char retry[16];
        snprintf(retry, sizeof(retry), "%u", pss->retry_after);
        if (lws_add_http_common_headers(wsi, pss->status, pss->ctype, pss->resp_len, &p, end) ||
            add_security_headers(wsi, &p, end) ||
            (pss->cookie[0] && add_header(wsi, "set-cookie:", pss->cookie, &p, end)) ||
            (pss->location[0] && add_header(wsi, "location:", pss->location, &p, end)) ||
            (pss->retry_after && add_header(wsi, "retry-after:", retry, &p, end)) ||
            (pss->close_after && add_header(wsi, "connection:", "close", &p, end)) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return -1;
        pss->headers_done = true;
        if (pss->resp_len) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else {
        size_t n = pss->resp_len - pss->sent < CHUNK ? pss->resp_len - pss->sent : CHUNK;
        memcpy(start, pss->resp + pss->sent, n);
        pss->sent += n;
        bool last = pss->sent == pss->resp_len;
        if (lws_write(wsi, start, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
            return -1;
        if (!last) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    bool close_after = pss->close_after;
    reset(pss);
    return close_after || lws_http_transaction_completed(wsi) ? -1 : 0;
}

int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
    struct http_pss *pss = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return console_confirm_upgrade(wsi, in);
    case LWS_CALLBACK_HTTP:
        return on_request(wsi, pss, in);
    case LWS_CALLBACK_HTTP_BODY:
        if (pss->refused || pss->ready)
            return 0;
        if (pss->body_len + len > BODY_MAX) {
            pss->refused = pss->close_after = true;
            respond_error(wsi, pss, 413, "request body larger than 2 MiB");
            return 0;
        }
        char *b = realloc(pss->body, pss->body_len + len + 1);
        if (!b)
            return -1;
        memcpy(b + pss->body_len, in, len);
        pss->body = b;
        pss->body_len += len;
        b[pss->body_len] = '\0';
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (!pss->refused && !pss->ready)
            dispatch(wsi, pss, pss->via);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return pss->ready ? write_response(wsi, pss) : 0;
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
        reset(pss);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

size_t http_pss_size(void)
{
    return sizeof(struct http_pss);
}
