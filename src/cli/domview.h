/* What the CLI's commands show of a domain, as JSON, for the CLI to print
 * and for xenkvm-web to send: built from one element of the registry's
 * `list` reply (docs/toolstack.md). */
#pragma once
#include <stddef.h>
#include <json-c/json.h>

/* `xl list -l`'s element: {"domid", "config": {"c_info", "b_info", "disks",
 * "nics", "on_*"}, "xenkvm": {pid, state, start_time, cpu_time_ns, stats}}. */
struct json_object *domview_long(struct json_object *d);
/* `top`'s counters: name, domid, state, cpu_time_ns, mem_kib, maxmem_kib,
 * vcpus, nets, net_tx_bytes, net_rx_bytes, vbds, vbd_oo, vbd_rd, vbd_wr,
 * vbd_rsect, vbd_wsect. A domain without a process (shut down) counts its
 * config's devices. */
struct json_object *domview_top(struct json_object *d);
/* xl's memory sizes: a number with an optional t/g/m/k/b suffix, MiB without
 * one. KiB, or -1 with the CLI's message for cmd in err. */
long long domview_mem_kib(const char *cmd, const char *size, char *err, size_t errlen);
