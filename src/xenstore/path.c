#include "xenstore/path.h"

#include <stdio.h>
#include <string.h>
#include "xenstore/wire.h"

static bool valid_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '/' || c == '_' || c == '@';
}

bool xs_parse_domid(const char *s, unsigned *domid)
{
    unsigned long v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned)(*s - '0');
        if (v > 65535)
            return false;
    }
    *domid = (unsigned)v;
    return true;
}

/* Offset of the part below /local/domain/N/ (0 if the path is not there). */
static size_t local_off(const char *p)
{
    static const char pre[] = "/local/domain/";
    if (strncmp(p, pre, sizeof(pre) - 1))
        return 0;
    size_t i = sizeof(pre) - 1, digits = 0;
    while (p[i] >= '0' && p[i] <= '9' && digits < 6)
        i++, digits++;
    if (!digits || p[i] != '/')
        return 0;
    return i + 1;
}

int xs_path_canon(const char *in, unsigned domid, bool privileged, size_t rel_max,
                  bool allow_special, char *out, size_t outsz)
{
    size_t n;
    if (!*in)
        return EINVAL;
    if (in[0] == '@') {
        if (!allow_special)
            return EINVAL;
        n = strlen(in);
        if (n >= outsz || n > XENSTORE_ABS_PATH_MAX)
            return EINVAL;
        for (size_t i = 0; i < n; i++)
            if (!valid_char(in[i]))
                return EINVAL;
        memcpy(out, in, n + 1);
        return 0;
    }
    if (in[0] == '/') {
        n = strlen(in);
        if (n >= outsz)
            return EINVAL;
        memcpy(out, in, n + 1);
    } else {
        int k = snprintf(out, outsz, "/local/domain/%u/%s", domid, in);
        if (k < 0 || (size_t)k >= outsz)
            return EINVAL;
        n = (size_t)k;
    }
    if (n > XENSTORE_ABS_PATH_MAX)
        return EINVAL;
    if (n > 1 && out[n - 1] == '/')
        return EINVAL;
    if (strstr(out, "//"))
        return EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!valid_char(out[i]))
            return EINVAL;
    if (!privileged && n - local_off(out) > rel_max)
        return EINVAL;
    return 0;
}

bool xs_path_is_child(const char *child, const char *parent)
{
    size_t n = strlen(parent);
    if (n == 1 && parent[0] == '/')
        return child[0] == '/';
    return !strncmp(child, parent, n) && (child[n] == '\0' || child[n] == '/');
}

size_t xs_path_parent_len(const char *path)
{
    const char *s = strrchr(path, '/');
    return s == path ? 1 : (size_t)(s - path);
}

const char *xs_path_basename(const char *path)
{
    return strrchr(path, '/') + 1;
}

const char *xs_path_relative(const char *abs, unsigned domid)
{
    char pre[32];
    int k = snprintf(pre, sizeof(pre), "/local/domain/%u/", domid);
    if (!strncmp(abs, pre, (size_t)k) && abs[k])
        return abs + k;
    return abs;
}
