/* Tokens of xl.cfg(5) text (internal to xlcfg.c). */
#pragma once
#include <stddef.h>
#include "config/diag.h"

enum xltok {
    XT_EOF, XT_NL, XT_IDENT, XT_NUMBER, XT_STRING,
    XT_ASSIGN, XT_ADD, XT_LBR, XT_RBR, XT_COMMA, XT_SEMI,
    XT_ERR,   /* a lexical error, already reported */
};

struct xllex {
    const char *p, *end;
    int line;
    const char *file;
    struct cfg_diag *d;
    int errline;          /* the last line with a reported error: one a line */
    /* The current token. */
    enum xltok tok;
    int tline;
    const char *raw;      /* its text in the input */
    size_t rawlen;
    char *text;           /* IDENT, NUMBER, STRING: malloc'd value */
};

void xllex_init(struct xllex *lx, const char *file, const char *text, size_t len,
                struct cfg_diag *d);
/* Advances to the next token (frees the previous token's text). */
void xllex_next(struct xllex *lx);
/* Takes ownership of the current token's text. */
char *xllex_take(struct xllex *lx);
void xllex_free(struct xllex *lx);
