/* The registry's log lines: time-stamped, on stderr (the daemon's log). */
#include "daemon/registry.h"
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

void reg_log(const char *fmt, ...)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
    va_list ap;
    va_start(ap, fmt);
    flockfile(stderr);
    fprintf(stderr, "[%s] xenkvmd: ", stamp);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
    va_end(ap);
}
