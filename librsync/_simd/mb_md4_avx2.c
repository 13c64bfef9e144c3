/* MD4 of 8 (lrs_md4_x8_avx2) or 16 (lrs_md4_x16_avx2) equal-length
 * messages at once with AVX2.
 *
 * Compile with -mavx2.  Each 256-bit register holds the same MD4 state or
 * message word of 8 messages, one per 32-bit lane, so the 48 steps run once
 * for 8 digests; the x16 form runs two such groups with their steps
 * interleaved.  Empty translation unit on other architectures.
 */
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)

#include <immintrin.h>

#include "mbhash.h"

#define MD4V_ADD(a, b) _mm256_add_epi32(a, b)
/* AVX2 has no vector rotate (AVX-512 adds one): two shifts and an or. */
#define MD4V_ROL(x, s) _mm256_or_si256(_mm256_slli_epi32(x, s), _mm256_srli_epi32(x, 32 - (s)))
/* The round functions are written so that x, the word the previous step
 * just produced, enters last: y ^ z, y & z and y | z can start early, and
 * each function adds two operations to the step-to-step chain, not three.
 * F: x ? y : z.  G: majority (symmetric, so (y&z) | (x&(y|z)) is the same
 * function as (x&y) | (z&(x|y))).  H: parity. */
#define MD4V_F(x, y, z) _mm256_xor_si256(z, _mm256_and_si256(x, _mm256_xor_si256(y, z)))
#define MD4V_G(x, y, z) \
    _mm256_or_si256(_mm256_and_si256(y, z), _mm256_and_si256(x, _mm256_or_si256(y, z)))
#define MD4V_H(x, y, z) _mm256_xor_si256(x, _mm256_xor_si256(y, z))
#define MD4V_K2 k2
#define MD4V_K3 k3
#define MD4V_T __m256i
#define MD4V_LANES 8
#define MD4V_SET1(c) _mm256_set1_epi32((int)(c))
#define MD4V_STORE(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), v)

/* Load the 64-byte block at p[i] + off of each lane i into X[w] = word w of
 * lanes 0..7: two 8x8 transposes of 32-bit words, one per half block.
 *
 * Row r_i (one 32-byte load) holds words h..h+7 of lane i (h = 0 or 8).  The
 * 256-bit unpack instructions work inside each 128-bit half, so:
 *   1. unpacklo/hi_epi32(r_2k, r_2k+1) interleave two lanes word by word:
 *      t = [r0w0 r1w0 r0w1 r1w1 | r0w4 r1w4 r0w5 r1w5] (lo), w2,w3|w6,w7 (hi);
 *   2. unpacklo/hi_epi64 of two such pairs give four lanes of one word per
 *      half: u = [w0 of r0..r3 | w4 of r0..r3], and w1|w5, w2|w6, w3|w7;
 *   3. permute2x128 joins the halves of lanes 0-3 and 4-7: 0x20 takes the
 *      low halves (w0..w3 of all 8 lanes), 0x31 the high ones (w4..w7).
 * 24 shuffles per half block; a gather instruction per word would be 16
 * gathers, each much slower than the loads and shuffles it replaces. */
static inline void md4_load(__m256i X[16], const unsigned char *const p[8], size_t off)
{
    int h;

    for (h = 0; h < 16; h += 8) {
        size_t o = off + 4 * (size_t)h;
        __m256i r0 = _mm256_loadu_si256((const __m256i *)(const void *)(p[0] + o));
        __m256i r1 = _mm256_loadu_si256((const __m256i *)(const void *)(p[1] + o));
        __m256i r2 = _mm256_loadu_si256((const __m256i *)(const void *)(p[2] + o));
        __m256i r3 = _mm256_loadu_si256((const __m256i *)(const void *)(p[3] + o));
        __m256i r4 = _mm256_loadu_si256((const __m256i *)(const void *)(p[4] + o));
        __m256i r5 = _mm256_loadu_si256((const __m256i *)(const void *)(p[5] + o));
        __m256i r6 = _mm256_loadu_si256((const __m256i *)(const void *)(p[6] + o));
        __m256i r7 = _mm256_loadu_si256((const __m256i *)(const void *)(p[7] + o));
        __m256i t0 = _mm256_unpacklo_epi32(r0, r1), t1 = _mm256_unpackhi_epi32(r0, r1);
        __m256i t2 = _mm256_unpacklo_epi32(r2, r3), t3 = _mm256_unpackhi_epi32(r2, r3);
        __m256i t4 = _mm256_unpacklo_epi32(r4, r5), t5 = _mm256_unpackhi_epi32(r4, r5);
        __m256i t6 = _mm256_unpacklo_epi32(r6, r7), t7 = _mm256_unpackhi_epi32(r6, r7);
        __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
        __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
        __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
        __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
        X[h + 0] = _mm256_permute2x128_si256(u0, u4, 0x20);
        X[h + 1] = _mm256_permute2x128_si256(u1, u5, 0x20);
        X[h + 2] = _mm256_permute2x128_si256(u2, u6, 0x20);
        X[h + 3] = _mm256_permute2x128_si256(u3, u7, 0x20);
        X[h + 4] = _mm256_permute2x128_si256(u0, u4, 0x31);
        X[h + 5] = _mm256_permute2x128_si256(u1, u5, 0x31);
        X[h + 6] = _mm256_permute2x128_si256(u2, u6, 0x31);
        X[h + 7] = _mm256_permute2x128_si256(u3, u7, 0x31);
    }
}

#include "md4_mb_common.h"

void lrs_md4_x8_avx2(const unsigned char *const in[8], size_t len, unsigned char *out)
{
    md4_mb(in, len, out, 1);
    /* Dirty upper register halves would slow the caller's SSE code on CPUs
     * with the AVX-SSE transition penalty.  gcc and clang add this at
     * return on their own; other compilers may not. */
    _mm256_zeroupper();
}

void lrs_md4_x16_avx2(const unsigned char *const in[16], size_t len, unsigned char *out)
{
    md4_mb(in, len, out, 2);
    /* Dirty upper register halves would slow the caller's SSE code on CPUs
     * with the AVX-SSE transition penalty.  gcc and clang add this at
     * return on their own; other compilers may not. */
    _mm256_zeroupper();
}

#else
/* Not x86: nothing to build (ISO C forbids an empty translation unit). */
typedef int lrs_md4_avx2_not_built;
#endif
