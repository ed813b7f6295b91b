/* Disk specification parsing (see disk.h). Parameters are taken in order;
 * positional ones fill target, format, vdev, access in turn, skipping any
 * already named. "target=" swallows the rest of the spec. */
#include "config/disk.h"
#include "config/strbuf.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_TARGET, P_FORMAT, P_VDEV, P_ACCESS, P_NPOS };

struct dparse {
    struct disk_spec *d;
    bool filled[P_NPOS];
    bool devtype_set, backendtype_set, script_set, backend_set, spec_set;
    bool access_set;
    char *err;
    size_t errlen;
};

static const char *const fmt_names[] = { "raw", "qcow", "qcow2", "vhd", "qed", "vmdk" };
static const char *const bk_names[] = { "auto", "phy", "qdisk", "tap", "standalone" };

const char *disk_format_name(enum disk_format f) { return fmt_names[f]; }
const char *disk_backend_name(enum disk_backend b) { return bk_names[b]; }

int disk_format_parse(const char *s, enum disk_format *f)
{
    for (size_t i = 0; i < sizeof(fmt_names) / sizeof(*fmt_names); i++)
        if (!strcmp(s, fmt_names[i])) {
            *f = (enum disk_format)i;
            return 0;
        }
    return -1;
}

static int fail(struct dparse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct dparse *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int set_str(struct dparse *p, char **dst, const char *v)
{
    free(*dst);
    *dst = *v ? strdup(v) : NULL;
    return (*v && !*dst) ? fail(p, "out of memory") : 0;
}

static int set_access(struct dparse *p, const char *v)
{
    if (!*v)
        return 0;
    if (!strcmp(v, "r") || !strcmp(v, "ro"))
        p->d->readonly = true;
    else if (!strcmp(v, "w") || !strcmp(v, "rw") || !strcmp(v, "w!"))
        p->d->readonly = false;
    else
        return fail(p, "invalid access '%s' (r, ro, w or rw)", v);
    p->access_set = true;
    return 0;
}

static int set_format(struct dparse *p, const char *v)
{
    if (*v && disk_format_parse(v, &p->d->format))
        return fail(p, "unknown format '%s' (raw, qcow, qcow2, vhd, qed or vmdk)", v);
    return 0;
}

/* vdev, with an optional deprecated ":cdrom" / ":disk" suffix. */
static int set_vdev(struct dparse *p, const char *v)
{
    char *c = strchr(v, ':');
    size_t n = c ? (size_t)(c - v) : strlen(v);
    if (c) {
        if (!strcmp(c + 1, "cdrom"))
            p->d->cdrom = true;
        else if (strcmp(c + 1, "disk"))
            return fail(p, "invalid device type '%s' after vdev", c + 1);
    }
    if (!n)
        return 0;
    free(p->d->vdev);
    if (!(p->d->vdev = strndup(v, n)))
        return fail(p, "out of memory");
    return 0;
}

/* Strips deprecated "xxx:" prefixes from a positional target. */
static int strip_prefixes(struct dparse *p, const char **t)
{
    static const char *const ignored[] = { "tapdisk", "tap2", "tap", "aio", "ioemu", "file", "phy" };
    static const char *const scripts[] = { "iscsi", "nbd", "enbd", "drbd" };
    struct strbuf pre = { 0 };
    for (;;) {
        const char *c = strchr(*t, ':');
        if (!c)
            break;
        size_t n = (size_t)(c - *t);
        char word[16];
        if (n == 0 || n >= sizeof(word))
            break;
        memcpy(word, *t, n);
        word[n] = 0;
        bool known = false;
        for (size_t i = 0; i < sizeof(ignored) / sizeof(*ignored); i++)
            known |= !strcmp(word, ignored[i]);
        enum disk_format f;
        if (!known && !disk_format_parse(word, &f)) {
            p->d->format = f;
            p->filled[P_FORMAT] = true;
            known = true;
        }
        for (size_t i = 0; !known && i < sizeof(scripts) / sizeof(*scripts); i++) {
            if (!strcmp(word, scripts[i])) {
                char s[32];
                snprintf(s, sizeof(s), "block-%s", word);
                if (set_str(p, &p->d->script, s))
                    return sb_free(&pre), -1;
                known = true;
            }
        }
        if (!known)
            break;
        if (pre.len)
            sb_addc(&pre, ':');
        sb_add(&pre, word);
        *t = c + 1;
    }
    if (pre.len) {
        p->d->legacy = true;
        p->filled[P_FORMAT] = true;
        if (!(p->d->prefix = sb_take(&pre)))
            return fail(p, "out of memory");
    }
    sb_free(&pre);
    return 0;
}

static int positional(struct dparse *p, const char *v)
{
    int slot = 0;
    while (slot < P_NPOS && p->filled[slot])
        slot++;
    if (slot == P_NPOS)
        return fail(p, "too many positional parameters at '%s'", v);
    /* xm-style "target,vdev,access" without a prefix: a vdev where the
     * format belongs. */
    enum disk_format f;
    if (slot == P_FORMAT && *v && disk_format_parse(v, &f)) {
        char *c = strchr(v, ':');
        char name[64];
        size_t n = c ? (size_t)(c - v) : strlen(v);
        if (n < sizeof(name)) {
            memcpy(name, v, n);
            name[n] = 0;
            if (disk_vdev_devid(name) >= 0) {
                p->d->legacy = true;
                p->filled[P_FORMAT] = true;
                slot = P_VDEV;
            }
        }
    }
    p->filled[slot] = true;
    switch (slot) {
    case P_TARGET:
        if (strip_prefixes(p, &v))
            return -1;
        return set_str(p, &p->d->target, v);
    case P_FORMAT:
        return set_format(p, v);
    case P_VDEV:
        return set_vdev(p, v);
    default:
        return set_access(p, v);
    }
}

static int named(struct dparse *p, const char *k, const char *v)
{
    static const char *const posnames[P_NPOS] = { "target", "format", "vdev", "access" };
    for (int i = 0; i < P_NPOS; i++) {
        if (strcmp(k, posnames[i]))
            continue;
        if (p->filled[i] && i != P_TARGET)
            return fail(p, "%s specified more than once", k);
        p->filled[i] = true;
        return i == P_TARGET ? set_str(p, &p->d->target, v)
             : i == P_FORMAT ? set_format(p, v)
             : i == P_VDEV ? set_vdev(p, v) : set_access(p, v);
    }
    bool *once = !strcmp(k, "devtype") ? &p->devtype_set
               : !strcmp(k, "backendtype") ? &p->backendtype_set
               : !strcmp(k, "script") ? &p->script_set
               : !strcmp(k, "backend") ? &p->backend_set
               : !strcmp(k, "specification") ? &p->spec_set : NULL;
    if (once) {
        if (*once)
            return fail(p, "%s specified more than once", k);
        *once = true;
    }
    if (!strcmp(k, "devtype")) {
        if (!strcmp(v, "cdrom"))
            p->d->cdrom = true;
        else if (*v && strcmp(v, "disk"))
            return fail(p, "invalid devtype '%s' (cdrom)", v);
        return 0;
    }
    if (!strcmp(k, "backendtype")) {
        for (int i = DISK_BK_PHY; i <= DISK_BK_STANDALONE; i++)
            if (!strcmp(v, bk_names[i])) {
                p->d->backend = (enum disk_backend)i;
                return 0;
            }
        if (!*v)
            return 0;
        return fail(p, "invalid backendtype '%s' (phy, qdisk, tap or standalone)", v);
    }
    if (!strcmp(k, "script"))
        return set_str(p, &p->d->script, v);
    if (!strcmp(k, "backend"))
        return set_str(p, &p->d->backend_domain, v);
    if (!strcmp(k, "specification")) {
        if (*v && strcmp(v, "xen") && strcmp(v, "virtio"))
            return fail(p, "invalid specification '%s' (xen or virtio)", v);
        return set_str(p, &p->d->specification, v);
    }
    if (!strncmp(k, "colo-", 5) || !strcmp(k, "active-disk") || !strcmp(k, "hidden-disk")) {
        p->d->colo = true;
        return 0;
    }
    return fail(p, "unknown parameter '%s'", k);
}

static bool flag(struct dparse *p, const char *t)
{
    struct disk_spec *d = p->d;
    if (!strcmp(t, "cdrom")) d->cdrom = true;
    else if (!strcmp(t, "discard")) d->discard = 1;
    else if (!strcmp(t, "no-discard")) d->discard = 0;
    else if (!strcmp(t, "direct-io-safe")) d->direct_io_safe = true;
    else if (!strcmp(t, "trusted")) d->untrusted = false;
    else if (!strcmp(t, "untrusted")) d->untrusted = true;
    else if (!strcmp(t, "colo")) d->colo = true;
    else return false;
    return true;
}

static int param(struct dparse *p, char *t)
{
    char *eq = strchr(t, '=');
    if (eq) {
        *eq = 0;
        for (char *k = t; *k; k++)
            if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '-' || *k == '_'))
                return fail(p, "invalid parameter name '%s'", t);
        return named(p, t, eq + 1);
    }
    if (flag(p, t))
        return 0;
    return positional(p, t);
}

int disk_parse(struct disk_spec *d, const char *spec, char *err, size_t errlen)
{
    *d = (struct disk_spec){ .discard = -1, .devid = -1 };
    struct dparse p = { .d = d, .err = err, .errlen = errlen };
    char *copy = strdup(spec);
    if (!copy)
        return fail(&p, "out of memory");
    int r = 0;
    for (char *s = copy; r == 0;) {
        while (*s == ' ' || *s == '\t' || *s == '\n')
            s++;
        if (!strncmp(s, "target=", 7)) {
            r = named(&p, "target", s + 7);
            break;
        }
        char *c = strchr(s, ',');
        if (c)
            *c = 0;
        if (*s || c)
            r = param(&p, s);
        if (!c)
            break;
        s = c + 1;
    }
    free(copy);
    if (r == 0 && !d->vdev)
        r = fail(&p, "no vdev specified");
    if (r == 0 && (d->devid = disk_vdev_devid(d->vdev)) < 0)
        r = fail(&p, "invalid vdev '%s'", d->vdev);
    if (r == 0 && !d->target && !d->cdrom)
        r = fail(&p, "no target specified (only a cdrom may be empty)");
    if (r == 0 && d->cdrom && !p.access_set)
        d->readonly = true;
    if (r)
        disk_spec_free(d);
    return r;
}

int disk_check_supported(const struct disk_spec *d, char *err, size_t errlen)
{
    const char *why = NULL;
    if (d->colo) {
        why = "COLO replication is not supported";
    } else if (d->script) {
        why = "block scripts are not supported";
    } else if (d->backend_domain && strcmp(d->backend_domain, "0") &&
               strcmp(d->backend_domain, "Domain-0")) {
        why = "driver domains (backend=) are not supported";
    } else if (d->specification && !strcmp(d->specification, "virtio")) {
        why = "virtio disks are not supported (specification=xen only)";
    }
    if (why)
        snprintf(err, errlen, "%s", why);
    return why ? -1 : 0;
}

/* A target that positional parsing would misread is written as target=. */
static bool plain_target(const char *t)
{
    return !strpbrk(t, ",=:") && strcmp(t, "cdrom") && strcmp(t, "discard");
}

char *disk_to_xl(const struct disk_spec *d)
{
    struct strbuf b = { 0 };
    bool keyed = d->target && !plain_target(d->target);
    if (keyed)
        sb_printf(&b, "format=%s,vdev=%s,access=%s", fmt_names[d->format], d->vdev,
                  d->readonly ? "ro" : "rw");
    else
        sb_printf(&b, "%s,%s,%s,%s", d->target ? d->target : "", fmt_names[d->format], d->vdev,
                  d->readonly ? "r" : "w");
    if (d->backend != DISK_BK_AUTO)
        sb_printf(&b, ",backendtype=%s", bk_names[d->backend]);
    if (d->cdrom)
        sb_add(&b, ",devtype=cdrom");
    if (d->backend_domain)
        sb_printf(&b, ",backend=%s", d->backend_domain);
    if (d->script)
        sb_printf(&b, ",script=%s", d->script);
    if (d->specification)
        sb_printf(&b, ",specification=%s", d->specification);
    if (d->discard >= 0)
        sb_add(&b, d->discard ? ",discard" : ",no-discard");
    if (d->direct_io_safe)
        sb_add(&b, ",direct-io-safe");
    if (d->untrusted)
        sb_add(&b, ",untrusted");
    if (keyed)
        sb_printf(&b, ",target=%s", d->target);
    return sb_take(&b);
}

char *disk_to_xm(const struct disk_spec *d)
{
    if (d->target && strchr(d->target, ','))
        return disk_to_xl(d);           /* the xm form cannot hold a comma */
    struct strbuf b = { 0 };
    const char *fmt = fmt_names[d->format];
    if (d->prefix)
        sb_add(&b, d->prefix);
    else if (d->backend == DISK_BK_PHY)
        sb_add(&b, "phy");
    else if (d->backend == DISK_BK_TAP)
        sb_add(&b, d->format == DISK_FMT_RAW ? "tap:aio" : "tap");
    else
        sb_add(&b, "file");
    /* A format other than raw rides along as a format prefix. */
    size_t fl = strlen(fmt);
    if (d->format != DISK_FMT_RAW && !(b.len >= fl && !strcmp(b.s + b.len - fl, fmt)))
        sb_printf(&b, ":%s", fmt);
    sb_printf(&b, ":%s,%s%s,%s", d->target ? d->target : "", d->vdev, d->cdrom ? ":cdrom" : "",
              d->readonly ? "r" : "w");
    return sb_take(&b);
}

void disk_spec_free(struct disk_spec *d)
{
    free(d->target);
    free(d->vdev);
    free(d->backend_domain);
    free(d->script);
    free(d->specification);
    free(d->prefix);
    *d = (struct disk_spec){ .discard = -1, .devid = -1 };
}
