/* Output: HYPERVISOR_console_io (always) and the PV console ring (optional). */
#pragma once
#include "lib.h"

void console_write(const char *buf, size_t len);

/* Looks up the PV console ring page and event channel (HVM params). Returns 0,
 * or the failing hypercall's error. */
long console_ring_init(void);
/* Writes to the PV console ring and notifies; returns bytes written or < 0. */
long console_ring_write(const char *buf, size_t len);
