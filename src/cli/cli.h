#pragma once
int cmd_run(int argc, char **argv);
#include <time.h>
extern struct timespec cli_start;   /* when main() began */
