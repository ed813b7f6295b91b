/* xtest32's interrupt entry stubs: one 16-byte stub per vector (isr_stubs +
 * 16*vector), as isr.S for 64-bit: a zero error code where the CPU pushes
 * none, the vector, then isr_common saves the registers (pushal) as struct
 * trap_frame (traps.h) and calls trap_dispatch(frame). */

    .text
    .code32
    .p2align 4
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .p2align 4
    .if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    push $0
    .endif
    push $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

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
