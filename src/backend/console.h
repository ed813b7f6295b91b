/* The PV console backend (xencons ring + event channel) and the console_io
 * hypercall's input. Output goes to out_fd (and the log file if any);
 * input comes from in_fd. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct domain;
struct console;

struct console *console_create(struct domain *d, void *ring_page, int in_fd, int out_fd);
void console_destroy(struct console *c);
/* The guest port of the ring's event channel (for HVM_PARAM_CONSOLE_EVTCHN). */
int console_port(struct console *c);
/* console_io CONSOLEIO_read (its writes go to Xen's log: xen/guest_log.c). */
size_t console_read(struct console *c, void *buf, size_t max);
