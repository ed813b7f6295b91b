/* Where the toolstack keeps its files. Each directory can be moved with an
 * environment variable (tests run in temporary directories):
 *   XENKVM_RUNDIR   /run/xenkvm       sockets, domain records
 *   XENKVM_STATEDIR /var/lib/xenkvm   defined domains, autostart list
 *   XENKVM_LOGDIR   /var/log/xenkvm   console logs, the daemon's log */
#pragma once
#include <stddef.h>
#include <sys/types.h>

const char *ts_rundir(void);
const char *ts_statedir(void);
const char *ts_logdir(void);

/* snprintf into buf; NULL (and a message on stderr) if it does not fit. */
char *ts_path(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* mkdir -p with mode for the directories it creates. 0 or -errno. */
int ts_mkdirs(const char *path, mode_t mode);

/* The path of a sibling program: $env if set, else next to this executable,
 * else build_rel (relative to this executable's directory, for the build
 * tree), else the bare name (found through PATH). */
const char *ts_find_prog(const char *name, const char *env, const char *build_rel,
                         char *buf, size_t size);
