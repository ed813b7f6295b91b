/* exec-at CMD [ARGS...]: runs CMD with XENKVM_REPORT_STARTUP set to this
 * instant (CLOCK_MONOTONIC ns), taken just before exec, so that a program
 * reporting its start-up (xenkvm, kvm-floor) counts from the exec: the kernel's
 * exec and the dynamic loader's work are part of the figure. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: exec-at CMD [ARGS...]\n");
        return 2;
    }
    struct timespec t;
    char ns[32];
    clock_gettime(CLOCK_MONOTONIC, &t);
    snprintf(ns, sizeof(ns), "%llu", (unsigned long long)t.tv_sec * 1000000000ull + t.tv_nsec);
    setenv("XENKVM_REPORT_STARTUP", ns, 1);
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    return 127;
}
