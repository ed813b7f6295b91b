/* The domain process: `xenkvm run` boots one domain in this process and serves
 * it until it ends (its console, xenstore relay, devices, control socket). */
#pragma once
#include <time.h>

/* argv[0] is "run"; process_start is when the process began (start-up
 * figures are measured from it). Returns the exit status (see run --help). */
int vmm_run(int argc, char **argv, const struct timespec *process_start);
