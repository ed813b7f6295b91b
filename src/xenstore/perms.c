#include "xenstore/perms.h"
#include "xenstore/path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned access_of(const struct xs_perms *perms, unsigned domid)
{
    for (unsigned i = 1; i < perms->n; i++)
        if (perms->p[i].domid == domid)
            return perms->p[i].access;
    return perms->p[0].access;
}

unsigned xs_perm_for(const struct xs_perms *perms, const struct xs_who *who)
{
    if (who->privileged)
        return XS_PERM_BOTH | XS_PERM_OWNER;
    unsigned owner = perms->p[0].domid;
    if (owner == who->domid || (who->target != ~0u && owner == who->target))
        return XS_PERM_BOTH | XS_PERM_OWNER;
    unsigned a = access_of(perms, who->domid);
    /* A domain with a target also gets what the target was granted. */
    if (who->target != ~0u)
        a |= access_of(perms, who->target);
    return a;
}

int xs_perms_parse(const char *buf, size_t len, struct xs_perms *out)
{
    unsigned n = 0;
    for (size_t i = 0; i < len; i++)
        if (!buf[i])
            n++;
    if (!n || buf[len - 1])
        return EINVAL;
    struct xs_perm *p = calloc(n, sizeof(*p));
    if (!p)
        return ENOMEM;
    const char *s = buf;
    for (unsigned i = 0; i < n; i++, s += strlen(s) + 1) {
        unsigned domid;
        switch (s[0]) {
        case 'n': p[i].access = XS_PERM_NONE; break;
        case 'r': p[i].access = XS_PERM_READ; break;
        case 'w': p[i].access = XS_PERM_WRITE; break;
        case 'b': p[i].access = XS_PERM_BOTH; break;
        default: free(p); return EINVAL;
        }
        if (!xs_parse_domid(s + 1, &domid)) {
            free(p);
            return EINVAL;
        }
        p[i].domid = (uint16_t)domid;
    }
    out->n = n;
    out->p = p;
    return 0;
}

size_t xs_perms_format(const struct xs_perms *perms, char *buf, size_t bufsz)
{
    static const char letter[] = "nrwb";
    size_t off = 0;
    for (unsigned i = 0; i < perms->n; i++) {
        char tmp[16];
        int k = snprintf(tmp, sizeof(tmp), "%c%u", letter[perms->p[i].access & 3], perms->p[i].domid);
        if (off + (size_t)k + 1 <= bufsz)
            memcpy(buf + off, tmp, (size_t)k + 1);
        off += (size_t)k + 1;
    }
    return off;
}

int xs_perms_copy(struct xs_perms *dst, const struct xs_perms *src)
{
    dst->p = malloc(src->n * sizeof(*src->p));
    if (!dst->p)
        return ENOMEM;
    memcpy(dst->p, src->p, src->n * sizeof(*src->p));
    dst->n = src->n;
    return 0;
}

void xs_perms_free(struct xs_perms *p)
{
    free(p->p);
    p->p = NULL;
    p->n = 0;
}

bool xs_perms_equal(const struct xs_perms *a, const struct xs_perms *b)
{
    return a->n == b->n && !memcmp(a->p, b->p, a->n * sizeof(*a->p));
}
