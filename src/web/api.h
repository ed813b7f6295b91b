/* The JSON API: one request in, one response out. Runs on worker threads
 * (each call may wait on xenkvmd, a domain process or xenstore); uses the
 * CLI's client library (src/cli/), so the data and the one-line error
 * messages are the CLI's. Routes and bodies: docs/api.md. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct api_request {
    bool post;                  /* POST, else GET */
    const char *path;           /* decoded, without the query */
    const char *body;           /* NUL-terminated (POST) */
    size_t body_len;
    bool body_is_json;          /* Content-Type application/json */
};

struct api_response {
    int status;
    char *body;                 /* malloc'd JSON text */
};

void api_handle(const struct api_request *rq, struct api_response *rs);
/* {"error": msg} as malloc'd JSON text. */
char *api_error_body(const char *msg);
