/* hello: output through the PV console ring (printf), lines for the
 * hypervisor's log through console_io and port 0xE9, and the parsed command
 * line and boot information. */
#include "xtest.h"
#include "console.h"
#include "hypercall.h"
#include "report.h"

static void conio(const char *s)
{
    HYPERVISOR_console_io(CONSOLEIO_write, strlen(s), s);
}

void prog_hello(int argc, char **argv)
{
    printf("Hello from xtest\n");
    printf("cmdline: '%s'\n", cmdline);
    for (int i = 0; i < argc; i++)
        printf("argv[%d] = '%s'\n", i, argv[i]);
    printf("start_info: version %u flags 0x%x nr_modules %u memmap_entries %u rsdp 0x%lx\n",
           start_info->version, start_info->flags, start_info->nr_modules,
           start_info->version >= 1 ? start_info->memmap_entries : 0,
           (unsigned long)start_info->rsdp_paddr);
    check(start_info->version >= 1, "start_info version >= 1", "version %u",
          start_info->version);
    if (start_info->nr_modules) {
        /* The first module's bytes as the loader placed them (FNV-1a). */
        const struct hvm_modlist_entry *m = (const void *)(uintptr_t)start_info->modlist_paddr;
        const uint8_t *p = (const void *)(uintptr_t)m->paddr;
        uint32_t h = 2166136261u;
        for (uint64_t i = 0; i < m->size; i++)
            h = (h ^ p[i]) * 16777619u;
        printf("module 0: %lu bytes at 0x%lx, fnv1a 0x%x\n", (unsigned long)m->size,
               (unsigned long)m->paddr, h);
    }

    long rc = console_ring_init();
    if (check(rc == 0, "PV console ring found", "HVM_PARAM_CONSOLE_PFN/EVTCHN: %s",
              errname(rc))) {
        static const char line[] = "Hello from xtest via the PV console ring\n";
        rc = console_ring_write(line, sizeof(line) - 1);
        check(rc == (long)sizeof(line) - 1, "PV console ring write", "returned %s",
              errname(rc));
    }

    /* The hypervisor's log: one line buffer for console_io and port 0xE9,
     * complete lines only, non-printable bytes dropped (the test reads the
     * "(dN) " lines on xenkvm's stderr). */
    static const char hello[] = "Hello from xtest via console_io\n";
    rc = HYPERVISOR_console_io(CONSOLEIO_write, sizeof(hello) - 1, hello);
    check(rc == 0, "console_io write", "returned %s", errname(rc));
    static const char e9[] = "Hello from xtest via port 0xE9\n";
    for (const char *c = e9; *c; c++)
        outb(0xe9, *c);
    conio("split ");
    for (const char *c = "e9 \x01\x7f"; *c; c++)
        outb(0xe9, *c);
    conio("line\x02\tend\nnext");
    conio(" line\n");
}
