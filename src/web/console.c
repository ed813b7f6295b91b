/* A domain's console over WebSocket (subprotocol xenkvm-console, at
 * /api/domains/DOM/console): bytes both ways, binary frames from the server.
 * A job opens the domain's control socket in console mode (as `xenkvm
 * console` does); lws then polls that socket as a raw file, a child of the
 * WebSocket connection, and the two are bridged with flow control both
 * ways. When the domain's console closes, so does the WebSocket (1000);
 * when it cannot be opened, the close reason carries the CLI's message
 * (4404: no such domain, 1011: no console). */
#include "web/server.h"
#include "cli/tsclient.h"
#include "toolstack/jsonline.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUT_MAX 65536           /* domain -> browser, not yet sent */
#define IN_MAX 65536            /* browser -> domain, not yet written */
#define IN_PAUSE 16384          /* stop reading the WebSocket above this */
#define FRAME 4096

struct console_pss {
    struct job *job;
    struct lws *fdwsi;
    bool fd_paused, ws_paused, ended;
    int close_code;
    char close_msg[124];
    size_t out_len, in_len;
    unsigned char out[OUT_MAX], in[IN_MAX];
};

size_t console_pss_size(void)
{
    return sizeof(struct console_pss);
}

/* "/api/domains/DOM/console" -> DOM. */
static bool console_dom(const char *uri, char *dom, size_t size)
{
    static const char prefix[] = "/api/domains/", suffix[] = "/console";
    size_t n = strlen(uri);
    if (strncmp(uri, prefix, sizeof(prefix) - 1) || n < sizeof(prefix) + sizeof(suffix) - 1 ||
        strcmp(uri + n - (sizeof(suffix) - 1), suffix))
        return false;
    size_t dl = n - (sizeof(prefix) - 1) - (sizeof(suffix) - 1);
    if (!dl || dl >= size || memchr(uri + sizeof(prefix) - 1, '/', dl))
        return false;
    memcpy(dom, uri + sizeof(prefix) - 1, dl);
    dom[dl] = 0;
    return true;
}

int console_confirm_upgrade(struct lws *wsi, const char *protocol)
{
    char uri[1024] = "", dom[128], hdrs[3072], what[1100];
    lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);
    snprintf(what, sizeof(what), "WebSocket %s", uri);
    struct auth_request r;
    struct auth_verdict v;
    http_auth_request(wsi, &r, hdrs, sizeof(hdrs));
    r.upgrade = true;
    auth_decide(&srv.policy, &r, time(NULL), &v);
    if (v.status) {
        http_log_refusal(wsi, &v, what);
        return http_respond_now(wsi, v.status, v.error);
    }
    if (!console_dom(uri, dom, sizeof(dom)))
        return http_respond_now(wsi, 404, "WebSockets are served at /api/domains/DOM/console only");
    char sub[128] = "";
    lws_hdr_copy(wsi, sub, sizeof(sub), WSI_TOKEN_PROTOCOL);
    if (!protocol || strcmp(protocol, "websocket") || !strstr(sub, PROTO_CONSOLE))
        return http_respond_now(wsi, 400, "the console WebSocket takes subprotocol "
                                          PROTO_CONSOLE);
    return 0;
}

static void console_run(struct job *j)
{
    struct json_object *rep, *arr = ts_list_err(j->dom, &rep, j->err, sizeof(j->err));
    if (!arr)
        return;
    long long domid = jl_int(json_object_array_get_idx(arr, 0), "domid", 0);
    json_object_put(rep);
    j->fd = ts_console_open(domid, j->err, sizeof(j->err));
}

/* Closes after the pending output, with a reason (at most 123 bytes). */
static void close_with(struct lws *wsi, struct console_pss *pss, int code, const char *msg)
{
    size_t n = strlen(msg) < sizeof(pss->close_msg) ? strlen(msg) : sizeof(pss->close_msg) - 1;
    pss->ended = true;
    pss->close_code = code;
    memcpy(pss->close_msg, msg, n);
    pss->close_msg[n] = 0;
    lws_callback_on_writable(wsi);
}

static void console_finish(struct job *j)
{
    struct lws *wsi = j->wsi;
    struct console_pss *pss = lws_wsi_user(wsi);
    pss->job = NULL;
    if (j->fd < 0) {
        close_with(wsi, pss, strstr(j->err, "does not exist") ? 4404 : 1011, j->err);
    } else {
        fcntl(j->fd, F_SETFL, fcntl(j->fd, F_GETFL) | O_NONBLOCK);
        lws_sock_file_fd_type fd = { .filefd = j->fd };
        j->fd = -1;     /* lws's now, even when the adoption fails */
        pss->fdwsi = lws_adopt_descriptor_vhost(lws_get_vhost(wsi), LWS_ADOPT_RAW_FILE_DESC, fd,
                                                PROTO_CONSOLE_FD, wsi);
        if (!pss->fdwsi) {
            close_with(wsi, pss, 1011, "cannot poll the domain's console socket");
        } else {
            lws_set_opaque_user_data(pss->fdwsi, wsi);
            if (pss->in_len)
                lws_callback_on_writable(pss->fdwsi);
        }
    }
    job_free(j);
}

static int start(struct lws *wsi, struct console_pss *pss)
{
    char uri[1024] = "";
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        return -1;
    lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);
    j->fd = -1;
    j->wsi = wsi;
    j->run = console_run;
    j->finish = console_finish;
    if (!console_dom(uri, j->dom, sizeof(j->dom)) || jobs_start(j) < 0) {
        job_free(j);
        close_with(wsi, pss, 1013, "too many requests in progress: try again");
        return 0;
    }
    pss->job = j;
    return 0;
}

static int send_output(struct lws *wsi, struct console_pss *pss)
{
    if (pss->out_len) {
        unsigned char buf[LWS_PRE + FRAME];
        size_t n = pss->out_len < FRAME ? pss->out_len : FRAME;
        memcpy(buf + LWS_PRE, pss->out, n);
        if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_BINARY) < (int)n)
            return -1;
        memmove(pss->out, pss->out + n, pss->out_len - n);
        pss->out_len -= n;
        if (pss->fd_paused && pss->fdwsi && pss->out_len < OUT_MAX / 2) {
            lws_rx_flow_control(pss->fdwsi, 1);
            pss->fd_paused = false;
        }
        if (pss->out_len || pss->ended)
            lws_callback_on_writable(wsi);
        return 0;
    }
    if (pss->ended) {
        lws_close_reason(wsi, (enum lws_close_status)pss->close_code,
                         (unsigned char *)pss->close_msg, strlen(pss->close_msg));
        return -1;
    }
    return 0;
}

int console_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
    struct console_pss *pss = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        return start(wsi, pss);
    case LWS_CALLBACK_RECEIVE:
        if (pss->ended)
            return 0;
        if (len > IN_MAX - pss->in_len) {
            close_with(wsi, pss, 1009, "console input overflow");
            return 0;
        }
        memcpy(pss->in + pss->in_len, in, len);
        pss->in_len += len;
        if (pss->in_len > IN_PAUSE && !pss->ws_paused) {
            lws_rx_flow_control(wsi, 0);
            pss->ws_paused = true;
        }
        if (pss->fdwsi)
            lws_callback_on_writable(pss->fdwsi);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return send_output(wsi, pss);
    case LWS_CALLBACK_CLOSED:
        if (pss->job)
            jobs_orphan(pss->job);
        pss->job = NULL;
        if (pss->fdwsi)
            lws_set_opaque_user_data(pss->fdwsi, NULL);
        pss->fdwsi = NULL;
        return 0;
    default:
        return 0;
    }
}

int console_fd_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    struct lws *ws = lws_get_opaque_user_data(wsi);   /* NULL once it closed */
    struct console_pss *pss = ws ? lws_wsi_user(ws) : NULL;
    if (!pss || pss->fdwsi != wsi)
        return reason == LWS_CALLBACK_RAW_RX_FILE || reason == LWS_CALLBACK_RAW_WRITEABLE_FILE
               ? -1 : 0;
    int fd = lws_get_socket_fd(wsi);
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE: {
        ssize_t n = read(fd, pss->out + pss->out_len, OUT_MAX - pss->out_len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (n <= 0)
            return -1;          /* the domain's console closed */
        pss->out_len += n;
        lws_callback_on_writable(ws);
        if (pss->out_len == OUT_MAX) {
            lws_rx_flow_control(wsi, 0);
            pss->fd_paused = true;
        }
        return 0;
    }
    case LWS_CALLBACK_RAW_WRITEABLE_FILE: {
        ssize_t n = write(fd, pss->in, pss->in_len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            n = 0;
        if (n < 0)
            return -1;
        memmove(pss->in, pss->in + n, pss->in_len - n);
        pss->in_len -= n;
        if (pss->in_len)
            lws_callback_on_writable(wsi);
        if (pss->ws_paused && pss->in_len < IN_PAUSE / 2) {
            lws_rx_flow_control(ws, 1);
            pss->ws_paused = false;
        }
        return 0;
    }
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        pss->fdwsi = NULL;
        close_with(ws, pss, 1000, "the domain's console closed");
        return 0;
    default:
        return 0;
    }
}
