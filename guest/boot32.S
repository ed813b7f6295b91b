/* xtest32's PVH entry: Xen's PVH ABI starts us in 32-bit protected mode with
 * paging off and %ebx = physical address of struct hvm_start_info, and here
 * we stay: no paging, flat segments from our own GDT (code 0x08, data 0x10,
 * then one data segment per vCPU whose base is its struct percpu, loaded in
 * %gs by percpu_init). The image has no hypercall-page note and no vmcall:
 * it installs its page through the MSR, as GRUB and Mini-OS do. */

#include "asm.h"

#define MAX_CPUS  8

    .section .note.Xen, "a", @note
    xen_note XEN_ELFNOTE_PHYS32_ENTRY
    .long pvh_start32
    xen_note_end
    xen_note XEN_ELFNOTE_GUEST_OS
    .asciz "xtest32"
    xen_note_end

    .section .text.boot, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    lgdt boot_gdtr
    ljmp $KERNEL_CS, $1f
1:  load_data_segments
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    shr $2, %ecx
    xor %eax, %eax
    rep stosl
    mov $boot_stack_top, %esp
    xor %ebp, %ebp
    push $0                         /* start_info's high half */
    push %ebx
    call xtest_main
2:  cli
    hlt
    jmp 2b

/* Secondary vCPUs enter here (VCPUOP_initialise, VCPU_HVM_MODE_32B) with
 * flat segments and their stack; %edi = the vCPU id for ap_main. */
    .globl ap_start32
ap_start32:
    lgdt boot_gdtr
    ljmp $KERNEL_CS, $1f
1:  load_data_segments
    xor %ebp, %ebp
    push %edi
    call ap_main
2:  cli
    hlt
    jmp 2b

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
    .globl boot_gdt
boot_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
    .fill MAX_CPUS, 8, 0            /* 0x18 + 8 * id: vCPU id's %gs */
boot_gdt_end:
    .p2align 3
boot_gdtr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .bss
    .p2align 12
boot_stack:
    .skip 16384
    .globl boot_stack_top
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
