/* The host's figures, for `info`, and the Domain-0 lines of list/uptime/
 * vcpu-list/top (the host plays dom0). */
#pragma once
#include <stdint.h>
#include <json-c/json.h>

struct hostinfo {
    unsigned nr_cpus, max_cpu_id, nr_nodes, cores_per_socket, threads_per_core;
    unsigned cpu_khz;
    uint64_t total_kib, free_kib;
    double uptime_s;
    double cpu_time_s;         /* busy time of all CPUs since boot */
};

void hostinfo_get(struct hostinfo *h);
/* Busy seconds of one CPU (from /proc/stat), -1 if unknown. */
double hostinfo_cpu_time(unsigned cpu);
/* Xen's 8 feature words, from CPUID. */
void hostinfo_hw_caps(uint32_t caps[8]);
/* `xl info`'s keys and values (strings), in xl's order. */
struct json_object *hostinfo_xl_info(void);
