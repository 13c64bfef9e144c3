/* Weak sums of whole blocks with AVX2, equal to librsync's bit for bit.
 *
 * Our code.  librsync computes a block's weak sum with the update it also
 * uses to roll (rabinkarp_update, RollsumUpdate): one serial chain through
 * every byte, so the CPU mostly waits on each step's latency (about 1.6
 * GB/s for RabinKarp here).  A signature needs only each block's final
 * value, a plain polynomial in the bytes, which can be summed in
 * independent pieces:
 *
 *   RabinKarp:  h = M^n + sum b[i] * M^(n-1-i)                 (mod 2^32)
 *     32 chains, chain c taking bytes c, c+32, c+64, ... with multiplier
 *     M^32, in four 8-lane registers (vpmulld); joined by Horner's rule in
 *     chain order (chain c's bytes then carry weight M^(31-c) relative to
 *     their group's end); the tail rolled in serially; the seed (1) adds M^n.
 *   Rollsum:    s1 = sum (b[i] + 31),  s2 = sum (n-i) * (b[i] + 31)
 *     digest = (s2 << 16) | (s1 & 0xffff): only s1 and s2 mod 2^16 matter,
 *     so 32-bit (and 64-bit) lane sums are exact enough.  32 bytes at a
 *     time as adler32 is vectorised: T += 32*S + sum (32-j)*b[j],
 *     S += sum b[j], with vpsadbw for the plain sums and vpmaddubsw against
 *     the weights 32..1 for the weighted ones.
 */
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)

#include <immintrin.h>
#include <stdint.h>

#include "weaksum.h"

#define RK_MULT 0x08104225U     /* RABINKARP_MULT (rabinkarp.h) */
#define ROLLSUM_OFFSET 31U      /* ROLLSUM_CHAR_OFFSET (rollsum.h) */

static uint32_t rk_pow(uint32_t base, size_t n)
{
    uint32_t r = 1;
    while (n) {
        if (n & 1)
            r *= base;
        base *= base;
        n >>= 1;
    }
    return r;
}

uint32_t lrs_rabinkarp_avx2(const unsigned char *p, size_t n)
{
    const uint32_t m32 = rk_pow(RK_MULT, 32);
    const __m256i vm = _mm256_set1_epi32((int)m32);
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    uint32_t lanes[32], h = 0;
    size_t i = 0;
    int c;
    for (; i + 32 <= n; i += 32) {
        __m256i b0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + i)));
        __m256i b1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + i + 8)));
        __m256i b2 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + i + 16)));
        __m256i b3 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + i + 24)));
        a0 = _mm256_add_epi32(_mm256_mullo_epi32(a0, vm), b0);
        a1 = _mm256_add_epi32(_mm256_mullo_epi32(a1, vm), b1);
        a2 = _mm256_add_epi32(_mm256_mullo_epi32(a2, vm), b2);
        a3 = _mm256_add_epi32(_mm256_mullo_epi32(a3, vm), b3);
    }
    _mm256_storeu_si256((__m256i *)lanes, a0);
    _mm256_storeu_si256((__m256i *)(lanes + 8), a1);
    _mm256_storeu_si256((__m256i *)(lanes + 16), a2);
    _mm256_storeu_si256((__m256i *)(lanes + 24), a3);
    for (c = 0; c < 32; c++)
        h = h * RK_MULT + lanes[c];
    for (; i < n; i++)
        h = h * RK_MULT + p[i];
    return h + rk_pow(RK_MULT, n);
}

/* Through memory, not _mm_extract_epi64: that one does not exist on
 * 32-bit x86. */
static uint64_t hsum_epi64(__m256i v)
{
    uint64_t w[4];
    _mm256_storeu_si256((__m256i *)w, v);
    return w[0] + w[1] + w[2] + w[3];
}

static uint32_t hsum_epi32(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return (uint32_t)_mm_cvtsi128_si32(s);
}

uint32_t lrs_rollsum_avx2(const unsigned char *p, size_t n)
{
    const __m256i zero = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i weights = _mm256_setr_epi8(32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22,
                                             21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11,
                                             10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    /* vs: byte sums so far (4 x 64-bit); vp: sum of vs before each chunk,
     * which times 32 is each chunk's 32*S term; vt: the weighted sums. */
    __m256i vs = zero, vp = zero, vt = zero;
    uint32_t s, t, s1, s2;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i b = _mm256_loadu_si256((const __m256i *)(p + i));
        vp = _mm256_add_epi64(vp, vs);
        vs = _mm256_add_epi64(vs, _mm256_sad_epu8(b, zero));
        /* Pairs of bytes times weights of at most 32: at most 16,320,
         * inside vpmaddubsw's signed 16-bit saturation. */
        vt = _mm256_add_epi32(vt, _mm256_madd_epi16(_mm256_maddubs_epi16(b, weights), ones));
    }
    s = (uint32_t)hsum_epi64(vs);
    t = (uint32_t)(hsum_epi64(vp) << 5) + hsum_epi32(vt);
    for (; i < n; i++) {
        s += p[i];
        t += s;
    }
    s1 = s + (uint32_t)n * ROLLSUM_OFFSET;
    s2 = t + (uint32_t)(((uint64_t)n * (n + 1) / 2) & 0xffffffffu) * ROLLSUM_OFFSET;
    return ((s2 & 0xffffu) << 16) | (s1 & 0xffffu);
}

#else
/* Not an x86 target: nothing to compile (ISO C wants a declaration). */
typedef int lrs_weaksum_avx2_unused;
#endif
