#include "config/xlcfg_lex.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void xllex_init(struct xllex *lx, const char *file, const char *text, size_t len,
                struct cfg_diag *d)
{
    *lx = (struct xllex){ .p = text, .end = text + len, .line = 1, .file = file, .d = d };
}

/* Reports a lexical error unless this line already has one. */
static bool first_on_line(struct xllex *lx, int line)
{
    if (lx->errline == line)
        return false;
    lx->errline = line;
    return true;
}

static void err(struct xllex *lx, int line, const char *what)
{
    if (first_on_line(lx, line))
        diag_error(lx->d, (struct cfg_loc){ lx->file, line }, "config parsing error: %s", what);
}

static bool is_ident0(char c) { return c >= 'a' && c <= 'z'; }
static bool is_ident(char c) { return is_ident0(c) || c == '_' || (c >= '0' && c <= '9'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_numch(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || c == 'x'; }

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads a quoted string starting at lx->p (the quote). Returns the value,
 * or NULL after reporting the error (lx->p then past the bad string). */
static bool triple_at(const struct xllex *lx, const char *p, char q)
{
    return lx->end - p >= 3 && p[0] == q && p[1] == q && p[2] == q;
}

/* A Python triple-quoted string (xm files are Python): runs to the same
 * three quotes and may span lines. Sets [*s, *e) to its text. */
static bool triple_body(struct xllex *lx, char q, const char **s, const char **e)
{
    int start = lx->line;
    lx->p += 3;
    *s = lx->p;
    while (lx->p < lx->end && !triple_at(lx, lx->p, q)) {
        if (*lx->p == '\\' && lx->p + 1 < lx->end)
            lx->p++;
        if (*lx->p == '\n')
            lx->line++;
        lx->p++;
    }
    if (lx->p >= lx->end) {
        err(lx, start, "unterminated triple-quoted string");
        return false;
    }
    *e = lx->p;
    lx->p += 3;
    return true;
}

static char *lex_string(struct xllex *lx)
{
    char q = *lx->p;
    const char *s, *e;
    if (triple_at(lx, lx->p, q)) {
        if (!triple_body(lx, q, &s, &e))
            return NULL;
    } else {
        s = ++lx->p;
        /* Find the end first: strings do not span lines. */
        while (lx->p < lx->end && *lx->p != q && *lx->p != '\n') {
            if (*lx->p == '\\' && lx->p + 1 < lx->end && lx->p[1] != '\n')
                lx->p++;
            lx->p++;
        }
        if (lx->p >= lx->end || *lx->p != q) {
            err(lx, lx->line, "unterminated quoted string");
            return NULL;
        }
        e = lx->p++;
    }
    char *out = malloc((size_t)(e - s) + 1), *o = out;
    if (!out) {
        err(lx, lx->line, "out of memory");
        return NULL;
    }
    for (const char *c = s; c < e;) {
        if (*c == 0) {
            err(lx, lx->line, "NUL character in quoted string");
            free(out);
            return NULL;
        }
        if (*c != '\\') {
            *o++ = *c++;
            continue;
        }
        char n = c[1];
        c += 2;
        if (n == '\n')
            continue;     /* a backslash-newline joins lines (triple-quoted) */
        int v = -1;
        switch (n) {
        case '"': case '\'': case '\\': v = n; break;
        case 'a': v = '\a'; break;
        case 'b': v = '\b'; break;
        case 'f': v = '\f'; break;
        case 'n': v = '\n'; break;
        case 'r': v = '\r'; break;
        case 't': v = '\t'; break;
        case 'v': v = '\v'; break;
        case 'x':
            if (c < e && hexval(*c) >= 0) {
                v = hexval(*c++);
                if (c < e && hexval(*c) >= 0)
                    v = v * 16 + hexval(*c++);
            }
            break;
        default:
            if (n >= '0' && n <= '7') {
                v = n - '0';
                for (int i = 0; i < 2 && c < e && *c >= '0' && *c <= '7'; i++)
                    v = v * 8 + (*c++ - '0');
                if (v > 255)
                    v = -1;
            }
        }
        if (v <= 0) {
            err(lx, lx->line, v == 0 ? "NUL character escape in quoted string"
                                     : "invalid escape after backslash in quoted string");
            free(out);
            return NULL;
        }
        *o++ = (char)v;
    }
    *o = 0;
    return out;
}

static char *dup_n(const char *s, size_t n)
{
    char *r = malloc(n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = 0;
    }
    return r;
}

void xllex_next(struct xllex *lx)
{
    free(lx->text);
    lx->text = NULL;
    while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r'))
        lx->p++;
    if (lx->p < lx->end && *lx->p == '#')      /* a comment runs to the newline */
        while (lx->p < lx->end && *lx->p != '\n')
            lx->p++;
    lx->raw = lx->p;
    lx->tline = lx->line;
    if (lx->p >= lx->end) {
        lx->tok = XT_EOF;
        lx->rawlen = 0;
        return;
    }
    char c = *lx->p;
    if (c == '\n') {
        lx->p++;
        lx->line++;
        lx->tok = XT_NL;
    } else if (is_ident0(c)) {
        while (lx->p < lx->end && is_ident(*lx->p))
            lx->p++;
        lx->tok = XT_IDENT;
        lx->text = dup_n(lx->raw, (size_t)(lx->p - lx->raw));
    } else if (is_digit(c)) {
        while (lx->p < lx->end && is_numch(*lx->p))
            lx->p++;
        lx->tok = XT_NUMBER;
        lx->text = dup_n(lx->raw, (size_t)(lx->p - lx->raw));
    } else if (c == '"' || c == '\'') {
        lx->text = lex_string(lx);
        lx->tok = lx->text ? XT_STRING : XT_ERR;
    } else if (c == '+' && lx->p + 1 < lx->end && lx->p[1] == '=') {
        lx->p += 2;
        lx->tok = XT_ADD;
    } else {
        lx->p++;
        switch (c) {
        case '=': lx->tok = XT_ASSIGN; break;
        case '[': lx->tok = XT_LBR; break;
        case ']': lx->tok = XT_RBR; break;
        case ',': lx->tok = XT_COMMA; break;
        case ';': lx->tok = XT_SEMI; break;
        default: {
            unsigned char u = (unsigned char)c;
            if (!first_on_line(lx, lx->line))
                ;
            else if (u >= 0x21 && u < 0x7f)
                diag_error(lx->d, (struct cfg_loc){ lx->file, lx->line },
                           "config parsing error: unexpected character '%c'%s", c,
                           (c >= 'A' && c <= 'Z') ? " (keys are lower case)" : "");
            else
                diag_error(lx->d, (struct cfg_loc){ lx->file, lx->line },
                           "config parsing error: unexpected byte 0x%02x", u);
            lx->tok = XT_ERR;
        }
        }
    }
    if ((lx->tok == XT_IDENT || lx->tok == XT_NUMBER) && !lx->text) {
        err(lx, lx->line, "out of memory");
        lx->tok = XT_ERR;
    }
    lx->rawlen = (size_t)(lx->p - lx->raw);
}

char *xllex_take(struct xllex *lx)
{
    char *t = lx->text;
    lx->text = NULL;
    return t;
}

void xllex_free(struct xllex *lx)
{
    free(lx->text);
    lx->text = NULL;
}
