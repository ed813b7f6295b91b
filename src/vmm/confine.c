/* The domain process's seccomp filter and capability drop (see confine.h). */
#include "vmm/confine.h"
#include <errno.h>
#include <linux/capability.h>
#include <linux/if_tun.h>
#include <linux/fs.h>
#include <linux/sockios.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#else
#define SANITIZER_BUILD 0
#endif

/* Calls with no argument worth checking. */
static const int plain[] = {
    /* files and descriptors */
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64),
    SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(pwritev), SCMP_SYS(preadv2),
    SCMP_SYS(pwritev2), SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(close_range), SCMP_SYS(dup),
    SCMP_SYS(dup2), SCMP_SYS(dup3), SCMP_SYS(fcntl), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
    SCMP_SYS(statx), SCMP_SYS(fstatfs), SCMP_SYS(statfs), SCMP_SYS(openat), SCMP_SYS(open),
    SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(readlink),
    SCMP_SYS(readlinkat), SCMP_SYS(getdents), SCMP_SYS(getdents64), SCMP_SYS(unlink), SCMP_SYS(unlinkat),
    SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(rmdir), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
    SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2),   /* a save file goes in place */
    SCMP_SYS(fallocate), SCMP_SYS(ftruncate), SCMP_SYS(pipe2), SCMP_SYS(memfd_create),
    /* memory */
    SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    /* threads, time, signals */
    SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(get_robust_list), SCMP_SYS(rseq),
    SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity), SCMP_SYS(sched_setaffinity),
    SCMP_SYS(getcpu), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(gettid), SCMP_SYS(getpid),
    SCMP_SYS(getppid), SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
    SCMP_SYS(getegid), SCMP_SYS(restart_syscall), SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigtimedwait),
    SCMP_SYS(sigaltstack), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
    SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday), SCMP_SYS(time),
    SCMP_SYS(getrandom), SCMP_SYS(uname), SCMP_SYS(sysinfo), SCMP_SYS(getrlimit),
    SCMP_SYS(getrusage), SCMP_SYS(times), SCMP_SYS(membarrier),
    /* waiting for things */
    SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_pwait2), SCMP_SYS(eventfd2), SCMP_SYS(timerfd_create),
    SCMP_SYS(timerfd_settime), SCMP_SYS(timerfd_gettime), SCMP_SYS(signalfd4), SCMP_SYS(poll),
    SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
    /* sockets (made only as below) */
    SCMP_SYS(connect), SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(bind), SCMP_SYS(listen),
    SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
    SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg), SCMP_SYS(shutdown), SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
    /* block I/O, child processes (the spawn helper's, through pidfds) */
    SCMP_SYS(io_uring_setup), SCMP_SYS(io_uring_enter), SCMP_SYS(io_uring_register),
    SCMP_SYS(pidfd_send_signal), SCMP_SYS(wait4), SCMP_SYS(waitid),
};

/* ioctls besides KVM's (type 0xAE, any number). */
static const unsigned long ioctls[] = {
    TUNSETIFF, TUNSETVNETHDRSZ, TUNSETOFFLOAD, TUNSETQUEUE,
    SIOCSIFHWADDR, SIOCSIFMTU, SIOCGIFINDEX, SIOCBRADDIF, SIOCGIFFLAGS, SIOCSIFFLAGS,
    BLKGETSIZE64, BLKSSZGET, BLKPBSZGET, BLKDISCARD,
    TCGETS,        /* isatty() */
    FIONBIO, FIONREAD, FIOCLEX,
};

static const unsigned long prctls[] = { PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, PR_SET_VMA };

static const int keep_caps[] = { CAP_NET_ADMIN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH };

static int add(scmp_filter_ctx ctx, int nr, unsigned n, const struct scmp_arg_cmp *cmp)
{
    return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
}

static int rules(scmp_filter_ctx ctx)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof(plain) / sizeof(plain[0]); i++)
        rc = add(ctx, plain[i], 0, NULL);
    /* threads only: a fork would run outside nothing but its parent's filter */
    struct scmp_arg_cmp thread = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
    if (!rc)
        rc = add(ctx, SCMP_SYS(clone), 1, &thread);
    /* clone3's flags sit behind a pointer: ENOSYS makes glibc use clone */
    if (!rc)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    const int families[] = { AF_UNIX, AF_INET };
    for (size_t i = 0; !rc && i < 2; i++) {
        struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i]);
        rc = add(ctx, SCMP_SYS(socket), 1, &c);
        if (!rc && families[i] == AF_UNIX)
            rc = add(ctx, SCMP_SYS(socketpair), 1, &c);
    }
    struct scmp_arg_cmp kvm = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00, 0xae00);
    if (!rc)
        rc = add(ctx, SCMP_SYS(ioctl), 1, &kvm);
    for (size_t i = 0; !rc && i < sizeof(ioctls) / sizeof(ioctls[0]); i++) {
        struct scmp_arg_cmp c = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, ioctls[i]);
        rc = add(ctx, SCMP_SYS(ioctl), 1, &c);
    }
    for (size_t i = 0; !rc && i < sizeof(prctls) / sizeof(prctls[0]); i++) {
        struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_EQ, prctls[i]);
        rc = add(ctx, SCMP_SYS(prctl), 1, &c);
    }
    /* signals: to its own threads only */
    struct scmp_arg_cmp self = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid());
    if (!rc)
        rc = add(ctx, SCMP_SYS(tgkill), 1, &self);
    if (!rc)
        rc = add(ctx, SCMP_SYS(kill), 1, &self);
    /* limits: read only */
    struct scmp_arg_cmp get = SCMP_A2(SCMP_CMP_EQ, 0);
    if (!rc)
        rc = add(ctx, SCMP_SYS(prlimit64), 1, &get);
    if (SANITIZER_BUILD) {
        /* LeakSanitizer's tracer at exit: a clone sharing the memory, ptrace */
        struct scmp_arg_cmp vm = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_VM, CLONE_VM);
        if (!rc)
            rc = add(ctx, SCMP_SYS(clone), 1, &vm);
        if (!rc)
            rc = add(ctx, SCMP_SYS(ptrace), 0, NULL);
        const unsigned long more[] = { PR_SET_PDEATHSIG, PR_SET_PTRACER };
        for (size_t i = 0; !rc && i < 2; i++) {
            struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_EQ, more[i]);
            rc = add(ctx, SCMP_SYS(prctl), 1, &c);
        }
    }
    return rc;
}

/* Keeps keep_caps in the permitted and effective sets, nothing inherited,
 * nothing else in the bounding and ambient sets. */
static int drop_caps(char *err, size_t errlen)
{
    struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0) {
        snprintf(err, errlen, "capget: %s", strerror(errno));
        return -1;
    }
    uint32_t keep[2] = { 0, 0 };
    for (size_t i = 0; i < sizeof(keep_caps) / sizeof(keep_caps[0]); i++)
        keep[keep_caps[i] / 32] |= 1u << (keep_caps[i] % 32);
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
        if (keep[cap / 32] & (1u << (cap % 32)))
            continue;
        /* needs CAP_SETPCAP, which goes below; without it (not root) the
         * bounding set does not matter: nothing can be gained anyway */
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL && errno != EPERM) {
            snprintf(err, errlen, "PR_CAPBSET_DROP %d: %s", cap, strerror(errno));
            return -1;
        }
    }
    for (int i = 0; i < 2; i++) {
        d[i].permitted &= keep[i];
        d[i].effective &= keep[i];
        d[i].inheritable = 0;
    }
    if (syscall(SYS_capset, &h, d) < 0) {
        snprintf(err, errlen, "capset: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int vmm_confine(char *err, size_t errlen)
{
    if (drop_caps(err, errlen) < 0)
        return -1;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!ctx) {
        snprintf(err, errlen, "seccomp_init failed");
        return -1;
    }
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    /* Leave the speculation controls as they are (a filter would otherwise
     * turn on the store-bypass mitigation, which slows the VMM itself). */
    if (!rc)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
    /* A binary tree of syscall numbers: KVM_RUN's ioctl is checked on every exit. */
    if (!rc)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (!rc)
        rc = rules(ctx);
    if (!rc)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc) {
        snprintf(err, errlen, "seccomp filter: %s", strerror(-rc));
        return -1;
    }
    return 0;
}
