#include "config/strbuf.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool grow(struct strbuf *b, size_t more)
{
    if (b->failed)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + more + 1) {
        if (cap > ((size_t)1 << 40)) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *s = realloc(b->s, cap);
    if (!s) {
        b->failed = true;
        return false;
    }
    b->s = s;
    b->cap = cap;
    return true;
}

void sb_addn(struct strbuf *b, const char *s, size_t n)
{
    if (!grow(b, n))
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void sb_add(struct strbuf *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

void sb_addc(struct strbuf *b, char c)
{
    sb_addn(b, &c, 1);
}

void sb_printf(struct strbuf *b, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0) {
        b->failed = true;
        return;
    }
    sb_addn(b, s, (size_t)r);
    free(s);
}

void sb_add_xml(struct strbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': sb_add(b, "&amp;"); break;
        case '<': sb_add(b, "&lt;"); break;
        case '>': sb_add(b, "&gt;"); break;
        case '\'': sb_add(b, "&apos;"); break;
        case '"': sb_add(b, "&quot;"); break;
        default: sb_addc(b, *s);
        }
    }
}

void sb_add_quoted(struct strbuf *b, const char *s)
{
    sb_addc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            sb_addc(b, '\\');
            sb_addc(b, (char)c);
        } else if (c == '\n') {
            sb_add(b, "\\n");
        } else if (c == '\t') {
            sb_add(b, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            sb_printf(b, "\\x%02x", c);
        } else {
            sb_addc(b, (char)c);
        }
    }
    sb_addc(b, '"');
}

char *sb_take(struct strbuf *b)
{
    if (b->failed) {
        sb_free(b);
        return NULL;
    }
    char *s = b->s ? b->s : strdup("");
    *b = (struct strbuf){ 0 };
    return s;
}

void sb_free(struct strbuf *b)
{
    free(b->s);
    *b = (struct strbuf){ 0 };
}
