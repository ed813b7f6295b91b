/* xtest32's interrupt entry: the stubs (asm.h's isr_stub_table) join
 * isr_common, which saves the registers (pushal) as struct trap_frame
 * (traps.h) and calls trap_dispatch(frame). */

#include "asm.h"

    .text
    .code32
    isr_stub_table

    .p2align 4
isr_common:
    pushal
    mov %esp, %eax
    cld
    push %eax
    call trap_dispatch
    add $4, %esp
    /* Return without iret, which KVM's instruction emulator does not do in
     * protected mode (it emulates this host's 32-bit guests): reorder the
     * CPU's eip, cs, eflags to eflags, eip, cs, then popf and a far return. */
    mov 40(%esp), %eax              /* eip */
    mov 44(%esp), %ebx              /* cs */
    mov 48(%esp), %ecx              /* eflags */
    mov %ecx, 40(%esp)
    mov %eax, 44(%esp)
    mov %ebx, 48(%esp)
    popal
    add $8, %esp                    /* vector, error code */
    popf
    lret

    .section .note.GNU-stack, "", @progbits
