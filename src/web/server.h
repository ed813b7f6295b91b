/* xenkvm-web: the HTTP API, the web page and the consoles over WebSocket,
 * on libwebsockets (why that library: docs/api.md). One lws thread serves
 * every connection; anything that may wait (xenkvmd, a domain process,
 * xenstore) runs as a job on a worker thread (jobs.c). */
#pragma once
#include "web/api.h"
#include "web/auth.h"
#include <libwebsockets.h>
#include <stdbool.h>

#define PROTO_HTTP "http"
#define PROTO_CONSOLE "xenkvm-console"        /* the WebSocket subprotocol */
#define PROTO_CONSOLE_FD "xenkvm-console-fd"  /* a domain's console socket */
#define PROTO_JOBS "xenkvm-jobs"              /* finished jobs come back here */
#define BODY_MAX (2u << 20)

struct server {
    struct lws_context *ctx;
    struct lws_vhost *tcp, *unix_vh;
    struct auth_policy policy;
    char webroot[4096];         /* "" when the page is not built */
    bool tls;
};
extern struct server srv;

/* A unit of work for a worker thread. run() executes there; back on the lws
 * thread, finish() takes the job over (and frees it), unless the connection
 * closed meanwhile (wsi NULL): then jobs.c frees it. */
struct job {
    struct lws *wsi;            /* lws thread only */
    void (*run)(struct job *);
    void (*finish)(struct job *);
    struct api_request rq;
    struct api_response rs;
    char *path, *body;          /* owned copies for rq */
    char dom[128];              /* console: which domain */
    int fd;                     /* console: the domain's console socket, or -1 */
    char err[1024];
};

/* jobs.c */
int jobs_init(void);
/* Starts j (allocated by the caller, freed by jobs.c). -1 when too many
 * are running (the caller still owns j then). */
int jobs_start(struct job *j);
/* The connection behind j closed: its finish() will not be called. */
void jobs_orphan(struct job *j);
void job_free(struct job *j);
int jobs_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len);

/* http.c */
int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len);
/* Fills r from wsi's headers (buffers: hdrs, size). */
void http_auth_request(struct lws *wsi, struct auth_request *r, char *hdrs, size_t size);
/* Logs a refusal with the peer and the request line. */
void http_log_refusal(struct lws *wsi, const struct auth_verdict *v, const char *what);
/* Writes status + JSON {"error": msg} at once (for refused upgrades). */
int http_respond_now(struct lws *wsi, int status, const char *msg);

/* console.c */
struct console_pss;
size_t console_pss_size(void);
int console_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len);
int console_fd_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len);
/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: 0 to go on, >0 refused (answered). */
int console_confirm_upgrade(struct lws *wsi, const char *protocol);
