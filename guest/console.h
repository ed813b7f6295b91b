/* Output: the PV console ring once console_use_ring() found it, else
 * HYPERVISOR_console_io (the hypervisor's log). */
#pragma once
#include "lib.h"
#include "xenhdr.h"

void console_write(const char *buf, size_t len);
/* From now on print through the PV console ring, if there is one. */
void console_use_ring(void);
/* Masks the ring's event channel (once shared_info is mapped). */
void console_mask_port(void);

/* Looks up the PV console ring page and event channel (HVM params). Returns 0,
 * or the failing hypercall's error. */
long console_ring_init(void);
/* Writes to the PV console ring and notifies; returns bytes written or < 0. */
long console_ring_write(const char *buf, size_t len);
/* The ring's event channel (after console_ring_init). */
evtchn_port_t console_ring_port(void);
/* Takes up to max bytes of console input from the ring (0 when none). */
size_t console_ring_read(char *buf, size_t max);
