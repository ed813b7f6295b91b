/* Start-up measurement (see startup.h). */
#include "common/startup.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_MARKS 12

static struct {
    bool on, reported;
    struct timespec since;
    int n;
    struct { const char *what; struct timespec at; } marks[MAX_MARKS];
} st;

static double us_between(struct timespec a, struct timespec b)
{
    return (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
}

void startup_init(void)
{
    const char *v = getenv("XENKVM_REPORT_STARTUP");
    if (!v)
        return;
    st.on = true;
    clock_gettime(CLOCK_MONOTONIC, &st.since);
    unsigned long long ns = strtoull(v, NULL, 10);
    if (ns > 1) {
        st.since.tv_sec = (time_t)(ns / 1000000000u);
        st.since.tv_nsec = (long)(ns % 1000000000u);
    }
    startup_mark("main");
}

void startup_mark(const char *what)
{
    if (!st.on || st.reported || st.n == MAX_MARKS)
        return;
    st.marks[st.n].what = what;
    clock_gettime(CLOCK_MONOTONIC, &st.marks[st.n].at);
    st.n++;
}

void startup_report(void)
{
    if (!st.on || st.reported)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    st.reported = true;
    char phases[512];
    int len = 0;
    struct timespec prev = st.since;
    for (int i = 0; i < st.n && len < (int)sizeof(phases); i++) {
        len += snprintf(phases + len, sizeof(phases) - len, "%s%s +%.0f", i ? ", " : "",
                        st.marks[i].what, us_between(prev, st.marks[i].at));
        prev = st.marks[i].at;
    }
    /* CPU time too: on a busy host, the wall time is mostly waiting. */
    struct timespec cpu, zero = { 0, 0 };
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    fprintf(stderr, "startup: first guest instruction %.0f us after process start (%s, guest +%.0f); "
            "cpu %.0f us\n", us_between(st.since, now), st.n ? phases : "", us_between(prev, now),
            us_between(zero, cpu));
}
