/* libFuzzer target: the hypercall boundary. A domain (src/xen's own
 * domain_create_on_vm) over a VM with 256 KiB of guest RAM and no KVM
 * (fake_kvm.c); the input is a header (vCPUs, paging, limits) and then a
 * series of records: a write of bytes into guest RAM, a hypercall from a
 * 64-bit or a 32-bit (compat) caller on one of the vCPUs with its number and
 * five arguments, or an event from the hypervisor's side (a VIRQ, a backend's
 * notification) as the I/O thread raises them. After each hypercall the vCPU
 * "enters the guest" (domain_vcpu_entry), as after a real trap. Every
 * hypercall must return 0, a count, or a Xen errno; ASan/UBSan catch any
 * access outside the domain's memory. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake_kvm.h"
#include "input.h"
#include "common/log.h"
#include "xen/compat.h"
#include "xen/domain.h"

#define RAM_SIZE (256u << 10)
#define MAX_VCPUS 4
/* The identity map a 64-bit caller runs on (built by the harness; the guest
 * may overwrite it): PML4, PDPT and PD, the PD mapping [0, 2 MiB) with a
 * large page. 32-bit callers run with paging off or on a 2-level table. */
#define PT_PML4 0x1000
#define PT_PDPT 0x2000
#define PT_PD   0x3000
#define PT_32   0x4000

#define CR0_PE 0x1ull
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE 0x10ull
#define CR4_PAE 0x20ull
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

static const uint8_t handled[] = {
    __HYPERVISOR_xen_version, __HYPERVISOR_memory_op, __HYPERVISOR_hvm_op,
    __HYPERVISOR_vcpu_op, __HYPERVISOR_set_timer_op, __HYPERVISOR_sched_op,
    __HYPERVISOR_event_channel_op, __HYPERVISOR_grant_table_op, __HYPERVISOR_console_io,
};

static struct domain *d;
static int devnull = -1;
static struct kvm_sregs sregs64, sregs32;
static uint64_t host_ports[8];
static unsigned nr_host_ports;

static void wr64(uint8_t *ram, uint64_t gpa, uint64_t v) { memcpy(ram + gpa, &v, 8); }
static void wr32(uint8_t *ram, uint64_t gpa, uint32_t v) { memcpy(ram + gpa, &v, 4); }

static void host_cb(void *opaque, evtchn_port_t port) { (void)opaque; (void)port; }

static void domain_new(struct in *in)
{
    uint8_t h = u8(in);
    int vcpus = 1 + h % MAX_VCPUS;
    if (devnull < 0) {
        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        log_verbose = 0;
    }
    /* One domain's storage for every run, cleared: a fresh 600 KiB each
     * time costs more in page faults than the hypercalls themselves. */
    static struct domain storage;
    d = memset(&storage, 0, sizeof(storage));
    fake_vm_create(&d->vm, vcpus, RAM_SIZE);
    static const uint8_t uuid[16] = { 0x5e };
    struct domain_config cfg = {
        .name = "fuzz", .uuid = uuid, .domid = 7, .memory_mib = 0, .vcpus = vcpus,
        .store_page = h & 0x80, .max_grant_frames = h & 0x40 ? 4 : 0,
        .max_event_channels = h & 0x20 ? 100 : 0,
    };
    char err[256];
    if (domain_create_on_vm(d, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "domain_create_on_vm: %s\n", err);
        abort();
    }
    d->glog_fd = devnull;          /* console_io's output */
    atomic_store(&d->quiesce, true);   /* SCHEDOP_block/poll return at once */
    uint8_t *ram = d->vm.regions[0].host;
    wr64(ram, PT_PML4, PT_PDPT | 3);
    wr64(ram, PT_PDPT, PT_PD | 3);
    wr64(ram, PT_PD, 0x83);                  /* [0, 2 MiB), writable */
    wr32(ram, PT_32, 0x83);                  /* 4 MiB page at 0 (PSE) */
    sregs64 = (struct kvm_sregs){ .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = PT_PML4, .cr4 = CR4_PAE,
                                  .efer = EFER_LME | EFER_LMA };
    sregs32 = h & 0x10 ? (struct kvm_sregs){ .cr0 = CR0_PE | CR0_PG, .cr3 = PT_32, .cr4 = CR4_PSE }
                       : (struct kvm_sregs){ .cr0 = CR0_PE };
    nr_host_ports = 0;
    /* As the toolstack does for the console and xenstore: guest ports bound to host ports. */
    domain_lock(d);
    evtchn_host_alloc_bound(&d->ev, host_cb, NULL);
    int hp = evtchn_host_alloc_unbound(&d->ev, host_cb, NULL);
    if (hp >= 0)
        host_ports[nr_host_ports++] = (uint64_t)hp;
    domain_unlock(d);
}

static void domain_end(void)
{
    domain_destroy_on_vm(d);
    fake_vm_destroy(&d->vm);
    d = NULL;
}

static void guest_write(struct in *in)
{
    uint32_t gpa = u32(in) % RAM_SIZE;
    unsigned len = u8(in) % 129;
    if (len > RAM_SIZE - gpa)
        len = RAM_SIZE - gpa;
    /* Through vm_gpa, as the guest's own stores would land. */
    uint8_t buf[128];
    take(in, buf, len);
    uint8_t *p = vm_gpa(&d->vm, gpa, len ? len : 1);
    if (p)
        memcpy(p, buf, len);
}

static void hypercall(struct in *in, bool long_mode)
{
    uint8_t b = u8(in);
    unsigned nr = b & 0x80 ? b % 64 : handled[b % sizeof(handled)];
    uint8_t vb = u8(in);          /* the vCPU, and its RFLAGS.IF in bit 7 */
    unsigned v = vb % 0x80 % (unsigned)d->vm.nr_vcpus;
    struct hcall h = { .d = d, .xv = &d->xv[v], .long_mode = long_mode, .irqs_on = vb & 0x80 };
    for (unsigned i = 0; i < 5; i++)
        h.arg[i] = long_mode ? val(in) : (uint32_t)val(in);
    guest_va_init(&h.va, &d->vm, long_mode ? &sregs64 : &sregs32);
    long rc = long_mode ? hypercall_dispatch(&h, nr) : compat_hypercall_dispatch(&h, nr);
    static int trace = -1;    /* FUZZ_TRACE=1: each hypercall and its result on stderr */
    if (trace < 0)
        trace = getenv("FUZZ_TRACE") != NULL;
    if (trace)
        fprintf(stderr, "vcpu %u %s hypercall %u(%#llx, %#llx, %#llx) = %ld\n", v,
                long_mode ? "64" : "32", nr, (unsigned long long)h.arg[0],
                (unsigned long long)h.arg[1], (unsigned long long)h.arg[2], rc);
    if (!RESULT_OK(rc))
        abort();
    domain_vcpu_entry(d, v);
}

/* What the I/O thread and the backends do meanwhile. */
static void hypervisor_event(struct in *in)
{
    uint8_t b = u8(in);
    unsigned v = u8(in) % (unsigned)d->vm.nr_vcpus;
    domain_lock(d);
    switch (b % 4) {
    case 0: evtchn_send_virq(&d->ev, VIRQ_TIMER, v); break;
    case 1: evtchn_send_virq(&d->ev, b / 4 % NR_VIRQS, v); break;
    case 2:
        if (nr_host_ports)
            evtchn_host_notify(&d->ev, (int)host_ports[b / 4 % nr_host_ports]);
        break;
    default: domain_retry_upcall(d, v); break;
    }
    domain_unlock(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = { data, size };
    domain_new(&in);
    while (!fin(&in)) {
        switch (u8(&in) % 6) {
        case 0: case 1: guest_write(&in); break;
        case 2: case 3: hypercall(&in, true); break;
        case 4: hypercall(&in, false); break;
        default: hypervisor_event(&in); break;
        }
    }
    domain_end();
    return 0;
}
