/* Talking to xenkvmd; starting it when it is not running. */
#include "cli/cli.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include "toolstack/paths.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CALL_TIMEOUT_MS 60000

static int start_daemon(void)
{
    char prog[4096], sock[4096], logf[4096];
    const char *bin = ts_find_prog("xenkvmd", "XENKVMD_BIN", "../daemon/xenkvmd", prog, sizeof(prog));
    if (!ts_path(sock, sizeof(sock), "%s/xenstored.sock", ts_rundir()) ||
        !ts_path(logf, sizeof(logf), "%s/xenkvmd.log", ts_logdir()))
        return -1;
    int rc = ts_mkdirs(ts_logdir(), 0750);
    if (!rc)
        rc = ts_mkdirs(ts_rundir(), 0700);
    if (rc) {
        log_err("cannot create %s or %s: %s", ts_logdir(), ts_rundir(), strerror(-rc));
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        /* xenkvmd detaches itself and exits once its sockets listen; it
         * must not keep our stdin/stdout (a pipe's reader would wait). */
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        execl(bin, bin, "--socket", sock, "--log", logf, (char *)NULL);
        log_err("cannot run %s: %s", bin, strerror(errno));
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 127))
            log_err("xenkvmd did not start (see %s)", logf);
        return -1;
    }
    return 0;
}

static struct json_object *call(struct json_object *req, const char *prefix);

struct json_object *ts_call(struct json_object *req)
{
    return call(req, NULL);
}

struct json_object *ts_call_prefix(struct json_object *req, const char *prefix)
{
    return call(req, prefix);
}

void cli_no_domain(const char *dom)
{
    if (cli_xl)
        fprintf(stderr, "%s is an invalid domain identifier (rc=-6)\n", dom);
    else
        log_err("domain '%s' does not exist", dom);
}

/* An error reply: "domain 'X' does not exist" in xl's words under that name. */
static void report(const char *why, const char *prefix)
{
    size_t n = strlen(why);
    static const char tail[] = "' does not exist";
    if (!strncmp(why, "domain '", 8) && n > 8 + sizeof(tail) - 1 &&
        !strcmp(why + n - (sizeof(tail) - 1), tail)) {
        char dom[256];
        snprintf(dom, sizeof(dom), "%.*s", (int)(n - 8 - (sizeof(tail) - 1)), why + 8);
        cli_no_domain(dom);
    } else if (prefix) {
        fprintf(stderr, "%s%s\n", prefix, why);
    } else {
        log_err("%s", why);
    }
}

static struct json_object *call(struct json_object *req, const char *prefix)
{
    char sock[4096], err[512];
    if (!ts_path(sock, sizeof(sock), "%s/xenkvmd.sock", ts_rundir())) {
        json_object_put(req);
        return NULL;
    }
    int fd = jl_connect(sock);
    if (fd == -ENOENT || fd == -ECONNREFUSED) {
        if (start_daemon() < 0) {
            json_object_put(req);
            return NULL;
        }
        fd = jl_connect(sock);
    }
    if (fd < 0) {
        log_err("%s: %s%s", sock, strerror(-fd),
                fd == -EACCES ? " (xenkvm needs root)" : "");
        json_object_put(req);
        return NULL;
    }
    int rc = jl_send(fd, req);
    json_object_put(req);
    struct json_object *rep = rc < 0 ? NULL : jl_recv(fd, CALL_TIMEOUT_MS);
    if (!rep)
        snprintf(err, sizeof(err), "%s", rc < 0 ? strerror(-rc) :
                 errno == ECONNRESET ? "connection closed" : strerror(errno));
    close(fd);
    if (!rep) {
        log_err("xenkvmd: no reply: %s", err);
        return NULL;
    }
    const char *why;
    if (!jl_reply_ok(rep, &why)) {
        report(why, prefix);
        json_object_put(rep);
        return NULL;
    }
    return rep;
}

struct json_object *ts_req(const char *op, const char *dom)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "op", json_object_new_string(op));
    if (dom)
        json_object_object_add(o, "dom", json_object_new_string(dom));
    return o;
}

int ts_simple(struct json_object *req)
{
    struct json_object *rep = ts_call(req);
    json_object_put(rep);
    return rep ? 0 : 1;
}

struct json_object *ts_list(const char *dom, struct json_object **reply)
{
    *reply = ts_call(ts_req("list", dom));
    struct json_object *arr;
    if (!*reply || !json_object_object_get_ex(*reply, "domains", &arr)) {
        json_object_put(*reply);
        *reply = NULL;
        return NULL;
    }
    if (dom && !json_object_array_length(arr)) {
        cli_no_domain(dom);
        json_object_put(*reply);
        *reply = NULL;
        return NULL;
    }
    return arr;
}

long long ts_vcpus_online(struct json_object *d)
{
    struct json_object *vs, *cfg = NULL;
    long long n = 0;
    if (json_object_object_get_ex(d, "vcpus", &vs) && json_object_is_type(vs, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(vs); i++)
            n += jl_bool(json_object_array_get_idx(vs, i), "online", false);
        return n;
    }
    json_object_object_get_ex(d, "config", &cfg);
    return jl_int(cfg, "vcpus", 1);
}
