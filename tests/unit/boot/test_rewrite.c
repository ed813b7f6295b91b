/* hcall_rewrite: real hypercall sites become `out %eax, $0x5e; nop`, look-alike
 * bytes stay. Real contexts come from two Debian packages:
 *   linux-image-6.1.0-56-cloud-amd64-unsigned 6.1.192-2 (vmlinux in the
 *     lz4 bzImage; symbols from the matching -dbg package's System.map)
 *   xen-utils-4.17 4.17.7+13-g2445b30a44-0+deb12u1 (/usr/lib/xen-4.17/boot/xen-shim)
 * Each array is at most a few dozen bytes around one site, with the guest
 * address of its first byte (the rule looks at 16-byte alignment). */
#include "unit.h"
#include "boot/loader.h"
#include "boot/stream.h"

#include <stdlib.h>

#define PORT_NOP 0xe7, XENKVM_HCALL_PORT, 0x90

struct sample {
    uint64_t addr;
    const char *hex;
};

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; hex[0] && hex[1] && n < cap; hex += 2)
        sscanf(hex, "%2hhx", &out[n++]);
    return n;
}

/* Rewrites a sample; checks the count, the offsets, and that every byte not
 * in a site is unchanged and every site became E7 5E 90. */
static void check_sample(const struct sample *s, unsigned want, const size_t *want_off)
{
    uint8_t orig[128], code[128];
    size_t n = unhex(s->hex, orig, sizeof(orig));
    memcpy(code, orig, n);
    size_t sites[16];
    unsigned got = hcall_rewrite_at(code, n, s->addr, sites, 16);
    if (got != want) {
        unit_fail(__FILE__, __LINE__, "sample at %#llx: %u sites, expected %u",
                  (unsigned long long)s->addr, got, want);
        return;
    }
    bool in_site[128] = { false };
    for (unsigned k = 0; k < got; k++) {
        CHECK_EQ(sites[k], want_off[k]);
        CHECK(!memcmp(code + sites[k], (uint8_t[]){ PORT_NOP }, 3));
        for (int b = 0; b < 3; b++)
            in_site[sites[k] + b] = true;
    }
    for (size_t i = 0; i < n; i++)
        if (!in_site[i] && code[i] != orig[i])
            unit_fail(__FILE__, __LINE__, "sample at %#llx: byte %zu changed",
                      (unsigned long long)s->addr, i);
}

/* ---- real sites ---- */

TEST(rewrite_real_linux_xen_hypercall_amd_intel)
{
    /* 0xffffffff81a03da0: tail of xen_hypercall_hvm (pops, je/jmp to the
     * stubs), then xen_hypercall_amd (vmmcall; jmp __x86_return_thunk) at
     * +0x10 and xen_hypercall_intel (vmcall; jmp ...) at +0x20. */
    static const struct sample s = { 0xffffffff81a03da0ull,
        "415a415b5e5f5a59587405eb130f1f000f01d9e938e13f000f1f840000000000"
        "0f01c1e928e13f00cccccccccccccccc" };
    check_sample(&s, 2, (size_t[]){ 0x10, 0x20 });
}

TEST(rewrite_real_shim_early_hypercall)
{
    /* Xen shim 0x62d6fd: nop, then early_hypercall: cmpb $0,insn(%rip);
     * jl setup; je 1f; vmmcall; ret; 1: vmcall; ret; push %r11... */
    static const struct sample s = { 0x62d6fd,
        "0f1f00803d39da0300007c0a74040f01d9c30f01c1c34153415241514150" };
    check_sample(&s, 2, (size_t[]){ 14, 18 });
}

TEST(rewrite_real_shim_alternative_pairs)
{
    /* Xen shim 0x645ac3, .altinstr_replacement: tzcnt replacements, then the
     * "vmmcall", "vmcall" replacement pairs of the hypercall ALTERNATIVE_2,
     * one mfence replacement, and a call replacement. */
    static const struct sample s = { 0x645ac3,
        "0fbcc2f34d0fbcd80f01d90f01c10faef00f01d90f01c10f01d90f01c10f01d9"
        "0f01c10f01d90f01c10f01d90f01c10f01d90f01c10f01d90f01c1e8fbffffff" };
    size_t off[16] = { 8, 11 };
    for (int k = 0; k < 14; k++)
        off[2 + k] = 17 + 3 * (size_t)k;
    check_sample(&s, 16, off);
}

/* ---- real look-alikes that must stay ---- */

TEST(rewrite_real_linux_non_xen_untouched)
{
    static const struct sample keep[] = {
        /* kvm_kick_cpu+0x17: mov $5,%eax; vmcall; pop %rbx; jmp (KVM hypercall) */
        { 0xffffffff81072537ull, "eb39820fb70c02b8050000000f01c15be9a4f9d8000f1f40" },
        /* kvm_sev_hc_page_enc_status+0x13: mov $12,%eax; vmmcall; pop; jmp */
        { 0xffffffff810721e3ull, "0c81e2f00f0000b80c0000000f01d95be9f8fcd8" },
        /* sev_es_terminate+0x14: wrmsr; rep vmmcall (VMGEXIT); hlt */
        { 0xffffffff810008f4ull, "09f080cc010f30f30f01d9f4ebfd6666" },
        /* vmware_platform_setup+0x27: or $-1,%ebx; vmcall; ... vmmcall (VMware) */
        { 0xffffffff83065f64ull, "56752431d283cbff0f01c14189cceb23b868584d56b92d00000031d283cbff0f" },
        /* .altinstr_replacement: VMware's "vmcall", "vmmcall" pair */
        { 0xffffffff832a3178ull, "e9e22cdcff0f01c10f01d9fafbfafbe9" },
        /* .altinstr_replacement: KVM_HYPERCALL's lone "vmmcall" replacements */
        { 0xffffffff832a32a3ull, "fbfa9c58fafb0f01d94831c00f01d99c58fa0f01d9fb0f01d99c58fa" },
        /* kallsyms_offsets+0x54248: table data inside the text segment */
        { 0xffffffff821742f8ull, "9f1ec1fd1701c1fd0f01c1fd0701c1fd" },
    };
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
        check_sample(&keep[i], 0, NULL);
}

/* ---- synthetic ---- */

static unsigned rewrite_hex(const char *hex, uint64_t base, uint8_t *code, size_t *n)
{
    *n = unhex(hex, code, 128);
    return hcall_rewrite_at(code, *n, base, NULL, 0);
}

TEST(rewrite_aligned_stubs)
{
    uint8_t c[128];
    size_t n;
    /* int3 padding, then vmcall; ret at 16 */
    CHECK_EQ(rewrite_hex("cccccccccccccccccccccccccccccccc0f01c1c3", 0, c, &n), 1);
    CHECK(!memcmp(c + 16, "\xe7\x5e\x90\xc3", 4));
    /* ret, then vmmcall; jmp rel32 at 16 */
    CHECK_EQ(rewrite_hex("9090909090909090909090909090c3c30f01d9e900000000", 0, c, &n), 1);
    /* 10-byte nop filler */
    CHECK_EQ(rewrite_hex("cccccc9090cc662e0f1f8400000000000f01c1c3", 0, c, &n), 1);
    /* region start, aligned base */
    CHECK_EQ(rewrite_hex("0f01c1c3", 0x1000, c, &n), 1);
}

TEST(rewrite_stub_near_misses)
{
    uint8_t c[128];
    size_t n;
    /* misaligned */
    CHECK_EQ(rewrite_hex("0f01c1c3", 0x1004, c, &n), 0);
    /* aligned but not followed by a return */
    CHECK_EQ(rewrite_hex("cccccccccccccccccccccccccccccccc0f01c15b", 0, c, &n), 0);
    /* aligned, followed by ret, but the byte before is an opcode, not filler:
     * mov $0xc3c1010f, %eax with the immediate 16-aligned */
    CHECK_EQ(rewrite_hex("ccccccccccccccccccccccccccccccb80f01c1c3", 0, c, &n), 0);
    /* the same, inside a lea displacement: lea 0xc3c1010f(%rip), %rax */
    CHECK_EQ(rewrite_hex("cccccccccccccccccccccccccc488d050f01c1c3", 0, c, &n), 0);
    /* VMGEXIT (F3 0F 01 D9) at a stub-like position */
    CHECK_EQ(rewrite_hex("ccccccccccccccccccccccccccccccf30f01d9c3", 0, c, &n), 0);
    /* jmp rel32 cut off by the region end */
    CHECK_EQ(rewrite_hex("cccccccccccccccccccccccccccccccc0f01c1e90000", 0, c, &n), 0);
    /* too short */
    CHECK_EQ(rewrite_hex("0f01", 0, c, &n), 0);
    CHECK_EQ(hcall_rewrite(NULL, 0, NULL, 0), 0);
}

TEST(rewrite_mov_imm_near_miss_exact_bytes)
{
    /* mov $0x00c1010f, %eax; mov $0x00d9010f, %eax; data */
    static const uint8_t orig[] = { 0xb8, 0x0f, 0x01, 0xc1, 0x00, 0xb8, 0x0f, 0x01, 0xd9, 0x00,
                                    0x0f, 0x01, 0xc1, 0x0f, 0x01, 0xc1, 0x0f, 0x01, 0xd9, 0x0f, 0x01, 0xd9 };
    uint8_t c[sizeof(orig)];
    memcpy(c, orig, sizeof(c));
    CHECK_EQ(hcall_rewrite(c, sizeof(c), NULL, 0), 0);
    CHECK(!memcmp(c, orig, sizeof(c)));
}

TEST(rewrite_stub_pairs)
{
    uint8_t c[128];
    size_t n;
    /* je +4; vmcall; ret; vmmcall; ret (either vendor first) */
    CHECK_EQ(rewrite_hex("9074040f01c1c30f01d9c3", 3, c, &n), 2);
    CHECK(!memcmp(c + 3, "\xe7\x5e\x90\xc3\xe7\x5e\x90\xc3", 8));
    /* jne +8 with jmp-rel32 returns */
    CHECK_EQ(rewrite_hex("9075080f01d9e9000000000f01c1e900000000", 3, c, &n), 2);
    /* wrong displacement: does not skip exactly the first stub */
    CHECK_EQ(rewrite_hex("9074050f01c1c30f01d9c3", 3, c, &n), 0);
    /* same vendor twice: not a vendor choice */
    CHECK_EQ(rewrite_hex("9074040f01c1c30f01c1c3", 3, c, &n), 0);
    /* no branch in front */
    CHECK_EQ(rewrite_hex("90b8040f01c1c30f01d9c3", 3, c, &n), 0);
}

TEST(rewrite_alternative_pairs)
{
    uint8_t c[128];
    size_t n;
    CHECK_EQ(rewrite_hex("4831c00f01d90f01c19c58", 5, c, &n), 2);
    CHECK(!memcmp(c + 3, "\xe7\x5e\x90\xe7\x5e\x90\x9c", 7));
    /* vmcall first (VMware's order) */
    CHECK_EQ(rewrite_hex("4831c00f01c10f01d99c58", 5, c, &n), 0);
    /* after a rep prefix: VMGEXIT followed by vmcall */
    CHECK_EQ(rewrite_hex("4831f30f01d90f01c19c58", 5, c, &n), 0);
    /* a run: every instruction belongs to a vmmcall/vmcall pair */
    CHECK_EQ(rewrite_hex("0f01d90f01c10f01d90f01c1", 5, c, &n), 4);
    /* an odd run: the trailing vmmcall has no partner */
    CHECK_EQ(rewrite_hex("0f01d90f01c10f01d9fa", 5, c, &n), 2);
    CHECK(!memcmp(c + 6, "\x0f\x01\xd9", 3));
}

TEST(rewrite_site_list_capped)
{
    uint8_t c[64];
    size_t n = unhex("0f01d90f01c10f01d90f01c10f01d90f01c1", c, sizeof(c));
    size_t sites[2] = { 99, 99 };
    CHECK_EQ(hcall_rewrite(c, n, sites, 2), 6);
    CHECK_EQ(sites[0], 0);
    CHECK_EQ(sites[1], 3);
    for (size_t i = 0; i < n; i += 3)
        CHECK(!memcmp(c + i, "\xe7\x5e\x90", 3));
}

TEST(rewrite_random_bytes_in_bounds)
{
    /* Random code regions of every small length: never out of bounds (ASan),
     * every reported site really is rewritten, and nothing else changes. */
    uint32_t x = 7;
    for (size_t len = 0; len < 64; len++)
        for (int round = 0; round < 200; round++) {
            uint8_t *c = malloc(len ? len : 1);
            for (size_t i = 0; i < len; i++) {
                x = x * 1103515245 + 12345;
                static const uint8_t pick[] = { 0x0f, 0x01, 0xc1, 0xd9, 0xc3, 0xe9, 0xcc, 0x74, 0x04, 0xf3 };
                c[i] = (x >> 16) % 3 ? pick[(x >> 8) % sizeof(pick)] : (uint8_t)(x >> 24);
            }
            uint8_t *orig = malloc(len ? len : 1);
            memcpy(orig, c, len);
            size_t sites[32];
            unsigned k = hcall_rewrite_at(c, len, x & 0xf, sites, 32);
            size_t changed = 0;
            for (size_t i = 0; i < len; i++)
                changed += c[i] != orig[i];
            for (unsigned s = 0; s < k && s < 32; s++)
                CHECK(!memcmp(c + sites[s], "\xe7\x5e\x90", 3) && !memcmp(orig + sites[s], "\x0f\x01", 2));
            CHECK(changed <= 3 * (size_t)k);
            free(orig);
            free(c);
        }
}

static void count_site(void *opaque, size_t off)
{
    size_t *list = opaque;
    list[++list[0]] = off;
}

/* The whole-region scan finds its candidates 16 or 32 offsets at a time
 * (SSE2/AVX2); a one-offset range is too short for that and is decided byte
 * by byte. Both must give the same sites, on dense site-like bytes at every
 * alignment of the region and of its guest address. */
TEST(rewrite_vector_scan_matches_bytewise)
{
    enum { LEN = 64 << 10 };
    uint8_t *c = malloc(LEN + 64);
    size_t *fast = malloc((LEN + 1) * sizeof(*fast)), *slow = malloc((LEN + 1) * sizeof(*slow));
    uint32_t x = 11;
    for (size_t i = 0; i < LEN + 64; i++) {
        x = x * 1103515245 + 12345;
        static const uint8_t pick[] = { 0x0f, 0x01, 0xc1, 0xd9, 0xc3, 0xe9, 0xcc, 0x90, 0xeb, 0x07, 0xf3 };
        c[i] = (x >> 16) % 4 ? pick[(x >> 8) % sizeof(pick)] : (uint8_t)(x >> 24);
    }
    for (unsigned shift = 0; shift < 40; shift += 3) {
        uint8_t *r = c + shift;
        size_t len = LEN - shift * 7;
        uint64_t base = 0x100000 + shift * 5;
        /* Aligned stubs among them, some a byte or two from each other's
         * patterns, so that sites are found too, not only refused. */
        for (size_t o = 16 - (base & 15); o + 8 < len; o += 16 * (1 + (o * 7 >> 4) % 9)) {
            static const uint8_t stub[] = { 0xcc, 0x0f, 0x01, 0xc1, 0xc3 };
            memcpy(r + o - 1, stub, sizeof(stub));
            r[o + 2] = o & 16 ? 0xd9 : 0xc1;
        }
        fast[0] = slow[0] = 0;
        unsigned n = hcall_scan(r, len, base, count_site, fast);
        for (size_t i = 0; i < len; i++)
            hcall_scan_range(r, len, base, i, i + 1, count_site, slow);
        CHECK_EQ(n, fast[0]);
        CHECK(n > 300);
        CHECK_EQ(fast[0], slow[0]);
        CHECK(!memcmp(fast, slow, (fast[0] + 1) * sizeof(*fast)));
    }
    free(c);
    free(fast);
    free(slow);
}
