/* Shared helpers for the xenstore unit tests: an in-memory server and
 * connections fed with wire messages. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "xenstore/server.h"

struct reply {
    uint32_t type, req_id, tx_id, len;
    char data[XENSTORE_PAYLOAD_MAX + 1];
};

/* Sends a request (payload: strings separated by '\0', plen bytes) and takes
 * the next non-event reply; events are left queued. */
struct reply *req(struct xs_conn *c, uint32_t type, uint32_t tx, const char *payload, size_t plen);
/* Shorthand: payload is one string (with its NUL). */
struct reply *req1(struct xs_conn *c, uint32_t type, uint32_t tx, const char *s);
/* The error name if the reply is an error, else "" (OK). */
const char *err_of(const struct reply *r);
/* Next queued watch event ("path|token") or NULL. */
const char *next_event(struct xs_conn *c);
/* A guest connection for domid through the relay handshake. */
struct xs_conn *guest_conn(struct xs_server *s, unsigned domid);
