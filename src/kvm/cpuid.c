/* The guest's CPUID table: what KVM supports, minus KVM's paravirt signature,
 * plus leaves the layer above adds (Xen's, at 0x40000000). */
#include "kvm/cpuid.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define CPUID_MAX_ENTRIES 256

/* What the cache is valid for: this boot, and these instances of the KVM
 * modules (a reloaded module gets a new sysfs node, so a new inode number). */
static void cache_key(char *key, size_t size)
{
    char boot[40] = "";
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, boot, sizeof(boot) - 1);
        boot[n > 0 ? n : 0] = 0;
        boot[strcspn(boot, "\n")] = 0;
        close(fd);
    }
    int len = snprintf(key, size, "%s", boot);
    static const char *const mods[] = { "kvm", "kvm_amd", "kvm_intel", "kvm_pvm" };
    for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]) && len < (int)size; i++) {
        char path[64];
        struct stat st;
        snprintf(path, sizeof(path), "/sys/module/%s", mods[i]);
        if (stat(path, &st) == 0)
            len += snprintf(key + len, size - len, " %s:%llu", mods[i], (unsigned long long)st.st_ino);
    }
}

struct cache_hdr {
    char magic[8];            /* "xkcpuid1" */
    char key[160];
    uint32_t nent;
};

static bool cache_read(const char *path, const char *key, struct kvm_cpuid2 *c)
{
    struct cache_hdr h;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = read(fd, &h, sizeof(h)) == (ssize_t)sizeof(h) && !memcmp(h.magic, "xkcpuid1", 8) &&
              !strncmp(h.key, key, sizeof(h.key)) && h.nent <= CPUID_MAX_ENTRIES &&
              read(fd, c->entries, h.nent * sizeof(c->entries[0])) ==
                  (ssize_t)(h.nent * sizeof(c->entries[0]));
    close(fd);
    if (ok)
        c->nent = h.nent;
    return ok;
}

/* Best effort: written whole under a temporary name, then renamed. */
static void cache_write(const char *path, const char *key, const struct kvm_cpuid2 *c)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid()) >= (int)sizeof(tmp))
        return;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    struct cache_hdr h = { .magic = "xkcpuid1", .nent = c->nent };
    snprintf(h.key, sizeof(h.key), "%s", key);
    size_t n = c->nent * sizeof(c->entries[0]);
    bool ok = write(fd, &h, sizeof(h)) == (ssize_t)sizeof(h) &&
              write(fd, c->entries, n) == (ssize_t)n;
    close(fd);
    if (!ok || rename(tmp, path) < 0)
        unlink(tmp);
}

int cpuid_init(struct vm *vm, const char *cache)
{
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
    if (!c)
        return -1;
    char key[160] = "";
    if (cache)
        cache_key(key, sizeof(key));
    if (!cache || !cache_read(cache, key, c)) {
        c->nent = CPUID_MAX_ENTRIES;
        if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
            free(c);
            return -1;
        }
        if (cache)
            cache_write(cache, key, c);
    }
    uint32_t out = 0;
    for (uint32_t i = 0; i < c->nent; i++) {
        uint32_t fn = c->entries[i].function;
        if (fn >= 0x40000000u && fn < 0x50000000u)
            continue;     /* no KVM signature: the guest must see only Xen */
        c->entries[out++] = c->entries[i];
    }
    c->nent = out;
    vm->cpuid = c;
    return 0;
}

void vm_cpuid_set(struct vm *vm, uint32_t fn, uint32_t idx, uint32_t eax, uint32_t ebx,
                  uint32_t ecx, uint32_t edx)
{
    struct kvm_cpuid2 *c = vm->cpuid;
    struct kvm_cpuid_entry2 *e = NULL;
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == fn && c->entries[i].index == idx)
            e = &c->entries[i];
    if (!e) {
        if (c->nent == CPUID_MAX_ENTRIES)
            return;
        e = &c->entries[c->nent++];
        memset(e, 0, sizeof(*e));
        e->function = fn;
        e->index = idx;
    }
    e->eax = eax;
    e->ebx = ebx;
    e->ecx = ecx;
    e->edx = edx;
    /* A function with several sub-leaves: KVM matches ecx only when told to. */
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == fn && &c->entries[i] != e && c->entries[i].index != idx) {
            c->entries[i].flags |= KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
            e->flags |= KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
        }
}

struct kvm_cpuid2 *cpuid_for_vcpu(const struct vm *vm, int id)
{
    size_t sz = sizeof(*vm->cpuid) + vm->cpuid->nent * sizeof(vm->cpuid->entries[0]);
    struct kvm_cpuid2 *c = malloc(sz);
    if (!c)
        return NULL;
    memcpy(c, vm->cpuid, sz);
    for (uint32_t i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        switch (e->function) {
        case 1:       /* initial APIC id in ebx[31:24]; logical count */
            e->ebx = (e->ebx & 0x0000ffffu) | ((uint32_t)vm->nr_vcpus << 16) | ((uint32_t)id << 24);
            break;
        case 0xb:     /* x2APIC id */
        case 0x1f:
            e->edx = id;
            break;
        case 0x40000004:   /* Xen HVM leaf: ebx = vcpu_id */
            e->ebx = id;
            break;
        }
    }
    return c;
}
