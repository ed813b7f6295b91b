/* Assembler pieces boot.S / boot32.S and isr.S / isr32.S share. */
#pragma once

#define XEN_ELFNOTE_HYPERCALL_PAGE 2
#define XEN_ELFNOTE_GUEST_OS       6
#define XEN_ELFNOTE_PHYS32_ENTRY   18

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10

/* One ELF note with name "Xen"; the descriptor is whatever follows the macro up
 * to xen_note_end. */
.macro xen_note type
    .p2align 2
    .long 2f - 1f
    .long 4f - 3f
    .long \type
1:  .asciz "Xen"
2:  .p2align 2
3:
.endm
.macro xen_note_end
4:  .p2align 2
.endm

/* %ds, %es, %ss, %fs and %gs loaded with the flat data segment. */
.macro load_data_segments
    mov $KERNEL_DS, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov %eax, %fs
    mov %eax, %gs
.endm

/* Interrupt entry stubs: one 16-byte stub per vector (isr_stubs + 16*vector).
 * Each pushes a zero error code when the CPU pushes none, then its vector, and
 * joins isr_common (the same bytes in 32- and 64-bit code). */
.macro isr_stub_table
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
.endm
