/* Xen's xenstore wire format: a struct xsd_sockmsg header and up to
 * XENSTORE_PAYLOAD_MAX payload bytes, mostly NUL-terminated strings. */
#pragma once
#include <errno.h>   /* before xs_wire.h: its error table needs the E* names */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

#define XS_HDR_SIZE sizeof(struct xsd_sockmsg)

enum xs_wire_state {
    XS_WIRE_MORE,     /* need more bytes */
    XS_WIRE_MSG,      /* a whole message: header in *hdr, payload follows it */
    XS_WIRE_TOO_BIG,  /* header announces more than XENSTORE_PAYLOAD_MAX */
};

/* Looks at the start of a byte stream. */
enum xs_wire_state xs_wire_next(const uint8_t *buf, size_t len, struct xsd_sockmsg *hdr);

/* Errno name for an error reply ("EINVAL" for anything Xen cannot name). */
const char *xs_errno_name(int err);
/* Errno for a name from an error reply (EIO if unknown). */
int xs_errno_from_name(const char *name, size_t len);

/* Number of NUL-terminated strings in buf; bytes after the last NUL are not
 * counted. */
unsigned xs_count_strings(const char *buf, size_t len);

/* Name of a message type, for logs. */
const char *xs_type_name(uint32_t type);
