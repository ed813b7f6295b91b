/* What the xenstore relay knows of the conversation it carries, for save and
 * restore: the guest's watches (XS_WATCH / XS_UNWATCH / XS_RESET_WATCHES as
 * it sent them), and how many of its requests are still unanswered. The
 * relay feeds it both byte streams; messages are framed here (Xen's
 * xsd_sockmsg header, then len bytes). Pure logic, unit-tested. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

struct xs_framer {
    struct xsd_sockmsg h;
    uint32_t hdr_have, body_have;
    char body[XENSTORE_PAYLOAD_MAX + 1];
};

struct xs_watch_rec {
    char *spec;                  /* "path\0token\0" as the guest sent it */
    size_t len;
    struct xs_watch_rec *next;
};

struct xs_track {
    struct xs_framer req, rsp;
    uint32_t unanswered;         /* requests whose reply has not come back */
    struct xs_watch_rec *watches;
};

void xs_track_req(struct xs_track *t, const uint8_t *p, size_t n);   /* guest -> daemon */
void xs_track_rsp(struct xs_track *t, const uint8_t *p, size_t n);   /* daemon -> guest */
/* True when no request is unanswered and neither stream is mid-message. */
bool xs_track_idle(const struct xs_track *t);
void xs_track_free(struct xs_track *t);
