#include "traps.h"
#include "hypercall.h"

#define APIC_BASE 0xfee00000UL
#define APIC_TPR  0x80
#define APIC_EOI  0xb0
#define APIC_SVR  0xf0

#ifdef __x86_64__
struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, reserved;
} __attribute__((packed));
#define GATE(a) (struct idt_gate){ .off_lo = (uint16_t)(a), .sel = 0x08, .type = 0x8e, \
                                   .off_mid = (uint16_t)((a) >> 16), .off_hi = (uint32_t)((uint64_t)(a) >> 32) }
#else
struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t zero, type;
    uint16_t off_hi;
} __attribute__((packed));
#define GATE(a) (struct idt_gate){ .off_lo = (uint16_t)(a), .sel = 0x08, .type = 0x8e, \
                                   .off_hi = (uint16_t)((a) >> 16) }
#endif

static struct idt_gate idt[256] ALIGNED(16);
static irq_handler_t handlers[256];
extern const uint8_t isr_stubs[];

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MP", "#TS", "#NP",
    "#SS", "#GP", "#PF", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void traps_init(void)
{
    static bool built;
    if (!built) {
        for (unsigned v = 0; v < 256; v++)
            idt[v] = GATE((uintptr_t)isr_stubs + 16 * v);   /* present interrupt gate */
        built = true;
    }
    struct {
        uint16_t limit;
        uintptr_t base;
    } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uintptr_t)idt };
    asm volatile("lidt %0" :: "m"(idtr));
}

void set_irq_handler(unsigned vector, irq_handler_t fn)
{
    handlers[vector & 0xff] = fn;
}

void apic_init(void)
{
    mmio_write32(APIC_BASE + APIC_TPR, 0);
    mmio_write32(APIC_BASE + APIC_SVR, 0x100 | VECTOR_SPURIOUS);
}

void apic_eoi(void)
{
    mmio_write32(APIC_BASE + APIC_EOI, 0);
}

void trap_dispatch(struct trap_frame *f)
{
    unsigned v = (unsigned)f->vector;
    if (v == 2 && handlers[2]) {       /* an NMI a program waits for */
        handlers[2](f);
        return;
    }
    if (v >= 32) {
        if (handlers[v])
            handlers[v](f);
        else if (v != VECTOR_SPURIOUS) {
            printf("unexpected interrupt vector %u\n", v);
            apic_eoi();
        }
        return;
    }
    unsigned long cr2;
    asm volatile("mov %%cr2, %0" : "=r"(cr2));
#ifdef __x86_64__
    unsigned long ip = f->rip, sp = f->rsp;
#else
    unsigned long ip = f->eip, sp = f->esp + 20;   /* before vector, error code and the CPU's 3 words */
#endif
    printf("EXCEPTION vector %u %s error_code 0x%lx rip 0x%lx rsp 0x%lx cr2 0x%lx\n", v,
           exc_names[v] ? exc_names[v] : "", (unsigned long)f->error_code, ip, sp, cr2);
    printf("RESULT FAIL exception\n");
    shutdown(SHUTDOWN_crash);
}
