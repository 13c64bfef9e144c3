/* bench_mbhash.c -- throughput of BLAKE2b-256 over equal-length blocks, as a
 * signature computes it: libb2's single-stream builds (one block after the
 * other, init/update/final per block like librsync's checksum.c) against
 * the multi-buffer kernels (LANES consecutive blocks per call).
 *
 * Our code.  Built and run by run_bench.sh.  Prints the CPU model, then
 * MiB/s (bytes hashed in one pass over the data / its wall time, the
 * fastest of many passes) per implementation
 * and block length.  Timing only: correctness is test_mbhash.c's job.
 *
 *   bench_mbhash [seconds_per_measurement]   (default 0.4)
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blake2.h"
#include "mbhash.h"

#define DECLARE_LIBB2(sfx)                                                    \
    int blake2b_init##sfx(blake2b_state *S, size_t outlen);                   \
    int blake2b_update##sfx(blake2b_state *S, const uint8_t *in, size_t inlen); \
    int blake2b_final##sfx(blake2b_state *S, uint8_t *out, size_t outlen);
DECLARE_LIBB2(_ref)
#if defined(__x86_64__) || defined(__i386__)
#define BENCH_X86 1
DECLARE_LIBB2(_sse41)
DECLARE_LIBB2(_avx)
#include <cpuid.h>
#elif defined(__aarch64__) && !defined(__AARCH64EB__)
#define BENCH_NEON 1
#endif

typedef int (*init_fn)(blake2b_state *, size_t);
typedef int (*update_fn)(blake2b_state *, const uint8_t *, size_t);
typedef int (*final_fn)(blake2b_state *, uint8_t *, size_t);
typedef void (*kernel_fn)(const unsigned char *const *in, size_t len, unsigned char *out);

typedef struct {
    const char *name;
    int lanes;            /* 1: a libb2 single-stream build */
    init_fn init;
    update_fn update;
    final_fn final;
    kernel_fn kernel;
    int need;             /* CPU feature needed: see has() */
} impl;

enum { ANY, SSE41, AVX, AVX2, AVX512F };

static const impl impls[] = {
    {"libb2 ref (portable C)", 1, blake2b_init_ref, blake2b_update_ref, blake2b_final_ref, 0, ANY},
#ifdef BENCH_X86
    {"libb2 sse41", 1, blake2b_init_sse41, blake2b_update_sse41, blake2b_final_sse41, 0, SSE41},
    {"libb2 avx", 1, blake2b_init_avx, blake2b_update_avx, blake2b_final_avx, 0, AVX},
    {"lrs x2_sse2", 2, 0, 0, 0, lrs_blake2b_x2_sse2, ANY},
    {"lrs x4_avx2", 4, 0, 0, 0, lrs_blake2b_x4_avx2, AVX2},
    {"lrs x8_avx512", 8, 0, 0, 0, lrs_blake2b_x8_avx512, AVX512F},
#endif
#ifdef BENCH_NEON
    {"lrs x2_neon", 2, 0, 0, 0, lrs_blake2b_x2_neon, ANY},
#endif
};
#define NIMPLS ((int)(sizeof(impls) / sizeof(impls[0])))

#ifdef BENCH_X86
static int cpu_bit(unsigned leaf, int reg, unsigned bit)
{
    unsigned r[4] = {0, 0, 0, 0};
    if (!__get_cpuid_count(leaf, 0, &r[0], &r[1], &r[2], &r[3]))
        return 0;
    return (r[reg] >> bit) & 1;
}
static int os_saves(unsigned mask)
{
    unsigned lo, hi;
    if (!cpu_bit(1, 2, 27))
        return 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    return (lo & mask) == mask;
}
#endif

static int has(int need)
{
#ifdef BENCH_X86
    switch (need) {
    case SSE41: return cpu_bit(1, 2, 19);
    case AVX: return cpu_bit(1, 2, 28) && os_saves(0x6);
    case AVX2: return cpu_bit(7, 1, 5) && os_saves(0x6);
    case AVX512F: return cpu_bit(7, 1, 16) && os_saves(0xe6);
    default: break;
    }
#endif
    return need == ANY;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The model name, and family/model/stepping, which tell CPUs apart when a
 * virtual machine reports only a vendor's brand ("AMD EPYC"). */
static void cpu_model(void)
{
    static const char *const keys[] = {"model name", "cpu family", "model\t", "stepping"};
    char line[512], desc[1024] = "";
    size_t k;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        for (k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            rewind(f);
            while (fgets(line, sizeof line, f)) {
                char *v = strchr(line, ':');
                if (strncmp(line, keys[k], strlen(keys[k])) == 0 && v) {
                    line[strcspn(line, "\n")] = 0;
                    snprintf(desc + strlen(desc), sizeof desc - strlen(desc), "%s%s",
                             k ? " | " : "", k ? line : v + 2);
                    break;
                }
            }
        }
        fclose(f);
    }
    for (k = 0; desc[k]; k++)
        if (desc[k] == '\t')
            desc[k] = ' ';
    printf("CPU: %s\n", desc[0] ? desc : "unknown");
    /* Other processes' load is the main source of noise in these numbers. */
    f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fgets(line, sizeof line, f))
            printf("load average: %s", line);
        fclose(f);
    }
}

/* A signature's view of a file: consecutive blocks of one length.  8 MiB,
 * so the data comes from beyond L2 as a file's pages would. */
#define DATA_BYTES ((size_t)8 << 20)

#define NLENS 3
#define ROUNDS 5

static unsigned char sink;

/* One pass over all whole groups of blocks; returns bytes hashed. */
static size_t pass(const impl *m, const unsigned char *data, size_t blen)
{
    size_t nblocks = DATA_BYTES / blen, b, hashed = 0;
    unsigned char out[32 * 8];
    int i;
    for (b = 0; b + (size_t)m->lanes <= nblocks; b += (size_t)m->lanes) {
        if (m->lanes == 1) {
            blake2b_state S;
            m->init(&S, 32);
            m->update(&S, data + b * blen, blen);
            m->final(&S, out, 32);
        } else {
            const unsigned char *in[8];
            for (i = 0; i < m->lanes; i++)
                in[i] = data + (b + (size_t)i) * blen;
            m->kernel(in, blen, out);
        }
        sink ^= out[0];
        hashed += (size_t)m->lanes * blen;
    }
    return hashed;
}

int main(int argc, char **argv)
{
    static const size_t lens[NLENS] = {2048, 16384, 65536};
    static double best[NIMPLS][NLENS];
    double secs = argc > 1 ? atof(argv[1]) : 0.4;
    unsigned char *data = malloc(DATA_BYTES);
    size_t j;
    int n, k, run;

    if (!data || secs <= 0) {
        fprintf(stderr, "usage: bench_mbhash [seconds_per_run > 0]\n");
        return 2;
    }
    for (j = 0; j < DATA_BYTES; j++)
        data[j] = (unsigned char)(j * 2654435761u >> 13);
    cpu_model();
    printf("MiB/s of the fastest pass over %zu MiB of consecutive blocks, in %d"
           " rounds of %.2f s per implementation\n", DATA_BYTES >> 20, ROUNDS, secs);
    /* Rounds interleave the implementations, so a burst of load from
     * other processes does not land on one implementation only. */
    for (n = 0; n < NLENS; n++) {
        for (k = 0; k < NIMPLS; k++)
            if (has(impls[k].need))
                pass(&impls[k], data, lens[n]); /* warm up caches, clocks */
        for (run = 0; run < ROUNDS; run++) {
            for (k = 0; k < NIMPLS; k++) {
                double start, t0, t;
                if (!has(impls[k].need))
                    continue;
                /* The fastest single pass (a few ms) rather than the
                 * average over the whole measurement: on a shared machine
                 * some passes run without being preempted, and those show
                 * the code's speed. */
                start = now();
                do {
                    size_t bytes;
                    t0 = now();
                    bytes = pass(&impls[k], data, lens[n]);
                    t = now() - t0;
                    if ((double)bytes / t > best[k][n])
                        best[k][n] = (double)bytes / t;
                } while (now() - start < secs);
            }
        }
    }
    printf("%-24s", "block length:");
    for (n = 0; n < NLENS; n++)
        printf(" %10zu", lens[n]);
    printf("\n");
    for (k = 0; k < NIMPLS; k++) {
        printf("%-24s", impls[k].name);
        if (!has(impls[k].need)) {
            printf(" (CPU lacks the instructions)\n");
            continue;
        }
        for (n = 0; n < NLENS; n++)
            printf(" %10.0f", best[k][n] / (1024.0 * 1024.0));
        printf("\n");
    }
    free(data);
    return sink == 0x5a ? 0 : 0;
}
