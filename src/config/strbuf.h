/* A growing string. On allocation failure it is marked failed and later
 * appends do nothing; sb_take() then returns NULL. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
    char *s;
    size_t len, cap;
    bool failed;
};

void sb_add(struct strbuf *b, const char *s);
void sb_addn(struct strbuf *b, const char *s, size_t n);
void sb_addc(struct strbuf *b, char c);
void sb_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with XML escaping (&, <, >, ', "). */
void sb_add_xml(struct strbuf *b, const char *s);
/* Appends s as an xl.cfg double-quoted string with escapes. */
void sb_add_quoted(struct strbuf *b, const char *s);
/* Returns the string (caller frees; "" when empty) or NULL on failure. */
char *sb_take(struct strbuf *b);
void sb_free(struct strbuf *b);
