/* MD4 of 4 (lrs_md4_x4_neon) or 8 (lrs_md4_x8_neon) equal-length messages
 * at once with aarch64 Advanced SIMD.
 *
 * No flag needed: NEON is part of the aarch64 base ISA.  Each 128-bit
 * register holds the same MD4 state or message word of 4 messages, one per
 * 32-bit lane; the x8 form runs two such groups with their steps
 * interleaved.  Little- and big-endian aarch64 alike (see md4_ld).
 * Empty translation unit on other architectures (32-bit ARM is not built:
 * its NEON is optional and lacks the trn1/trn2 forms used here).
 */
#if defined(__aarch64__) || defined(_M_ARM64)

#include <arm_neon.h>

#include "mbhash.h"

#define MD4V_ADD(a, b) vaddq_u32(a, b)
/* Rotate in two instructions: shift right, then sli shifts x left and
 * inserts it above the bits already there. */
#define MD4V_ROL(x, s) vsliq_n_u32(vshrq_n_u32(x, 32 - (s)), x, s)
/* bsl(m, a, b) = (m & a) | (~m & b) is one instruction.
 * F = x ? y : z is bsl(x, y, z).  G, the majority, is y where x and y agree
 * and z where they differ: bsl(x ^ y, z, y).  Both put x, the word the
 * previous step just produced, on the chain through at most two
 * instructions (G) or one (F).  H: parity, x last so y ^ z starts early. */
#define MD4V_F(x, y, z) vbslq_u32(x, y, z)
#define MD4V_G(x, y, z) vbslq_u32(veorq_u32(x, y), z, y)
#define MD4V_H(x, y, z) veorq_u32(x, veorq_u32(y, z))
#define MD4V_K2 k2
#define MD4V_K3 k3
#define MD4V_T uint32x4_t
#define MD4V_LANES 4
#define MD4V_SET1(c) vdupq_n_u32(c)
#define MD4V_STORE(p, v) vst1q_u32(p, v)

/* Four little-endian 32-bit words from any address.  vld1q_u8 has no
 * alignment requirement and puts byte j of memory in byte lane j in either
 * byte order; a 32-bit lane of the same register is bytes 4k..4k+3, lowest
 * first, i.e. the little-endian word MD4 wants, so the reinterpretation
 * needs no byte swap on big-endian aarch64 either (vld1q_u32 would: it
 * loads native-endian words). */
static inline uint32x4_t md4_ld(const unsigned char *p)
{
    return vreinterpretq_u32_u8(vld1q_u8(p));
}

/* Load the 64-byte block at p[i] + off of each lane i into X[w] = word w of
 * lanes 0..3.  Four 4x4 transposes of 32-bit words: rows r_i = words
 * 4q..4q+3 of lane i; trn1/trn2 on 32-bit elements pair lanes 0,1 and 2,3
 * (even and odd words), trn1/trn2 on 64-bit elements join the pairs. */
static inline void md4_load(uint32x4_t X[16], const unsigned char *const p[4], size_t off)
{
    int q;

    for (q = 0; q < 4; q++) {
        uint32x4_t r0 = md4_ld(p[0] + off + 16 * q);
        uint32x4_t r1 = md4_ld(p[1] + off + 16 * q);
        uint32x4_t r2 = md4_ld(p[2] + off + 16 * q);
        uint32x4_t r3 = md4_ld(p[3] + off + 16 * q);
        uint64x2_t t0 = vreinterpretq_u64_u32(vtrn1q_u32(r0, r1)); /* r0w0 r1w0 r0w2 r1w2 */
        uint64x2_t t1 = vreinterpretq_u64_u32(vtrn2q_u32(r0, r1)); /* r0w1 r1w1 r0w3 r1w3 */
        uint64x2_t t2 = vreinterpretq_u64_u32(vtrn1q_u32(r2, r3));
        uint64x2_t t3 = vreinterpretq_u64_u32(vtrn2q_u32(r2, r3));
        X[4 * q + 0] = vreinterpretq_u32_u64(vtrn1q_u64(t0, t2)); /* r0w0 r1w0 r2w0 r3w0 */
        X[4 * q + 1] = vreinterpretq_u32_u64(vtrn1q_u64(t1, t3));
        X[4 * q + 2] = vreinterpretq_u32_u64(vtrn2q_u64(t0, t2));
        X[4 * q + 3] = vreinterpretq_u32_u64(vtrn2q_u64(t1, t3));
    }
}

#include "md4_mb_common.h"

void lrs_md4_x4_neon(const unsigned char *const in[4], size_t len, unsigned char *out)
{
    md4_mb(in, len, out, 1);
}

void lrs_md4_x8_neon(const unsigned char *const in[8], size_t len, unsigned char *out)
{
    md4_mb(in, len, out, 2);
}

#else
/* Not aarch64: nothing to build (ISO C forbids an empty translation unit). */
typedef int lrs_md4_neon_not_built;
#endif
