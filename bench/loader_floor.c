/* The floor for loading a kernel and an initramfs: what any loader must do
 * with them, and nothing more: map both files, decompress the bzImage's
 * payload into fresh memory (liblz4/zlib/... through bzimage_extract, as
 * xenkvm does) and read every byte of the initramfs. Prints
 * "loader floor: N us". xenkvm's own figure is the "kernel" phase of
 * XENKVM_REPORT_STARTUP: the same work, plus placing the segments and the
 * initramfs in guest RAM and rewriting hypercall sites (an LZ4 payload it
 * decompresses chunk by chunk into two reused 8 MiB slots, where this floor
 * faults in one fresh buffer for the whole vmlinux). */
#include "boot/loader.h"
#include "common/file.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: loader-floor KERNEL RAMDISK\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const uint8_t *k, *r;
    size_t klen, rlen, vlen;
    uint8_t *vmlinux = NULL;
    char err[256], comp[8];
    if (file_map(argv[1], LOADER_MAX_IMAGE, &k, &klen, err, sizeof(err)) < 0 ||
        file_map(argv[2], LOADER_MAX_IMAGE, &r, &rlen, err, sizeof(err)) < 0 ||
        bzimage_extract(k, klen, &vmlinux, &vlen, comp, err, sizeof(err)) < 0) {
        fprintf(stderr, "loader-floor: %s\n", err);
        return 1;
    }
    unsigned sum = 0;
    for (size_t i = 0; i < rlen; i += 64)
        sum += r[i];
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct timespec cpu;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    printf("loader floor: %.0f us (%zu bytes of vmlinux, %s; checksum %u); cpu %.0f us\n",
           (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3, vlen, comp, sum,
           cpu.tv_sec * 1e6 + cpu.tv_nsec / 1e3);
    free(vmlinux);
    return 0;
}
