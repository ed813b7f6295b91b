/* xtest entry (from boot.S): common setup, then the program named by the first
 * word of the command line. */
#include "xtest.h"
#include "console.h"
#include "cpu.h"
#include "events.h"
#include "hypercall.h"
#include "report.h"
#include "traps.h"

const struct hvm_start_info *start_info;
const char *cmdline = "";

static const struct {
    const char *name;
    program_fn fn;
} programs[] = {
    { "hello", prog_hello },       { "version", prog_version }, { "evtchn", prog_evtchn },
    { "timer", prog_timer },       { "grant", prog_grant },     { "shutdown", prog_shutdown },
    { "hostile", prog_hostile },   { "smp", prog_smp },
#ifdef __x86_64__
    { "vmcall", prog_vmcall },     /* xtest32 has no vmcall sites */
#endif
    { "bench", prog_bench },       { "xenstore", prog_xenstore },
    { "idle", prog_idle },         { "net", prog_net },         { "echo", prog_echo },
    { "blk", prog_blk },           { "rawvmcall", prog_rawvmcall },
};

static char cmdline_copy[1024];
static char *argv[32];

static int split(char *s, char **out, int max)
{
    int n = 0;
    while (*s && n < max - 1) {
        while (*s == ' ' || *s == '\t')
            *s++ = '\0';
        if (!*s)
            break;
        out[n++] = s;
        while (*s && *s != ' ' && *s != '\t')
            s++;
    }
    out[n] = NULL;
    return n;
}

void xtest_main(uint64_t start_info_paddr);
void xtest_main(uint64_t start_info_paddr)
{
    percpu_init(0);
    traps_init();
    if (hypercall_init()) {
        /* No hypervisor interface: nothing can be printed; stop here. */
        for (;;)
            asm volatile("cli; hlt");
    }
    console_use_ring();

    start_info = (const struct hvm_start_info *)(uintptr_t)start_info_paddr;
    if (start_info->magic != XEN_HVM_START_MAGIC_VALUE)
        fail("start_info", "magic 0x%x at 0x%lx", start_info->magic, (unsigned long)start_info_paddr);
    if (start_info->cmdline_paddr) {
        const char *c = (const char *)(uintptr_t)start_info->cmdline_paddr;
        size_t n = strnlen(c, sizeof(cmdline_copy) - 1);
        memcpy(cmdline_copy, c, n);
        cmdline_copy[n] = '\0';
        cmdline = (const char *)(uintptr_t)start_info->cmdline_paddr;
    }

    long rc = shared_info_map();
    if (rc)
        fail("map shared_info", "XENMEM_add_to_physmap: %s", errname(rc));
    else
        console_mask_port();
    if (!rc && (rc = events_init_cpu()))
        fail("upcall vector", "HVMOP_set_evtchn_upcall_vector: %s", errname(rc));
    percpu[0].online = true;
    irq_enable();

    int argc = split(cmdline_copy, argv, ARRAY_SIZE(argv));
    if (argc == 0) {
        fail("command line", "empty: name a program (hello, version, evtchn, ...)");
        finish();
    }
    for (unsigned i = 0; i < ARRAY_SIZE(programs); i++) {
        if (!strcmp(argv[0], programs[i].name)) {
            programs[i].fn(argc, argv);
            finish();
        }
    }
    fail("command line", "unknown program '%s'", argv[0]);
    finish();
}
