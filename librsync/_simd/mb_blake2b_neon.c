/* mb_blake2b_neon.c -- BLAKE2b-256 of 2 equal-length messages at once, one per
 * 64-bit lane of a 128-bit Advanced SIMD register.  Our code.  For aarch64,
 * where Advanced SIMD is always present (no flag needed; with the SHA3
 * extension enabled, e.g. -march=armv8.2-a+sha3, rotations use xar); on other
 * architectures, and on big-endian aarch64 (the loads and stores below
 * assume little-endian words), this is an empty translation unit.  See
 * blake2b_mb_impl.h for the algorithm. */
#if (defined(__aarch64__) || defined(_M_ARM64)) && !defined(__AARCH64EB__)

#include <arm_neon.h>
#include "mbhash.h"
#include "blake2b_mb_util.h"

#define B2B_LANES 2
#define B2B_INTERLEAVE_G 1 /* 32 vector registers */
#define B2B_V uint64x2_t
#define B2B_SET1(x) vdupq_n_u64(x)
#define B2B_ADD(a, b) vaddq_u64(a, b)
#define B2B_XOR(a, b) veorq_u64(a, b)
/* 32 bits: swap the 32-bit halves of each lane (one rev64). */
#define B2B_ROR32(x) vreinterpretq_u64_u32(vrev64q_u32(vreinterpretq_u32_u64(x)))
/* Others: shift left, then shift right and insert (sri keeps the top n bits
 * of its first operand): two instructions, no constant table. */
#define B2B_ROR(x, n) vsriq_n_u64(vshlq_n_u64(x, 64 - (n)), x, n)
#define B2B_ROR24(x) B2B_ROR(x, 24)
#define B2B_ROR16(x) B2B_ROR(x, 16)
#define B2B_ROR63(x) B2B_ROR(x, 63)
#ifdef __ARM_FEATURE_SHA3
/* Armv8.2's SHA3 extension (Apple M1 and later, Neoverse V1/N2, and what
 * Apple's compilers target by default) has xar: xor, then rotate right, in
 * one instruction, which is exactly every step of G that rotates. */
#define B2B_XROR32(x, y) vxarq_u64(x, y, 32)
#define B2B_XROR24(x, y) vxarq_u64(x, y, 24)
#define B2B_XROR16(x, y) vxarq_u64(x, y, 16)
#define B2B_XROR63(x, y) vxarq_u64(x, y, 63)
#endif

/* Byte loads (vld1q_u8) because the blocks need not be 8-byte aligned.
 * Rows of two words from the two lanes interleave into two message words. */
static inline void b2b_load(uint64x2_t m[16], const unsigned char *const p[2])
{
    int w;
    B2B_UNROLL
    for (w = 0; w < 16; w += 2) {
        uint64x2_t r0 = vreinterpretq_u64_u8(vld1q_u8(p[0] + 8 * w));
        uint64x2_t r1 = vreinterpretq_u64_u8(vld1q_u8(p[1] + 8 * w));
        m[w] = vzip1q_u64(r0, r1);
        m[w + 1] = vzip2q_u64(r0, r1);
    }
}

/* The same interleave undoes the transposition: lane i's h[0], h[1] then
 * h[2], h[3]. */
static inline void b2b_store(unsigned char *out, const uint64x2_t h[8])
{
    vst1q_u8(out + 0, vreinterpretq_u8_u64(vzip1q_u64(h[0], h[1])));
    vst1q_u8(out + 16, vreinterpretq_u8_u64(vzip1q_u64(h[2], h[3])));
    vst1q_u8(out + 32, vreinterpretq_u8_u64(vzip2q_u64(h[0], h[1])));
    vst1q_u8(out + 48, vreinterpretq_u8_u64(vzip2q_u64(h[2], h[3])));
}

#include "blake2b_mb_impl.h"

void lrs_blake2b_x2_neon(const unsigned char *const in[2], size_t len, unsigned char *out)
{
    b2b_mb_hash(in, len, out);
}

#else
/* ISO C forbids an empty translation unit. */
typedef int lrs_blake2b_neon_not_aarch64_le;
#endif
