#include "xenstore/wire.h"

#include <errno.h>
#include <string.h>

enum xs_wire_state xs_wire_next(const uint8_t *buf, size_t len, struct xsd_sockmsg *hdr)
{
    if (len < XS_HDR_SIZE)
        return XS_WIRE_MORE;
    memcpy(hdr, buf, XS_HDR_SIZE);
    if (hdr->len > XENSTORE_PAYLOAD_MAX)
        return XS_WIRE_TOO_BIG;
    return len - XS_HDR_SIZE >= hdr->len ? XS_WIRE_MSG : XS_WIRE_MORE;
}

const char *xs_errno_name(int err)
{
    for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
        if (xsd_errors[i].errnum == err)
            return xsd_errors[i].errstring;
    return "EINVAL";
}

int xs_errno_from_name(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
        if (strlen(xsd_errors[i].errstring) == len && !memcmp(xsd_errors[i].errstring, name, len))
            return xsd_errors[i].errnum;
    return EIO;
}

unsigned xs_count_strings(const char *buf, size_t len)
{
    unsigned n = 0;
    for (size_t i = 0; i < len; i++)
        if (!buf[i])
            n++;
    return n;
}

const char *xs_type_name(uint32_t type)
{
    static const char *const names[XS_TYPE_COUNT] = {
        [XS_CONTROL] = "CONTROL", [XS_DIRECTORY] = "DIRECTORY", [XS_READ] = "READ",
        [XS_GET_PERMS] = "GET_PERMS", [XS_WATCH] = "WATCH", [XS_UNWATCH] = "UNWATCH",
        [XS_TRANSACTION_START] = "TRANSACTION_START", [XS_TRANSACTION_END] = "TRANSACTION_END",
        [XS_INTRODUCE] = "INTRODUCE", [XS_RELEASE] = "RELEASE",
        [XS_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH", [XS_WRITE] = "WRITE", [XS_MKDIR] = "MKDIR",
        [XS_RM] = "RM", [XS_SET_PERMS] = "SET_PERMS", [XS_WATCH_EVENT] = "WATCH_EVENT",
        [XS_ERROR] = "ERROR", [XS_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
        [XS_RESUME] = "RESUME", [XS_SET_TARGET] = "SET_TARGET",
        [XS_RESET_WATCHES] = "RESET_WATCHES", [XS_DIRECTORY_PART] = "DIRECTORY_PART",
    };
    if (type < XS_TYPE_COUNT && names[type])
        return names[type];
    return "UNKNOWN";
}
