/* The domain process's confinement (src/vmm/confine.c): each case forks a
 * child that confines itself exactly as `xenkvm run` does after set-up, then
 * tries calls it must be refused and calls it needs; the child's checks print
 * as usual and its exit status carries the verdict. The system tests run
 * every feature in confined domain processes. */
#include "unit.h"
#include "vmm/confine.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs fn in a confined child; true if all its checks passed. */
static bool confined(void (*fn)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char err[256];
        if (vmm_confine(err, sizeof(err)) < 0) {
            printf("  vmm_confine: %s\n", err);
            _exit(2);
        }
        fn();
        fflush(stdout);
        _exit(unit_failed_checks ? 1 : 0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* -1 with EPERM: the filter said no. */
#define REFUSED(call) do { errno = 0; long _r = (long)(call);                       \
        if (_r != -1 || errno != EPERM)                                            \
            unit_fail(__FILE__, __LINE__, "%s returned %ld errno %d, expected EPERM", \
                      #call, _r, errno);                                           \
    } while (0)

static void forbidden(void)
{
    REFUSED(fork());
    char *const argv[] = { "/bin/true", NULL }, *const envp[] = { NULL };
    REFUSED(execve("/bin/true", argv, envp));
    REFUSED(socket(AF_PACKET, SOCK_RAW, 0));
    REFUSED(socket(AF_NETLINK, SOCK_RAW, 0));
    REFUSED(socket(AF_INET6, SOCK_STREAM, 0));
    int null = open("/dev/null", O_RDONLY);
    CHECK(null >= 0);
    char c = 'x';
    REFUSED(ioctl(null, TIOCSTI, &c));        /* terminal injection: would be ENOTTY */
    REFUSED(chdir("/"));                      /* calls it has no use for */
    REFUSED(syscall(SYS_umask, 022));
    REFUSED(kill(1, 0));                      /* signals to others */
    REFUSED(syscall(SYS_tgkill, getppid(), getppid(), 0));
    REFUSED(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
    REFUSED(syscall(SYS_mount, "none", "/mnt", "tmpfs", 0, NULL));
    REFUSED(syscall(SYS_bpf, 0, NULL, 0));
    REFUSED(syscall(SYS_setuid, 0));
#if !defined(__SANITIZE_ADDRESS__)
    REFUSED(syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL));
#endif
    errno = 0;
    CHECK(syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS);   /* glibc falls back */
    close(null);
}

TEST(forbidden_calls_refused)
{
    CHECK(confined(forbidden));
}

static void *thread_fn(void *arg)
{
    return arg;
}

static void needed(void)
{
    /* threads, and signals to them (vCPU kicks) */
    pthread_t t;
    void *ret = NULL;
    CHECK(pthread_create(&t, NULL, thread_fn, (void *)1) == 0);
    CHECK(pthread_join(t, &ret) == 0 && ret == (void *)1);
    CHECK(pthread_kill(pthread_self(), 0) == 0);
    /* descriptors, files, memory */
    int ev = eventfd(0, EFD_CLOEXEC), ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ev >= 0 && ep >= 0);
    struct epoll_event e = { .events = EPOLLIN };
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) == 0);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    int s = socket(AF_INET, SOCK_DGRAM, 0);                   /* interface ioctls */
    CHECK(s >= 0);
    void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED && madvise(m, 1 << 20, MADV_DONTNEED) == 0);
    int mem = memfd_create("x", MFD_CLOEXEC);               /* guest memory grows */
    CHECK(mem >= 0 && ftruncate(mem, 1 << 20) == 0);
    /* KVM */
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm >= 0)
        CHECK(ioctl(kvm, KVM_GET_API_VERSION, 0) == KVM_API_VERSION);
    /* what the process's status says */
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    CHECK(n > 0);
    buf[n > 0 ? n : 0] = 0;
    CHECK(strstr(buf, "NoNewPrivs:\t1"));
    CHECK(strstr(buf, "Seccomp:\t2"));
    const char *eff = strstr(buf, "CapEff:\t");
    unsigned long long caps = eff ? strtoull(eff + 8, NULL, 16) : ~0ull;
    unsigned long long keep = (1ull << CAP_NET_ADMIN) | (1ull << CAP_DAC_OVERRIDE) |
                              (1ull << CAP_DAC_READ_SEARCH);
    CHECK((caps & ~keep) == 0);
    if (geteuid() == 0)
        CHECK(caps == keep);
    const char *bnd = strstr(buf, "CapBnd:\t");
    if (bnd && geteuid() == 0)
        CHECK((strtoull(bnd + 8, NULL, 16) & ~keep) == 0);
}

TEST(needed_calls_work)
{
    CHECK(confined(needed));
}
