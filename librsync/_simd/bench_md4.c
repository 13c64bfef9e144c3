/* Throughput of the multi-buffer MD4 kernels against rs_mdfour, on the
 * access pattern of a signature: consecutive equal-length blocks of one
 * buffer, each hashed on its own.  Build and run:
 *
 *   librsync/_simd/run_md4_tests.sh bench        (MiB, reps: see below)
 *
 * Usage: bench_md4 [buffer MiB (default 32)] [passes (default 7)]
 * Prints, per block length, aggregate MiB of input hashed per second of
 * this thread's CPU time (best pass: the least disturbed one) and the ratio
 * to rs_mdfour, which hashes one block at a time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "librsync.h"
#include "md4_kernels.h"

/* This thread's CPU time, not wall time: the machine this was written on is
 * shared by several busy tenants, and time spent descheduled says nothing
 * about the code. */
static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void cpu_model(char *dst, size_t n)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];

    snprintf(dst, n, "unknown");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (colon && strncmp(line, "model name", 10) == 0) {
            snprintf(dst, n, "%s", colon + 2);
            dst[strcspn(dst, "\n")] = 0;
            break;
        }
    }
    fclose(f);
}

static volatile unsigned char sink; /* keeps the digests from being dead */

/* One pass over the buffer; returns seconds.  k NULL: rs_mdfour. */
static double pass(const lrs_md4_kernel *k, const unsigned char *buf, size_t size, size_t len)
{
    unsigned char out[16 * LRS_MD4_MAX_LANES];
    size_t nmsg = size / len, m;
    double t0 = now();
    int i;

    if (!k) {
        for (m = 0; m < nmsg; m++) {
            rs_mdfour(out, buf + m * len, len);
            sink ^= out[0];
        }
    } else {
        const unsigned char *in[LRS_MD4_MAX_LANES];
        for (m = 0; m + (size_t)k->lanes <= nmsg; m += (size_t)k->lanes) {
            for (i = 0; i < k->lanes; i++)
                in[i] = buf + (m + (size_t)i) * len;
            k->fn(in, len, out);
            sink ^= out[0];
        }
    }
    return now() - t0;
}

int main(int argc, char **argv)
{
    static const size_t lens[] = {2048, 16384, 65536};
    size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 32;
    int passes = argc > 2 ? atoi(argv[2]) : 7;
    size_t size, j, n;
    unsigned char *buf;
    uint64_t x = 88172645463325252ULL;
    char model[256];
    const lrs_md4_kernel *k;

    if (mib < 1 || passes < 1) {
        fprintf(stderr, "usage: %s [buffer MiB >= 1] [passes >= 1]\n", argv[0]);
        return 2;
    }
    size = mib << 20; /* a multiple of 16 blocks of every length above */
    buf = (unsigned char *)malloc(size);
    if (!buf) {
        perror("malloc");
        return 2;
    }
    for (j = 0; j < size; j++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[j] = (unsigned char)x;
    }
    cpu_model(model, sizeof model);
    printf("CPU: %s\nbuffer %lu MiB, best of %d passes, MiB hashed per CPU-second\n", model,
           (unsigned long)mib, passes);
    printf("%-8s %-16s %10s %8s\n", "len", "impl", "MiB/s", "ratio");
    for (n = 0; n < sizeof lens / sizeof lens[0]; n++) {
        size_t len = lens[n];
        double base = 0;
        int p, which;

        /* which = -1: rs_mdfour, then each kernel the CPU can run */
        for (which = -1; which < 0 || lrs_md4_kernels[which].name; which++) {
            double best = 1e30, mibs;
            k = which < 0 ? NULL : &lrs_md4_kernels[which];
            if (k && !k->usable())
                continue;
            for (p = 0; p < passes; p++) {
                double t = pass(k, buf, size, len);
                if (t < best)
                    best = t;
            }
            mibs = (double)mib / best;
            if (!k)
                base = mibs;
            printf("%-8lu %-16s %10.0f %7.2fx\n", (unsigned long)len,
                   k ? k->name : "rs_mdfour x1", mibs, mibs / base);
        }
    }
    free(buf);
    return 0;
}
