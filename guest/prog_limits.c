/* limits: the domain's max_grant_frames and max_event_channels as the guest
 * meets them. Prints "limits: max_nr_frames N" (GNTTABOP_query_size) and,
 * after allocating event channels until the hypervisor refuses,
 * "limits: highest port P, then ERR"; frames beyond the maximum cannot be
 * placed (XENMEM_add_to_physmap -> -EINVAL). */
#include "xtest.h"
#include "events.h"
#include "hypercall.h"
#include "report.h"

static uint8_t frame_page[4096] __attribute__((aligned(4096)));

void prog_limits(int argc, char **argv)
{
    (void)argc, (void)argv;
    struct gnttab_query_size qs = { .dom = DOMID_SELF };
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_query_size, &qs, 1);
    printf("limits: max_nr_frames %u\n", qs.max_nr_frames);
    check(rc == 0 && qs.status == GNTST_okay, "GNTTABOP_query_size", "rc %s", errname(rc));
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table, .idx = qs.max_nr_frames,
        .gpfn = (uintptr_t)frame_page >> 12,
    };
    check_rc("grant frame max_nr_frames cannot be placed -> -EINVAL",
             HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), -XEN_EINVAL);
    /* The ports it took, closed one by one at the end: EVTCHNOP_reset would
     * close the console's port too, and the report go to the hypervisor's log. */
    static evtchn_port_t taken[8192];
    unsigned n = 0;
    evtchn_port_t highest = 0;
    while (n < 8192) {
        rc = evtchn_alloc_unbound(DOMID_SELF, &taken[n]);
        if (rc)
            break;
        if (taken[n] > highest)
            highest = taken[n];
        n++;
    }
    printf("limits: highest port %u, then %s\n", highest, errname(rc));
    check_rc("allocation ends with -ENOSPC", rc, -XEN_ENOSPC);
    long close_rc = 0;
    for (unsigned i = 0; i < n && !close_rc; i++) {
        struct evtchn_close c = { .port = taken[i] };
        close_rc = HYPERVISOR_event_channel_op(EVTCHNOP_close, &c);
    }
    check_rc("EVTCHNOP_close of every port taken", close_rc, 0);
}
