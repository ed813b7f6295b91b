/* A small unit-test harness. Each test binary holds named cases:
 *   test_x --list     prints the case names, one a line
 *   test_x [CASE...]  runs the named cases (all when none), prints "ok NAME" or
 *                     "FAIL NAME: file:line: what", exits 1 if any failed.
 * tests/test_unit.py turns every case into one pytest item. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*unit_fn)(void);
void unit_register(const char *name, unit_fn fn);
void unit_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
extern int unit_failed_checks;

#define TEST(name)                                                              \
    static void name(void);                                                     \
    __attribute__((constructor)) static void unit_reg_##name(void) { unit_register(#name, name); } \
    static void name(void)

#define CHECK(cond) do { if (!(cond)) unit_fail(__FILE__, __LINE__, "%s", #cond); } while (0)
#define CHECK_EQ(a, b) do {                                                     \
        long long _a = (long long)(a), _b = (long long)(b);                     \
        if (_a != _b) unit_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, _a, #b, _b); \
    } while (0)
#define CHECK_STR(a, b) do {                                                    \
        const char *_a = (a), *_b = (b);                                        \
        if (!_a || !_b || strcmp(_a, _b)) unit_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, _a ? _a : "(null)", _b ? _b : "(null)"); \
    } while (0)
