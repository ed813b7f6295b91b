#include "config/chardev.h"
#include "config/strbuf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = { "null", "vc", "pty", "dev", "file", "pipe", "stdio", "udp",
                                     "tcp", "unix" };

const char *chardev_type_name(enum chr_type t) { return names[t]; }

int chardev_type_parse(const char *s, enum chr_type *t)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
        if (!strcmp(s, names[i])) {
            *t = (enum chr_type)i;
            return 0;
        }
    return -1;
}

/* "HOST:SERVICE" at v: host may be empty (then NULL). */
static int host_service(const char *v, size_t len, char **host, char **service)
{
    const char *colon = memchr(v, ':', len);
    if (!colon)
        return -1;
    if (colon != v)
        *host = strndup(v, (size_t)(colon - v));
    *service = strndup(colon + 1, len - (size_t)(colon + 1 - v));
    return 0;
}

int chardev_parse(const char *s, struct chardev *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    if (s[0] == '/') {
        c->type = CHR_DEV;
        c->path = strdup(s);
        return 0;
    }
    const char *colon = strchr(s, ':');
    size_t plen = colon ? (size_t)(colon - s) : strlen(s);
    const char *v = colon ? colon + 1 : "";
    char prefix[16];
    snprintf(prefix, sizeof(prefix), "%.*s", (int)(plen < 15 ? plen : 15), s);
    if (!strncmp(prefix, "telnet", 6)) {
        c->type = CHR_TCP;
        c->telnet = true;
    } else if (plen >= sizeof(prefix) || chardev_type_parse(prefix, &c->type) < 0) {
        snprintf(err, errlen, "unknown character device type '%.*s'", (int)plen, s);
        return -1;
    }
    switch (c->type) {
    case CHR_FILE:
    case CHR_PIPE:
        c->path = strdup(v);
        break;
    case CHR_DEV:
        c->path = strdup(v);
        break;
    case CHR_TCP: {
        size_t n = strcspn(v, ",");
        if (host_service(v, n, &c->host, &c->service) < 0) {
            chardev_free(c);
            snprintf(err, errlen, "'%s': expected HOST:PORT", s);
            return -1;
        }
        c->listen = strstr(v + n, ",server") != NULL;
        break;
    }
    case CHR_UDP: {
        const char *at = strchr(v, '@');
        if (host_service(v, at ? (size_t)(at - v) : strlen(v), &c->host, &c->service) < 0 ||
            (at && host_service(at + 1, strlen(at + 1), &c->bind_host, &c->bind_service) < 0)) {
            snprintf(err, errlen, "'%s': expected HOST:PORT[@BINDHOST:BINDPORT]", s);
            chardev_free(c);
            return -1;
        }
        break;
    }
    case CHR_UNIX: {
        size_t n = strcspn(v, ",");
        c->path = strndup(v, n);
        c->listen = strstr(v + n, ",server") != NULL;
        break;
    }
    default:
        break;
    }
    return 0;
}

char *chardev_format(const struct chardev *c)
{
    struct strbuf b = { 0 };
    const char *e = "";
    switch (c->type) {
    case CHR_FILE:
    case CHR_PIPE:
        sb_printf(&b, "%s:%s", names[c->type], c->path ? c->path : e);
        break;
    case CHR_DEV:
        sb_add(&b, c->path ? c->path : e);
        break;
    case CHR_TCP:
        sb_printf(&b, "%s:%s:%s%s", c->telnet ? "telnet" : "tcp", c->host ? c->host : e,
                  c->service ? c->service : e, c->listen ? ",server,nowait" : "");
        break;
    case CHR_UDP:
        sb_printf(&b, "udp:%s:%s@%s:%s", c->host ? c->host : e, c->service ? c->service : e,
                  c->bind_host ? c->bind_host : e, c->bind_service ? c->bind_service : e);
        break;
    case CHR_UNIX:
        sb_printf(&b, "unix:%s%s", c->path ? c->path : e, c->listen ? ",server,nowait" : "");
        break;
    default:
        sb_add(&b, names[c->type]);
    }
    return sb_take(&b);
}

void chardev_free(struct chardev *c)
{
    free(c->path);
    free(c->host);
    free(c->service);
    free(c->bind_host);
    free(c->bind_service);
    memset(c, 0, sizeof(*c));
}
