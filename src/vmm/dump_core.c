/* The ELF core of xenkvm dump-core (dump_core.h). */
#include "vmm/dump_core.h"
#include "kvm/vcpu_state.h"
#include "xen/domain.h"
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/user.h>
#include <unistd.h>

/* One ELF note: header, name "CORE" padded to 8, descriptor (a multiple of 4). */
#define NOTE_SIZE(desc) (sizeof(Elf64_Nhdr) + 8 + sizeof(desc))

static uint8_t *put_note(uint8_t *n, uint32_t type, const void *desc, size_t len)
{
    Elf64_Nhdr h = { .n_namesz = 5, .n_descsz = len, .n_type = type };
    memcpy(n, &h, sizeof(h));
    memcpy(n + sizeof(h), "CORE\0\0\0", 8);
    memcpy(n + sizeof(h) + 8, desc, len);
    return n + sizeof(h) + 8 + len;
}

static void regs_of(const struct vcpu_state *s, elf_gregset_t g)
{
    const struct kvm_regs *r = &s->regs;
    const struct kvm_sregs *x = &s->sregs;
    struct user_regs_struct u = {
        .r15 = r->r15, .r14 = r->r14, .r13 = r->r13, .r12 = r->r12, .rbp = r->rbp,
        .rbx = r->rbx, .r11 = r->r11, .r10 = r->r10, .r9 = r->r9, .r8 = r->r8,
        .rax = r->rax, .rcx = r->rcx, .rdx = r->rdx, .rsi = r->rsi, .rdi = r->rdi,
        .orig_rax = ~0ull, .rip = r->rip, .cs = x->cs.selector, .eflags = r->rflags,
        .rsp = r->rsp, .ss = x->ss.selector, .fs_base = x->fs.base, .gs_base = x->gs.base,
        .ds = x->ds.selector, .es = x->es.selector, .fs = x->fs.selector, .gs = x->gs.selector,
    };
    _Static_assert(sizeof(u) == sizeof(elf_gregset_t), "user_regs_struct is the gregset");
    memcpy(g, &u, sizeof(u));
}

static bool zero_page(const uint8_t *p)
{
    const uint64_t *q = (const uint64_t *)p;
    for (size_t i = 0; i < PAGE_SIZE / 8; i++)
        if (q[i])
            return false;
    return true;
}

static int write_at(int fd, const void *p, size_t n, off_t off)
{
    for (size_t done = 0; done < n; ) {
        ssize_t w = pwrite(fd, (const uint8_t *)p + done, n - done, off + done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -(w < 0 ? errno : EIO);
        done += w;
    }
    return 0;
}

int dump_core(struct domain *d, const char *path, char *err, size_t errlen)
{
    int nv = d->vm.nr_vcpus, nload = 0;
    const struct mem_region *ram[VM_MAX_REGIONS];
    for (int i = 0; i < d->vm.nr_regions; i++)
        if (d->vm.regions[i].ram)
            ram[nload++] = &d->vm.regions[i];
    size_t notes_size = nv * (NOTE_SIZE(struct elf_prstatus) +
                              NOTE_SIZE(struct user_fpregs_struct));
    size_t phoff = sizeof(Elf64_Ehdr), notes_off = phoff + (1 + nload) * sizeof(Elf64_Phdr);
    off_t data_off = (notes_off + notes_size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    uint8_t *head = calloc(1, notes_off + notes_size);
    char *tmp = NULL;
    if (!head || asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0) {
        free(head);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    Elf64_Ehdr *eh = (Elf64_Ehdr *)head;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_ident[EI_OSABI] = ELFOSABI_SYSV;
    eh->e_type = ET_CORE;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_phoff = phoff;
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = 1 + nload;
    Elf64_Phdr *ph = (Elf64_Phdr *)(head + phoff);
    ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = notes_off, .p_filesz = notes_size,
                          .p_align = 4 };
    off_t off = data_off;
    for (int i = 0; i < nload; i++) {
        ph[1 + i] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
            .p_offset = off, .p_vaddr = ram[i]->gpa, .p_paddr = ram[i]->gpa,
            .p_filesz = ram[i]->size, .p_memsz = ram[i]->size, .p_align = PAGE_SIZE };
        off += ram[i]->size;
    }
    uint8_t *n = head + notes_off;
    int rc = 0;
    for (int i = 0; i < nv && !rc; i++) {
        struct vcpu_state st;
        const char *what = "";
        rc = vcpu_state_get(&d->vm.vcpus[i], &st, &what);
        if (rc < 0) {
            snprintf(err, errlen, "vcpu %d: %s: %s", i, what, strerror(-rc));
            vcpu_state_free(&st);
            break;
        }
        struct elf_prstatus ps = { .pr_pid = i + 1 };   /* gdb's "thread" per vCPU */
        regs_of(&st, ps.pr_reg);
        n = put_note(n, NT_PRSTATUS, &ps, sizeof(ps));
        /* XSAVE's first 512 bytes are the FXSAVE area gdb's NT_PRFPREG is. */
        n = put_note(n, NT_PRFPREG, st.xsave, sizeof(struct user_fpregs_struct));
        vcpu_state_free(&st);
    }
    int fd = rc ? -1 : open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (!rc && fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (!rc && (rc = write_at(fd, head, notes_off + notes_size, 0)) < 0)
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
    off = data_off;
    for (int i = 0; i < nload && !rc; i++) {
        const struct mem_region *m = ram[i];
        for (uint64_t p = 0; p < m->size / PAGE_SIZE && !rc; p++) {
            bool absent = m->absent && (m->absent[p / 64] >> (p % 64) & 1);
            const uint8_t *page = m->host + p * PAGE_SIZE;
            if (absent || zero_page(page))
                continue;
            if ((rc = write_at(fd, page, PAGE_SIZE, off + p * PAGE_SIZE)) < 0)
                snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        }
        off += m->size;
    }
    if (!rc && (ftruncate(fd, off) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (fd >= 0)
        close(fd);
    if (rc)
        unlink(tmp);
    free(tmp);
    free(head);
    return rc ? -1 : 0;
}
