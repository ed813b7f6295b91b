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

    long rc = console_ring_init();
    if (check(rc == 0, "PV console ring found", "HVM_PARAM_CONSOLE_PFN/EVTCHN: %s",
              errname(rc))) {
        static const char line[] = "Hello from xtest via the PV console ring\n";
        rc = console_ring_write(line, sizeof(line) - 1);
        check(rc == (long)sizeof(line) - 1, "PV console ring write", "returned %s",
              errname(rc));
    }
}
