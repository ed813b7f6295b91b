/* Check reporting: "ok <what>" / "FAIL <what>: <details>", then one RESULT line. */
#pragma once
#include "lib.h"

extern unsigned report_failures;

void ok(const char *what, ...) PRINTF(1, 2);
void fail(const char *what, const char *fmt, ...) PRINTF(2, 3);
/* ok(what) when cond, else FAIL with the formatted details. Returns cond. */
bool check(bool cond, const char *what, const char *fmt, ...) PRINTF(3, 4);
/* Checks a hypercall result against the expected value, naming both. */
bool check_rc(const char *what, long got, long want);
/* Prints RESULT PASS / RESULT FAIL <n>, then powers off or crashes. */
NORETURN void finish(void);
