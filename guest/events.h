/* shared_info mapping and 2-level event channel delivery through the per-vCPU
 * upcall vector (HVMOP_set_evtchn_upcall_vector). */
#pragma once
#include "xenhdr.h"
#include "lib.h"

#define NR_EVTCHN (sizeof(xen_ulong_t) * 8 * sizeof(xen_ulong_t) * 8)

extern struct shared_info *shared;

typedef void (*evtchn_handler_t)(evtchn_port_t port, void *arg);

/* Per-port delivery record, updated by the upcall handler. */
struct evtchn_stat {
    volatile uint32_t hits;
    volatile int cpu;          /* vCPU that handled the last delivery */
};
extern struct evtchn_stat evtchn_stat[NR_EVTCHN];
/* Upcalls taken per vCPU: through its own vector, through the global callback. */
extern volatile uint32_t upcall_count[], callback_count[];

/* Maps shared_info (XENMEM_add_to_physmap); returns 0 or the error. */
long shared_info_map(void);
/* Installs the upcall vector for the calling vCPU and enables its APIC; returns
 * 0 or the error of HVMOP_set_evtchn_upcall_vector. */
long events_init_cpu(void);

/* Event delivery through the global callback vector (HVM_PARAM_CALLBACK_IRQ
 * type vector) instead, leaving the LAPIC alone; returns set_param's result. */
long events_init_callback(uint8_t vector);

void evtchn_set_handler(evtchn_port_t port, evtchn_handler_t fn, void *arg);

bool evtchn_test_pending(evtchn_port_t port);
bool evtchn_test_masked(evtchn_port_t port);
void evtchn_mask(evtchn_port_t port);
void evtchn_clear_pending(evtchn_port_t port);

/* Hypercall helpers: each returns the hypercall result (port via *port). */
long evtchn_send(evtchn_port_t port);
long evtchn_close(evtchn_port_t port);
long evtchn_unmask(evtchn_port_t port);
long evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port);
long evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port);
long evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port);
long evtchn_bind_interdomain(domid_t rdom, evtchn_port_t rport, evtchn_port_t *port);
long evtchn_status(evtchn_port_t port, struct evtchn_status *st);

/* Spins (interrupts on) until *counter >= target or timeout; true if reached. */
bool wait_count(volatile uint32_t *counter, uint32_t target, uint64_t timeout_ns);
