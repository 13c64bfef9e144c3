/* mb_blake2b_avx2.c -- BLAKE2b-256 of 4 equal-length messages at once, one
 * per 64-bit lane of a 256-bit AVX2 register.  Our code.  Build with -mavx2
 * (the CPU must be checked before calling); on other architectures this is
 * an empty translation unit.  See blake2b_mb_impl.h for the algorithm. */
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)

#if !defined(__AVX2__) && !defined(_MSC_VER)
#error "mb_blake2b_avx2.c must be compiled with -mavx2"
#endif

#include <immintrin.h>
#include "mbhash.h"
#include "blake2b_mb_util.h"

#define B2B_LANES 4
#define B2B_V __m256i
#define B2B_SET1(x) _mm256_set1_epi64x((long long)(x))
#define B2B_ADD(a, b) _mm256_add_epi64(a, b)
#define B2B_XOR(a, b) _mm256_xor_si256(a, b)
/* Rotating a 64-bit lane by a whole number of bytes is a byte permutation
 * within the lane: one shuffle instead of two shifts and an or.  32 bits is
 * a swap of the two 32-bit halves, which needs no shuffle constant. */
#define B2B_ROR32(x) _mm256_shuffle_epi32(x, _MM_SHUFFLE(2, 3, 0, 1))
#define B2B_ROR24(x) _mm256_shuffle_epi8(x, b2b_rot24)
#define B2B_ROR16(x) _mm256_shuffle_epi8(x, b2b_rot16)
/* x + x is x << 1 on a port shifts do not compete for. */
#define B2B_ROR63(x) _mm256_xor_si256(_mm256_srli_epi64(x, 63), _mm256_add_epi64(x, x))

/* Byte permutations for the rotations (the compiler keeps each constant in
 * a register across the rounds). */
#define b2b_rot24                                                            \
    _mm256_setr_epi8(3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10,   \
                     3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10)
#define b2b_rot16                                                            \
    _mm256_setr_epi8(2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9,   \
                     2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9)

/* 4x4 transposition of 64-bit words: r<k> holds words 0..3 of row k; on
 * return, r<k> holds word k of rows 0..3.  Unpack pairs words within each
 * 128-bit half, then the 128-bit halves are exchanged across registers. */
#define B2B_TRANSPOSE4(r0, r1, r2, r3)                          \
    do {                                                        \
        __m256i t0_ = _mm256_unpacklo_epi64(r0, r1);            \
        __m256i t1_ = _mm256_unpackhi_epi64(r0, r1);            \
        __m256i t2_ = _mm256_unpacklo_epi64(r2, r3);            \
        __m256i t3_ = _mm256_unpackhi_epi64(r2, r3);            \
        r0 = _mm256_permute2x128_si256(t0_, t2_, 0x20);         \
        r1 = _mm256_permute2x128_si256(t1_, t3_, 0x20);         \
        r2 = _mm256_permute2x128_si256(t0_, t2_, 0x31);         \
        r3 = _mm256_permute2x128_si256(t1_, t3_, 0x31);         \
    } while (0)

/* Each lane's block is four 32-byte rows; four rows of the same offset from
 * the four lanes transpose into four message words.  Loads are unaligned:
 * signature blocks start anywhere. */
static inline void b2b_load(__m256i m[16], const unsigned char *const p[4])
{
    int w;
    B2B_UNROLL
    for (w = 0; w < 16; w += 4) {
        __m256i r0 = _mm256_loadu_si256((const __m256i *)(const void *)(p[0] + 8 * w));
        __m256i r1 = _mm256_loadu_si256((const __m256i *)(const void *)(p[1] + 8 * w));
        __m256i r2 = _mm256_loadu_si256((const __m256i *)(const void *)(p[2] + 8 * w));
        __m256i r3 = _mm256_loadu_si256((const __m256i *)(const void *)(p[3] + 8 * w));
        B2B_TRANSPOSE4(r0, r1, r2, r3);
        m[w] = r0;
        m[w + 1] = r1;
        m[w + 2] = r2;
        m[w + 3] = r3;
    }
}

/* h[0..3] hold word k of every lane; transposed back, register i is lane
 * i's 32-byte digest (x86 is little-endian, as BLAKE2b's output). */
static inline void b2b_store(unsigned char *out, const __m256i h[8])
{
    __m256i r0 = h[0], r1 = h[1], r2 = h[2], r3 = h[3];
    B2B_TRANSPOSE4(r0, r1, r2, r3);
    _mm256_storeu_si256((__m256i *)(void *)(out + 0), r0);
    _mm256_storeu_si256((__m256i *)(void *)(out + 32), r1);
    _mm256_storeu_si256((__m256i *)(void *)(out + 64), r2);
    _mm256_storeu_si256((__m256i *)(void *)(out + 96), r3);
}

#include "blake2b_mb_impl.h"

void lrs_blake2b_x4_avx2(const unsigned char *const in[4], size_t len, unsigned char *out)
{
    b2b_mb_hash(in, len, out);
}

#else
/* ISO C forbids an empty translation unit. */
typedef int lrs_blake2b_avx2_not_x86;
#endif
