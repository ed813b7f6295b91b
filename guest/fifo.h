/* The guest side of FIFO event channels, as Linux's events_fifo.c does it: a
 * control block per vCPU, event array pages with every word masked, and an
 * upcall that walks the queues highest priority first. */
#pragma once
#include "xenhdr.h"
#include "lib.h"

extern bool fifo_active;
extern uint8_t fifo_link_bits;    /* what init_control answered */

/* Event word of port, or NULL beyond the array. */
volatile event_word_t *fifo_word(evtchn_port_t port);
/* EVTCHNOP_init_control for the calling vCPU and the first array page:
 * returns 0 (FIFO in use from then on) or the first error. */
long fifo_init(void);
/* Adds an event array page (all words masked): 0 or the error. */
long fifo_expand(void);
/* Ports the event array covers. */
unsigned fifo_nr_ports(void);
/* After EVTCHNOP_reset: back to 2-level on the guest side too. */
void fifo_forget(void);

bool fifo_test_pending(evtchn_port_t port);
bool fifo_test_masked(evtchn_port_t port);
void fifo_mask(evtchn_port_t port);
void fifo_clear_pending(evtchn_port_t port);
/* Clears MASKED in the word if the port is not pending, else asks Xen
 * (EVTCHNOP_unmask) so that it is linked: Linux's evtchn_fifo_unmask. */
long fifo_unmask(evtchn_port_t port);

/* The upcall's work on the calling vCPU: each ready queue, highest priority
 * first, one event at a time, dispatching pending unmasked ports. */
void fifo_scan(void (*dispatch)(evtchn_port_t port));
