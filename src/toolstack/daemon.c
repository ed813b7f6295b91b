/* Starting xenkvmd when it is not running (the CLI, and `xenkvm run`). */
#include "toolstack/daemon.h"
#include "toolstack/paths.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int ts_start_daemon(char *err, size_t errlen)
{
    char prog[4096], sock[4096], logf[4096];
    const char *bin = ts_find_prog("xenkvmd", "XENKVMD_BIN", "../daemon/xenkvmd", prog, sizeof(prog));
    if (!ts_path(sock, sizeof(sock), "%s/xenstored.sock", ts_rundir()) ||
        !ts_path(logf, sizeof(logf), "%s/xenkvmd.log", ts_logdir())) {
        snprintf(err, errlen, "%s or %s: path too long", ts_rundir(), ts_logdir());
        return -1;
    }
    int rc = ts_mkdirs(ts_logdir(), 0750);
    if (!rc)
        rc = ts_mkdirs(ts_rundir(), 0700);
    if (rc) {
        snprintf(err, errlen, "cannot create %s or %s: %s", ts_logdir(), ts_rundir(),
                 strerror(-rc));
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
        /* It starts clean: xenkvm-web ignores SIGPIPE, `xenkvm run` blocks
         * its stop signals. */
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execl(bin, bin, "--socket", sock, "--log", logf, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
        if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
            snprintf(err, errlen, "cannot run %s: %s", bin,
                     access(bin, X_OK) < 0 ? strerror(errno) : "exec failed");
        else
            snprintf(err, errlen, "xenkvmd did not start (see %s)", logf);
        return -1;
    }
    return 0;
}
