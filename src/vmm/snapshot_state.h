/* The payloads of the save file's Xen records (docs/save-restore.md), and the
 * two ends that write and read them. */
#pragma once
#include "vmm/snapshot_file.h"
#include "kvm/vcpu_state.h"
#include <xen/hvm/params.h>

struct domain;
struct vcpu_ctl;

struct snap_domain {
    uint32_t nr_vcpus;
    uint32_t domid;                  /* the saved domain's id (a restore gets a new one) */
    uint64_t memory_mib, ram_size;
    uint8_t uuid[16];
    uint64_t tsc0;                   /* guest TSC at system time 0 */
    uint32_t tsc_mul;
    int32_t tsc_shift;
    uint32_t tsc_khz;
    uint32_t callback_vector;        /* HVM_PARAM_CALLBACK_IRQ type vector, 0 = none */
    uint64_t guest_tsc;              /* the guest TSC when the vCPUs stopped */
    uint64_t system_time;            /* Xen system time then (ns) */
    uint64_t shinfo_gfn;             /* ~0: shared_info not mapped */
    uint64_t unmapped_pages;
    uint64_t watchdog_ns[2];         /* SCHEDOP_watchdog time left; 0 = unused */
    uint32_t nr_e820, pad;
    struct { uint64_t addr, size; uint32_t type, pad; } e820[8];
    uint64_t params[HVM_NR_PARAMS];
};

struct snap_vcpu {                   /* followed by xsave_size bytes of XSAVE area */
    uint32_t id;
    uint8_t up, initialised, upcall_vector, lvt0_borrowed;
    uint32_t lvt0_saved;
    uint32_t xsave_size;
    uint64_t vi_gpa;                 /* ~0: vcpu_info in shared_info */
    uint64_t timer_deadline;         /* singleshot, system time ns; 0 = none */
    uint64_t periodic_ns;
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_lapic_state lapic;
    struct kvm_mp_state mp;
    struct kvm_vcpu_events events;
    struct kvm_debugregs debug;
    struct kvm_xcrs xcrs;
    uint32_t nmsrs, pad;
    struct kvm_msr_entry msrs[VCPU_STATE_MAX_MSRS];
};

struct snap_evtchn_hdr {             /* followed by nr_ports snap_port, nr_host
                                      * snap_host_port, the virq table, then with
                                      * fifo a struct evtchn_fifo_saved */
    uint32_t nr_ports;
    uint32_t nr_host;
    uint32_t fifo;                   /* 1: FIFO ABI in use */
    uint32_t pad;
};

struct snap_port {
    uint32_t port;
    uint8_t state, priority, last_priority, last_vcpu;
    uint8_t fifo_pending, pad[3];
    uint32_t notify_vcpu;
    uint32_t a;                      /* remote_dom / remote_port / virq */
    int32_t b;                       /* host_port (interdomain), else 0 */
};

struct snap_host_port {
    uint32_t host_port, guest_port;
};

struct snap_ram {                    /* followed by count u64 gfns, then one zstd frame */
    uint32_t count;                  /* pages */
    uint32_t pad;
};

/* The drained devices a save carries (snapshot_devices.h): their state, and
 * the domain id the guest sees in xenstore paths; data: the DEV_DATA
 * record (packets a vif had not delivered yet), NULL when empty. */
struct dev_saved;
struct snap_devs {
    const struct dev_saved *devs;
    unsigned n;
    unsigned visible_domid;
    const uint8_t *data;
    size_t data_len;
};

/* Save: the domain's state into path (vCPUs quiesced by the caller, devices
 * drained). config: the domain config as JSON text; xenstore: the XENSTORE
 * record (snapshot_xenstore.h), or NULL; devs: NULL without devices; vcpus:
 * availability and affinity (NULL: not recorded). 0, or -1 with err. */
int snapshot_save(struct domain *d, const char *path, const char *config,
                  const void *xenstore, size_t xenstore_len, const struct snap_devs *devs,
                  const struct vcpu_ctl *vcpus, char *err, size_t errlen);

/* The pieces of a save, also a migration's stream (migrate_send.c).
 * snapshot_check refuses what cannot be carried, before anything stops
 * (with devices, the grants they map are checked after their drain, by
 * snapshot_put_state). snapshot_put_state: XENSTORE (if given), DOMAIN,
 * DEVICES (with devices, or a guest that sees another domain id), VCPU,
 * VCPU_SCHED, EVTCHN, GNTTAB and PAGES, with the vCPUs quiesced and devices
 * drained. snapshot_put_ram: RAM records, of every present frame that
 * is not all zeros (dirty NULL) or of the frames set in dirty (one bitmap per
 * RAM region, vm_dirty_log_collect's), and with absent_list the frames the
 * guest handed back; the pages sent, or -1 with err. */
int snapshot_check(struct domain *d, bool devices, char *err, size_t errlen);
int snapshot_put_state(struct snap_writer *w, struct domain *d, uint64_t guest_tsc,
                       const void *xenstore, size_t xenstore_len, const struct snap_devs *devs,
                       const struct vcpu_ctl *vcpus, char *err, size_t errlen);
int64_t snapshot_put_ram(struct snap_writer *w, struct domain *d, uint64_t *const *dirty,
                         bool absent_list, char *err, size_t errlen);

/* Restore, in two steps around the creation of the console and xenstore
 * ring backends: snapshot_restore_open reads and checks the file and loads
 * RAM and the vCPUs' TSC; snapshot_restore_apply puts back the Xen and vCPU
 * state once the host ports exist. -1 with err names the file and what is
 * wrong. */
struct snapshot_restore;
struct snapshot_restore *snapshot_restore_open(struct domain *d, const char *path,
                                               char *err, size_t errlen);
int snapshot_restore_apply(struct snapshot_restore *s, char *err, size_t errlen);
/* The guest's xenstore records (NULL: none) for the xenstore step. */
const void *snapshot_restore_xenstore(struct snapshot_restore *s, uint64_t *len);
/* The DEVICES record's devices and the id the guest sees in paths (the
 * saved domain's id when the file has no such record). */
const struct dev_saved *snapshot_restore_devices(struct snapshot_restore *s, unsigned *n,
                                                 unsigned *visible_domid);
/* The DEV_DATA record (NULL: none). */
const void *snapshot_restore_device_data(struct snapshot_restore *s, uint64_t *len);
uint32_t snapshot_restore_old_domid(struct snapshot_restore *s);
/* The saved vCPUs' availability and affinity into c (a file without a
 * VCPU_SCHED record leaves the config's). */
void snapshot_restore_vcpu_ctl(struct snapshot_restore *s, struct vcpu_ctl *c);
void snapshot_restore_free(struct snapshot_restore *s);
