/* migrate-receive: the far end of xenkvm migrate, run over ssh (xl's
 * handshake; docs/save-restore.md, "Live migration"). */
#include "cli/cli.h"
#include "cli/migrate_stream.h"
#include "cli/tsclient.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include "toolstack/paths.h"
#include "vmm/snapshot_file.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int destroy_dom(long long domid)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", domid);
    return ts_simple(ts_req("destroy", id));
}

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
    /* The stream is kept in a file beside the daemon's sockets (it holds
     * the guest's memory: 0600) and restored from there. */
    char *spool;
    if (asprintf(&spool, "%s/migrate-in-%d.save", ts_rundir(), (int)getpid()) < 0)
        return 1;
    int fd = open(spool, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_err("migration target: %s: %s", spool, strerror(errno));
        free(spool);
        return 1;
    }
    uint64_t bytes;
    int rc = migrate_copy_stream(STDIN_FILENO, fd, &bytes);
    if (close(fd) < 0 && !rc)
        rc = -2;
    char err[512];
    char *saved = NULL;
    if (rc < 0)
        log_err("migration target: %s", rc == -1 ? "the stream ended early (the sender gave up)"
                : "cannot keep the stream (disk full?)");
    else if (!(saved = snap_verify(spool, err, sizeof(err))))
        log_err("migration target: %s", err);
    struct json_object *cfg = saved ? json_tokener_parse(saved) : NULL;
    free(saved);
    if (saved && (!cfg || !json_object_is_type(cfg, json_type_object)))
        log_err("migration target: the domain config in the stream is not a JSON object");
    if (!cfg || !json_object_is_type(cfg, json_type_object)) {
        json_object_put(cfg);
        unlink(spool);
        free(spool);
        fprintf(stderr, "migration target: Domain creation failed.\n");
        return 1;
    }
    if (debug)
        fprintf(stderr, "migration target: %llu bytes received\n", (unsigned long long)bytes);
    /* Under another name until the sender lets go of its own. */
    char name[64], incoming[128];
    snprintf(name, sizeof(name), "%s", jl_str(cfg, "name", "migrated"));
    snprintf(incoming, sizeof(incoming), "%s--incoming", name);
    json_object_object_add(cfg, "name", json_object_new_string(incoming));
    struct json_object *req = ts_req("create", NULL), *rep;
    json_object_object_add(req, "config", cfg);
    json_object_object_add(req, "paused", json_object_new_boolean(true));
    json_object_object_add(req, "restore", json_object_new_string(spool));
    rep = ts_call(req);
    unlink(spool);
    free(spool);
    if (!rep) {
        fprintf(stderr, "migration target: Domain creation failed.\n");
        return 1;
    }
    long long domid = jl_int(rep, "domid", -1);
    json_object_put(rep);
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
        else
            fprintf(stderr, "migration target: Domain started successfully.\n");
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
