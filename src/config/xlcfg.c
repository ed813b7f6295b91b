/* xl.cfg(5) parser: recursive descent over xlcfg_lex tokens, one error per
 * statement, then recovery at the next newline outside brackets. */
#include "config/xlcfg.h"
#include "config/xlcfg_lex.h"
#include "common/file.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32          /* list nesting */
#define MAX_ITEMS 100000      /* items in one list */
#define MAX_FILE (16u << 20)  /* bytes in one config file */

struct parser {
    struct xllex lx;
    struct xlcfg *cfg;
    const char *file;
    int depth;                /* open '[' */
    bool failed;
};

const char *xlv_kind_name(enum xlv_kind k)
{
    return k == XLV_STRING ? "string" : k == XLV_NUMBER ? "number" : "list";
}

void xlv_free(struct xlv *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        xlv_free(v->items[i]);
    free(v->items);
    free(v->str);
    free(v);
}

static struct xlv *xlv_copy(const struct xlv *v)
{
    struct xlv *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->kind = v->kind;
    c->line = v->line;
    if (v->str && !(c->str = strdup(v->str)))
        goto fail;
    if (v->n) {
        if (!(c->items = calloc(v->n, sizeof(*c->items))))
            goto fail;
        for (; c->n < v->n; c->n++)
            if (!(c->items[c->n] = xlv_copy(v->items[c->n])))
                goto fail;
    }
    return c;
fail:
    xlv_free(c);
    return NULL;
}

static void perr(struct parser *ps, const char *fmt, const char *arg)
{
    struct xllex *lx = &ps->lx;
    char near[48];
    size_t n = lx->rawlen < 40 ? lx->rawlen : 40;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)lx->raw[i];
        near[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    near[n] = 0;
    char what[256];
    snprintf(what, sizeof(what), fmt, arg ? arg : "");
    struct cfg_loc at = { ps->file, lx->tline };
    ps->failed = true;
    if (lx->tok == XT_ERR || lx->errline == lx->tline)
        return;   /* this line already has its error */
    lx->errline = lx->tline;
    if (lx->tok == XT_NL)
        diag_error(lx->d, at, "config parsing error near <newline>: %s", what);
    else if (lx->tok == XT_EOF)
        diag_error(lx->d, at, "config parsing error at end of file: %s", what);
    else
        diag_error(lx->d, at, "config parsing error near `%s': %s", near, what);
}

static void skip_nl(struct parser *ps)
{
    while (ps->lx.tok == XT_NL)
        xllex_next(&ps->lx);
}

static struct xlv *parse_value(struct parser *ps);

static struct xlv *parse_list(struct parser *ps, int line)
{
    struct xlv *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->kind = XLV_LIST;
    l->line = line;
    if (++ps->depth > MAX_DEPTH) {
        perr(ps, "lists nested too deeply", NULL);
        goto fail;
    }
    xllex_next(&ps->lx);                 /* past '[' */
    skip_nl(ps);
    size_t cap = 0;
    while (ps->lx.tok != XT_RBR) {
        struct xlv *v = parse_value(ps);
        if (!v)
            goto fail;
        if (l->n == cap) {
            cap = cap ? cap * 2 : 4;
            struct xlv **it = cap <= MAX_ITEMS ? realloc(l->items, cap * sizeof(*it)) : NULL;
            if (!it) {
                xlv_free(v);
                perr(ps, "list too long", NULL);
                goto fail;
            }
            l->items = it;
        }
        l->items[l->n++] = v;
        skip_nl(ps);
        if (ps->lx.tok == XT_COMMA) {
            xllex_next(&ps->lx);
            skip_nl(ps);
        } else if (ps->lx.tok != XT_RBR) {
            perr(ps, "expected ',' or ']' in list", NULL);
            goto fail;
        }
    }
    ps->depth--;
    xllex_next(&ps->lx);                 /* past ']' */
    return l;
fail:
    xlv_free(l);
    return NULL;
}

static struct xlv *parse_value(struct parser *ps)
{
    struct xllex *lx = &ps->lx;
    if (lx->tok == XT_LBR)
        return parse_list(ps, lx->tline);
    if (lx->tok != XT_STRING && lx->tok != XT_NUMBER) {
        if (lx->tok == XT_IDENT)
            perr(ps, "expected a value, not the bare word '%s' (strings need quotes)", lx->text);
        else
            perr(ps, "expected a value (a quoted string, a number or a [list])", NULL);
        return NULL;
    }
    struct xlv *v = calloc(1, sizeof(*v));
    if (!v) {
        perr(ps, "out of memory", NULL);
        return NULL;
    }
    v->kind = lx->tok == XT_STRING ? XLV_STRING : XLV_NUMBER;
    v->line = lx->tline;
    v->str = xllex_take(lx);
    xllex_next(lx);
    return v;
}

/* "+=": combines the previous value of the key with add (consumed). */
static struct xlv *combine(struct parser *ps, const struct xlv *prev, struct xlv *add, int line,
                           const char *key)
{
    bool prev_list = prev->kind == XLV_LIST, add_list = add->kind == XLV_LIST;
    if (prev_list != add_list) {
        diag_error(ps->lx.d, (struct cfg_loc){ ps->file, line },
                   "config parsing error: %s: can't add [list] to \"string\" or vice versa", key);
        ps->failed = true;
        xlv_free(add);
        return NULL;
    }
    struct xlv *c = xlv_copy(prev);
    if (!c)
        goto oom;
    if (!add_list) {
        char *s = malloc(strlen(c->str) + strlen(add->str) + 1);
        if (!s)
            goto oom;
        strcpy(stpcpy(s, c->str), add->str);
        free(c->str);
        c->str = s;
        if (add->kind == XLV_STRING)
            c->kind = XLV_STRING;
    } else {
        if (c->n + add->n > MAX_ITEMS)
            goto oom;
        struct xlv **it = realloc(c->items, (c->n + add->n + 1) * sizeof(*it));
        if (!it)
            goto oom;
        c->items = it;
        for (size_t i = 0; i < add->n; i++)
            c->items[c->n++] = add->items[i];
        add->n = 0;
    }
    c->line = line;
    xlv_free(add);
    return c;
oom:
    xlv_free(c);
    xlv_free(add);
    diag_error(ps->lx.d, (struct cfg_loc){ ps->file, line }, "out of memory");
    ps->failed = true;
    return NULL;
}

static bool store(struct parser *ps, char *key, struct xlv *v, int line, bool append)
{
    struct xlcfg *c = ps->cfg;
    if (append) {
        const struct xlset *prev = xlcfg_find(c, key);
        if (prev && !(v = combine(ps, prev->val, v, line, key))) {
            free(key);
            return false;
        }
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct xlset *s = realloc(c->sets, cap * sizeof(*s));
        if (!s) {
            free(key);
            xlv_free(v);
            return false;
        }
        c->sets = s;
        c->cap = cap;
    }
    c->sets[c->n++] = (struct xlset){ .key = key, .val = v, .line = line, .append = append,
                                      .file = ps->file };
    return true;
}

/* KEY (= | +=) VALUE; the current token is the key. */
static bool parse_assignment(struct parser *ps)
{
    struct xllex *lx = &ps->lx;
    int line = lx->tline;
    char *key = xllex_take(lx);
    xllex_next(lx);
    bool append = lx->tok == XT_ADD;
    if (lx->tok != XT_ASSIGN && !append) {
        perr(ps, "expected '=' after the key '%s'", key);
        free(key);
        return false;
    }
    xllex_next(lx);
    struct xlv *v = parse_value(ps);
    if (!v) {
        free(key);
        return false;
    }
    if (!store(ps, key, v, line, append))
        return false;
    if (lx->tok != XT_NL && lx->tok != XT_SEMI && lx->tok != XT_EOF) {
        perr(ps, "expected a newline or ';' after the value of '%s'", ps->cfg->sets[ps->cfg->n - 1].key);
        return false;
    }
    return true;
}

/* After an error: skip to the newline that ends the statement. */
static void recover(struct parser *ps)
{
    struct xllex *lx = &ps->lx;
    while (lx->tok != XT_EOF && !(lx->tok == XT_NL && ps->depth <= 0)) {
        if (lx->tok == XT_LBR)
            ps->depth++;
        else if (lx->tok == XT_RBR)
            ps->depth--;
        xllex_next(lx);
    }
    ps->depth = 0;
}

static const char *intern_file(struct xlcfg *c, const char *file)
{
    for (size_t i = 0; i < c->nfiles; i++)
        if (!strcmp(c->files[i], file))
            return c->files[i];
    char **f = realloc(c->files, (c->nfiles + 1) * sizeof(*f));
    if (!f)
        return NULL;
    c->files = f;
    if (!(f[c->nfiles] = strdup(file)))
        return NULL;
    return f[c->nfiles++];
}

int xlcfg_parse_text(struct xlcfg *c, const char *file, const char *text, size_t len,
                     struct cfg_diag *d)
{
    struct parser ps = { .cfg = c };
    if (!(ps.file = intern_file(c, file))) {
        diag_error(d, (struct cfg_loc){ file, 0 }, "out of memory");
        return -1;
    }
    xllex_init(&ps.lx, ps.file, text, len, d);
    xllex_next(&ps.lx);
    while (ps.lx.tok != XT_EOF) {
        if (ps.lx.tok == XT_NL || ps.lx.tok == XT_SEMI) {
            xllex_next(&ps.lx);
            continue;
        }
        bool ok;
        if (ps.lx.tok == XT_IDENT) {
            ok = parse_assignment(&ps);
        } else {
            perr(&ps, "expected a setting (key = value)", NULL);
            ok = false;
        }
        if (!ok) {
            ps.failed = true;
            recover(&ps);
        }
    }
    xllex_free(&ps.lx);
    if (ps.failed && memmem(text, len, "import ", 7))
        diag_warn(d, (struct cfg_loc){ ps.file, 0 },
                  "config file looks like it contains Python code, which xl does not run");
    return ps.failed ? -1 : 0;
}

int xlcfg_parse_file(struct xlcfg *c, const char *path, struct cfg_diag *d)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char err[512];
    int r = file_read_all(path, MAX_FILE, &data, &len, err, sizeof(err));
    if (r < 0) {
        size_t pl = strlen(path);
        const char *why = strncmp(err, path, pl) ? err : err + pl + (err[pl] ? 2 : 0);
        diag_error(d, (struct cfg_loc){ path, 0 }, "unable to open configuration file: %s", why);
        return -1;
    }
    r = xlcfg_parse_text(c, path, (const char *)data, len, d);
    free(data);
    return r;
}

int xlcfg_apply_override(struct xlcfg *c, const char *arg, struct cfg_diag *d)
{
    return xlcfg_parse_text(c, "command line", arg, strlen(arg), d);
}

const struct xlset *xlcfg_find(const struct xlcfg *c, const char *key)
{
    for (size_t i = c->n; i-- > 0;)
        if (!strcmp(c->sets[i].key, key))
            return &c->sets[i];
    return NULL;
}

void xlcfg_free(struct xlcfg *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->sets[i].key);
        xlv_free(c->sets[i].val);
    }
    free(c->sets);
    for (size_t i = 0; i < c->nfiles; i++)
        free(c->files[i]);
    free(c->files);
    *c = (struct xlcfg){ 0 };
}
