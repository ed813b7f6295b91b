#include "unit.h"
#include <stdarg.h>
#include <stdlib.h>

#define MAX_CASES 512
static struct { const char *name; unit_fn fn; } cases[MAX_CASES];
static int ncases;
int unit_failed_checks;

void unit_register(const char *name, unit_fn fn)
{
    if (ncases == MAX_CASES) {
        fprintf(stderr, "too many test cases\n");
        exit(2);
    }
    cases[ncases].name = name;
    cases[ncases++].fn = fn;
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  %s:%d: ", file, line);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    unit_failed_checks++;
}

static int run_case(int i)
{
    int before = unit_failed_checks;
    cases[i].fn();
    bool ok = unit_failed_checks == before;
    printf("%s %s\n", ok ? "ok" : "FAIL", cases[i].name);
    fflush(stdout);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && !strcmp(argv[1], "--list")) {
        for (int i = 0; i < ncases; i++)
            printf("%s\n", cases[i].name);
        return 0;
    }
    int failed = 0;
    if (argc == 1) {
        for (int i = 0; i < ncases; i++)
            failed += run_case(i);
    } else {
        for (int a = 1; a < argc; a++) {
            int found = 0;
            for (int i = 0; i < ncases; i++)
                if (!strcmp(cases[i].name, argv[a])) {
                    failed += run_case(i);
                    found = 1;
                }
            if (!found) {
                printf("FAIL %s: no such case\n", argv[a]);
                failed++;
            }
        }
    }
    return failed ? 1 : 0;
}
