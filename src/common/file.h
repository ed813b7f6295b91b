#pragma once
#include <stddef.h>
#include <stdint.h>

/* Reads a whole regular file or pipe (at most max bytes). Returns 0, or -errno with
 * err filled in ("PATH: reason"). */
int file_read_all(const char *path, size_t max, uint8_t **data, size_t *len,
                  char *err, size_t errlen);

/* Maps a whole regular file (at most max bytes) read-only, its pages mapped at
 * once (no fault per page on first touch). Returns 0, or -errno with err
 * filled in; file_unmap releases it. An empty file maps to a non-NULL pointer
 * with *len 0. */
int file_map(const char *path, size_t max, const uint8_t **data, size_t *len,
             char *err, size_t errlen);
void file_unmap(const uint8_t *data, size_t len);
