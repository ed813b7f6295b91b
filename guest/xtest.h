/* What every program sees: boot information and the program entry points. */
#pragma once
#include "xenhdr.h"
#include "lib.h"

extern const struct hvm_start_info *start_info;
extern const char *cmdline;

/* Each program runs its checks, then calls finish() (or shuts down itself). */
typedef void (*program_fn)(int argc, char **argv);

void prog_hello(int argc, char **argv);
void prog_version(int argc, char **argv);
void prog_evtchn(int argc, char **argv);
void prog_timer(int argc, char **argv);
void prog_grant(int argc, char **argv);
void prog_shutdown(int argc, char **argv);
void prog_hostile(int argc, char **argv);
void prog_vmcall(int argc, char **argv);
void prog_smp(int argc, char **argv);
void prog_bench(int argc, char **argv);
void prog_xenstore(int argc, char **argv);
void prog_idle(int argc, char **argv);
void prog_net(int argc, char **argv);
void prog_echo(int argc, char **argv);
void prog_blk(int argc, char **argv);
void prog_callback(int argc, char **argv);
void prog_fifo(int argc, char **argv);
void prog_balloon(int argc, char **argv);
void prog_watchdog(int argc, char **argv);
void prog_tlb(int argc, char **argv);
void prog_evbench(int argc, char **argv);
