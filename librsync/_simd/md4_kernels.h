/* The multi-buffer MD4 kernels built for this target, with a run-time check
 * of whether this CPU can run each: shared by test_md4.c and bench_md4.c
 * (not by the extension, whose dispatch is the integrator's). */
#ifndef LIBRSYNC_PY_SIMD_MD4_KERNELS_H
#define LIBRSYNC_PY_SIMD_MD4_KERNELS_H

#include <stddef.h>

#include "mbhash.h"

/* An array parameter is a pointer parameter, so every kernel has this type. */
typedef void (*lrs_md4_mb_fn)(const unsigned char *const *in, size_t len, unsigned char *out);

typedef struct {
    const char *name;
    int lanes;
    lrs_md4_mb_fn fn;
    int (*usable)(void);
} lrs_md4_kernel;

#if defined(LRS_MB_MD4_X86)
#  if defined(__GNUC__) || defined(__clang__)
#    include <cpuid.h>
/* cpuid and xgetbv by hand rather than __builtin_cpu_supports: zig cc's
 * runtime (clang without libgcc) links that builtin but never fills in the
 * table it reads, so it reports no features at all. */
static unsigned long long lrs_md4_xcr0(void)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

/* Bit `bit` of register reg (0 eax .. 3 edx) of cpuid leaf, subleaf 0. */
static int lrs_md4_cpuid_bit(unsigned leaf, int reg, int bit)
{
    unsigned r[4] = {0, 0, 0, 0};

    if (__get_cpuid_max(0, NULL) < leaf)
        return 0;
    __cpuid_count(leaf, 0, r[0], r[1], r[2], r[3]);
    return (int)((r[reg] >> bit) & 1);
}

/* The wide registers are usable only if the OS saves them on a context
 * switch (OSXSAVE, then XCR0's bits for their state components). */
static int lrs_md4_os_saves(unsigned long long mask)
{
    return lrs_md4_cpuid_bit(1, 2, 27) && (lrs_md4_xcr0() & mask) == mask;
}

static int lrs_md4_has_sse2(void) { return lrs_md4_cpuid_bit(1, 3, 26); }
static int lrs_md4_has_avx2(void)
{
    return lrs_md4_cpuid_bit(7, 1, 5) && lrs_md4_os_saves(0x6); /* XMM, YMM */
}
static int lrs_md4_has_avx512(void)
{
    /* + opmask, upper ZMM0-15, ZMM16-31 */
    return lrs_md4_cpuid_bit(7, 1, 16) && lrs_md4_os_saves(0xE6);
}
#  else
#    error "test/bench: x86 CPU detection written for gcc/clang only"
#  endif
#endif
#if defined(LRS_MB_MD4_NEON)
static int lrs_md4_always(void) { return 1; }
#endif

static const lrs_md4_kernel lrs_md4_kernels[] = {
#if defined(LRS_MB_MD4_X86)
    {"sse2 x4", 4, lrs_md4_x4_sse2, lrs_md4_has_sse2},
    {"sse2 x8", 8, lrs_md4_x8_sse2, lrs_md4_has_sse2},
    {"avx2 x8", 8, lrs_md4_x8_avx2, lrs_md4_has_avx2},
    {"avx2 x16", 16, lrs_md4_x16_avx2, lrs_md4_has_avx2},
    {"avx512 x16", 16, lrs_md4_x16_avx512, lrs_md4_has_avx512},
#endif
#if defined(LRS_MB_MD4_NEON)
    {"neon x4", 4, lrs_md4_x4_neon, lrs_md4_always},
    {"neon x8", 8, lrs_md4_x8_neon, lrs_md4_always},
#endif
    {NULL, 0, NULL, NULL}
};

#define LRS_MD4_MAX_LANES 16

#endif /* LIBRSYNC_PY_SIMD_MD4_KERNELS_H */
