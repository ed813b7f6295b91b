/* Diagnostics for host programs: one line each, prefixed with the program name. */
#pragma once
#include <stdarg.h>
#include <stdbool.h>

extern const char *log_prog;   /* "xenkvm", "xenkvmd", ... */
extern int log_verbose;        /* 0 quiet, 1 info, 2 debug */

void log_msg(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...)   log_msg("error", __VA_ARGS__)
#define log_warn(...)  log_msg("warning", __VA_ARGS__)
#define log_info(...)  do { if (log_verbose >= 1) log_msg("info", __VA_ARGS__); } while (0)
#define log_debug(...) do { if (log_verbose >= 2) log_msg("debug", __VA_ARGS__); } while (0)
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
