/* A helper process that starts programs for the domain process.
 *
 * The domain process confines itself after set-up (src/vmm/confine.c): its
 * seccomp filter refuses fork and execve, and a filter outlives execve, so a
 * program it started itself would run under it. Disks in image formats need
 * a qemu-storage-daemon each, also when hot-plugged long after set-up; so
 * before confining itself the domain process forks this helper, which stays
 * unconfined, single-threaded and small: it reads spawn requests from a
 * socket pair, forks and execs, hands back a pidfd, and reaps its children.
 * It dies with the domain process (PR_SET_PDEATHSIG, and end of file on the
 * socket); its children get SIGTERM when it dies. */
#pragma once
#include <stddef.h>
#include <sys/types.h>

/* Forks the helper. Call while the process is still single-threaded. 0 or
 * -errno. Without it, spawner_spawn is not available (callers fork). */
int spawner_start(void);
/* Whether the helper runs. */
int spawner_active(void);
/* Runs prog (absolute path) with argv; fds[i] becomes the child's fd i
 * (nfds <= 8), everything else closed; the child gets SIGTERM when the
 * helper dies and sits in its own process group (a terminal's ^C is not
 * its business). *pidfd: a pidfd for it (poll it for the exit, signal it
 * with pidfd_send_signal). 0 or -errno (err says why). */
int spawner_spawn(const char *prog, char *const argv[], const int *fds, unsigned nfds,
                  pid_t *pid, int *pidfd, char *err, size_t errlen);
/* In a child between fork and exec (async-signal-safe): signals unblocked
 * and at their defaults, its own process group, SIGTERM when parent dies
 * (_exit(126) if it is gone already). */
void spawn_child_prepare(pid_t parent);
/* Reaps a child the helper started; call once its pidfd is readable (it
 * blocks until the child ends). *status as waitpid's. 0 or -errno. */
int spawner_wait(pid_t pid, int *status);
