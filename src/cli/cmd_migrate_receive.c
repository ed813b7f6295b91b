/* migrate-receive: the far end of xenkvm migrate, run over ssh (xl's
 * handshake; docs/save-restore.md, "Live migration"). The stream is not
 * kept: once its CONFIG record is in, xenkvmd starts the domain process
 * restoring from a FIFO, and a thread here copies the records into it as
 * they arrive, so the pre-copy rounds land in guest memory while the source
 * still runs and only the stop-and-copy's records are left after END. */
#include "cli/cli.h"
#include "cli/migrate_stream.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include "toolstack/paths.h"
#include "vmm/snapshot_file.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* How long xenkvmd may take to answer the create: the whole pre-copy runs
 * inside it. A little longer than the daemon waits for a domain restoring
 * from a FIFO (10 minutes), so that its answer, not a timeout, comes. */
#define INCOMING_TIMEOUT_MS (610 * 1000)

static int destroy_dom(long long domid)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", domid);
    return ts_simple(ts_req("destroy", id));
}

static long long ms_between(const struct timespec *a, const struct timespec *b)
{
    return (b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* The stream's start (header, CONFIG record), read here to learn the
 * config; the rest goes to the domain process by feed(). */
struct incoming {
    struct snap_header h;
    struct snap_record rec;
    char *config;                   /* the CONFIG payload, NUL-terminated */
    char fifo[4096];
    _Atomic int rc;                 /* feed(): 0, -1 the stream ended early, -2 the
                                     * domain process stopped reading */
    uint64_t bytes;
    struct timespec t_end;          /* when END had gone into the FIFO */
};

static bool read_start(struct incoming *in, char *err, size_t errlen)
{
    if (migrate_read(STDIN_FILENO, &in->h, sizeof(in->h)) < 0 ||
        migrate_read(STDIN_FILENO, &in->rec, sizeof(in->rec)) < 0) {
        snprintf(err, errlen, "the stream ended early (the sender gave up)");
        return false;
    }
    if (memcmp(in->h.magic, SNAP_MAGIC, 8)) {
        snprintf(err, errlen, "not a xenkvm migration stream");
        return false;
    }
    if (in->rec.type != SNAP_REC_CONFIG || in->rec.len > SNAP_MAX_RECORD) {
        snprintf(err, errlen, "the stream does not start with the domain's config");
        return false;
    }
    in->config = malloc(in->rec.len + 1);
    if (!in->config || migrate_read(STDIN_FILENO, in->config, in->rec.len) < 0) {
        snprintf(err, errlen, "%s", in->config ? "the stream ended early (the sender gave up)"
                 : "out of memory");
        return false;
    }
    in->config[in->rec.len] = 0;
    if (crc32(0, (const Bytef *)in->config, (uInt)in->rec.len) != in->rec.crc) {
        snprintf(err, errlen, "corrupt: checksum mismatch in the CONFIG record");
        return false;
    }
    return true;
}

/* Thread: the stream into the FIFO the domain process reads, up to END, then
 * EOF (the process's reader wants nothing after END). Blocks in open until
 * the process opens its end. */
static void *feed(void *arg)
{
    struct incoming *in = arg;
    in->rc = -2;
    int fd = open(in->fifo, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    unlink(in->fifo);            /* both ends are open: the name is not needed */
    uint64_t n = 0;
    if (migrate_write(fd, &in->h, sizeof(in->h)) == 0 &&
        migrate_write(fd, &in->rec, sizeof(in->rec)) == 0 &&
        migrate_write(fd, in->config, in->rec.len) == 0)
        in->rc = migrate_copy_records(STDIN_FILENO, fd, &n);
    clock_gettime(CLOCK_MONOTONIC, &in->t_end);
    in->bytes = sizeof(in->h) + sizeof(in->rec) + in->rec.len + n;
    close(fd);
    return NULL;
}

/* Static: when the domain never comes, the feeder may still be blocked on
 * it as this process exits. */
static struct incoming rs;

int cmd_migrate_receive(int argc, char **argv)
{
    bool debug = false, paused = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "Fedrph")) != -1) {
        switch (c) {
        case 'F': case 'e': break;            /* nothing daemonizes here */
        case 'd': debug = true; break;
        case 'p': paused = true; break;
        case 'r':
            log_err("migrate-receive: Remus checkpoints are not supported");
            return 1;
        default: return cli_usage("migrate-receive", c == 'h');
        }
    }
    if (argc != optind)
        return cli_usage("migrate-receive", false);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "migration target: Ready to receive domain.\n");
    if (migrate_write(STDOUT_FILENO, MIGRATE_BANNER, sizeof(MIGRATE_BANNER) - 1) < 0)
        return 1;
    char err[512];
    rs.rc = -2;
    struct json_object *cfg = NULL;
    if (!read_start(&rs, err, sizeof(err)))
        log_err("migration target: %s", err);
    else if (!(cfg = json_tokener_parse(rs.config)) ||
             !json_object_is_type(cfg, json_type_object))
        log_err("migration target: the domain config in the stream is not a JSON object");
    if (!cfg || !json_object_is_type(cfg, json_type_object)) {
        json_object_put(cfg);
        free(rs.config);
        fprintf(stderr, "migration target: Domain creation failed.\n");
        return 1;
    }
    /* The FIFO lives beside the daemon's sockets (0600: the guest's memory
     * goes through it); the feeder removes its name once both ends are open. */
    const char *fifo = rs.fifo;
    if (!ts_path(rs.fifo, sizeof(rs.fifo), "%s/migrate-in-%d.fifo", ts_rundir(),
                 (int)getpid())) {
        json_object_put(cfg);
        free(rs.config);
        return 1;
    }
    pthread_t feeder;
    /* On a host where xenkvmd has not run yet the run directory is not
     * there: the create below starts the daemon, but the FIFO comes first. */
    int prc = ts_mkdirs(ts_rundir(), 0700);
    if (prc < 0)
        errno = -prc;
    else
        prc = mkfifo(fifo, 0600);
    if (prc < 0 || (prc = pthread_create(&feeder, NULL, feed, &rs)) != 0) {
        log_err("migration target: %s: %s", fifo, strerror(prc < 0 ? errno : prc));
        if (prc > 0)
            unlink(fifo);
        json_object_put(cfg);
        free(rs.config);
        fprintf(stderr, "migration target: Domain creation failed.\n");
        return 1;
    }
    /* Under another name until the sender lets go of its own. */
    char name[64], incoming[128];
    snprintf(name, sizeof(name), "%s", jl_str(cfg, "name", "migrated"));
    snprintf(incoming, sizeof(incoming), "%s--incoming", name);
    json_object_object_add(cfg, "name", json_object_new_string(incoming));
    struct json_object *req = ts_req("create", NULL), *rep;
    json_object_object_add(req, "config", cfg);
    json_object_object_add(req, "paused", json_object_new_boolean(true));
    json_object_object_add(req, "restore", json_object_new_string(fifo));
    rep = ts_call_wait(req, INCOMING_TIMEOUT_MS, err, sizeof(err));
    struct timespec t_ready;
    clock_gettime(CLOCK_MONOTONIC, &t_ready);
    if (!rep) {
        /* The process is gone (or never came): whatever the feeder blocks
         * on ends with this process. */
        log_err("%s", err);
        if (rs.rc == -1)
            log_err("migration target: the stream ended early (the sender gave up)");
        unlink(fifo);
        fprintf(stderr, "migration target: Domain creation failed.\n");
        return 1;
    }
    /* Ready means the process read END and the EOF after it. */
    pthread_join(feeder, NULL);
    free(rs.config);
    long long domid = jl_int(rep, "domid", -1);
    json_object_put(rep);
    if (debug)
        fprintf(stderr, "migration target: %llu bytes received; restored and ready %lld ms "
                "after the end of the stream\n", (unsigned long long)rs.bytes,
                ms_between(&rs.t_end, &t_ready));
    fprintf(stderr, "migration target: Transfer complete, requesting permission to start "
            "domain.\n");
    if (migrate_write(STDOUT_FILENO, MIGRATE_READY, sizeof(MIGRATE_READY)) < 0) {
        destroy_dom(domid);
        return 1;
    }
    int failed = 0;
    if (!migrate_expect(STDIN_FILENO, MIGRATE_GO, sizeof(MIGRATE_GO), "migration stream",
                        "GO message", NULL))
        failed = 3;
    else {
        fprintf(stderr, "migration target: Got permission, starting domain.\n");
        char id[24];
        snprintf(id, sizeof(id), "%lld", domid);
        if (!migrate_rename(domid, name))
            failed = 3;
        else if (!paused && ts_simple(ts_req("unpause", id)) != 0)
            failed = 3;
        else {
            fprintf(stderr, "migration target: Domain started successfully.\n");
            struct timespec t_run;
            clock_gettime(CLOCK_MONOTONIC, &t_run);
            if (debug)
                fprintf(stderr, "migration target: the guest runs %lld ms after the end of "
                        "the stream\n", ms_between(&rs.t_end, &t_run));
        }
    }
    char status = (char)failed;
    if (migrate_write(STDOUT_FILENO, MIGRATE_REPORT, sizeof(MIGRATE_REPORT)) < 0 ||
        migrate_write(STDOUT_FILENO, &status, 1) < 0) {
        if (failed)
            destroy_dom(domid);
        return 1;
    }
    if (!failed)
        return 0;
    fprintf(stderr, "migration target: Failure, destroying our copy.\n");
    if (destroy_dom(domid) != 0) {
        fprintf(stderr, "migration target: Failed to destroy our copy.\n");
        return 1;
    }
    fprintf(stderr, "migration target: Cleanup OK, granting sender permission to resume.\n");
    migrate_write(STDOUT_FILENO, MIGRATE_GO, sizeof(MIGRATE_GO));
    return 1;
}
