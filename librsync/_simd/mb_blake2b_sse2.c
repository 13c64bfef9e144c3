/* mb_blake2b_sse2.c -- BLAKE2b-256 of 2 equal-length messages at once, one per
 * 64-bit lane of a 128-bit SSE2 register.  Our code.  SSE2 is the x86-64
 * baseline, so this kernel runs on every x86-64 CPU; build with -msse2 (on
 * i386).  On other architectures this is an empty translation unit.  See
 * blake2b_mb_impl.h for the algorithm. */
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)

#if !defined(__SSE2__) && !defined(_M_X64) && !(defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#error "mb_blake2b_sse2.c must be compiled with -msse2"
#endif

#include <emmintrin.h>
#include "mbhash.h"
#include "blake2b_mb_util.h"

#define B2B_LANES 2
#define B2B_V __m128i
#define B2B_SET1(x) _mm_set1_epi64x((long long)(x))
#define B2B_ADD(a, b) _mm_add_epi64(a, b)
#define B2B_XOR(a, b) _mm_xor_si128(a, b)
/* Swapping the 32-bit halves of each lane is the 32-bit rotation. */
#define B2B_ROR32(x) _mm_shuffle_epi32(x, _MM_SHUFFLE(2, 3, 0, 1))
/* An SSSE3 variant with pshufb for the 24- and 16-bit rotations measured
 * the same speed (about 1200 MiB/s both, gcc and clang, AMD EPYC family 25
 * model 17), so there is none: these shifts are not the bottleneck. */
#define B2B_ROR24(x) _mm_xor_si128(_mm_srli_epi64(x, 24), _mm_slli_epi64(x, 40))
/* 16 bits is a 16-bit word rotation within each lane: two word shuffles
 * (low and high half) instead of two shifts and a xor. */
#define B2B_ROR16(x)                                                          \
    _mm_shufflehi_epi16(_mm_shufflelo_epi16(x, _MM_SHUFFLE(0, 3, 2, 1)),      \
                        _MM_SHUFFLE(0, 3, 2, 1))
/* x + x is x << 1 on a port shifts do not compete for. */
#define B2B_ROR63(x) _mm_xor_si128(_mm_srli_epi64(x, 63), _mm_add_epi64(x, x))

/* Each lane's block is eight 16-byte rows of two words; the rows of the same
 * offset from the two lanes interleave into two message words. */
static inline void b2b_load(__m128i m[16], const unsigned char *const p[2])
{
    int w;
    B2B_UNROLL
    for (w = 0; w < 16; w += 2) {
        __m128i r0 = _mm_loadu_si128((const __m128i *)(const void *)(p[0] + 8 * w));
        __m128i r1 = _mm_loadu_si128((const __m128i *)(const void *)(p[1] + 8 * w));
        m[w] = _mm_unpacklo_epi64(r0, r1);
        m[w + 1] = _mm_unpackhi_epi64(r0, r1);
    }
}

/* The same interleave undoes the transposition: lane i's h[0], h[1] then
 * h[2], h[3] (x86 is little-endian, as BLAKE2b's output). */
static inline void b2b_store(unsigned char *out, const __m128i h[8])
{
    _mm_storeu_si128((__m128i *)(void *)(out + 0), _mm_unpacklo_epi64(h[0], h[1]));
    _mm_storeu_si128((__m128i *)(void *)(out + 16), _mm_unpacklo_epi64(h[2], h[3]));
    _mm_storeu_si128((__m128i *)(void *)(out + 32), _mm_unpackhi_epi64(h[0], h[1]));
    _mm_storeu_si128((__m128i *)(void *)(out + 48), _mm_unpackhi_epi64(h[2], h[3]));
}

#include "blake2b_mb_impl.h"

void lrs_blake2b_x2_sse2(const unsigned char *const in[2], size_t len, unsigned char *out)
{
    b2b_mb_hash(in, len, out);
}

#else
/* ISO C forbids an empty translation unit. */
typedef int lrs_blake2b_sse2_not_x86;
#endif
