/* Direct hypercall instructions, as current Linux kernels and Xen's PV shim
 * issue them instead of calling into the hypercall page. xenkvm must find and
 * rewrite these sites at load time. Each takes (arg1, arg2) in %rdi/%rsi as
 * xen_version(cmd, arg) does. */
#define HYPERVISOR_xen_version 17

    .text
    .p2align 4
    .globl xen_version_vmcall
xen_version_vmcall:
    mov $HYPERVISOR_xen_version, %eax
    vmcall
    ret

    .p2align 4
    .globl xen_version_vmmcall
xen_version_vmmcall:
    mov $HYPERVISOR_xen_version, %eax
    vmmcall
    ret
