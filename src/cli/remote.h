/* Remote control: `xenkvm -c URI COMMAND ...` (or XENKVM_URI) runs the
 * command on the host the URI names, as virsh does with xen+ssh://: over
 * ssh, with the xenkvm CLI of that host (so `info`, `dmesg` and the
 * Domain-0 line describe it). A config file given to create/define is read
 * here and handed over in the command; paths inside it are the remote
 * host's. */
#pragma once
#include <stdbool.h>

/* Whether uri means this host (NULL, "", xen:///, xen:///system,
 * xenkvm:///, xenkvm:///system). */
bool remote_is_local(const char *uri);
/* Runs argv (argv[0]: the command) on the host of uri, through $XENKVM_SSH
 * (default "ssh"). Returns the exit status (only when the exec failed, or
 * the URI or a file is bad: otherwise ssh replaces this process). */
int remote_exec(const char *uri, int argc, char **argv);
