/* The two ends of xenkvm migrate (cmd_migrate.c, cmd_migrate_receive.c):
 * xl's handshake messages and the copying of a save-file stream between
 * descriptors (docs/save-restore.md, "Live migration"). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The receiver's banner names xenkvm, not xl: an xl at the other end must
 * refuse the stream, not misread it. The others are xl's and, as in xl, go
 * with their terminating NUL (sizeof). */
#define MIGRATE_BANNER "xenkvm migration receiver ready, send binary domain data.\n"
#define MIGRATE_READY  "domain received, ready to unpause"
#define MIGRATE_GO     "domain is yours, you are cleared to unpause"
#define MIGRATE_REPORT "my copy unpause results are as follows"

/* Exactly n bytes: 0 or -errno (-ECONNRESET: the stream ended). */
int migrate_read(int fd, void *buf, size_t n);
int migrate_write(int fd, const void *buf, size_t n);
/* Reads a fixed message; false, having said what came instead, if it is
 * not that (stream, what: for the message; rune: the command run, or NULL). */
bool migrate_expect(int fd, const char *msg, size_t n, const char *stream, const char *what,
                    const char *rune);
/* Copies one save-file stream (header, records, END) from in to out,
 * reading no further than its END record; *bytes: how many. 0; -1 when in
 * ended or is no stream; -2 when out failed. */
int migrate_copy_stream(int in, int out, uint64_t *bytes);
/* The same after the header: records up to and with END. */
int migrate_copy_records(int in, int out, uint64_t *bytes);
/* Renames domain domid through xenkvmd; false (said) on failure. */
bool migrate_rename(long long domid, const char *name);
