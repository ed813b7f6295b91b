/* xenkvm -c ssh://[user@]host[:port] COMMAND: the command runs as
 *   ssh [-p PORT] [-l USER] -e none -T|-t HOST -- xenkvm 'ARG'...
 * ssh's exit status is the command's. create/define read their config
 * here: it reaches the remote CLI as a here-document on fd 3
 * (/dev/fd/3), named after the local file in its messages through
 * XENKVM_CONFIG_NAME, so standard input stays free for `create -c`. */
#include "cli/remote.h"
#include "cli/cfgload.h"
#include "common/file.h"
#include "common/log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define MAX_ARGS 64

bool remote_is_local(const char *uri)
{
    static const char *const local[] = { "", "xen:///", "xen:///system", "xenkvm:///",
                                         "xenkvm:///system" };
    for (size_t i = 0; uri && i < sizeof(local) / sizeof(local[0]); i++)
        if (!strcmp(uri, local[i]))
            return true;
    return !uri;
}

struct target {
    char user[128], host[256], port[8];
};

/* ssh://, xen+ssh:// or xenkvm+ssh:// [user@]host[:port][/path][?query] */
static int parse_uri(const char *uri, struct target *t)
{
    static const char *const schemes[] = { "ssh://", "xen+ssh://", "xenkvm+ssh://" };
    const char *p = NULL;
    for (int i = 0; i < 3 && !p; i++)
        if (!strncmp(uri, schemes[i], strlen(schemes[i])))
            p = uri + strlen(schemes[i]);
    if (!p)
        return -1;
    size_t n = strcspn(p, "/?");
    char auth[400];
    if (!n || n >= sizeof(auth))
        return -1;
    memcpy(auth, p, n);
    auth[n] = 0;
    memset(t, 0, sizeof(*t));
    char *h = strrchr(auth, '@');
    if (h) {
        *h = 0;
        if (!auth[0] || strlen(auth) >= sizeof(t->user))
            return -1;
        strcpy(t->user, auth);
        h++;
    } else
        h = auth;
    char *port = NULL;
    if (h[0] == '[') {                   /* [v6]:port */
        char *e = strchr(h, ']');
        if (!e)
            return -1;
        *e = 0;
        port = e[1] == ':' ? e + 2 : NULL;
        h++;
    } else if ((port = strchr(h, ':')))
        *port++ = 0;
    if (!h[0] || strlen(h) >= sizeof(t->host) || h[0] == '-')
        return -1;
    strcpy(t->host, h);
    if (port) {
        char *end;
        long v = strtol(port, &end, 10);
        if (*end || v < 1 || v > 65535)
            return -1;
        snprintf(t->port, sizeof(t->port), "%ld", v);
    }
    return 0;
}

/* Appends s single-quoted for the remote shell. */
static int quote(char **out, size_t *len, const char *s)
{
    size_t need = *len + 4 * strlen(s) + 4;
    char *b = realloc(*out, need);
    if (!b)
        return -1;
    char *p = b + *len;
    *p++ = '\'';
    for (; *s; s++) {
        if (*s == '\'') {
            memcpy(p, "'\\''", 4);
            p += 4;
        } else
            *p++ = *s;
    }
    *p++ = '\'';
    *p = 0;
    *out = b;
    *len = p - b;
    return 0;
}

static int append(char **out, size_t *len, const char *s)
{
    size_t l = strlen(s);
    char *b = realloc(*out, *len + l + 1);
    if (!b)
        return -1;
    memcpy(b + *len, s, l + 1);
    *out = b;
    *len += l;
    return 0;
}

/* The index of create's / define's config file argument, or -1. */
static int config_arg(int argc, char **argv, bool *console)
{
    *console = false;
    if (!strcmp(argv[0], "define"))
        return argc > 1 && argv[1][0] != '-' ? 1 : -1;
    if (strcmp(argv[0], "create") && strcmp(argv[0], "start")) {
        *console = !strcmp(argv[0], "console");
        return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] && a[1] != '-') {
            for (const char *c = a + 1; *c; c++) {
                *console |= *c == 'c';
                if (*c == 'f' && !strcmp(argv[0], "create"))
                    return c[1] ? -1 : (i + 1 < argc ? i + 1 : -1);   /* -fFILE: left as is */
            }
            continue;
        }
        if (!strcmp(argv[0], "create") && !strchr(a, '='))
            return i;
    }
    return -1;
}

int remote_exec(const char *uri, int argc, char **argv)
{
    struct target t;
    if (parse_uri(uri, &t) < 0) {
        log_err("connection URI '%s': only ssh://[user@]host[:port] (or xen+ssh://) and the "
                "local xen:/// are known", uri);
        return 1;
    }
    if (argc < 1 || argc > MAX_ARGS) {
        log_err("-c %s: give one command and at most %d arguments", uri, MAX_ARGS);
        return 1;
    }
    bool console;
    int file = config_arg(argc, argv, &console);
    char *cmd = NULL;
    size_t len = 0;
    uint8_t *text = NULL;
    size_t tlen = 0;
    int rc = 0;
    if (file >= 0) {
        char err[512];
        if (file_read_all(argv[file], CFG_MAX, &text, &tlen, err, sizeof(err)) < 0) {
            log_err("%s", err);
            return 1;
        }
        rc |= append(&cmd, &len, "XENKVM_CONFIG_NAME=") | quote(&cmd, &len, argv[file]);
    }
    rc |= append(&cmd, &len, " xenkvm");
    for (int i = 0; i < argc; i++)
        rc |= append(&cmd, &len, " ") | quote(&cmd, &len, i == file ? "/dev/fd/3" : argv[i]);
    if (file >= 0) {
        /* A delimiter that is no line of the text. */
        char delim[64];
        unsigned long long r = 0;
        do {
            if (getrandom(&r, sizeof(r), 0) != sizeof(r))
                r = (unsigned long long)getpid() * 2654435761u + r + 1;
            snprintf(delim, sizeof(delim), "XENKVM_CONFIG_%016llx", r);
        } while (memmem(text, tlen, delim, strlen(delim)));
        rc |= append(&cmd, &len, " 3<<'") | append(&cmd, &len, delim) | append(&cmd, &len, "'\n");
        char *body = strndup((const char *)text, tlen);
        rc |= !body || append(&cmd, &len, body);
        free(body);
        if (tlen && text[tlen - 1] != '\n')
            rc |= append(&cmd, &len, "\n");
        rc |= append(&cmd, &len, delim);
        if (memchr(text, 0, tlen)) {
            log_err("%s: not a text file", argv[file]);
            rc = -1;
        }
    }
    free(text);
    if (rc) {
        free(cmd);
        return 1;
    }
    /* ssh and its own options: $XENKVM_SSH split at spaces. */
    char *ssh = strdup(getenv("XENKVM_SSH") && *getenv("XENKVM_SSH") ? getenv("XENKVM_SSH") : "ssh");
    char *args[MAX_ARGS + 16];
    int n = 0;
    for (char *save, *w = strtok_r(ssh, " \t", &save); w && n < MAX_ARGS; w = strtok_r(NULL, " \t", &save))
        args[n++] = w;
    if (t.port[0]) {
        args[n++] = "-p";
        args[n++] = t.port;
    }
    if (t.user[0]) {
        args[n++] = "-l";
        args[n++] = t.user;
    }
    args[n++] = "-e";                    /* console bytes pass untouched */
    args[n++] = "none";
    args[n++] = console && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) ? "-t" : "-T";
    args[n++] = "--";
    args[n++] = t.host;
    args[n++] = cmd;
    args[n] = NULL;
    execvp(args[0], args);
    log_err("cannot run %s: %s", args[0], strerror(errno));
    free(ssh);
    free(cmd);
    return 1;
}
