/* __HYPERVISOR_event_channel_op: copy the argument in, run the op, copy out
 * what it returned. */
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
    uint8_t in[sizeof(arg)];
    memcpy(in, &arg, size);
    domain_lock(h->d);
    long rc = evtchn_op(&h->d->ev, cmd, &arg, h->xv->id);
    domain_unlock(h->d);
    /* As Xen, nothing goes back from an op that returns nothing (send,
     * unmask, close: the common ones): an argument left unchanged is not
     * written again. */
    if (rc == 0 && memcmp(in, &arg, size) && guest_copy_to(&h->va, h->arg[1], &arg, size))
        return -EFAULT;
    return rc;
}
