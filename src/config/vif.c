#include "config/vif.h"
#include "config/strbuf.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int mac_parse(const char *s, uint8_t mac[6])
{
    char sep = 0;
    for (int i = 0; i < 6; i++) {
        int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
        if (lo < 0)
            return -1;
        mac[i] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (i == 5)
            break;
        if (!sep && (*s == ':' || *s == '-'))
            sep = *s;
        if (*s != sep || !sep)
            return -1;
        s++;
    }
    return *s ? -1 : 0;
}

void mac_format(const uint8_t m[6], char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* FNV-1a, 64 bit. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void vif_default_mac(const uint8_t *uuid, const char *name, unsigned index, uint8_t mac[6])
{
    uint64_t h = 0xcbf29ce484222325ull;
    if (uuid)
        h = fnv(h, uuid, 16);
    else if (name)
        h = fnv(h, name, strlen(name));
    uint8_t idx[4] = { (uint8_t)index, (uint8_t)(index >> 8), (uint8_t)(index >> 16),
                       (uint8_t)(index >> 24) };
    h = fnv(h, idx, sizeof(idx));
    h ^= h >> 32;
    mac[0] = 0x00;
    mac[1] = 0x16;
    mac[2] = 0x3e;
    mac[3] = (uint8_t)(h >> 16) & 0x7f;   /* Xen's tools keep this bit clear */
    mac[4] = (uint8_t)(h >> 8);
    mac[5] = (uint8_t)h;
}

int vif_rate_parse(const char *s, uint64_t *bps, uint32_t *interval_us)
{
    char *e;
    if (*s < '0' || *s > '9')
        return -1;
    unsigned long long n = strtoull(s, &e, 10);
    uint64_t mult;
    bool bits;
    /* RATE unit: [GMK]?[Bb] then "/s". */
    switch (*e) {
    case 'G': mult = 1000000000; e++; break;
    case 'M': mult = 1000000; e++; break;
    case 'K': mult = 1000; e++; break;
    default: mult = 1;
    }
    if (*e != 'B' && *e != 'b')
        return -1;
    bits = *e++ == 'b';
    if (strncmp(e, "/s", 2))
        return -1;
    e += 2;
    if (n > UINT64_MAX / mult)
        return -1;
    uint64_t v = n * mult;
    if (bits)
        v /= 8;
    uint64_t us = 50000;
    if (*e == '@') {
        char *u;
        if (e[1] < '0' || e[1] > '9')
            return -1;
        unsigned long long t = strtoull(e + 1, &u, 10);
        uint64_t m = !strcmp(u, "s") ? 1000000 : !strcmp(u, "ms") ? 1000
                   : (!strcmp(u, "us") || !*u) ? 1 : 0;
        if (!m || t > UINT32_MAX / m)
            return -1;
        us = t * m;
        e = u + strlen(u);
    }
    if (*e || v == 0 || us == 0)
        return -1;
    *bps = v;
    *interval_us = (uint32_t)us;
    return 0;
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int set(char **dst, const char *v)
{
    free(*dst);
    return (*dst = strdup(v)) ? 0 : -1;
}

static int pair(struct vif_spec *v, const char *k, const char *val, char *err, size_t errlen,
                char *warn)
{
    if (!strcmp(k, "mac")) {
        if (mac_parse(val, v->mac))
            return fail(err, errlen, "invalid MAC address '%s' (six hex pairs: 00:16:3e:xx:xx:xx)", val);
        if (v->mac[0] & 1)
            return fail(err, errlen, "MAC address '%s' is a multicast address", val);
        v->mac_set = true;
        return 0;
    }
    if (!strcmp(k, "rate")) {
        if (vif_rate_parse(val, &v->rate_bytes_per_s, &v->rate_interval_us))
            return fail(err, errlen, "invalid rate '%s' (e.g. 10Mb/s, 250KB/s, 1MB/s@20ms)", val);
        return set(&v->rate, val);
    }
    if (!strcmp(k, "mtu") || !strcmp(k, "devid")) {
        char *e;
        long n = strtol(val, &e, 10);
        bool mtu = k[0] == 'm';
        if (*e || e == val || n < (mtu ? 68 : 0) || n > (mtu ? 65535 : 65535))
            return fail(err, errlen, "invalid %s '%s'", k, val);
        if (mtu)
            v->mtu = (unsigned)n;
        else
            v->devid = (int)n;
        return 0;
    }
    if (!strcmp(k, "type")) {
        if (strcmp(val, "ioemu") && strcmp(val, "vif") && strcmp(val, "netfront"))
            return fail(err, errlen, "invalid type '%s' (vif or ioemu)", val);
        return set(&v->type, val);
    }
    struct { const char *k; char **dst; } strs[] = {
        { "bridge", &v->bridge }, { "ip", &v->ip }, { "model", &v->model },
        { "vifname", &v->vifname }, { "script", &v->script }, { "backend", &v->backend },
        { "gatewaydev", &v->gatewaydev }, { "netdev", &v->gatewaydev },
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(*strs); i++)
        if (!strcmp(k, strs[i].k))
            return set(strs[i].dst, val) ? fail(err, errlen, "out of memory") : 0;
    /* xm-era keys xl ignores */
    if (!strcmp(k, "accel") || !strcmp(k, "forwarddev") || !strcmp(k, "policy")) {
        v->accel_ignored = true;
        if (warn)
            snprintf(warn, 256, "parameter '%s' is obsolete and ignored", k);
        return 0;
    }
    return fail(err, errlen, "unknown parameter '%s'", k);
}

int vif_parse(struct vif_spec *v, const char *spec, char *err, size_t errlen, char *warn)
{
    *v = (struct vif_spec){ .devid = -1 };
    if (warn)
        warn[0] = 0;
    char *copy = strdup(spec);
    if (!copy)
        return fail(err, errlen, "out of memory");
    int r = 0;
    for (char *s = copy, *next; s && r == 0; s = next) {
        next = strchr(s, ',');
        if (next)
            *next++ = 0;
        while (*s == ' ' || *s == '\t' || *s == '\n')
            s++;
        char *end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
            *--end = 0;
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            if (!strcmp(s, "trusted"))
                v->untrusted = false;
            else if (!strcmp(s, "untrusted"))
                v->untrusted = true;
            else
                r = fail(err, errlen, "'%s' is not a KEY=VALUE pair", s);
            continue;
        }
        *eq = 0;
        r = pair(v, s, eq + 1, err, errlen, warn);
    }
    free(copy);
    if (r)
        vif_spec_free(v);
    return r;
}

char *vif_to_xl(const struct vif_spec *v)
{
    struct strbuf b = { 0 };
    char mac[18];
    const char *sep = "";
    if (v->mac_set) {
        mac_format(v->mac, mac);
        sb_printf(&b, "mac=%s", mac);
        sep = ",";
    }
    struct { const char *k, *v; } kv[] = {
        { "bridge", v->bridge }, { "ip", v->ip }, { "script", v->script },
        { "model", v->model }, { "type", v->type }, { "vifname", v->vifname },
        { "backend", v->backend }, { "gatewaydev", v->gatewaydev }, { "rate", v->rate },
    };
    for (size_t i = 0; i < sizeof(kv) / sizeof(*kv); i++) {
        if (kv[i].v) {
            sb_printf(&b, "%s%s=%s", sep, kv[i].k, kv[i].v);
            sep = ",";
        }
    }
    if (v->mtu) {
        sb_printf(&b, "%smtu=%u", sep, v->mtu);
        sep = ",";
    }
    if (v->devid >= 0) {
        sb_printf(&b, "%sdevid=%d", sep, v->devid);
        sep = ",";
    }
    if (v->untrusted)
        sb_printf(&b, "%suntrusted", sep);
    return sb_take(&b);
}

void vif_spec_free(struct vif_spec *v)
{
    free(v->bridge);
    free(v->ip);
    free(v->type);
    free(v->model);
    free(v->vifname);
    free(v->script);
    free(v->backend);
    free(v->rate);
    free(v->gatewaydev);
    *v = (struct vif_spec){ .devid = -1 };
}
