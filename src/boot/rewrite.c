/* Rewriting of direct Xen hypercall instructions.
 *
 * KVM on this host has no Xen support, so a guest's vmcall/vmmcall never
 * reaches xenkvm. Before the guest runs, each real Xen hypercall instruction
 * (vmcall 0F 01 C1, vmmcall 0F 01 D9) becomes `out %eax, $0x5e; nop`
 * (E7 5E 90), which exits to xenkvm with the hypercall number still in eax.
 *
 * Acceptance rule. A byte-pattern match alone is not enough: the three bytes
 * also occur in data inside text (kallsyms tables), in immediates and
 * displacements, as the tail of SEV's VMGEXIT (F3 0F 01 D9), and as genuine
 * instructions of other hypervisors' paravirt code (KVM's kvm_hypercall*,
 * VMware's backdoor, Hyper-V's GHCB calls), which must stay untouched.
 * What the real images contain (Debian 12 cloud kernel 6.1.0-56, Xen 4.17.7
 * PV shim; see tests/test_boot_images.py) is Xen hypercalls issued through
 * small stubs or through vendor alternatives, and those shapes are accepted:
 *
 *  S1 stub at a function entry: `vmcall|vmmcall` at a 16-byte aligned
 *     address, immediately followed by a return (C3 ret, or E9 rel32: the
 *     kernel's jmp to its return thunk), and preceded by alignment filler that
 *     ends exactly at the site (region start, int3 CC, ret C3, or one of the
 *     canonical NOP encodings). Linux: xen_hypercall_amd/xen_hypercall_intel.
 *     The hypercall number and arguments come from the caller, which is the
 *     Xen stub convention; KVM/VMware/ACRN code sets eax itself in the same
 *     function, so its instruction is never the first of an aligned function.
 *  S2 vendor stub pair behind a short branch: `jcc/jmp +d; A; ret; B; ret`
 *     where {A, B} = {vmcall, vmmcall} and d skips exactly `A; ret`.
 *     Xen shim: early_hypercall (`je 1f; vmmcall; ret; 1: vmcall; ret`).
 *  P  vendor alternative pair: `vmmcall` immediately followed by `vmcall`
 *     (0F 01 D9 0F 01 C1), not preceded by F3. These are the two replacements
 *     of Xen's ALTERNATIVE_2("call early_hypercall", "vmmcall", "vmcall") in
 *     .altinstr_replacement; rewriting them means the instruction the shim
 *     patches over each call site at boot is already the trapping `out`.
 *     The only other pair in the Linux image is VMware's, listed vmcall first
 *     (0F 01 C1 0F 01 D9), which this rule deliberately does not match.
 *
 * Everything else is left alone: KVM's inline `mov $nr,%eax; vmcall; pop`,
 * VMware's `or $-1,%ebx; vmcall; jmp`, VMGEXIT, isolated replacements of KVM's
 * ALTERNATIVE("vmcall", "vmmcall"), and data. On the real Debian kernel this
 * selects exactly the two sites in xen_hypercall_amd/intel out of 37 byte
 * matches in its executable segments (objdump's linear sweep decodes 20 of
 * them as vmcall/vmmcall: those 2 and 18 KVM/VMware ones; most others are
 * SEV's VMGEXIT). In the shim it selects all 104 matches: early_hypercall's 2
 * and 51 replacement pairs (the shim has 51 `call early_hypercall` sites),
 * each an instruction start in a linear sweep.
 */
#include "boot/loader.h"
#include "boot/stream.h"

#include <immintrin.h>
#include <string.h>

#define OP_VMCALL  0xc1  /* third byte of 0F 01 C1 */
#define OP_VMMCALL 0xd9  /* third byte of 0F 01 D9 */

/* A site is rewritten only once the scan is this far past it, so that every
 * rule's look-behind still sees the original bytes. */
#define LOOKBEHIND 16
#define PENDING_MAX 8    /* sites are >= 3 bytes apart: at most 6 pending */

/* vmcall or vmmcall starts at i. */
static bool hcall_at(const uint8_t *c, size_t len, size_t i)
{
    return i < len && len - i >= 3 && c[i] == 0x0f && c[i + 1] == 0x01 &&
           (c[i + 2] == OP_VMCALL || c[i + 2] == OP_VMMCALL);
}

/* Length of a return instruction starting at i: C3 (ret) or E9 rel32 (jmp,
 * Linux's return thunk); 0 if there is none. */
static size_t return_len(const uint8_t *c, size_t len, size_t i)
{
    if (i < len && c[i] == 0xc3)
        return 1;
    if (i < len && c[i] == 0xe9 && len - i >= 5)
        return 5;
    return 0;
}

/* The bytes before i end with alignment filler (or i is the region start). */
static bool filler_before(const uint8_t *c, size_t i)
{
    static const struct { uint8_t n; uint8_t b[10]; } nops[] = {
        { 1, { 0x90 } },
        { 2, { 0x66, 0x90 } },
        { 3, { 0x0f, 0x1f, 0x00 } },
        { 4, { 0x0f, 0x1f, 0x40, 0x00 } },
        { 5, { 0x0f, 0x1f, 0x44, 0x00, 0x00 } },
        { 6, { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 } },
        { 7, { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 } },
        { 8, { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 } },
        { 9, { 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 } },
        { 10, { 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 } },
    };
    if (i == 0)
        return true;
    if (c[i - 1] == 0xcc || c[i - 1] == 0xc3)
        return true;
    for (size_t k = 0; k < sizeof(nops) / sizeof(nops[0]); k++)
        if (i >= nops[k].n && !memcmp(c + i - nops[k].n, nops[k].b, nops[k].n))
            return true;
    return false;
}

/* S1: an aligned stub entry. */
static bool rule_stub(const uint8_t *c, size_t len, uint64_t base, size_t i)
{
    return ((base + i) & 15) == 0 && return_len(c, len, i + 3) && filler_before(c, i);
}

/* S2 seen from the first stub A at i: a short branch right before it skips
 * exactly `A; ret` and lands on `B; ret` with B the other vendor's insn. */
static bool pair_from_first(const uint8_t *c, size_t len, size_t i)
{
    if (i < 2 || !hcall_at(c, len, i))
        return false;
    uint8_t op = c[i - 2];
    if (!((op >= 0x70 && op <= 0x7f) || op == 0xeb))
        return false;
    size_t r = return_len(c, len, i + 3);
    size_t d = c[i - 1];
    if (!r || d != 3 + r)
        return false;
    size_t j = i + d;
    return hcall_at(c, len, j) && c[j + 2] != c[i + 2] && return_len(c, len, j + 3);
}

/* S2 seen from either stub. */
static bool rule_stub_pair(const uint8_t *c, size_t len, size_t i)
{
    if (pair_from_first(c, len, i))
        return true;
    /* i is B: A is 4 (ret) or 8 (jmp rel32) bytes before. */
    return (i >= 4 && pair_from_first(c, len, i - 4) && c[i - 1] == 0xc3) ||
           (i >= 8 && pair_from_first(c, len, i - 8) && c[i - 5] == 0xe9);
}

/* P: vmmcall then vmcall, adjacent, with no F3 prefix (VMGEXIT) before. */
static bool vendor_pair_at(const uint8_t *c, size_t len, size_t i)
{
    return hcall_at(c, len, i) && c[i + 2] == OP_VMMCALL &&
           hcall_at(c, len, i + 3) && c[i + 5] == OP_VMCALL &&
           !(i > 0 && c[i - 1] == 0xf3);
}

static bool rule_alt_pair(const uint8_t *c, size_t len, size_t i)
{
    return vendor_pair_at(c, len, i) || (i >= 3 && vendor_pair_at(c, len, i - 3));
}

static bool accept(const uint8_t *c, size_t len, uint64_t base, size_t i)
{
    return hcall_at(c, len, i) &&
           (rule_stub(c, len, base, i) || rule_stub_pair(c, len, i) || rule_alt_pair(c, len, i));
}

static void patch(uint8_t *p)
{
    p[0] = 0xe7;               /* out %eax, $imm8 */
    p[1] = XENKVM_HCALL_PORT;
    p[2] = 0x90;               /* nop */
}

/* The first offset >= i where a vmcall or vmmcall byte pattern starts (len if
 * none). Only these offsets can be sites, so the rules above run on them alone:
 * 16 offsets at a time, comparing three shifted loads with 0F, 01 and C1/D9
 * (SSE2, which every x86-64 CPU has), then byte by byte for the last few. */
static size_t next_candidate_sse2(const uint8_t *c, size_t len, size_t i)
{
    const __m128i op0 = _mm_set1_epi8(0x0f), op1 = _mm_set1_epi8(0x01);
    const __m128i vmcall = _mm_set1_epi8((char)OP_VMCALL), vmmcall = _mm_set1_epi8((char)OP_VMMCALL);
    for (; len >= 18 && i <= len - 18; i += 16) {
        __m128i b0 = _mm_loadu_si128((const __m128i *)(c + i));
        __m128i b1 = _mm_loadu_si128((const __m128i *)(c + i + 1));
        __m128i b2 = _mm_loadu_si128((const __m128i *)(c + i + 2));
        __m128i m = _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(b0, op0), _mm_cmpeq_epi8(b1, op1)),
                                  _mm_or_si128(_mm_cmpeq_epi8(b2, vmcall), _mm_cmpeq_epi8(b2, vmmcall)));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits)
            return i + (size_t)__builtin_ctz(bits);
    }
    for (; i + 3 <= len; i++)
        if (hcall_at(c, len, i))
            return i;
    return len;
}

/* The same, 32 offsets at a time where the CPU has AVX2 (twice the SSE2
 * loop's speed on a kernel's 40 MB of executable segments). */
__attribute__((target("avx2")))
static size_t next_candidate_avx2(const uint8_t *c, size_t len, size_t i)
{
    const __m256i op0 = _mm256_set1_epi8(0x0f), op1 = _mm256_set1_epi8(0x01);
    const __m256i vmcall = _mm256_set1_epi8((char)OP_VMCALL), vmmcall = _mm256_set1_epi8((char)OP_VMMCALL);
    for (; len >= 34 && i <= len - 34; i += 32) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(c + i));
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(c + i + 1));
        __m256i b2 = _mm256_loadu_si256((const __m256i *)(c + i + 2));
        __m256i m = _mm256_and_si256(_mm256_and_si256(_mm256_cmpeq_epi8(b0, op0), _mm256_cmpeq_epi8(b1, op1)),
                                     _mm256_or_si256(_mm256_cmpeq_epi8(b2, vmcall),
                                                     _mm256_cmpeq_epi8(b2, vmmcall)));
        unsigned bits = (unsigned)_mm256_movemask_epi8(m);
        if (bits)
            return i + (size_t)__builtin_ctz(bits);
    }
    return next_candidate_sse2(c, len, i);
}

static size_t next_candidate(const uint8_t *c, size_t len, size_t i)
{
    return __builtin_cpu_supports("avx2") ? next_candidate_avx2(c, len, i) : next_candidate_sse2(c, len, i);
}

unsigned hcall_scan(const uint8_t *code, size_t len, uint64_t base,
                    void (*site)(void *opaque, size_t off), void *opaque)
{
    size_t pending[PENDING_MAX];
    unsigned npending = 0, count = 0;
    if (!code || len < 3)
        return 0;
    /* Rules are applied at every byte-pattern match, in order, exactly as a
     * byte-by-byte walk would: the offsets in between cannot be sites. A site
     * is reported once the scan is LOOKBEHIND past it, so that a caller
     * patching code in place never changes bytes a rule still looks at. */
    for (size_t i = next_candidate(code, len, 0); i < len; i = next_candidate(code, len, i + 1)) {
        while (npending && pending[0] + LOOKBEHIND <= i) {
            site(opaque, pending[0]);
            memmove(pending, pending + 1, --npending * sizeof(pending[0]));
        }
        if (!accept(code, len, base, i))
            continue;
        pending[npending++] = i;
        count++;
        i += 2;  /* sites do not overlap */
    }
    for (unsigned k = 0; k < npending; k++)
        site(opaque, pending[k]);
    return count;
}

unsigned hcall_scan_range(const uint8_t *code, size_t len, uint64_t base, size_t from, size_t to,
                          void (*site)(void *opaque, size_t off), void *opaque)
{
    unsigned count = 0;
    if (!code || len < 3 || to > len || from >= to)
        return 0;
    /* A pattern starting at to - 1 ends at to + 1: candidates are looked for
     * in [from, to + 2) only. After an accepted site the next two offsets
     * cannot start a pattern (they hold 01 and C1/D9, not 0F), so hcall_scan's
     * skip past a site changes nothing and ranges scan independently. */
    size_t end = len - to < 2 ? len : to + 2;
    for (size_t i = next_candidate(code, end, from); i < to; i = next_candidate(code, end, i + 1))
        if (accept(code, len, base, i)) {
            site(opaque, i);
            count++;
        }
    return count;
}

struct in_place {
    uint8_t *code;
    size_t *sites;
    unsigned max, n;
};

static void patch_in_place(void *opaque, size_t off)
{
    struct in_place *ip = opaque;
    patch(ip->code + off);
    if (ip->sites && ip->n < ip->max)
        ip->sites[ip->n] = off;
    ip->n++;
}

unsigned hcall_rewrite_at(uint8_t *code, size_t len, uint64_t base, size_t *sites, unsigned max_sites)
{
    struct in_place ip = { code, sites, max_sites, 0 };
    return hcall_scan(code, len, base, patch_in_place, &ip);
}

void hcall_patch(uint8_t *site)
{
    patch(site);
}

unsigned hcall_rewrite(uint8_t *code, size_t len, size_t *sites, unsigned max_sites)
{
    return hcall_rewrite_at(code, len, 0, sites, max_sites);
}
