/* xtest entry (from boot.S): common setup, then the program named by the first
 * word of the command line. */
#include "xtest.h"
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
    bool own_delivery;    /* sets up its own event delivery: no upcall vector, LAPIC off */
} programs[] = {
#define PROGRAM(n) { #n, prog_##n, false }
    PROGRAM(hello),    PROGRAM(version), PROGRAM(evtchn),   PROGRAM(timer), PROGRAM(grant),
    PROGRAM(shutdown), PROGRAM(hostile), PROGRAM(vmcall),   PROGRAM(smp),   PROGRAM(bench),
    PROGRAM(xenstore), PROGRAM(idle),    PROGRAM(net),      PROGRAM(fifo),  PROGRAM(balloon),
    PROGRAM(watchdog), PROGRAM(tlb),     PROGRAM(echo),     PROGRAM(blk),
    { "callback", prog_callback, true },
    { "evbench", prog_evbench, true },
#undef PROGRAM
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

    start_info = (const struct hvm_start_info *)(uintptr_t)start_info_paddr;
    if (start_info->magic != XEN_HVM_START_MAGIC_VALUE)
        fail("start_info", "magic 0x%x at 0x%lx", start_info->magic, start_info_paddr);
    if (start_info->cmdline_paddr) {
        const char *c = (const char *)(uintptr_t)start_info->cmdline_paddr;
        size_t n = strnlen(c, sizeof(cmdline_copy) - 1);
        memcpy(cmdline_copy, c, n);
        cmdline_copy[n] = '\0';
        cmdline = (const char *)(uintptr_t)start_info->cmdline_paddr;
    }

    int argc = split(cmdline_copy, argv, ARRAY_SIZE(argv));
    int prog = -1;
    for (unsigned i = 0; argc > 0 && i < ARRAY_SIZE(programs); i++)
        if (!strcmp(argv[0], programs[i].name))
            prog = (int)i;

    long rc = shared_info_map();
    if (rc)
        fail("map shared_info", "XENMEM_add_to_physmap: %s", errname(rc));
    else if ((prog < 0 || !programs[prog].own_delivery) && (rc = events_init_cpu()))
        fail("upcall vector", "HVMOP_set_evtchn_upcall_vector: %s", errname(rc));
    percpu[0].online = true;
    irq_enable();

    if (argc == 0) {
        fail("command line", "empty: name a program (hello, version, evtchn, ...)");
        finish();
    }
    if (prog >= 0) {
        programs[prog].fn(argc, argv);
        finish();
    }
    fail("command line", "unknown program '%s'", argv[0]);
    finish();
}
