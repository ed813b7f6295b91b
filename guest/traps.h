/* IDT, exception reporting, interrupt handler registration, local APIC. */
#pragma once
#include "lib.h"

#ifdef __x86_64__
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};
#else
/* isr32.S: pushal's registers, then the stub's and the CPU's words (no stack
 * switch: ring 0 only). */
struct trap_frame {
    uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
    uint32_t vector, error_code;
    uint32_t eip, cs, eflags;
};
#endif

typedef void (*irq_handler_t)(struct trap_frame *f);

#define VECTOR_UPCALL   0xf3
#define VECTOR_SPURIOUS 0xff

/* Builds the IDT (once) and loads it on the calling CPU. */
void traps_init(void);
void set_irq_handler(unsigned vector, irq_handler_t fn);

/* Enables this CPU's xAPIC (spurious-vector register bit 8). */
void apic_init(void);
void apic_eoi(void);
