/* Toolstack directories and sibling programs. */
#include "toolstack/paths.h"
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

const char *ts_rundir(void) { return env_or("XENKVM_RUNDIR", "/run/xenkvm"); }
const char *ts_statedir(void) { return env_or("XENKVM_STATEDIR", "/var/lib/xenkvm"); }
const char *ts_logdir(void) { return env_or("XENKVM_LOGDIR", "/var/log/xenkvm"); }

char *ts_path(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "path too long: %.60s...\n", buf);
        return NULL;
    }
    return buf;
}

int ts_mkdirs(const char *path, mode_t mode)
{
    char p[PATH_MAX];
    if (strlen(path) >= sizeof(p))
        return -ENAMETOOLONG;
    strcpy(p, path);
    for (char *s = p + 1; ; s++) {
        if (*s != '/' && *s)
            continue;
        char c = *s;
        *s = 0;
        if (mkdir(p, mode) && errno != EEXIST)
            return -errno;
        *s = c;
        if (!c)
            break;
    }
    return 0;
}

const char *ts_find_prog(const char *name, const char *env, const char *build_rel,
                         char *buf, size_t size)
{
    const char *v = env ? getenv(env) : NULL;
    if (v && *v)
        return v;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            if (snprintf(buf, size, "%s/%s", self, name) < (int)size && access(buf, X_OK) == 0)
                return buf;
            if (build_rel && snprintf(buf, size, "%s/%s", self, build_rel) < (int)size &&
                access(buf, X_OK) == 0)
                return buf;
        }
    }
    return name;
}
