/* MD4 of 16 equal-length messages at once with AVX-512F
 * (lrs_md4_x16_avx512).
 *
 * Compile with -mavx512f; only AVX-512 Foundation instructions are used (no
 * BW/DQ/VL), so any AVX-512 CPU runs it.  Each 512-bit register holds the
 * same MD4 state or message word of the 16 messages, one per 32-bit lane.
 * Empty translation unit on other architectures.
 */
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)

#include <immintrin.h>

#include "mbhash.h"

#define MD4V_ADD(a, b) _mm512_add_epi32(a, b)
/* AVX-512F rotates natively: one instruction instead of shift, shift, or. */
#define MD4V_ROL(x, s) _mm512_rol_epi32(x, s)
/* vpternlogd evaluates any function of three inputs in one instruction; the
 * immediate is the function's truth table, bit (x<<2 | y<<1 | z) of it
 * being the result for those input bits:
 *   0xCA = x ? y : z (F), 0xE8 = majority (G), 0x96 = x ^ y ^ z (H).
 * So each round function is one operation on the step-to-step chain. */
#define MD4V_F(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0xCA)
#define MD4V_G(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0xE8)
#define MD4V_H(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0x96)
#define MD4V_K2 k2
#define MD4V_K3 k3
#define MD4V_T __m512i
#define MD4V_LANES 16
#define MD4V_SET1(c) _mm512_set1_epi32((int)(c))
#define MD4V_STORE(p, v) _mm512_storeu_si512((void *)(p), v)

/* Load the 64-byte block at p[i] + off of each lane i into X[w] = word w of
 * lanes 0..15: one 16x16 transpose of 32-bit words, row r_i = the block of
 * lane i (one 64-byte load).  The unpack instructions work inside each
 * 128-bit quarter q (words 4q..4q+3 of every row), so:
 *   1. unpacklo/hi_epi32(r_2k, r_2k+1): pairs of lanes, word by word;
 *   2. unpacklo/hi_epi64 of two pairs: u[4g+j] holds, in quarter q, word
 *      4q+j of the four lanes 4g..4g+3;
 *   3. for each j, two rounds of shuffle_i32x4 (which picks whole quarters:
 *      0x88 takes quarters 0,2 of each source, 0xDD quarters 1,3) gather
 *      quarter q of u[j], u[4+j], u[8+j], u[12+j] into one register: word
 *      4q+j of lanes 0..15.
 * 64 shuffles for 1 KiB of input; gathers would be much slower. */
static inline void md4_load(__m512i X[16], const unsigned char *const p[16], size_t off)
{
    __m512i t[16], u[16];
    int i, j;

    for (i = 0; i < 16; i += 2) {
        __m512i r0 = _mm512_loadu_si512((const void *)(p[i] + off));
        __m512i r1 = _mm512_loadu_si512((const void *)(p[i + 1] + off));
        t[i] = _mm512_unpacklo_epi32(r0, r1);
        t[i + 1] = _mm512_unpackhi_epi32(r0, r1);
    }
    for (i = 0; i < 16; i += 4) {
        u[i + 0] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        u[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        u[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        u[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (j = 0; j < 4; j++) {
        /* v0 = [a0 a2 b0 b2], v1 = [a1 a3 b1 b3], v2/v3 likewise from c, d
         * (a..d = u[j], u[4+j], u[8+j], u[12+j]; digits are quarters). */
        __m512i v0 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x88);
        __m512i v1 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xDD);
        __m512i v2 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x88);
        __m512i v3 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xDD);
        X[0 + j] = _mm512_shuffle_i32x4(v0, v2, 0x88);  /* a0 b0 c0 d0 */
        X[4 + j] = _mm512_shuffle_i32x4(v1, v3, 0x88);  /* a1 b1 c1 d1 */
        X[8 + j] = _mm512_shuffle_i32x4(v0, v2, 0xDD);  /* a2 b2 c2 d2 */
        X[12 + j] = _mm512_shuffle_i32x4(v1, v3, 0xDD); /* a3 b3 c3 d3 */
    }
}

#include "md4_mb_common.h"

void lrs_md4_x16_avx512(const unsigned char *const in[16], size_t len, unsigned char *out)
{
    md4_mb(in, len, out, 1);
    /* Dirty upper register halves would slow the caller's SSE code on CPUs
     * with the AVX-SSE transition penalty.  gcc and clang add this at
     * return on their own; other compilers may not. */
    _mm256_zeroupper();
}

#else
/* Not x86: nothing to build (ISO C forbids an empty translation unit). */
typedef int lrs_md4_avx512_not_built;
#endif
