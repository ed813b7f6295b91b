#include "report.h"
#include "hypercall.h"

unsigned report_failures;

void ok(const char *what, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, what);
    vsnprintf(buf, sizeof(buf), what, ap);
    va_end(ap);
    printf("ok %s\n", buf);
}

static void vfail(const char *what, const char *fmt, va_list ap)
{
    char buf[256];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    __atomic_fetch_add(&report_failures, 1, __ATOMIC_RELAXED);
    printf("FAIL %s: %s\n", what, buf);
}

void fail(const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(what, fmt, ap);
    va_end(ap);
}

bool check(bool cond, const char *what, const char *fmt, ...)
{
    if (cond) {
        printf("ok %s\n", what);
        return true;
    }
    va_list ap;
    va_start(ap, fmt);
    vfail(what, fmt, ap);
    va_end(ap);
    return false;
}

bool check_rc(const char *what, long got, long want)
{
    char g[24];
    snprintf(g, sizeof(g), "%s", errname(got));
    return check(got == want, what, "got %s, want %s", g, errname(want));
}

void finish(void)
{
    if (report_failures) {
        printf("RESULT FAIL %u\n", report_failures);
        shutdown(SHUTDOWN_crash);
    }
    printf("RESULT PASS\n");
    shutdown(SHUTDOWN_poweroff);
}
