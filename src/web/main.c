/* xenkvm-web: the HTTP API, the web page and the consoles (see server.h,
 * docs/api.md). Safe by default: 127.0.0.1 and a root-only unix socket; a
 * token on every TCP request; anything but a loopback address only with
 * TLS. */
#include "web/server.h"
#include "web/token.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include "toolstack/paths.h"
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct server srv;
size_t http_pss_size(void);

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
    if (srv.ctx)
        lws_cancel_service(srv.ctx);
}

static void lws_emit(int level, const char *line)
{
    size_t n = strlen(line);
    fprintf(stderr, "%s: lws: %.*s\n", log_prog, (int)(n && line[n - 1] == '\n' ? n - 1 : n), line);
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: xenkvm-web [OPTIONS]\n"
        "The HTTP API, web page and consoles of xenkvm (docs/api.md).\n"
        "  -l, --listen ADDR:PORT   TCP address (default 127.0.0.1:8000; none: no TCP).\n"
        "                           Anything but a loopback address needs --cert and --key.\n"
        "  -s, --socket PATH        the root-only unix socket (default RUNDIR/web.sock; none)\n"
        "  -t, --token-file FILE    the access token (default STATEDIR/web.token; made if absent)\n"
        "      --cert FILE --key FILE  serve https with this certificate and key (PEM)\n"
        "  -w, --webroot DIR        the built page (default: the build tree's, or\n"
        "                           /usr/share/xenkvm/page)\n"
        "      --log FILE           append messages to FILE\n"
        "      --auth-failures N --auth-window S\n"
        "                           lock an address out for S s after N wrong tokens in S s\n"
        "                           (default 5 in 60)\n"
        "  -v, --verbose\n");
}

/* ADDR:PORT -> host (NULL: every address) and port; *loopback. */
static int parse_listen(char *spec, const char **host, int *port, bool *loopback)
{
    char *colon = strrchr(spec, ':');
    if (!colon || !colon[1])
        return -1;
    *colon = 0;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    char *h = spec;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') {   /* [v6] */
        h[strlen(h) - 1] = 0;
        h++;
    }
    struct in_addr a4;
    struct in6_addr a6;
    *loopback = !strcmp(h, "localhost") ||
                (inet_pton(AF_INET, h, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127) ||
                (inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6));
    if (!strcmp(h, "localhost"))
        h = "127.0.0.1";
    *host = !*h || !strcmp(h, "0.0.0.0") || !strcmp(h, "::") ? NULL : h;
    return 0;
}

/* The built page: --webroot, $XENKVM_WEBROOT, the build tree's web/page,
 * or the installed copy. */
static void find_webroot(const char *opt)
{
    char exe[2048], cand[3][2200];
    int n = 0;
    ssize_t l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[l > 0 ? l : 0] = 0;
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = 0;
    if (opt)
        snprintf(cand[n++], sizeof(cand[0]), "%s", opt);
    else {
        if (getenv("XENKVM_WEBROOT"))
            snprintf(cand[n++], sizeof(cand[0]), "%s", getenv("XENKVM_WEBROOT"));
        snprintf(cand[n++], sizeof(cand[0]), "%s/../../web/page", exe);
        snprintf(cand[n++], sizeof(cand[0]), "%s/../share/xenkvm/page", exe);
        snprintf(cand[n++], sizeof(cand[0]), "/usr/share/xenkvm/page");
    }
    for (int i = 0; i < n; i++) {
        char idx[2300];
        if (snprintf(idx, sizeof(idx), "%s/index.html", cand[i]) < (int)sizeof(idx) &&
            access(idx, R_OK) == 0 && realpath(cand[i], srv.webroot))
            return;
    }
    srv.webroot[0] = 0;
    log_warn("the web page is not built (scripts/deps.sh, then scripts/build.sh): serving the "
             "API only");
}

/* A stale socket file is replaced; a live one means another server. */
static int prepare_socket(const char *path)
{
    struct stat st;
    int rc = ts_mkdirs(ts_rundir(), 0700);
    if (rc && strncmp(path, ts_rundir(), strlen(ts_rundir())) == 0) {
        log_err("%s: %s", ts_rundir(), strerror(-rc));
        return -1;
    }
    if (lstat(path, &st) == 0) {
        int fd = jl_connect(path);
        if (fd >= 0) {
            close(fd);
            log_err("%s: another server is listening there", path);
            return -1;
        }
        if (!S_ISSOCK(st.st_mode) || unlink(path) < 0) {
            log_err("%s: exists and is not a stale socket", path);
            return -1;
        }
    }
    return 0;
}

static struct lws_protocols protocols[] = {
    { PROTO_HTTP, http_callback, 0, 0, 0, NULL, 0 },
    { PROTO_CONSOLE, console_callback, 0, 4096, 0, NULL, 0 },
    { PROTO_CONSOLE_FD, console_fd_callback, 0, 0, 0, NULL, 0 },
    { PROTO_JOBS, jobs_callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' }, { "socket", required_argument, NULL, 's' },
        { "token-file", required_argument, NULL, 't' }, { "cert", required_argument, NULL, 'C' },
        { "key", required_argument, NULL, 'K' }, { "webroot", required_argument, NULL, 'w' },
        { "log", required_argument, NULL, 'L' }, { "auth-failures", required_argument, NULL, 'F' },
        { "auth-window", required_argument, NULL, 'W' }, { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' }, { 0 } };
    char listen_buf[300] = "127.0.0.1:8000", sock[4096], token_file[4096];
    const char *cert = NULL, *key = NULL, *webroot = NULL, *log_file = NULL;
    const char *sock_opt = NULL, *token_opt = NULL;
    unsigned failures = 5, window = 60;
    int c;
    log_prog = "xenkvm-web";
    while ((c = getopt_long(argc, argv, "l:s:t:w:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'l': snprintf(listen_buf, sizeof(listen_buf), "%s", optarg); break;
        case 's': sock_opt = optarg; break;
        case 't': token_opt = optarg; break;
        case 'C': cert = optarg; break;
        case 'K': key = optarg; break;
        case 'w': webroot = optarg; break;
        case 'L': log_file = optarg; break;
        case 'F': failures = (unsigned)atoi(optarg); break;
        case 'W': window = (unsigned)atoi(optarg); break;
        case 'v': log_verbose++; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (optind != argc || !failures || !window) {
        usage(stderr);
        return 1;
    }
    if (log_file && !freopen(log_file, "a", stderr))
        die("%s: %s", log_file, strerror(errno));
    setvbuf(stderr, NULL, _IOLBF, 0);
    if (!ts_path(sock, sizeof(sock), "%s", sock_opt ? sock_opt : "") ||
        (!sock_opt && !ts_path(sock, sizeof(sock), "%s/web.sock", ts_rundir())) ||
        !ts_path(token_file, sizeof(token_file), "%s",
                 token_opt ? token_opt : "") ||
        (!token_opt && !ts_path(token_file, sizeof(token_file), "%s/web.token", ts_statedir())))
        return 1;
    bool use_tcp = strcmp(listen_buf, "none") != 0, use_unix = strcmp(sock, "none") != 0;
    const char *host = NULL;
    int port = 0;
    bool loopback = false;
    char listen_text[300];
    snprintf(listen_text, sizeof(listen_text), "%s", listen_buf);
    if (use_tcp && parse_listen(listen_buf, &host, &port, &loopback) < 0)
        die("--listen %s: give ADDR:PORT (e.g. 127.0.0.1:8000)", listen_text);
    if ((cert != NULL) != (key != NULL))
        die("--cert and --key go together");
    srv.tls = cert != NULL;
    if (use_tcp && !loopback && !srv.tls)
        die("refusing to listen on %s without TLS: a non-loopback address needs --cert and "
            "--key (or listen on 127.0.0.1)", listen_text);
    if (!use_tcp && !use_unix)
        die("nothing to listen on (--listen none and --socket none)");

    /* The token is needed on every TCP request: load it even with TCP off,
     * so a bad token file is found at once. */
    static char token[TOKEN_MAX + 1], csrf[65];
    char err[1024];
    int rc = ts_mkdirs(ts_statedir(), 0700);
    if (rc && !token_opt)
        die("%s: %s", ts_statedir(), strerror(-rc));
    if (token_load(token_file, token, err, sizeof(err)) < 0)
        die("%s", err);
    if (token_random_hex(csrf, 32) < 0)
        die("no random bytes for the CSRF token");
    srv.policy = (struct auth_policy){ .token = token, .csrf = csrf, .tls = srv.tls,
                                       .loopback = loopback, .max_failures = failures,
                                       .window_s = window };
    find_webroot(webroot);

    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_emit);
    protocols[0].per_session_data_size = http_pss_size();
    protocols[1].per_session_data_size = console_pss_size();

    struct lws_context_creation_info info = { 0 };
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                   (srv.tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
    info.max_http_header_data = 4096;
    if (!(srv.ctx = lws_create_context(&info)))
        die("cannot create the server (libwebsockets)");

    struct lws_context_creation_info vi = { 0 };
    vi.protocols = protocols;
    vi.alpn = "http/1.1";
    vi.keepalive_timeout = 30;
    if (use_tcp) {
        vi.vhost_name = "tcp";
        vi.port = port;
        vi.iface = host;
        vi.ssl_cert_filepath = cert;
        vi.ssl_private_key_filepath = key;
        vi.options = srv.tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
        if (!(srv.tcp = lws_create_vhost(srv.ctx, &vi)))
            die("cannot listen on %s (see the messages above)", listen_text);
        port = lws_get_vhost_listen_port(srv.tcp);
    }
    if (use_unix) {
        if (prepare_socket(sock) < 0)
            return 1;
        memset(&vi, 0, sizeof(vi));
        vi.protocols = protocols;
        vi.vhost_name = "unix";
        vi.options = LWS_SERVER_OPTION_UNIX_SOCK;
        vi.iface = sock;
        vi.keepalive_timeout = 30;
        mode_t old = umask(077);
        srv.unix_vh = lws_create_vhost(srv.ctx, &vi);
        umask(old);
        if (!srv.unix_vh || chmod(sock, 0600) < 0)
            die("cannot listen on %s", sock);
    }
    if (jobs_init() < 0)
        die("cannot set up the worker threads' pipe");
    if (use_tcp)
        fprintf(stderr, "%s: listening on %s://%s:%d/%s%s\n", log_prog, srv.tls ? "https" : "http",
                host ? host : "0.0.0.0", port, use_unix ? " and unix:" : "", use_unix ? sock : "");
    else
        fprintf(stderr, "%s: listening on unix:%s\n", log_prog, sock);

    while (!stop && lws_service(srv.ctx, 0) >= 0)
        ;
    lws_context_destroy(srv.ctx);
    if (use_unix)
        unlink(sock);
    return 0;
}
