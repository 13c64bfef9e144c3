/* BLAKE2b for librsync's strong sums: libb2's implementations, the fastest
 * on this CPU.
 *
 * Our glue, not upstream code.  librsync's checksum.c calls blake2b_init,
 * blake2b_update and blake2b_final (declared by libb2's blake2.h, which our
 * include path puts in place of librsync's bundled reference copy).  They
 * are defined here, once, and forward to one of libb2's builds:
 *
 *   ref                   portable C (every target)
 *   sse2 ssse3 sse41 avx  libb2's SIMD code (x86 with gcc/clang only:
 *                         LRS_BLAKE2_X86 is defined by setup.py there)
 *
 * libb2's own dispatcher trusts cpuid and picks the newest instruction set,
 * but which build is fastest depends on the core: on one AMD EPYC (with
 * AVX-512) we measured the portable C at 2.1x libb2's AVX code, on another
 * (Zen 3, no AVX-512) AVX at 1.2-1.3x the portable C (bench/PROFILE.md,
 * bench/RESULTS.md).  The choice is made from cpuid alone
 * (lrs_blake2b_preferred), never by timing at import: timing cost ~2 ms of
 * every process's start and flipped between builds on a busy machine.
 * All builds produce identical digests; the import checks that.
 */
#ifndef LIBRSYNC_PY_BLAKE2_H
#define LIBRSYNC_PY_BLAKE2_H

#include <stddef.h>
#include <stdint.h>

#include "blake2.h"

typedef int (*lrs_b2_init_fn)(blake2b_state *S, size_t outlen);
typedef int (*lrs_b2_update_fn)(blake2b_state *S, const uint8_t *in, size_t inlen);
typedef int (*lrs_b2_final_fn)(blake2b_state *S, uint8_t *out, size_t outlen);

#define LRS_B2_DECLARE(sfx)                                                   \
    int blake2b_init##sfx(blake2b_state *S, size_t outlen);                   \
    int blake2b_update##sfx(blake2b_state *S, const uint8_t *in, size_t inlen); \
    int blake2b_final##sfx(blake2b_state *S, uint8_t *out, size_t outlen);

LRS_B2_DECLARE(_ref)
#ifdef LRS_BLAKE2_X86
LRS_B2_DECLARE(_sse2)
LRS_B2_DECLARE(_ssse3)
LRS_B2_DECLARE(_sse41)
LRS_B2_DECLARE(_avx)
#endif

typedef struct {
    const char *name;
    lrs_b2_init_fn init;
    lrs_b2_update_fn update;
    lrs_b2_final_fn final;
} lrs_blake2b_impl;

#define LRS_B2_ENTRY(name, sfx) \
    { name, blake2b_init##sfx, blake2b_update##sfx, blake2b_final##sfx }

static const lrs_blake2b_impl lrs_blake2b_impls[] = {
    LRS_B2_ENTRY("ref", _ref),
#ifdef LRS_BLAKE2_X86
    LRS_B2_ENTRY("sse2", _sse2),
    LRS_B2_ENTRY("ssse3", _ssse3),
    LRS_B2_ENTRY("sse41", _sse41),
    LRS_B2_ENTRY("avx", _avx),
#endif
};

#define LRS_B2_COUNT ((int)(sizeof(lrs_blake2b_impls) / sizeof(lrs_blake2b_impls[0])))

/* The portable build until the import has timed the others, so librsync is
 * usable whatever happens to the selection. */
static const lrs_blake2b_impl *lrs_blake2b_current = &lrs_blake2b_impls[0];

static int lrs_blake2b_count(void)
{
    return LRS_B2_COUNT;
}

static const char *lrs_blake2b_name(int i)
{
    return (i >= 0 && i < LRS_B2_COUNT) ? lrs_blake2b_impls[i].name : NULL;
}

/* Whether this CPU (and its OS: __builtin_cpu_supports checks that AVX
 * state is saved) can run build i. */
static int lrs_blake2b_supported(int i)
{
    if (i < 0 || i >= LRS_B2_COUNT)
        return 0;
#ifdef LRS_BLAKE2_X86
    __builtin_cpu_init();
    switch (i) {
    case 1: return __builtin_cpu_supports("sse2") != 0;
    case 2: return __builtin_cpu_supports("ssse3") != 0;
    case 3: return __builtin_cpu_supports("sse4.1") != 0;
    case 4: return __builtin_cpu_supports("avx") != 0;
    default: break;
    }
#endif
    return 1;
}

/* Digest of in[0:len) with build i (for the import's timing and self-check,
 * and for tests): 32 bytes, librsync's RS_MAX_STRONG_SUM_LENGTH. */
static int lrs_blake2b_digest(int i, const uint8_t *in, size_t len, uint8_t out[32])
{
    blake2b_state S;
    const lrs_blake2b_impl *impl;

    if (!lrs_blake2b_supported(i))
        return -1;
    impl = &lrs_blake2b_impls[i];
    if (impl->init(&S, 32) < 0 || impl->update(&S, in, len) < 0
        || impl->final(&S, out, 32) < 0)
        return -1;
    return 0;
}

/* The build cpuid says to use: the newest SIMD build the CPU runs, except
 * on AMD cores with AVX-512 (Zen 4 and later), whose scalar 64-bit units ran
 * the portable C at 2.1x libb2's 128-bit AVX code (the one such measurement
 * we have, bench/PROFILE.md); elsewhere libb2's own choice. */
static int lrs_blake2b_preferred(void)
{
    int i;
#ifdef LRS_BLAKE2_X86
    __builtin_cpu_init();
    if (__builtin_cpu_is("amd") && __builtin_cpu_supports("avx512f"))
        return 0;
#endif
    for (i = LRS_B2_COUNT - 1; i > 0; i--)
        if (lrs_blake2b_supported(i))
            return i;
    return 0;
}

/* Selected once at import, under the GIL, before any job can run; tests
 * switch between builds only while no job is running. */
static int lrs_blake2b_select(int i)
{
    if (!lrs_blake2b_supported(i))
        return -1;
    lrs_blake2b_current = &lrs_blake2b_impls[i];
    return 0;
}

static int lrs_blake2b_selected(void)
{
    return (int)(lrs_blake2b_current - lrs_blake2b_impls);
}

/* What librsync's checksum.c links against. */
int blake2b_init(blake2b_state *S, size_t outlen)
{
    return lrs_blake2b_current->init(S, outlen);
}

int blake2b_update(blake2b_state *S, const uint8_t *in, size_t inlen)
{
    return lrs_blake2b_current->update(S, in, inlen);
}

int blake2b_final(blake2b_state *S, uint8_t *out, size_t outlen)
{
    return lrs_blake2b_current->final(S, out, outlen);
}

#endif /* LIBRSYNC_PY_BLAKE2_H */
