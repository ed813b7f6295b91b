/* domxml-from-native / domxml-to-native: libvirt domain XML to and from xl/xm
 * configs, as `virsh domxml-from-native xen-xl|xen-xm` does. */
#include "cli/cli.h"
#include "config/diag.h"
#include "config/domxml.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int convert(int argc, char **argv, bool to_xml)
{
    const char *cmd = to_xml ? "domxml-from-native" : "domxml-to-native";
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
        return cli_usage(cmd, 1);
    enum native_fmt fmt;
    if (argc < 3 || (!to_xml && argc != 3))
        return cli_usage(cmd, 0);
    if (native_fmt_parse(argv[1], &fmt)) {
        fprintf(stderr, "xenkvm: error: %s: format '%s' is not xen-xl or xen-xm\n", cmd, argv[1]);
        return 1;
    }
    struct cfg_diag d = { 0 };
    char *out = to_xml ? domxml_from_native_file(fmt, argv[2], argc - 3, argv + 3, &d)
                       : domxml_to_native_file(fmt, argv[2], &d);
    diag_print(&d, stderr);
    if (out)
        fputs(out, stdout);
    free(out);
    diag_free(&d);
    return out ? 0 : 1;
}

int cmd_domxml_from_native(int argc, char **argv) { return convert(argc, argv, true); }
int cmd_domxml_to_native(int argc, char **argv) { return convert(argc, argv, false); }
