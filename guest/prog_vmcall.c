/* vmcall: the same hypercall through direct vmcall and vmmcall instructions
 * (hcall_direct.S), which the VMM rewrites at load time, and through the page. */
#include "xtest.h"
#include "hypercall.h"
#include "report.h"

void prog_vmcall(int argc, char **argv)
{
    (void)argc, (void)argv;
    const long want = 0x00040011; /* 4.17 */
    long v = HYPERVISOR_xen_version(XENVER_version, NULL);
    check(v == want, "xen_version via hypercall page", "got 0x%lx", v);
    v = xen_version_vmcall(XENVER_version, NULL);
    check(v == want, "xen_version via vmcall", "got 0x%lx", v);
    v = xen_version_vmmcall(XENVER_version, NULL);
    check(v == want, "xen_version via vmmcall", "got 0x%lx", v);

    /* A call with a pointer argument through each path. */
    xen_extraversion_t a, b, c;
    memset(a, 0x55, sizeof(a));
    memset(b, 0x66, sizeof(b));
    memset(c, 0x77, sizeof(c));
    long ra = HYPERVISOR_xen_version(XENVER_extraversion, a);
    long rb = xen_version_vmcall(XENVER_extraversion, b);
    long rc = xen_version_vmmcall(XENVER_extraversion, c);
    check(ra == 0 && rb == 0 && rc == 0 && !memcmp(a, b, sizeof(a)) && !memcmp(a, c, sizeof(a)),
          "extraversion identical via page, vmcall and vmmcall",
          "rc %s/%s/%s, '%.16s' '%.16s' '%.16s'", errname(ra), errname(rb), errname(rc), a, b, c);
}
