/* The domain process confines itself once its domain is set up, as
 * Firecracker does: a seccomp filter allows only the system calls it needs
 * from then on, and it drops the capabilities it no longer needs.
 *
 * What stays allowed: KVM's ioctls; file, socket (unix; inet for interface
 * ioctls only), epoll, timer, event and io_uring calls; memory and thread
 * calls (clone only for threads); signals to its own threads; the ioctls of
 * tap devices, interfaces, bridges and block devices. What is refused (EPERM):
 * everything else, among it fork, execve, ptrace, mount, module and kexec
 * calls, bpf, raw and netlink sockets, any other ioctl (terminal injection
 * with TIOCSTI included). Programs it must start later (a qemu-storage-daemon
 * for a hot-plugged image) are started by the spawn helper
 * (backend/spawner.h), forked before. Capabilities kept: CAP_NET_ADMIN (tap
 * devices for hot-plugged NICs), CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
 * (images of other owners, as root opens them); the bounding and ambient
 * sets are emptied of the rest, and no_new_privs is set.
 *
 * A sanitizer build (the tests') also lets LeakSanitizer's check at exit do
 * its work: clone with CLONE_VM (its tracer) and ptrace. */
#pragma once
#include <stddef.h>

/* Installs the filter on every thread of the process and drops the
 * capabilities. 0, or -1 with err set. */
int vmm_confine(char *err, size_t errlen);
