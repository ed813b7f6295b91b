/* Direct hypercall instructions, shaped as current Linux kernels issue them:
 * xen_hypercall_intel / xen_hypercall_amd are aligned function entries that
 * execute vmcall / vmmcall with the hypercall number and arguments set up by
 * the caller. xenkvm must find and rewrite these sites at load time (and leaves
 * KVM-style inline `mov $nr,%eax; vmcall` alone, which is not a Xen stub).
 * The xen_version_* wrappers take (cmd, arg) in %rdi/%rsi. */
#define HYPERVISOR_xen_version 17

    .text
    .byte 0xcc              /* filler: the stub below starts a function */
    .p2align 4, 0xcc
    .globl xen_hypercall_intel
xen_hypercall_intel:
    vmcall
    ret

    .p2align 4, 0xcc
    .globl xen_hypercall_amd
xen_hypercall_amd:
    vmmcall
    ret

    .p2align 4
    .globl xen_version_vmcall
xen_version_vmcall:
    mov $HYPERVISOR_xen_version, %eax
    jmp xen_hypercall_intel

    .p2align 4
    .globl xen_version_vmmcall
xen_version_vmmcall:
    mov $HYPERVISOR_xen_version, %eax
    jmp xen_hypercall_amd

    .section .note.GNU-stack, "", @progbits
