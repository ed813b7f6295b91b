/* hello: console_io output, one line through the PV console ring, and the
 * parsed command line and boot information. */
#include "xtest.h"
#include "console.h"
#include "hypercall.h"
#include "report.h"

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
}
