/* blk_env over a real domain: grants through gnttab_host_map, notifications
 * through evtchn_host_notify, each under the domain lock. */
#pragma once
#include "backend/blkif_env.h"
#include "backend/blkif_ring.h"

struct domain;

struct blk_domain_env {
    struct domain *d;
    int host_port[BLK_MAX_QUEUES];   /* per queue, -1 while unbound */
};

/* Fills env to act on de (which must outlive env's use). */
void blk_domain_env_init(struct blk_domain_env *de, struct domain *d, struct blk_env *env);
