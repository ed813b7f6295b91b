/* KVM core: a VM with memfd-backed guest memory, vCPU threads and their exit loop.
 * Knows nothing of Xen; the layer above registers exit handlers. */
#pragma once
#include "kvm/stats.h"
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define VM_MAX_VCPUS   32
#define VM_MAX_REGIONS 64
#define PAGE_SIZE      4096ull
#define PAGE_SHIFT     12

/* Guest-physical layout: RAM below the hole, the rest above 4 GiB. */
#define VM_LOWMEM_END  0xc0000000ull   /* RAM below 4 GiB ends here at most */
#define VM_HIGHMEM_BASE 0x100000000ull

struct vm;
struct vcpu;

enum vcpu_stop { VCPU_STOP_TRIPLE_FAULT, VCPU_STOP_ERROR };

/* A guest-physical range backed by a slice of the memfd. */
struct mem_region {
    uint64_t gpa, size, fd_offset;
    uint8_t *host;
    uint32_t slot;
    bool ram;            /* part of the guest's RAM (vs. a special page) */
    /* RAM: one bit per frame, set while the frame is released (ballooned
     * out, ram_frames.c); NULL: every frame present. */
    uint64_t *absent;
    /* RAM: one bit per frame that xenkvm itself wrote while dirty logging is
     * on (dirty_log.c); KVM's own log only sees the guest's writes. */
    uint64_t *dirty;
};

/* Exit handlers (set by the layer above). Return 0 to resume the vCPU. */
struct vm_ops {
    /* Port I/O: data points into kvm_run's buffer. */
    int (*pio)(struct vcpu *v, uint16_t port, bool out, uint8_t *data, int size);
    /* MMIO outside any memory region. */
    int (*mmio)(struct vcpu *v, uint64_t gpa, bool write, uint8_t *data, int size);
    /* MSRs caught by the filter; return 0, or -1 to inject #GP. */
    int (*wrmsr)(struct vcpu *v, uint32_t index, uint64_t value);
    int (*rdmsr)(struct vcpu *v, uint32_t index, uint64_t *value);
    /* The vCPU is stopping for good: a triple fault, or an error KVM reported
     * (why is a message). */
    void (*fatal)(struct vcpu *v, enum vcpu_stop kind, const char *why);
    /* Called on the vCPU's thread before its first KVM_RUN (may block until the
     * vCPU is brought up) and after every kick; return false to stop the thread. */
    bool (*before_run)(struct vcpu *v);
};

struct vcpu {
    struct vm *vm;
    int id;
    cpu_set_t affinity;   /* host CPUs the thread may run on, when has_affinity */
    bool has_affinity;
    int fd;
    struct kvm_run *run;
    size_t run_size;
    pthread_t thread;
    atomic_bool kicked;
    atomic_uint exits;    /* returns from KVM_RUN (exits and kicks), for stall probes */
    atomic_bool in_run;   /* inside KVM_RUN (running guest code or halted there) */
    _Atomic int tid;      /* the vCPU thread's id, 0 before it starts (debug dumps) */
    bool sync_regs;       /* run->s.regs holds regs/sregs after each exit */
    _Atomic int64_t tsc_offset;   /* this vCPU's guest TSC - host TSC, last sampled */
    /* extint.c: LVT0 opened for one queued external interrupt, and its value */
    bool lvt0_borrowed;
    uint32_t lvt0_saved;
    void *priv;           /* the Xen layer's per-vCPU state */
    struct vcpu_stats stats;
};

struct vm {
    int kvm_fd, vm_fd, mem_fd;
    uint64_t ram_size;        /* bytes of RAM */
    atomic_uint_fast64_t ram_absent;  /* RAM frames released (ram_frames.c) */
    uint64_t mem_fd_size;     /* bytes allocated in the memfd so far */
    uint32_t tsc_khz;
    /* The host keeps its time by the TSC (Linux's clocksource is "tsc": the
     * TSCs are constant and synchronised across CPUs), so a pvclock may tell
     * the guest its TSC is stable, as Xen does only when its own clock is the
     * TSC. Not under the rig's emulator, whose CPUs' TSCs differ. */
    bool tsc_reliable;
    int nr_vcpus;
    struct vcpu vcpus[VM_MAX_VCPUS];
    int nr_regions;
    struct mem_region regions[VM_MAX_REGIONS];
    pthread_mutex_t mem_lock;  /* serialises region table changes */
    atomic_uint mem_seq;       /* odd while the table changes: readers retry */
    struct kvm_cpuid2 *cpuid;  /* base CPUID, filtered; per-vCPU copies are patched */
    const struct vm_ops *ops;
    void *priv;               /* the Xen layer's domain */
    atomic_bool stopping;
    /* vm_pause/vm_unpause (pause.c): vCPU threads wait in their exit loop. */
    atomic_bool paused;
    atomic_bool exits_held;   /* vm_hold_exits: exits wait in vm_exit_point */
    pthread_mutex_t pause_lock;
    pthread_cond_t pause_cond;
    int parked;               /* vCPU threads waiting in vm_pause_point */
    pthread_cond_t parked_cond;
    _Atomic int64_t tsc_offset;   /* guest TSC - host TSC, the latest sample of any vCPU */
    atomic_bool dirty_logging;    /* dirty_log.c: writes to RAM are being logged */
};

/* Creates the VM (vm zero-filled, e.g. static storage), its memfd, RAM regions, the in-kernel LAPIC (split irqchip:
 * no PIC/IOAPIC) and the base CPUID (cached in the file cpuid_cache, if not
 * NULL: see cpuid.h). vCPUs come later (vm_create_vcpus), after the layer above
 * has added its CPUID leaves. Returns 0 or -1 with err set. */
int vm_create(struct vm *vm, uint64_t ram_mib, int nr_vcpus, const char *cpuid_cache,
              char *err, size_t errlen);
int vm_create_vcpus(struct vm *vm, char *err, size_t errlen);
/* Starts one thread per vCPU running vcpu_thread; vm_join waits for them. */
int vm_start(struct vm *vm);
void vm_join(struct vm *vm);
void vm_destroy(struct vm *vm);

/* Maps size bytes (page multiple) of fresh memfd at gpa, outside RAM. Returns
 * the host pointer, or NULL. */
uint8_t *vm_map_extra(struct vm *vm, uint64_t gpa, uint64_t size);
/* Removes an extra mapping made by vm_map_extra at gpa (RAM is never unmapped). */
void vm_unmap_extra(struct vm *vm, uint64_t gpa);

/* Host pointer for guest-physical [gpa, gpa+len) if it lies wholly in one
 * region and, in RAM, on frames that are present, else NULL. The one gate
 * through which guest addresses become host ones. */
uint8_t *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len);
/* The guest-physical address of host pointer p into guest memory, or ~0. */
uint64_t vm_host_to_gpa(struct vm *vm, const void *p);
/* gpa lies in a RAM region (present or released). */
bool vm_gpa_is_ram(struct vm *vm, uint64_t gpa);
/* Bulk loading of RAM before the guest runs: copy src to guest-physical
 * [gpa, gpa+len) / zero that range, through the memfd rather than the mapping
 * (the kernel fills fresh pages without a fault per page here). The range must
 * lie in one RAM region. Return 0 or -errno. */
int vm_write_ram(struct vm *vm, uint64_t gpa, const void *src, uint64_t len);
int vm_zero_ram(struct vm *vm, uint64_t gpa, uint64_t len);

/* RAM frames (ram_frames.c): which guest frames have memory behind them. A
 * released frame's memory goes back to the host (its page is punched out of
 * the memfd) and vm_gpa refuses it until it is restored, reading zeros. The
 * guest itself still reaches the slot: it reads zeros there and a write
 * brings a page back that stays uncounted. Thread-safe. */
/* 0, -ENOENT if already released, -EINVAL if gfn is no RAM frame. */
int vm_ram_release(struct vm *vm, uint64_t gfn);
/* 0, -EEXIST if present, -EINVAL if gfn is no RAM frame. */
int vm_ram_restore(struct vm *vm, uint64_t gfn);
/* 1 if gfn is a present RAM frame, 0 if released, -EINVAL if no RAM frame. */
int vm_ram_present(struct vm *vm, uint64_t gfn);
/* RAM frames present now. */
uint64_t vm_ram_present_pages(struct vm *vm);
/* The memory behind RAM region r (vm_ram_regions') from frame i on: the
 * first frame at or after i that may hold data (*end: the first one after
 * it that does not), or r's frame count when none does. Frames outside
 * [first, *end) have never been written (the memfd has no page there: they
 * read zeros), so a save can skip them without touching, and so allocating,
 * them. A host that cannot tell reports everything as data. */
uint64_t vm_ram_data_after(struct vm *vm, const struct mem_region *r, uint64_t i, uint64_t *end);
/* The page of RAM frame gfn, present or released (for a page the layer above
 * places there itself), or NULL if gfn is no RAM frame. */
uint8_t *vm_ram_frame_page(struct vm *vm, uint64_t gfn);

/* Dirty-page logging for live migration (dirty_log.c). While on, every RAM
 * frame written since the last collect is reported: the guest's writes from
 * KVM's log (KVM_MEM_LOG_DIRTY_PAGES), xenkvm's own through vm_gpa,
 * vm_write_ram, vm_zero_ram and frame release/restore (a pointer vm_gpa
 * handed out counts as written then; one kept for longer is the caller's
 * to report). Bitmaps: one per RAM region, in region order, a bit per frame. */
int vm_dirty_log_start(struct vm *vm);
/* ORs the frames written since the last call (or start) into bits[r] for the
 * r-th RAM region and clears the logs; returns how many bits were new. */
int64_t vm_dirty_log_collect(struct vm *vm, uint64_t **bits);
void vm_dirty_log_stop(struct vm *vm);
void vm_mark_dirty(struct vm *vm, uint64_t gpa, uint64_t len);
/* The number of RAM regions and the r-th one (for the bitmaps above). */
int vm_ram_regions(struct vm *vm, const struct mem_region **out, int max);
/* Internal to vm.c and ram_frames.c: the region holding gpa (a copy); every
 * frame of [gpa, gpa+len) in r present; a region's bitmap. */
bool vm_region_of(struct vm *vm, uint64_t gpa, struct mem_region *r);
bool vm_frames_present(const struct mem_region *r, uint64_t gpa, uint64_t len);
uint64_t *vm_frames_alloc(uint64_t size);

/* CPUID: the host-supported set with the hypervisor leaves removed; the layer
 * above adds its own leaves with vm_cpuid_set before the vCPUs start. */
void vm_cpuid_set(struct vm *vm, uint32_t fn, uint32_t idx, uint32_t eax, uint32_t ebx,
                  uint32_t ecx, uint32_t edx);

#define MSR_IA32_TSC        0x10
#define MSR_IA32_TSC_ADJUST 0x3b

/* Routes guest accesses of these MSRs to ops->wrmsr/rdmsr: flags are
 * KVM_MSR_FILTER_READ and/or KVM_MSR_FILTER_WRITE (the other kind stays with
 * KVM). */
struct vm_msr_trap {
    uint32_t index, flags;
};
int vm_filter_msrs(struct vm *vm, const struct vm_msr_trap *traps, int n);

/* vCPUs */
void *vcpu_thread(void *arg);           /* runs KVM_RUN until vm->stopping */
void vcpu_kick(struct vcpu *v);          /* force the vCPU out of KVM_RUN */
void vm_stop(struct vm *vm);             /* set stopping and kick every vCPU */
/* Pause: every vCPU leaves KVM_RUN and waits until vm_unpause (or vm_stop).
 * Returns at once; the vCPUs stop within one exit. */
void vm_pause(struct vm *vm);
void vm_unpause(struct vm *vm);
bool vm_is_paused(struct vm *vm);
/* Waits until every vCPU thread of a paused VM is parked in vm_pause_point
 * (out of KVM_RUN, its state consistent), up to timeout_ms: 0, or -ETIMEDOUT,
 * or -ESRCH if the VM stopped meanwhile. */
int vm_pause_wait(struct vm *vm, int timeout_ms);
/* Called by a vCPU thread after a kick: waits while the VM is paused. */
void vm_pause_point(struct vm *vm);
/* Start-up: vCPUs may enter the guest before the VMM has finished setting up
 * (its console, xenstore, devices), as long as nothing the guest asks of it is
 * answered before: while held, every exit waits (vm_exit_point) until
 * vm_release_exits or vm_stop. */
void vm_hold_exits(struct vm *vm);
void vm_release_exits(struct vm *vm);
void vm_exit_point(struct vm *vm);
/* The exit counters of every vCPU, summed. */
void vm_stats(struct vm *vm, struct vm_stats *out);
/* Injects a fixed, edge-triggered interrupt vector into the vCPU's LAPIC.
 * Returns > 0 if delivered, 0 if the guest's LAPIC refused it, or -errno. */
int vm_inject_vector(struct vm *vm, int apic_id, uint8_t vector);
/* Sends an INIT IPI to the vCPU's LAPIC (it then waits for a startup IPI).
 * > 0 delivered, 0 refused, -errno. */
int vm_send_init(struct vm *vm, int apic_id);
/* On the vCPU's own thread: an NMI into the guest (KVM_NMI). 0 or -1. */
int vcpu_inject_nmi(struct vcpu *v);
/* Reads the guest's TSC through the vCPU (from its own thread only: outside
 * KVM_RUN) and so corrects the offsets vcpu_guest_tsc/vm_guest_tsc add to the
 * host's. Where the host TSC is stable they never change; where KVM finds it
 * unstable (a nested rig) it moves each vCPU's offset as it catches its TSC
 * up with the host's clock, and only a sample shows where it went. 1 when the
 * offset moved since the last sample (beyond this read's uncertainty), 0 when
 * not, -1 when KVM refused (errno). */
int vcpu_sample_tsc(struct vcpu *v);
/* The vCPU's TSC now, from the host's and the last sampled offset. */
uint64_t vcpu_guest_tsc(struct vcpu *v);
/* The host CPUs the vCPU's thread runs on (NULL: any): applied now if the
 * thread runs, else when it starts. 0 or -errno. */
int vcpu_set_affinity(struct vcpu *v, const cpu_set_t *set);

/* External interrupts (extint.c): a vector delivered outside the LAPIC, with
 * no EOI, at the guest's next interrupt window. vcpu_extint_init puts LVT0 in
 * ExtINT mode (at creation); vcpu_queue_extint, on the vCPU's thread, queues
 * the vector (0, or -EEXIST if one is queued still); vcpu_extint_exit runs
 * after every exit. */
int vcpu_extint_init(struct vcpu *v);
int vcpu_queue_extint(struct vcpu *v, uint8_t vector);
void vcpu_extint_exit(struct vcpu *v);
/* True on the thread that runs v. */
bool vcpu_is_self(const struct vcpu *v);

/* Register state; only the thread that runs the vCPU may call these. */
int vcpu_get_regs(struct vcpu *v, struct kvm_regs *r);
int vcpu_set_regs(struct vcpu *v, const struct kvm_regs *r);
int vcpu_get_sregs(struct vcpu *v, struct kvm_sregs *s);
int vcpu_set_sregs(struct vcpu *v, const struct kvm_sregs *s);
/* On the vCPU's thread while it handles an exit: its registers without an
 * ioctl when KVM syncs them (else fetched); vcpu_exit_regs_dirty() after
 * changing them. */
struct kvm_regs *vcpu_exit_regs(struct vcpu *v, struct kvm_regs *buf);
const struct kvm_sregs *vcpu_exit_sregs(struct vcpu *v, struct kvm_sregs *buf);
int vcpu_exit_regs_dirty(struct vcpu *v, struct kvm_regs *r);
/* Flushes the vCPU's guest TLB (every linear translation, global ones too):
 * on its own thread, out of KVM_RUN. */
int vcpu_flush_tlb(struct vcpu *v);
/* Puts the vCPU in flat 32-bit protected mode, paging off, at eip with ebx set
 * (the PVH entry state). */
int vcpu_reset_flat32(struct vcpu *v, uint32_t eip, uint32_t ebx);
/* Marks an application processor runnable (it starts waiting for INIT/SIPI). */
int vcpu_set_runnable(struct vcpu *v);
/* Guest TSC now (host TSC plus this VM's offset). */
uint64_t vm_guest_tsc(struct vm *vm);
