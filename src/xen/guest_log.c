/* Xen's own log for a guest's debug output: console_io(CONSOLEIO_write) and
 * writes to port 0xE9 (XEN_HVM_DEBUGCONS_IOPORT). As Xen does for a domU, both
 * share one line buffer per domain; characters other than printable ASCII and
 * tab are dropped, and each complete line goes out as "(dN) text" - here on
 * the domain process's stderr (under xenkvmd that is its log, which `xenkvm
 * dmesg` shows), in one write so that lines of several domains never mix. Not
 * the guest's PV console: a guest that writes both shows each line once in
 * each place, as on Xen. */
#include "xen/domain.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool printable(uint8_t c)
{
    return (c >= 0x20 && c < 0x7f) || c == '\t';
}

/* Caller holds d->glog_lock. */
static void emit(struct domain *d, const char *a, size_t alen, const char *b, size_t blen)
{
    char line[GUEST_LOG_LINE + 32];
    int n = snprintf(line, sizeof(line), "(d%u) ", d->domid);
    memcpy(line + n, a, alen);
    memcpy(line + n + alen, b, blen);
    line[n + alen + blen] = '\n';
    size_t len = n + alen + blen + 1;
    for (size_t off = 0; off < len; ) {
        ssize_t w = write(d->glog_fd, line + off, len - off);
        if (w <= 0)
            break;      /* the log is gone: drop, as a console does */
        off += w;
    }
}

/* Xen's hvm_print_line: one byte written to port 0xE9. */
void guest_log_putc(struct domain *d, uint8_t c)
{
    if (!printable(c) && c != '\n')
        return;
    pthread_mutex_lock(&d->glog_lock);
    if (c != '\n')
        d->glog[d->glog_len++] = c;
    if (c == '\n' || d->glog_len == GUEST_LOG_LINE - 1) {
        emit(d, d->glog, d->glog_len, "", 0);
        d->glog_len = 0;
    }
    pthread_mutex_unlock(&d->glog_lock);
}

size_t guest_log_chunk(struct domain *d, const uint8_t *in, size_t len)
{
    char kbuf[GUEST_LOG_CHUNK];
    size_t i = 0, k = 0;
    bool nl = false;
    while (i < len) {
        uint8_t c = in[i++];
        if (c == '\n') {
            nl = true;
            break;
        }
        if (printable(c))
            kbuf[k++] = c;
    }
    pthread_mutex_lock(&d->glog_lock);
    if (!nl && d->glog_len + k < GUEST_LOG_LINE - 1) {
        memcpy(d->glog + d->glog_len, kbuf, k);   /* wait for the newline */
        d->glog_len += k;
    } else {
        emit(d, d->glog, d->glog_len, kbuf, k);
        d->glog_len = 0;
    }
    pthread_mutex_unlock(&d->glog_lock);
    return i;
}

void guest_log_write(struct domain *d, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        size_t n = guest_log_chunk(d, p, len < GUEST_LOG_CHUNK - 1 ? len : GUEST_LOG_CHUNK - 1);
        p += n;
        len -= n;
    }
}

void guest_log_flush(struct domain *d)
{
    pthread_mutex_lock(&d->glog_lock);
    if (d->glog_len)
        emit(d, d->glog, d->glog_len, "", 0);
    d->glog_len = 0;
    pthread_mutex_unlock(&d->glog_lock);
}
