/* xenstored's event loop: the store served on a listening unix socket and its
 * connections (epoll; SIGTERM/SIGINT through a signalfd). */
#pragma once
#include <signal.h>
#include "xenstore/client.h"   /* XS_DEFAULT_SOCKET */
#include "xenstore/quota.h"

/* Creates the socket (mode 0600; its directory 0700 if missing), then writes
 * one byte to ready_fd (if >= 0) and serves until SIGTERM/SIGINT.
 * Returns a process exit status. */
int xs_daemon_run(const char *socket_path, const struct xs_quota *q, int ready_fd);
/* Blocks SIGTERM and SIGINT in the calling thread (the main loop takes them
 * through a signalfd; other threads must not), ignores SIGPIPE; mask gets the set. */
void xs_daemon_block_signals(sigset_t *mask);
