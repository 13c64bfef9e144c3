/* mb_blake2b_avx512.c -- BLAKE2b-256 of 8 equal-length messages at once, one
 * per 64-bit lane of a 512-bit AVX-512F register.  Our code.  Build with
 * -mavx512f (the CPU, and the OS's saving of the zmm state, must be checked
 * before calling); on other architectures this is an empty translation
 * unit.  See blake2b_mb_impl.h for the algorithm. */
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)

#if !defined(__AVX512F__) && !defined(_MSC_VER)
#error "mb_blake2b_avx512.c must be compiled with -mavx512f"
#endif

#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include "mbhash.h"
#include "blake2b_mb_util.h"

#define B2B_LANES 8
#define B2B_INTERLEAVE_G 1 /* 32 vector registers */
#define B2B_V __m512i
#define B2B_SET1(x) _mm512_set1_epi64((long long)(x))
#define B2B_ADD(a, b) _mm512_add_epi64(a, b)
#define B2B_XOR(a, b) _mm512_xor_si512(a, b)
/* AVX-512F rotates 64-bit lanes natively (vprorq): one instruction for
 * every rotation, where AVX2 needs shuffles or shift pairs.  With 32 zmm
 * registers, state and message words also fit without spills. */
#define B2B_ROR32(x) _mm512_ror_epi64(x, 32)
#define B2B_ROR24(x) _mm512_ror_epi64(x, 24)
#define B2B_ROR16(x) _mm512_ror_epi64(x, 16)
#define B2B_ROR63(x) _mm512_ror_epi64(x, 63)

/* 8x8 transposition of 64-bit words: r[k] holds words 0..7 of row k; on
 * return, r[k] holds word k of rows 0..7.  Three stages, each exchanging
 * ever larger units: 64-bit words within 128-bit pairs (unpack), then
 * 128-bit pairs, twice (shuffle_i64x2 picks two 128-bit parts from each
 * source). */
static inline void b2b_transpose8(__m512i r[8])
{
    __m512i t[8], u[8];
    int k;
    B2B_UNROLL
    for (k = 0; k < 8; k += 2) {
        t[k] = _mm512_unpacklo_epi64(r[k], r[k + 1]);     /* even words */
        t[k + 1] = _mm512_unpackhi_epi64(r[k], r[k + 1]); /* odd words */
    }
    /* u[0]: words 0,4 of rows 0-3; u[1]: words 1,5; u[2]: 2,6; u[3]: 3,7;
     * u[4..7]: the same for rows 4-7.  Each as (row0,row1) pairs. */
    B2B_UNROLL
    for (k = 0; k < 2; k++) {
        u[4 * k + 0] = _mm512_shuffle_i64x2(t[4 * k], t[4 * k + 2], _MM_SHUFFLE(2, 0, 2, 0));
        u[4 * k + 1] = _mm512_shuffle_i64x2(t[4 * k + 1], t[4 * k + 3], _MM_SHUFFLE(2, 0, 2, 0));
        u[4 * k + 2] = _mm512_shuffle_i64x2(t[4 * k], t[4 * k + 2], _MM_SHUFFLE(3, 1, 3, 1));
        u[4 * k + 3] = _mm512_shuffle_i64x2(t[4 * k + 1], t[4 * k + 3], _MM_SHUFFLE(3, 1, 3, 1));
    }
    B2B_UNROLL
    for (k = 0; k < 4; k++) {
        r[k] = _mm512_shuffle_i64x2(u[k], u[k + 4], _MM_SHUFFLE(2, 0, 2, 0));
        r[k + 4] = _mm512_shuffle_i64x2(u[k], u[k + 4], _MM_SHUFFLE(3, 1, 3, 1));
    }
}

/* Each lane's block is two 64-byte rows of eight words; the rows of the
 * same offset from the eight lanes transpose into eight message words. */
static inline void b2b_load(__m512i m[16], const unsigned char *const p[8])
{
    int half, i;
    B2B_UNROLL
    for (half = 0; half < 2; half++) {
        __m512i r[8];
        B2B_UNROLL
        for (i = 0; i < 8; i++)
            r[i] = _mm512_loadu_si512((const void *)(p[i] + 64 * half));
        b2b_transpose8(r);
        B2B_UNROLL
        for (i = 0; i < 8; i++)
            m[8 * half + i] = r[i];
    }
}

/* Once per message, so plainly through memory: word k of lane i to
 * out + 32*i + 8*k (x86 is little-endian, as BLAKE2b's output). */
static inline void b2b_store(unsigned char *out, const __m512i h[8])
{
    uint64_t w[4][8];
    int i, k;
    B2B_UNROLL
    for (k = 0; k < 4; k++)
        _mm512_storeu_si512((void *)w[k], h[k]);
    B2B_UNROLL
    for (i = 0; i < 8; i++)
        B2B_UNROLL
        for (k = 0; k < 4; k++)
            memcpy(out + 32 * i + 8 * k, &w[k][i], 8);
}

#include "blake2b_mb_impl.h"

void lrs_blake2b_x8_avx512(const unsigned char *const in[8], size_t len, unsigned char *out)
{
    b2b_mb_hash(in, len, out);
}

#else
/* ISO C forbids an empty translation unit. */
typedef int lrs_blake2b_avx512_not_x86;
#endif
