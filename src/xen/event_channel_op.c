/* __HYPERVISOR_event_channel_op: copy the argument in, run the op, copy it out. */
#include "xen/domain.h"
#include <errno.h>
#include <string.h>

long do_event_channel_op(struct hcall *h)
{
    unsigned cmd = h->arg[0];
    unsigned size = evtchn_op_size(cmd);
    if (!size)
        return -ENOSYS;
    union {
        uint8_t raw[64];
        struct evtchn_status status;
    } arg;
    _Static_assert(sizeof(struct evtchn_status) <= 64, "argument buffer too small");
    if (guest_copy_from(&h->va, &arg, h->arg[1], size))
        return -EFAULT;
    pthread_mutex_lock(&h->d->lock);
    long rc = evtchn_op(&h->d->ev, cmd, &arg, h->xv->id);
    pthread_mutex_unlock(&h->d->lock);
    if (rc == 0 && guest_copy_to(&h->va, h->arg[1], &arg, size))
        return -EFAULT;
    return rc;
}
