/* The access token file. */
#include "web/token.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_MIN 16

int token_random_hex(char *buf, size_t n)
{
    unsigned char raw[64];
    if (n > sizeof(raw) || getrandom(raw, n, 0) != (ssize_t)n)
        return -1;
    for (size_t i = 0; i < n; i++)
        sprintf(buf + 2 * i, "%02x", raw[i]);
    return 0;
}

static int create(const char *path, char *err, size_t errlen)
{
    char hex[65];
    if (token_random_hex(hex, 32) < 0) {
        snprintf(err, errlen, "%s: no random bytes: %s", path, strerror(errno));
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return 0;     /* made meanwhile: read it */
        snprintf(err, errlen, "%s: cannot create the token file: %s", path, strerror(errno));
        return -1;
    }
    hex[64] = '\n';
    bool ok = write(fd, hex, 65) == 65 && fsync(fd) == 0;
    close(fd);
    if (!ok) {
        snprintf(err, errlen, "%s: cannot write the token: %s", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

int token_load(const char *path, char token[TOKEN_MAX + 1], char *err, size_t errlen)
{
    if (access(path, F_OK) < 0 && errno == ENOENT && create(path, err, errlen) < 0)
        return -1;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    const char *why = !S_ISREG(st.st_mode) ? "not a regular file"
                      : st.st_uid != geteuid() ? "owned by another user"
                      : st.st_mode & 077 ? "readable or writable by others" : NULL;
    if (why) {
        snprintf(err, errlen, "%s: the token file is %s (mode %04o, uid %u): it must be the "
                 "server user's, mode 0600 (chmod 600 %s)", path, why,
                 (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, path);
        close(fd);
        return -1;
    }
    char buf[TOKEN_MAX + 2];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        n--;
    buf[n] = '\0';
    size_t len = 0;
    while (len < (size_t)n && isgraph((unsigned char)buf[len]))
        len++;
    if (len != (size_t)n || len < TOKEN_MIN || len > TOKEN_MAX) {
        snprintf(err, errlen, "%s: the token must be %d to %d printable characters on one line",
                 path, TOKEN_MIN, TOKEN_MAX);
        return -1;
    }
    memcpy(token, buf, len + 1);
    return 0;
}

bool token_equal(const char *token, const char *candidate, size_t len)
{
    size_t tlen = strlen(token);
    unsigned char diff = tlen != len;
    for (size_t i = 0; i < tlen; i++)
        diff |= (unsigned char)token[i] ^ (unsigned char)(i < len ? candidate[i] : 0);
    return diff == 0;
}
