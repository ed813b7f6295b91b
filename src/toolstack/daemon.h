/* Starting xenkvmd as the toolstack does when it is not running. */
#pragma once
#include <stddef.h>

/* Runs xenkvmd with its sockets in ts_rundir() and its log in ts_logdir();
 * returns once they listen (0), or -1 with the reason in err. */
int ts_start_daemon(char *err, size_t errlen);
