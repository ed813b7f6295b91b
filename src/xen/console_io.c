/* __HYPERVISOR_console_io: Xen's own console. A release Xen gives it to the
 * console domain only; xenkvm gives it to every guest, as a debug Xen does,
 * because early-boot kernels and test guests print through it. */
#include "xen/domain.h"
#include <errno.h>
#include <xen/xen.h>

#define CONIO_CHUNK 1024

long do_console_io(struct hcall *h)
{
    struct domain *d = h->d;
    uint64_t count = (uint32_t)h->arg[1], va = h->arg[2];   /* Xen's count is an unsigned int */
    uint8_t buf[CONIO_CHUNK];
    switch (h->arg[0]) {
    case CONSOLEIO_write:
        /* Into Xen's log (guest_log.c), not the PV console; read in Xen's
         * steps, each ending at a newline. */
        for (uint64_t done = 0; done < count; ) {
            size_t n = count - done < GUEST_LOG_CHUNK - 1 ? count - done : GUEST_LOG_CHUNK - 1;
            if (guest_copy_from(&h->va, buf, va + done, n))
                return -EFAULT;
            done += guest_log_chunk(d, buf, n);
        }
        return 0;
    case CONSOLEIO_read: {
        if (count > INT32_MAX)
            return -E2BIG;
        size_t want = count < CONIO_CHUNK ? count : CONIO_CHUNK;
        pthread_mutex_lock(&d->lock);
        size_t n = d->conio_read ? d->conio_read(d->conio, buf, want) : 0;
        pthread_mutex_unlock(&d->lock);
        if (n && guest_copy_to(&h->va, va, buf, n))
            return -EFAULT;
        return n;
    }
    default:
        return -ENOSYS;
    }
}
