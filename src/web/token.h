/* The web server's access token: a root-only file (0600, owned by the
 * server's user), made with 256 random bits when it does not exist. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define TOKEN_MAX 128

/* Reads the token from path, creating the file first if it is absent. A file
 * that others may read or write, that another user owns or that is not a
 * regular file is refused. 0, or -1 with err filled in. */
int token_load(const char *path, char token[TOKEN_MAX + 1], char *err, size_t errlen);
/* Whether a candidate equals the token, in time independent of where they
 * differ. */
bool token_equal(const char *token, const char *candidate, size_t len);
/* n random bytes as 2n hex digits (buf: 2n + 1). 0 or -1. */
int token_random_hex(char *buf, size_t n);
