#include "common/file.h"
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A pipe (a here-document, /dev/stdin): read to its end. Closes fd. */
static int read_stream(int fd, const char *path, size_t max, uint8_t **data, size_t *len,
                       char *err, size_t errlen)
{
    size_t got = 0, cap = 4096;
    uint8_t *buf = malloc(cap);
    int e = buf ? 0 : ENOMEM;
    while (!e) {
        if (got == cap) {
            uint8_t *b = cap > max ? NULL : realloc(buf, cap * 2);
            if (!b) {
                e = cap > max ? EFBIG : ENOMEM;
                break;
            }
            buf = b;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            e = errno;
        else if (n == 0)
            break;
        else
            got += n;
    }
    close(fd);
    if (!e && got > max)
        e = EFBIG;
    if (e) {
        free(buf);
        if (e == EFBIG)
            snprintf(err, errlen, "%s: larger than the %zu bytes allowed", path, max);
        else
            snprintf(err, errlen, "%s: read: %s", path, strerror(e));
        return -e;
    }
    *data = buf;
    *len = got;
    return 0;
}

/* Opens path; a regular file must be at most max bytes (*size gets its
 * length). With fifo_ok a pipe is accepted too (*fifo set). Returns the fd, or
 * -errno with err filled in. */
static int open_checked(const char *path, size_t max, bool fifo_ok, size_t *size, bool *fifo,
                        char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    *fifo = fifo_ok && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
    if (*fifo)
        return fd;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return -EINVAL;
    }
    if ((uint64_t)st.st_size > max) {
        snprintf(err, errlen, "%s: %lld bytes is larger than the %zu allowed",
                 path, (long long)st.st_size, max);
        close(fd);
        return -EFBIG;
    }
    *size = (size_t)st.st_size;
    return fd;
}

int file_read_all(const char *path, size_t max, uint8_t **data, size_t *len,
                  char *err, size_t errlen)
{
    size_t size = 0;
    bool fifo;
    int fd = open_checked(path, max, true, &size, &fifo, err, errlen);
    if (fd < 0)
        return fd;
    if (fifo)
        return read_stream(fd, path, max, data, len, err, errlen);
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            snprintf(err, errlen, "%s: read: %s", path, strerror(e));
            free(buf);
            close(fd);
            return -e;
        }
        got += n;
    }
    close(fd);
    *data = buf;
    *len = got;
    return 0;
}

static const uint8_t empty_file[1];

int file_map(const char *path, size_t max, const uint8_t **data, size_t *len,
             char *err, size_t errlen)
{
    size_t size = 0;
    bool fifo;
    int fd = open_checked(path, max, false, &size, &fifo, err, errlen);
    if (fd < 0)
        return fd;
    void *p = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0)
                   : (void *)empty_file;
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "%s: mmap: %s", path, strerror(e));
        return -e;
    }
    *data = p;
    *len = size;
    return 0;
}

void file_unmap(const uint8_t *data, size_t len)
{
    if (data && len)
        munmap((void *)data, len);
}
