/* PVH entry: Xen's PVH ABI starts us in 32-bit protected mode with paging off
 * and %ebx = physical address of struct hvm_start_info. This host's KVM only
 * runs 64-bit code well, so the stub switches to long mode at once using page
 * tables that are prebuilt in .data (no table-building loop in 32-bit code). */

#include "asm.h"

    .section .note.Xen, "a", @note
    xen_note XEN_ELFNOTE_PHYS32_ENTRY
    .long pvh_start32
    xen_note_end
    xen_note XEN_ELFNOTE_GUEST_OS
    .asciz "xtest"
    xen_note_end
    xen_note XEN_ELFNOTE_HYPERCALL_PAGE
    .quad hypercall_page
    xen_note_end

    .section .text.boot, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0x20, %eax                 /* CR4.PAE */
    mov %eax, %cr4
    mov $0xc0000080, %ecx           /* EFER.LME */
    mov $0x100, %eax
    xor %edx, %edx
    wrmsr
    mov $0x80010033, %eax           /* CR0: PG WP NE ET MP PE */
    mov %eax, %cr0
    lgdt boot_gdtr
    ljmp $KERNEL_CS, $start64

    .code64
start64:
    load_data_segments
    mov %ebx, %r12d                 /* start_info (zero-extended) */
    /* The loader zeroes .bss as Xen's does; do it again rather than rely on it,
     * eight bytes a step (both ends are 16-byte aligned): under an emulating KVM
     * each string-instruction step costs as much as a whole instruction. */
    lea __bss_start(%rip), %rdi
    lea __bss_end(%rip), %rcx
    sub %rdi, %rcx
    shr $3, %rcx
    xor %eax, %eax
    rep stosq
    lea boot_stack_top(%rip), %rsp
    xor %ebp, %ebp
    mov %r12, %rdi
    call xtest_main
1:  cli
    hlt
    jmp 1b

/* Secondary vCPUs enter here in 64-bit mode (VCPUOP_initialise, VCPU_HVM_MODE_64B)
 * with our CR3 but no GDT or IDT of their own yet. %rdi = argument for ap_main,
 * %rsp = their stack. */
    .globl ap_start64
ap_start64:
    lgdt boot_gdtr
    lea 2f(%rip), %rax
    push $KERNEL_CS
    push %rax
    lretq
2:  load_data_segments
    xor %ebp, %ebp
    call ap_main
3:  cli
    hlt
    jmp 3b

/* Filled by the hypervisor when its address is written to the MSR from CPUID.
 * Until then every 32-byte slot traps with #UD, so a missing fill is obvious. */
    .section .text.hypercall_page, "ax"
    .p2align 12
    .globl hypercall_page
hypercall_page:
    .rept 128
    ud2
    .fill 30, 1, 0x90
    .endr

    .data
    .p2align 3
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff        /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
boot_gdt_end:
    /* Read as 6 bytes by the 32-bit lgdt and as 10 by the 64-bit one. */
    .p2align 3
    .globl boot_gdtr
boot_gdtr:
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

/* Identity map of the low 4 GiB with 2 MiB pages. The top GiB (MMIO: local
 * APIC, and addresses beyond RAM) is mapped uncached. */
    .p2align 12
    .globl boot_pml4
boot_pml4:
    .quad boot_pdpt + 0x3
    .fill 511, 8, 0
boot_pdpt:
    .quad boot_pd + 0x0000 + 0x3
    .quad boot_pd + 0x1000 + 0x3
    .quad boot_pd + 0x2000 + 0x3
    .quad boot_pd + 0x3000 + 0x3
    .fill 508, 8, 0
boot_pd:
    .set addr, 0
    .rept 2048
    .if addr < 0xc0000000
    .quad addr + 0x83               /* present, writable, 2 MiB */
    .else
    .quad addr + 0x9b               /* ... and PCD|PWT */
    .endif
    .set addr, addr + 0x200000
    .endr

    .bss
    .p2align 12
boot_stack:
    .skip 16384
    .globl boot_stack_top
boot_stack_top:
