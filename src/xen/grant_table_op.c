/* __HYPERVISOR_grant_table_op: copy the argument in, run the op, copy it out. */
#include "xen/domain.h"
#include <errno.h>

long do_grant_table_op(struct hcall *h)
{
    unsigned cmd = h->arg[0];
    unsigned count = h->arg[2];
    unsigned size = gnttab_op_size(cmd);
    if (!size)
        return -ENOSYS;
    union {
        uint8_t raw[64];
        struct gnttab_setup_table setup;
    } arg;
    if ((int)count < 0)
        return -EINVAL;
    if (cmd == GNTTABOP_copy) {
        /* An array: each element copied in, done and its status copied out. */
        for (unsigned i = 0; i < count; i++) {
            struct gnttab_copy c;
            uint64_t va = h->arg[1] + (uint64_t)i * sizeof(c);
            if (guest_copy_from(&h->va, &c, va, sizeof(c)))
                return -EFAULT;
            pthread_mutex_lock(&h->d->lock);
            gnttab_copy_one(&h->d->gt, &c);
            pthread_mutex_unlock(&h->d->lock);
            if (guest_copy_to(&h->va, va, &c, sizeof(c)))
                return -EFAULT;
        }
        return 0;
    }
    if (count != 1 && cmd != GNTTABOP_set_version && cmd != GNTTABOP_get_version)
        return -EINVAL;     /* setup_table and query_size take exactly one */
    if (guest_copy_from(&h->va, &arg, h->arg[1], size))
        return -EFAULT;
    pthread_mutex_lock(&h->d->lock);
    long rc = gnttab_op(&h->d->gt, cmd, &arg, count);
    pthread_mutex_unlock(&h->d->lock);
    if (rc == 0 && cmd == GNTTABOP_setup_table && arg.setup.status == GNTST_okay) {
        for (unsigned i = 0; i < arg.setup.nr_frames; i++) {
            xen_pfn_t gfn = gnttab_frame_gfn(&h->d->gt, i);
            if (guest_copy_to(&h->va, GUEST_ADDR(arg.setup.frame_list) + i * sizeof(gfn), &gfn, sizeof(gfn))) {
                arg.setup.status = GNTST_bad_virt_addr;
                break;
            }
        }
    }
    /* set_version reports the version in force even when it fails. */
    if ((rc == 0 || cmd == GNTTABOP_set_version) && guest_copy_to(&h->va, h->arg[1], &arg, size))
        return -EFAULT;
    return rc;
}
