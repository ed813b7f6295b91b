/* The domain process: `xenkvm run` boots one domain in this process and serves
 * it until it ends (its console, xenstore relay, devices, control socket). */
#pragma once

/* argv[0] is "run". Returns the exit status (see run --help). */
int vmm_run(int argc, char **argv);
