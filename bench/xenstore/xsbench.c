/* xenstore load generator: N concurrent clients, each on its own connection,
 * doing a fixed number of one operation; prints requests per second.
 *   xsbench --socket PATH [--clients N] [--count N] [--op read|write|directory|transaction]
 *   xsbench --echo-server PATH   (the floor: a server answering every message
 *                                 with "OK" and doing nothing else) */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xenstore/client.h"
#include "xenstore/wire.h"

static const char *sock;
static unsigned count = 20000, clients = 4;
static const char *op = "read";

struct worker {
    pthread_t th;
    unsigned id;
    unsigned long done, retries, errors;
};

static void *run(void *arg)
{
    struct worker *w = arg;
    struct xs_client *c = xs_open(sock);
    if (!c) {
        w->errors = count;
        return NULL;
    }
    char key[64], val[32];
    snprintf(key, sizeof(key), "/bench/c%u/k", w->id);
    for (unsigned i = 0; i < count; i++) {
        int rc;
        char *v = NULL;
        size_t len;
        if (!strcmp(op, "read")) {
            rc = xs_read(c, 0, key, &v, &len);
        } else if (!strcmp(op, "write")) {
            int n = snprintf(val, sizeof(val), "%u", i);
            rc = xs_write(c, 0, key, val, (size_t)n);
        } else if (!strcmp(op, "directory")) {
            char **names;
            unsigned n;
            rc = xs_directory(c, 0, "/bench/dir", &names, &n);
            if (!rc)
                free(names);
        } else {   /* read-modify-write of the client's own key, retried on EAGAIN */
            for (;;) {
                uint32_t tx;
                if ((rc = xs_txn_start(c, &tx)))
                    break;
                if (!(rc = xs_read(c, tx, key, &v, &len))) {
                    free(v);
                    v = NULL;
                    int n = snprintf(val, sizeof(val), "%u", i);
                    rc = xs_write(c, tx, key, val, (size_t)n);
                }
                int e = xs_txn_end(c, tx, rc == 0);
                if (e == -EAGAIN) {
                    w->retries++;
                    continue;
                }
                if (!rc)
                    rc = e;
                break;
            }
        }
        free(v);
        if (rc)
            w->errors++;
        else
            w->done++;
    }
    xs_close(c);
    return NULL;
}

static int prepare(void)
{
    struct xs_client *c = xs_open(sock);
    if (!c)
        return -errno;
    int rc = 0;
    for (unsigned i = 0; i < clients && !rc; i++) {
        char key[64];
        snprintf(key, sizeof(key), "/bench/c%u/k", i);
        rc = xs_write_str(c, 0, key, "0");
    }
    for (unsigned i = 0; i < 32 && !rc; i++) {
        char key[64];
        snprintf(key, sizeof(key), "/bench/dir/entry%02u", i);
        rc = xs_write_str(c, 0, key, "x");
    }
    xs_close(c);
    return rc;
}

static int echo_server(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    unlink(path);
    if (l < 0 || bind(l, (void *)&sa, sizeof(sa)) || listen(l, 64)) {
        perror(path);
        return 1;
    }
    for (;;) {
        int fd = accept(l, NULL, NULL);
        if (fd < 0)
            continue;
        if (fork() == 0) {   /* one process a client: no shared state at all */
            char buf[XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX];
            for (;;) {
                struct xsd_sockmsg h;
                size_t got = 0;
                while (got < sizeof(h)) {
                    ssize_t n = read(fd, (char *)&h + got, sizeof(h) - got);
                    if (n <= 0)
                        _exit(0);
                    got += (size_t)n;
                }
                if (h.len > XENSTORE_PAYLOAD_MAX)
                    _exit(1);
                for (got = 0; got < h.len;) {
                    ssize_t n = read(fd, buf + got, h.len - got);
                    if (n <= 0)
                        _exit(0);
                    got += (size_t)n;
                }
                h.len = 3;
                memcpy(buf, &h, sizeof(h));
                memcpy(buf + sizeof(h), "OK", 3);
                if (write(fd, buf, sizeof(h) + 3) != (ssize_t)(sizeof(h) + 3))
                    _exit(0);
            }
        }
        close(fd);
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' }, { "clients", required_argument, NULL, 'c' },
        { "count", required_argument, NULL, 'n' }, { "op", required_argument, NULL, 'o' },
        { "echo-server", required_argument, NULL, 'e' }, { 0 },
    };
    int o;
    while ((o = getopt_long(argc, argv, "s:c:n:o:e:", opts, NULL)) != -1) {
        switch (o) {
        case 's': sock = optarg; break;
        case 'c': clients = (unsigned)atoi(optarg); break;
        case 'n': count = (unsigned)atoi(optarg); break;
        case 'o': op = optarg; break;
        case 'e': return echo_server(optarg);
        default: return 2;
        }
    }
    if (!sock || !clients || clients > 1024)
        return 2;
    /* The echo floor has no store: it only answers, so skip preparing one. */
    if (strcmp(op, "echo")) {
        int rc = prepare();
        if (rc) {
            fprintf(stderr, "xsbench: %s: cannot prepare: %s\n", sock, strerror(-rc));
            return 1;
        }
    } else {
        op = "read";   /* one request, one reply */
    }
    struct worker *w = calloc(clients, sizeof(*w));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 0; i < clients; i++) {
        w[i].id = i;
        pthread_create(&w[i].th, NULL, run, &w[i]);
    }
    unsigned long done = 0, retries = 0, errors = 0;
    for (unsigned i = 0; i < clients; i++) {
        pthread_join(w[i].th, NULL);
        done += w[i].done;
        retries += w[i].retries;
        errors += w[i].errors;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%.0f req/s (%lu done, %lu retries, %lu errors, %.3f s)\n", (double)done / secs, done,
           retries, errors, secs);
    free(w);
    return errors ? 1 : 0;
}
