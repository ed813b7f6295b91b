#include "kvm/guest_va.h"
#include <errno.h>
#include <string.h>

#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_PS  (1ull << 7)
#define CR0_PG  (1ull << 31)
#define CR0_WP  (1ull << 16)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define ADDR_MASK 0x000ffffffffff000ull

void guest_va_init(struct guest_va *g, struct vm *vm, const struct kvm_sregs *s)
{
    g->vm = vm;
    g->cr0 = s->cr0;
    g->cr3 = s->cr3;
    g->cr4 = s->cr4;
    g->efer = s->efer;
    g->xlat = NULL;
    g->xlat_va = g->xlat_len = 0;
}

void guest_va_set_xlat(struct guest_va *g, void *buf, uint64_t va, size_t len)
{
    g->xlat = buf;
    g->xlat_va = buf ? va : 0;
    g->xlat_len = buf ? len : 0;
}

/* 1: [va, va+len) is in the window (*p set); 0: it does not touch it; -1: it
 * overlaps the window's edge or wraps. */
static int in_xlat(const struct guest_va *g, uint64_t va, size_t len, uint8_t **p)
{
    if (!g->xlat)
        return 0;
    uint64_t end = va + len;
    if (end < va)
        return -1;
    if (end <= g->xlat_va || va >= g->xlat_va + g->xlat_len)
        return 0;
    if (va < g->xlat_va || end > g->xlat_va + g->xlat_len)
        return -1;
    *p = g->xlat + (va - g->xlat_va);
    return 1;
}

static int read_entry(const struct guest_va *g, uint64_t gpa, unsigned size, uint64_t *e)
{
    uint8_t *p = vm_gpa(g->vm, gpa, size);
    if (!p)
        return -EFAULT;
    uint64_t v = 0;
    memcpy(&v, p, size);
    *e = v;
    return 0;
}

int guest_va_translate(const struct guest_va *g, uint64_t va, bool write, uint64_t *gpa)
{
    if (!(g->cr0 & CR0_PG)) {
        *gpa = va & 0xffffffffull;
        return 0;
    }
    bool wp = g->cr0 & CR0_WP;
    bool rw = true;
    uint64_t e, table;
    if (g->efer & EFER_LMA) {
        int levels = (g->cr4 & CR4_LA57) ? 5 : 4;
        int bits = 12 + 9 * levels;
        /* canonical: bits 63..bits-1 all equal */
        int64_t sext = (int64_t)(va << (64 - bits)) >> (64 - bits);
        if ((uint64_t)sext != va)
            return -EFAULT;
        table = g->cr3 & ADDR_MASK;
        for (int lvl = levels; lvl >= 1; lvl--) {
            int shift = 12 + 9 * (lvl - 1);
            if (read_entry(g, table + ((va >> shift) & 511) * 8, 8, &e) < 0 || !(e & PTE_P))
                return -EFAULT;
            rw = rw && (e & PTE_RW);
            if (lvl <= 3 && lvl > 1 && (e & PTE_PS)) {
                uint64_t mask = (1ull << shift) - 1;
                *gpa = (e & ADDR_MASK & ~mask) | (va & mask);
                goto done;
            }
            table = e & ADDR_MASK;
        }
        *gpa = table | (va & 0xfff);
    } else if (g->cr4 & CR4_PAE) {
        va &= 0xffffffffull;
        if (read_entry(g, (g->cr3 & 0xffffffe0ull) + (va >> 30) * 8, 8, &e) < 0 || !(e & PTE_P))
            return -EFAULT;
        table = e & ADDR_MASK;
        if (read_entry(g, table + ((va >> 21) & 511) * 8, 8, &e) < 0 || !(e & PTE_P))
            return -EFAULT;
        rw = e & PTE_RW;
        if (e & PTE_PS) {
            *gpa = (e & ADDR_MASK & ~0x1fffffull) | (va & 0x1fffff);
            goto done;
        }
        table = e & ADDR_MASK;
        if (read_entry(g, table + ((va >> 12) & 511) * 8, 8, &e) < 0 || !(e & PTE_P))
            return -EFAULT;
        rw = rw && (e & PTE_RW);
        *gpa = (e & ADDR_MASK) | (va & 0xfff);
    } else {
        va &= 0xffffffffull;
        if (read_entry(g, (g->cr3 & 0xfffff000ull) + (va >> 22) * 4, 4, &e) < 0 || !(e & PTE_P))
            return -EFAULT;
        rw = e & PTE_RW;
        if ((e & PTE_PS) && (g->cr4 & CR4_PSE)) {
            *gpa = (e & 0xffc00000ull) | (va & 0x3fffff);
            goto done;
        }
        table = e & 0xfffff000ull;
        if (read_entry(g, table + ((va >> 12) & 1023) * 4, 4, &e) < 0 || !(e & PTE_P))
            return -EFAULT;
        rw = rw && (e & PTE_RW);
        *gpa = (e & 0xfffff000ull) | (va & 0xfff);
    }
done:
    if (write && wp && !rw)
        return -EFAULT;
    return 0;
}

static int copy(const struct guest_va *g, uint64_t va, void *buf, size_t len, bool to_guest)
{
    uint8_t *b = buf, *x;
    int w = in_xlat(g, va, len, &x);
    if (w < 0)
        return -EFAULT;
    if (w > 0) {
        memmove(to_guest ? x : b, to_guest ? b : x, len);
        return 0;
    }
    while (len) {
        size_t chunk = PAGE_SIZE - (va & (PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        uint64_t gpa;
        if (guest_va_translate(g, va, to_guest, &gpa) < 0)
            return -EFAULT;
        uint8_t *p = vm_gpa(g->vm, gpa, chunk);
        if (!p)
            return -EFAULT;
        if (to_guest)
            memcpy(p, b, chunk);
        else
            memcpy(b, p, chunk);
        b += chunk;
        va += chunk;
        len -= chunk;
    }
    return 0;
}

int guest_copy_from(const struct guest_va *g, void *dst, uint64_t va, size_t len)
{
    return copy(g, va, dst, len, false);
}

int guest_copy_to(const struct guest_va *g, uint64_t va, const void *src, size_t len)
{
    return copy(g, va, (void *)src, len, true);
}
