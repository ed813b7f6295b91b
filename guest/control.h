/* What the long-running programs (idle, echo) share: sleeping on VIRQ_TIMER
 * and acting on control/shutdown as a PV guest's xenbus driver does. */
#pragma once
#include "lib.h"

/* Binds VIRQ_TIMER and watches control/shutdown. Returns whether xenstore
 * is there (without it, control_shutdown_request never asks to stop). -1
 * when the timer cannot be bound. */
int control_init(void);
/* Sleeps ms, or less once *wake differs from its value at the call (NULL:
 * the whole time). */
void control_sleep_ms(unsigned ms, volatile uint32_t *wake);
/* A control/shutdown request, if one is there: its SHUTDOWN_* reason
 * (printed as "WHO: control/shutdown = VALUE"), else -1. */
int control_shutdown_request(const char *who);
