/* xenkvmd's domain registry (the toolstack half of the daemon): domids,
 * one `xenkvm run` process per domain, their supervision and on_* actions,
 * and the control socket the CLI talks to. It runs on its own thread and
 * reaches xenstore through the daemon's socket like any dom0 client.
 * See docs/toolstack.md. */
#pragma once
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct registry_opts {
    const char *xs_socket;     /* the daemon's xenstore socket */
    const char *rundir;        /* control socket, domain records, domain sockets */
    const char *log_file;      /* domain processes' messages; NULL: our stderr */
    bool autostart;            /* start the autostart list (once per boot) */
};

/* Listens on <rundir>/xenkvmd.sock and starts the registry thread, which
 * re-adopts the domains recorded in <rundir>/domains/. 0 or -1 (logged). */
int registry_start(const struct registry_opts *o);
/* Stops the thread; domain processes keep running. */
void registry_stop(void);

/* ---- inside the registry ---- */

enum dom_state { DOM_RUNNING, DOM_SHUTDOWN, DOM_DYING };

struct dom {
    unsigned domid;
    char name[64];
    char uuid[37];
    pid_t pid;
    unsigned long long pid_start;  /* /proc/PID/stat start time: pid reuse check */
    int pidfd;                     /* -1: no process */
    time_t start_time;
    enum dom_state state;
    int reason;                    /* SHUTDOWN_* once shut down */
    bool destroying;               /* destroy asked: no on_* action */
    bool starting;                 /* its process is not ready yet (registry_start.c) */
    bool paused, restored;         /* how it was started */
    uint64_t target_kib, maxmem_kib;
    int weight, cap;               /* xl's credit weight (0: default) and cap (0: none) */
    char cgroup[256];              /* its cgroup v2 directory, "" for none */
    bool cgroup_systemd;           /* a systemd scope (xenkvm-domN.scope) */
    struct json_object *config;    /* as the CLI sent it (see docs/toolstack.md) */
    struct dom *next;
};

struct restart {                   /* a restart waiting for its time */
    struct json_object *config;
    struct timespec due;
    struct restart *next;
};

struct registry {
    struct registry_opts o;
    int ctl_fd, epfd, stop_fd;
    struct dom *doms;
    struct restart *restarts;
    struct start *starts;          /* processes not ready yet (registry_start.c) */
    int client;                    /* the request's connection; -1 once a start owns it */
    unsigned last_domid;
    struct xs_client *xs;
};

/* registry_log.c */
void reg_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* registry_dom.c: the table and its records (<rundir>/domains/<domid>.json) */
struct dom *reg_find(struct registry *r, const char *what);   /* domid or name */
struct dom *reg_find_id(struct registry *r, unsigned domid);
struct dom *reg_find_name(struct registry *r, const char *name);
unsigned reg_alloc_domid(struct registry *r);                  /* 0: none free */
void reg_save(struct registry *r, struct dom *d);
/* Unlinks the record and the domain's files, removes d from the table, frees it. */
void reg_forget(struct registry *r, struct dom *d);
void reg_load(struct registry *r);
char *reg_path(struct registry *r, char *buf, size_t size, unsigned domid, const char *what);
struct xs_client *reg_xs(struct registry *r);                  /* NULL if unreachable */
int reg_watch_pid(struct registry *r, struct dom *d);
unsigned long long reg_pid_start(pid_t pid);                  /* 0: no such process */
const char *reg_check_name(const char *name);                  /* NULL: fine; else why */

/* registry_spawn.c */
/* restore: a save file the new domain starts from (xenkvm restore), or NULL. */
struct dom *reg_spawn(struct registry *r, struct json_object *config, bool paused,
                      const char *restore, char *err, size_t errlen);

/* The same, for a CLI's request on connection client: a start that may take
 * minutes (a bootloader's menu, an incoming migration's stream) is then
 * waited for in the event loop, and d is returned with d->starting set: the
 * registry owns client and sends the create's reply there once the process is
 * ready or gone. Other starts are waited for here. */
struct dom *reg_spawn_for(struct registry *r, struct json_object *config, bool paused,
                          const char *restore, int client, char *err, size_t errlen);

/* registry_start.c: a domain process between fork and ready */
struct start;
/* Links d into the table and waits for its ready byte (here, or in the event
 * loop when in_loop and client >= 0). Takes ready, pidfd and logfd. d on
 * success or while starting; NULL (d freed, the process reaped) with err. */
struct dom *reg_start_wait(struct registry *r, struct dom *d, int client, int ready, int pidfd,
                           int logfd, off_t log_start, const char *sock, const char *status,
                           int timeout_ms, bool in_loop, char *err, size_t errlen);
/* The create's reply: ok, domid, name. */
struct json_object *reg_created_reply(const struct dom *d);
/* An epoll tag of a start's (bit 0 set): handled (true), or not a start's. */
bool reg_start_event(struct registry *r, void *tag);
int reg_start_timeout(struct registry *r);                    /* ms, -1: none */
void reg_start_expire(struct registry *r);                     /* ends the overdue */
/* Ends d's start (destroyed, daemon stopping): the process killed, the
 * creator told why. */
void reg_start_abort(struct registry *r, struct dom *d, const char *why);
void reg_start_abort_all(struct registry *r, const char *why);

/* registry_cgroup.c: one cgroup v2 per domain (systemd scope or the
 * cgroup filesystem): CPU weight and cap, memory and I/O accounting. */
enum cg_mode { CG_NONE, CG_FS, CG_SYSTEMD };
enum cg_mode reg_cg_mode(void);
/* Puts pid (the new domain process, not yet exec'd) into d's cgroup with
 * d->weight and d->cap. Without cgroups that is fine unless a weight or cap
 * was asked for. 0, or -errno with err set. */
int reg_cg_attach(struct registry *r, struct dom *d, pid_t pid, char *err, size_t errlen);
int reg_cg_set(struct registry *r, struct dom *d, int weight, int cap, char *err, size_t errlen);
/* Adds "cgroup": {path, memory_kib, io_read_bytes, io_write_bytes} to o. */
void reg_cg_stats(struct dom *d, struct json_object *o);
void reg_cg_remove(struct registry *r, struct dom *d);

/* registry_exit.c */
void reg_exited(struct registry *r, struct dom *d);
/* The config's on_* action for a SHUTDOWN_* reason (xl's default if unset). */
const char *reg_action(struct json_object *cfg, int reason);
/* The exit statuses of `xenkvm run` whose action is coredump-*, as "2,1"
 * ("" if none) for its --core-dump-on. */
void reg_core_dump_statuses(struct json_object *cfg, char *out, size_t size);
void reg_run_restarts(struct registry *r);
int reg_restart_timeout(struct registry *r);                   /* ms, -1: none */
/* Drops a pending restart of the domain named name: whether there was one. */
bool reg_cancel_restart(struct registry *r, const char *name);
/* Stops d's process now (destroy request, else SIGKILL) and forgets it. */
void reg_destroy(struct registry *r, struct dom *d);

/* registry_ops.c */
struct json_object *reg_handle(struct registry *r, struct json_object *req);
/* A domain process's control socket: request -> reply (NULL + err). */
struct json_object *reg_domctl(struct registry *r, struct dom *d, const char *op,
                               char *err, size_t errlen);
/* The same with a whole request (consumed). */
struct json_object *reg_domctl_req(struct registry *r, struct dom *d, struct json_object *req,
                                   char *err, size_t errlen);

/* registry_defs.c: defined domains and the autostart list */
/* block-attach/-detach, network-attach/-detach, devices (registry_devices.c):
 * the reply, or NULL when op is none of those. */
struct json_object *reg_device_op(struct registry *r, const char *op, struct dom *d,
                                  struct json_object *req);
/* vcpu-set, vcpu-pin, sched, trigger (registry_vcpu.c): the reply, or NULL
 * when op is none of those. */
struct json_object *reg_vcpu_op(struct registry *r, const char *op, struct dom *d,
                                struct json_object *req);
struct json_object *reg_defs_handle(struct registry *r, const char *op, struct json_object *req);
void reg_autostart(struct registry *r);
