/* FIFO event channels (Xen's xen/common/event_fifo.c ABI): the parts evtchn.c
 * calls once a domain has switched from 2-level. Caller holds the domain lock. */
#pragma once
#include "xen/evtchn.h"

/* Raises the upcall on vcpu: evtchn_upcall_pending 0 -> 1 kicks it (evtchn.c). */
void evtchn_mark_upcall(struct evtchn_domain *e, unsigned vcpu);
/* The port's 2-level pending bit in shared_info (evtchn.c). */
bool evtchn_2l_pending(struct evtchn_domain *e, evtchn_port_t port);

long evtchn_fifo_init_control(struct evtchn_domain *e, struct evtchn_init_control *ic);
long evtchn_fifo_expand_array(struct evtchn_domain *e, const struct evtchn_expand_array *ea);
/* Back to 2-level (EVTCHNOP_reset, or a failed first init_control). */
void evtchn_fifo_destroy(struct evtchn_domain *e);

/* Port operations, as Xen's evtchn_port_ops_fifo. set_pending returns true if
 * the port was not pending before. */
bool evtchn_fifo_set_pending(struct evtchn_domain *e, evtchn_port_t port);
void evtchn_fifo_clear_pending(struct evtchn_domain *e, evtchn_port_t port);
void evtchn_fifo_unmask(struct evtchn_domain *e, evtchn_port_t port);
bool evtchn_fifo_is_pending(struct evtchn_domain *e, evtchn_port_t port);
/* Still LINKED on a queue: the port may not be reused yet. */
bool evtchn_fifo_is_busy(struct evtchn_domain *e, evtchn_port_t port);
