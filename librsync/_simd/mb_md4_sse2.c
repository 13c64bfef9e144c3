/* MD4 of 4 (lrs_md4_x4_sse2) or 8 (lrs_md4_x8_sse2) equal-length messages
 * at once with SSE2.
 *
 * Compile with -msse2 (implied on x86-64).  Each 128-bit register holds the
 * same MD4 state or message word of 4 messages, one per 32-bit lane, so the
 * 48 steps run once for 4 digests; the x8 form runs two such groups with
 * their steps interleaved.  Empty translation unit elsewhere.
 */
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)

#include <emmintrin.h>

#include "mbhash.h"

#define MD4V_ADD(a, b) _mm_add_epi32(a, b)
/* SSE2 has no vector rotate: two shifts and an or. */
#define MD4V_ROL(x, s) _mm_or_si128(_mm_slli_epi32(x, s), _mm_srli_epi32(x, 32 - (s)))
/* The round functions are written so that x, the word the previous step
 * just produced, enters last: y ^ z, y & z and y | z can start early, and
 * each function adds two operations to the step-to-step chain, not three.
 * F: x ? y : z.  G: majority (symmetric, so (y&z) | (x&(y|z)) is the same
 * function as (x&y) | (z&(x|y))).  H: parity. */
#define MD4V_F(x, y, z) _mm_xor_si128(z, _mm_and_si128(x, _mm_xor_si128(y, z)))
#define MD4V_G(x, y, z) _mm_or_si128(_mm_and_si128(y, z), _mm_and_si128(x, _mm_or_si128(y, z)))
#define MD4V_H(x, y, z) _mm_xor_si128(x, _mm_xor_si128(y, z))
#define MD4V_K2 k2
#define MD4V_K3 k3
#define MD4V_T __m128i
#define MD4V_LANES 4
#define MD4V_SET1(c) _mm_set1_epi32((int)(c))
#define MD4V_STORE(p, v) _mm_storeu_si128((__m128i *)(void *)(p), v)

/* Load 64-byte block of each lane, at p[i] + off, into X[w] = word w of
 * lanes 0..3.  Four 4x4 transposes of 32-bit words: rows r_i = words
 * 4q..4q+3 of lane i; unpacklo/hi_epi32 interleave lanes 0,1 and 2,3
 * word-wise, then unpacklo/hi_epi64 join the pairs into full columns. */
static inline void md4_load(__m128i X[16], const unsigned char *const p[4], size_t off)
{
    int q;

    for (q = 0; q < 4; q++) {
        __m128i r0 = _mm_loadu_si128((const __m128i *)(const void *)(p[0] + off + 16 * q));
        __m128i r1 = _mm_loadu_si128((const __m128i *)(const void *)(p[1] + off + 16 * q));
        __m128i r2 = _mm_loadu_si128((const __m128i *)(const void *)(p[2] + off + 16 * q));
        __m128i r3 = _mm_loadu_si128((const __m128i *)(const void *)(p[3] + off + 16 * q));
        __m128i t0 = _mm_unpacklo_epi32(r0, r1); /* r0w0 r1w0 r0w1 r1w1 */
        __m128i t1 = _mm_unpackhi_epi32(r0, r1); /* r0w2 r1w2 r0w3 r1w3 */
        __m128i t2 = _mm_unpacklo_epi32(r2, r3);
        __m128i t3 = _mm_unpackhi_epi32(r2, r3);
        X[4 * q + 0] = _mm_unpacklo_epi64(t0, t2); /* r0w0 r1w0 r2w0 r3w0 */
        X[4 * q + 1] = _mm_unpackhi_epi64(t0, t2);
        X[4 * q + 2] = _mm_unpacklo_epi64(t1, t3);
        X[4 * q + 3] = _mm_unpackhi_epi64(t1, t3);
    }
}

#include "md4_mb_common.h"

void lrs_md4_x4_sse2(const unsigned char *const in[4], size_t len, unsigned char *out)
{
    md4_mb(in, len, out, 1);
}

void lrs_md4_x8_sse2(const unsigned char *const in[8], size_t len, unsigned char *out)
{
    md4_mb(in, len, out, 2);
}

#else
/* Not x86: nothing to build (ISO C forbids an empty translation unit). */
typedef int lrs_md4_sse2_not_built;
#endif
