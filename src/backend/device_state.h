/* What a connected vbd or vif keeps outside guest memory, as a save carries
 * it (the DEVICES record, docs/save-restore.md). Written once the backend is
 * drained: every request it took is answered and pushed, no per-request
 * grant is mapped, so the private ring indices equal the shared rsp_prod.
 * A fixed layout: it is part of the save file format. */
#pragma once
#include <stdint.h>

#define DEV_SAVED_QUEUES 4        /* BLK_MAX_QUEUES and NET_MAX_QUEUES */
#define DEV_SAVED_REFS 16         /* BLK_MAX_RING_PAGES */

enum { DEV_SAVED_VBD = 1, DEV_SAVED_VIF = 2 };

/* vif feature bits (the frontend's request-* / feature-* nodes at connect) */
enum {
    DEV_NET_RX_NOTIFY = 1 << 0, DEV_NET_SG = 1 << 1, DEV_NET_GSO4 = 1 << 2,
    DEV_NET_GSO6 = 1 << 3, DEV_NET_CSUM = 1 << 4, DEV_NET_IPV6_CSUM = 1 << 5,
};

struct dev_saved_queue {
    uint32_t port[2];             /* guest ports: vbd [0]; vif tx, rx (equal unless split) */
    uint32_t ring_ref[DEV_SAVED_REFS]; /* vbd: the ring's pages; vif: [0] tx, [1] rx */
    uint32_t req_cons[2];         /* vbd [0]; vif [0] tx, [1] rx */
    uint32_t rsp_prod_pvt[2];
};

struct dev_saved {
    uint32_t type;                /* DEV_SAVED_VBD / DEV_SAVED_VIF */
    uint32_t devid;
    uint32_t nr_queues;
    uint32_t ring_pages;          /* vbd: per queue (1 << ring-page-order); vif: 1 */
    uint32_t abi32;               /* vbd: protocol x86_32-abi */
    uint32_t features;            /* vif: DEV_NET_* */
    struct dev_saved_queue q[DEV_SAVED_QUEUES];
};
_Static_assert(sizeof(struct dev_saved) == 376, "the save file's DEVICES layout");
