/* One disk image served by Debian's qemu-storage-daemon (qemu-system-common):
 * QEMU's block layer opens the image in its format (qcow2, vhd, ...) and
 * exports it over NBD on a unix socket that only this process reaches.
 *
 * The daemon is this process's child, or, once the domain process has
 * confined itself, the spawn helper's (backend/spawner.h): it gets SIGTERM (a
 * clean close of the image) when the thread that started it ends
 * (PR_SET_PDEATHSIG; the helper dies with the domain process), so a domain
 * process that dies, even by SIGKILL, takes its storage daemons with it; and
 * sd_stop ends it when the disk goes. The listening socket is made here and
 * handed over as a file descriptor; the clients are connected before its path
 * is removed, so no other process can ever connect, and nothing is left in the
 * file system. Set XENKVM_STORAGE_DAEMON to run another binary. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct storage_daemon;

struct sd_image {
    const char *path;
    const char *driver;          /* QEMU block driver: qcow2, vpc, qcow, qed, vmdk, raw */
    bool readonly;
};

#define SD_EXPORT_NAME "disk"

/* Starts the daemon and connects nconn clients to its export (their
 * descriptors in fds: connected unix sockets, the NBD handshake is the
 * caller's). The daemon opens the image only after this returns: a failure
 * shows as the connections closing, and sd_error() then says why. NULL with
 * err set when it cannot be started at all. */
struct storage_daemon *sd_start(const struct sd_image *img, int *fds, unsigned nconn, char *err,
                                size_t errlen);
pid_t sd_pid(const struct storage_daemon *sd);
/* Whether it has ended (reaped here; *how says how: "exit status 1", "signal 9"). */
bool sd_exited(struct storage_daemon *sd, char *how, size_t howlen);
/* What it said on stderr, one line, with QEMU's "qemu-storage-daemon:
 * --blockdev {...}: " prefixes taken off; "" if nothing. */
void sd_error(struct storage_daemon *sd, char *buf, size_t len);
/* Ends it (SIGTERM: QEMU flushes and closes the image; SIGKILL after 10 s),
 * logs how it ended if not by our SIGTERM (unless quiet: the caller has
 * reported it already), and frees sd. NULL is a no-op. */
void sd_stop(struct storage_daemon *sd, bool quiet);
