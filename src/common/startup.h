/* Start-up measurement (XENKVM_REPORT_STARTUP): the time from the process's
 * start to the first guest instruction, with marks along the way, reported
 * on stderr once. XENKVM_REPORT_STARTUP=1 counts from main(); a number of
 * nanoseconds on CLOCK_MONOTONIC counts from that instant (bench/exec-at
 * sets it just before exec, so that exec and the dynamic loader count too). */
#pragma once
#include <stdbool.h>

/* Reads the environment; call first thing in main(). */
void startup_init(void);
/* Notes that `what` (a string literal) is done. */
void startup_mark(const char *what);
/* "startup: first guest instruction N us after process start (main +a, ...);
 * cpu M us" (M: the process's CPU time so far, all threads). */
void startup_report(void);
