/* Interrupt entry stubs: one 16-byte stub per vector (isr_stubs + 16*vector).
 * Each pushes a zero error code when the CPU pushes none, then its vector,
 * and joins isr_common, which saves the general registers as struct trap_frame
 * (traps.h) and calls trap_dispatch(frame). */

    .text
    .p2align 4
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .p2align 4
    /* vectors with a CPU-pushed error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX */
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
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    cld
    call trap_dispatch
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp                   /* vector, error code */
    iretq
