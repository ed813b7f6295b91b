#include "common/file.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens path as a regular file of at most max bytes; returns the fd, or -errno. */
static int open_regular(const char *path, size_t max, size_t *size, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
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
    size_t size;
    int fd = open_regular(path, max, &size, err, errlen);
    if (fd < 0)
        return fd;
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
    size_t size;
    int fd = open_regular(path, max, &size, err, errlen);
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
