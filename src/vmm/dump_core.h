/* xenkvm dump-core: an ELF core of a stopped domain (vCPUs quiesced by the
 * caller) that gdb reads: one NT_PRSTATUS (general registers) and one
 * NT_PRFPREG (FXSAVE area) note per vCPU, then one PT_LOAD per RAM region
 * with the guest-physical address as both p_paddr and p_vaddr (right for
 * identity-mapped guests; a kernel's own virtual addresses need a tool that
 * walks its page tables, as with QEMU's dump-guest-memory). Zero and
 * released pages are holes in a sparse file. 0, or -1 with err. */
#pragma once
#include <stddef.h>

struct domain;

int dump_core(struct domain *d, const char *path, char *err, size_t errlen);
