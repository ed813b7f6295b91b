/* A balloon driver as Linux's xen-balloon: frames from the top of RAM handed
 * back to Xen (XENMEM_decrease_reservation) or taken back
 * (XENMEM_populate_physmap) to follow a target. */
#pragma once
#include "xenhdr.h"
#include "lib.h"

/* Finds the pool (the top of the highest RAM range below 4 GiB, above the
 * image): 0, or -1 if there is none. */
int balloon_init(void);
/* Frame i of the pool, counting down from the top. */
xen_pfn_t balloon_gfn(unsigned long i);
unsigned long balloon_pool_pages(void);
/* Frames handed back now. */
unsigned long balloon_out(void);
/* Hands back or takes back frames until `pages` are out (within the pool);
 * returns how many are out afterwards. */
unsigned long balloon_set_out(unsigned long pages);
/* One reservation call on nr single frames: the hypercall's result. */
long balloon_op(unsigned op, const xen_pfn_t *gfns, unsigned nr, unsigned order, domid_t dom);
