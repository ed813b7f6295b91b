/* A Xen domain on a KVM VM: the hypervisor state xenkvm keeps for one guest. */
#pragma once
#include "kvm/vm.h"
#include "kvm/guest_va.h"
#include "boot/layout.h"
#include "xen/evtchn.h"
#include "xen/gnttab.h"
#include "xen/pit.h"
#include "xen/stats.h"
#include <xen/xen.h>
#include <xen/hvm/params.h>
#include <xen/hvm/hvm_vcpu.h>
#include <xen/vcpu.h>

#define XEN_MAJOR 4
#define XEN_MINOR 17
#define XEN_CPUID_BASE 0x40000000u
#define XEN_HYPERCALL_MSR 0x40000000u

/* Special pages the toolstack provides, just below the 4 GiB hole's top, as
 * Xen's HVM special-page region does. */
#define SPECIAL_PAGES_BASE 0xfeff0000ull
#define SPECIAL_CONSOLE    0
#define SPECIAL_XENSTORE   1
#define SPECIAL_ACPI       2    /* RSDP and ACPI tables: 2 pages */
#define SPECIAL_NR_PAGES   4

#define E820_MAX 1024     /* Xen's E820MAX: the most entries a guest may set */
#define E820_RAM 1
#define E820_RESERVED 2
/* The memory map entry of XENMEM_memory_map: Xen's ABI is the BIOS e820
 * record, which the public headers do not define. */
struct e820entry {
    uint64_t addr, size;
    uint32_t type;
} __attribute__((packed));

/* A guest handle's address as the integer guest_copy_* take. */
#define GUEST_ADDR(h) ((uint64_t)(uintptr_t)(h).p)

/* Exit statuses of `xenkvm run`, one per shutdown reason. */
enum {
    EXIT_POWEROFF = 0, EXIT_ERROR = 1, EXIT_CRASH = 2, EXIT_REBOOT = 3,
    EXIT_SUSPEND = 4, EXIT_WATCHDOG = 5, EXIT_SOFT_RESET = 6,
};

struct domain;

/* Xen's per-domain debug line buffer (DOMAIN_PBUF_SIZE) and console_io's
 * copy-in chunk (its kbuf). */
#define GUEST_LOG_LINE 200
#define GUEST_LOG_CHUNK 128
#define XEN_HVM_DEBUGCONS_IOPORT 0xe9

struct xvcpu {
    struct domain *d;
    struct vcpu *v;
    unsigned id;
    struct vcpu_info *vi;          /* current vcpu_info (shared_info slot or registered) */
    uint64_t vi_gpa;               /* ~0 while in shared_info */
    uint64_t time_area_va;         /* VCPUOP_register_vcpu_time_memory_area, 0 = none */
    struct guest_va time_area_mm;  /* its translation (the registration's tables) */
    uint8_t upcall_vector;         /* HVMOP_set_evtchn_upcall_vector, 0 = none */
    atomic_bool upcall_undelivered;/* the last upcall was not taken: raise it again */
    atomic_bool dump;              /* debug: log this vCPU's state at the next kick */
    atomic_bool probe;             /* look for an unrewritten vmcall at the next kick */
    unsigned probe_exits;          /* the vCPU's exit count at the last probe tick */
    atomic_bool flush_tlb;         /* HVMOP_flush_tlbs: flush before entering the guest */
    int timer_fd, periodic_fd;     /* singleshot and periodic VIRQ_TIMER */
    uint64_t timer_deadline;       /* singleshot, system time ns; 0 = none */
    uint64_t tsc_sampled_ns;       /* host CLOCK_MONOTONIC of the last TSC sample */
    uint64_t tsc_sample_gap_ns;    /* the next sample not before this after it */
    uint64_t periodic_ns;
    int wake_fd;                   /* eventfd: an event for a blocked vCPU */
    atomic_bool polling;           /* in SCHEDOP_poll: woken by any port becoming pending */
    atomic_bool blocked;           /* in SCHEDOP_block/poll: a kick must write wake_fd */
    /* Bring-up (VCPUOP_initialise / VCPUOP_up, or INIT/SIPI): guarded by d->lock,
     * but for up, which the vCPU's own thread also sets (lock-free) when it is
     * seen making a hypercall after a SIPI. */
    atomic_bool up;
    bool initialised, reset_pending;
    struct vcpu_hvm_context ctx;
    /* VCPUOP_down: the vCPU stays out of the guest until VCPUOP_up (it then
     * resumes where it was). Set under d->lock; d->vcpu_cond wakes it. */
    atomic_bool down;
    /* Triggers (xl trigger) waiting for the vCPU's own thread. */
    atomic_bool nmi_pending;
    uint64_t hcalls[XEN_STATS_HCALLS];  /* hypercalls by number (xen/stats.h) */
};

struct domain_config {
    const char *name;
    const uint8_t *uuid;            /* 16 bytes, or NULL for a random one */
    domid_t domid;
    uint64_t memory_mib;
    int vcpus;
    const char *kernel, *cmdline;   /* the PVH kernel and its command line */
    /* hvm_start_info's modules: a PVH kernel's ramdisk; for Xen's PV shim, the
     * PV kernel with the guest's command line, then its ramdisk. */
    unsigned nr_modules;
    struct {
        const char *path, *cmdline;     /* cmdline NULL: none */
        const char *what;               /* for messages: "ramdisk", "PV kernel" */
    } modules[BOOT_MAX_MODULES];
    bool keep_low_free;             /* nothing in [0x1000, 0x11000) (the PV shim's) */
    const char *xenstore_socket;    /* NULL: no xenstore (STORE params left 0) */
    bool store_page;                /* the ring page even without xenstore: Xen's PV
                                     * shim marks it RAM in its guest's map and panics
                                     * without it (its guest sees store_evtchn 0) */
    bool console_stdin;             /* feed stdin to the PV console */
    unsigned max_grant_frames;      /* xl's max_grant_frames; 0: Xen's default */
    unsigned max_event_channels;    /* xl's max_event_channels; 0: no limit below the ABI's */
    const char *cpuid_cache;        /* file caching KVM's supported CPUID, or NULL */
};

struct domain {
    struct vm vm;
    domid_t domid;
    char name[64];
    uint8_t uuid[16];
    pthread_mutex_t lock;          /* event channels, grant table, params, vCPU bring-up */
    pthread_cond_t vcpu_cond;      /* a vCPU that is down waits here (with lock) */
    struct xvcpu xv[VM_MAX_VCPUS];

    struct shared_info *shinfo;    /* current location (own page until the guest maps it) */
    uint8_t *shinfo_own;
    uint64_t shinfo_gfn;           /* ~0 while unmapped */

    uint64_t params[HVM_NR_PARAMS];
    uint64_t unmapped_pages;       /* increase_reservation's pages (no gfn), under lock */
    atomic_uint xen_pages_outside_ram;  /* pages domain_xen_page_at mapped outside RAM */
    _Atomic uint8_t callback_vector; /* HVM_PARAM_CALLBACK_IRQ type vector, 0 = none */
    struct pit pit;                /* legacy PIT counters and port 0x61 (pit.h) */
    struct evtchn_domain ev;
    struct gnttab gt;

    struct e820entry e820[E820_MAX];
    int nr_e820;
    uint8_t *special;              /* SPECIAL_NR_PAGES pages at SPECIAL_PAGES_BASE */

    uint64_t tsc0;                 /* guest TSC at system time 0 */
    struct timespec wall0;         /* wall clock at system time 0 */
    uint32_t tsc_mul; int8_t tsc_shift;

    /* SCHEDOP_watchdog: Xen's two per-domain timers (timerfds), under lock */
    int watchdog_fd[2];
    bool watchdog_used[2];

    /* A save is parking the vCPUs: SCHEDOP_block/poll return at once. */
    atomic_bool quiesce;

    /* shutdown */
    int shutdown_reason;           /* SHUTDOWN_*, or -1 while running */
    uint32_t shutdown_code;        /* SCHEDOP_shutdown_code, or ~0 */

    /* I/O thread: timers, console, xenstore relay */
    int epfd, stop_fd;
    pthread_t io_thread;
    bool io_thread_started;
    pthread_mutex_t watch_lock;    /* the watches list */
    int dump_fd;                   /* debug: XENKVM_DEBUG_DUMP_MS timer, or -1 */
    int probe_fd;                  /* vmcall_probe.c's timer, or -1 */
    struct fd_watch *watches;
    /* console_io's source (CONSOLEIO_read), provided by the console backend */
    size_t (*conio_read)(void *opaque, void *buf, size_t max);
    void *conio;
    /* guest_log.c: console_io writes and port 0xE9, Xen's log for the guest */
    pthread_mutex_t glog_lock;
    int glog_fd;                   /* where complete "(dN) " lines go: stderr */
    char glog[GUEST_LOG_LINE];
    unsigned glog_len;
};

/* d must be zero-filled (static storage or calloc). */
int domain_create(struct domain *d, const struct domain_config *cfg, char *err, size_t errlen);
/* Starts the I/O thread and the vCPUs (0 or -1). With exits held
 * (vm_hold_exits), the guest runs while the caller finishes setting up. */
int domain_start(struct domain *d);
/* Waits until the guest has shut down (after domain_start); returns the exit
 * status for its reason. */
int domain_wait(struct domain *d);
void domain_destroy(struct domain *d);
/* domain_create and domain_destroy without their KVM part: the Xen state on
 * top of a VM whose memory regions and vCPUs exist already, and its release
 * (the VM stays). The hypercall fuzz target (fuzz/xen/) runs a domain this
 * way over a VM it builds by hand, without /dev/kvm. */
int domain_create_on_vm(struct domain *d, const struct domain_config *cfg, char *err, size_t errlen);
void domain_destroy_on_vm(struct domain *d);

/* Adds Xen's leaves (signature, version, hypercall MSR, time, HVM features with
 * the domid) to vm's CPUID table; the vCPU id is patched per vCPU by the KVM core. */
void xen_cpuid_leaves(struct vm *vm, domid_t domid);

/* Page idx of the special-page region (SPECIAL_*). */
uint8_t *domain_special_page(struct domain *d, unsigned idx);
/* Loads the kernel and the modules, builds hvm_start_info and the memory map,
 * and puts vCPU 0 at the PVH entry. Modules are copied as they are (a PV
 * kernel in one is the shim's guest: never rewritten). */
int domain_pvh_boot(struct domain *d, const struct domain_config *cfg, char *err, size_t errlen);

/* Save/restore: stops every vCPU out of KVM_RUN (a vCPU blocked in
 * SCHEDOP_block/poll returns, as from a spurious wake-up) and waits until all
 * are parked. 0, or -errno (the domain stopped, or a vCPU did not come). The
 * caller undoes it with domain_unquiesce (which leaves the VM paused). */
int domain_quiesce(struct domain *d, int timeout_ms);
void domain_unquiesce(struct domain *d);

/* Ends the domain with a SHUTDOWN_* reason (first reason wins). */
void domain_shutdown(struct domain *d, int reason);

/* xl trigger: "nmi" (an NMI on vcpu), "init" (an INIT IPI to vcpu: it waits
 * for a startup IPI, as on hardware), "reset" (the domain resets: it ends
 * with reason reboot, as the ACPI reset register does). 0, -ENOENT for no
 * such vCPU, -EINVAL for another name. */
int domain_trigger(struct domain *d, const char *what, unsigned vcpu);
/* Whether a vCPU is up for the hypervisor (started and not VCPUOP_down). */
bool domain_vcpu_is_up(struct domain *d, unsigned vcpu);

/* System time: ns since the domain started, from the guest TSC. */
uint64_t domain_system_time(struct domain *d);
void domain_update_vcpu_time(struct domain *d, struct xvcpu *xv);

void domain_time_init(struct domain *d);
/* Xen system time does not count the guest TSC's ticks since tsc_stop (a
 * stop for a save, as QEMU stops kvmclock while a VM is stopped): its origin
 * moves, every pvclock record is rewritten, the wall clock stays true. With
 * the vCPUs stopped and the domain lock held. */
void domain_time_skip(struct domain *d, uint64_t tsc_stop);
void domain_update_wallclock(struct domain *d);
/* Xen's hvm_latch_shinfo_size: from now on shared_info and vcpu_info are in
 * the layout of the calling vCPU's mode (32-bit unless in long mode). Done
 * when the guest installs its hypercall page or sets HVM_PARAM_CALLBACK_IRQ.
 * Caller holds d->lock. */
void domain_latch_shinfo_size(struct domain *d, bool long_mode);
int vcpu_timers_init(struct xvcpu *xv);
/* SCHEDOP_watchdog's timers (sched_op.c): set up with the domain. */
int domain_watchdog_init(struct domain *d);
long domain_watchdog(struct domain *d, uint32_t id, uint32_t timeout_s);
int vcpu_set_periodic(struct xvcpu *xv, uint64_t period_ns);

/* Event delivery plumbing used by evtchn.c's callbacks. */
void domain_kick_vcpu(struct domain *d, unsigned vcpu);
/* d->lock for paths that may raise events (event-channel ops, notifications,
 * timers): kicks asked for while it is held are made once it is released, so
 * the injection's ioctl and the wake-up are not done under the lock. */
void domain_lock(struct domain *d);
void domain_unlock(struct domain *d);
/* Raises the upcall again if an earlier one was not taken and events are
 * still pending (cheap when there is nothing to do). */
void domain_retry_upcall(struct domain *d, unsigned vcpu);
/* On the vCPU's own thread before it enters the guest again (after a kick or
 * a hypercall): the pending upcall, and the global callback vector while its
 * evtchn_upcall_pending is set, as Xen injects it on every VM entry. */
void domain_vcpu_entry(struct domain *d, unsigned vcpu);

/* guest_log.c: the guest's lines in Xen's log (stderr), "(dN) " first.
 * putc: a write to port 0xE9. chunk: console_io's step over at most
 * GUEST_LOG_CHUNK - 1 bytes, stopping after a newline; returns the bytes it
 * consumed. write: a whole buffer, as console_io would. flush: a partial line
 * at the domain's end (Xen would keep it unprinted). */
void guest_log_putc(struct domain *d, uint8_t c);
size_t guest_log_chunk(struct domain *d, const uint8_t *in, size_t len);
void guest_log_write(struct domain *d, const void *buf, size_t len);
void guest_log_flush(struct domain *d);

/* vmcall_probe.c: finds vCPUs stuck on a hypercall instruction that was not
 * rewritten. start: once, before the vCPUs run. probe: on the vCPU's thread
 * after a kick; false when it ended the domain. */
int domain_vmcall_probe_start(struct domain *d);
bool domain_vmcall_probe(struct domain *d, struct xvcpu *xv);

/* SIGUSR2's state dump, from the I/O thread: each vCPU's events, timers and
 * clock (vcpu_time_debug formats the last two), then its registers. */
void domain_debug_dump(struct domain *d);
void vcpu_time_debug(struct xvcpu *xv, char *buf, size_t len);

/* Epoll registration on the I/O thread: fn(opaque) runs when fd is readable. */
int domain_watch_fd(struct domain *d, int fd, void (*fn)(void *opaque), void *opaque);
void domain_unwatch_fd(struct domain *d, int fd);

/* Hypercalls */
struct hcall {
    struct domain *d;
    struct xvcpu *xv;
    struct guest_va va;
    bool long_mode;
    bool irqs_on;                  /* RFLAGS.IF of the caller */
    uint64_t arg[5];
};
long hypercall_dispatch(struct hcall *h, unsigned nr);
void hypercall_page_fill(uint8_t *page);
int hypercall_trap(struct vcpu *v);

long do_xen_version(struct hcall *h);
long do_memory_op(struct hcall *h);
/* memory_op's command word: the sub-op, and in the high bits a continuation's
 * start extent (Xen's MEMOP_EXTENT_SHIFT, not in the public headers). */
#define MEMOP_EXTENT_SHIFT 6
#define MEMOP_CMD_MASK ((1u << MEMOP_EXTENT_SHIFT) - 1)
long do_hvm_op(struct hcall *h);
long do_vcpu_op(struct hcall *h);
long do_set_timer_op(struct hcall *h);
long do_sched_op(struct hcall *h);
long do_event_channel_op(struct hcall *h);
long do_grant_table_op(struct hcall *h);
long do_console_io(struct hcall *h);

/* Pieces shared between hypercalls */
/* Where a Xen-owned page (shared_info, a grant frame) goes when the guest
 * places it at gfn: that RAM page, or a fresh page mapped there outside RAM
 * (at most DOMAIN_XEN_PAGES_OUTSIDE_RAM in the domain's life: every shared
 * and status frame and shared_info 14 times over); NULL when refused. */
#define DOMAIN_XEN_PAGES_OUTSIDE_RAM 1024
uint8_t *domain_xen_page_at(struct domain *d, uint64_t gfn);
int domain_map_shared_info(struct domain *d, uint64_t gfn);
int vcpu_set_singleshot(struct xvcpu *xv, uint64_t abs_ns);
/* What ends a vcpu_block: SCHEDOP_block (poll false) or SCHEDOP_poll on ports. */
struct vcpu_block_what {
    bool poll;
    bool irqs_on;                  /* poll: the guest's RFLAGS.IF at the call */
    const evtchn_port_t *ports;
    unsigned nports;
};
void vcpu_block(struct xvcpu *xv, uint64_t deadline_ns, const struct vcpu_block_what *w);
