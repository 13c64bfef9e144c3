/* MD4 of 4 equal-length messages at once with aarch64 Advanced SIMD
 * (lrs_md4_x4_neon).
 *
 * No flag needed: NEON is part of the aarch64 base ISA.  Each 128-bit
 * register holds the same MD4 state or message word of the 4 messages, one
 * per 32-bit lane.  Works on big-endian aarch64 too (the loads byte-swap).
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

#include "md4_mb_common.h"

/* Four little-endian 32-bit words from any address.  vld1q_u8 has no
 * alignment requirement; MD4 reads words little-endian, so a big-endian
 * target reverses the bytes of each word. */
static inline uint32x4_t md4_ld(const unsigned char *p)
{
    uint8x16_t v = vld1q_u8(p);
#if defined(__AARCH64EB__)
    v = vrev32q_u8(v);
#endif
    return vreinterpretq_u32_u8(v);
}

/* Load the 64-byte block at p[i] + off of each lane i into X[w] = word w of
 * lanes 0..3.  Four 4x4 transposes of 32-bit words: rows r_i = words
 * 4q..4q+3 of lane i; trn1/trn2 on 32-bit elements pair lanes 0,1 and 2,3
 * (even and odd words), trn1/trn2 on 64-bit elements join the pairs. */
static inline void md4_load4(uint32x4_t X[16], const unsigned char *const p[4], size_t off)
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

static inline void md4_compress4(uint32x4_t s[4], const uint32x4_t X[16])
{
    const uint32x4_t k2 = vdupq_n_u32(0x5A827999U);
    const uint32x4_t k3 = vdupq_n_u32(0x6ED9EBA1U);
    uint32x4_t a = s[0], b = s[1], c = s[2], d = s[3];

    LRS_MD4_ROUNDS(a, b, c, d, X);
    s[0] = vaddq_u32(s[0], a);
    s[1] = vaddq_u32(s[1], b);
    s[2] = vaddq_u32(s[2], c);
    s[3] = vaddq_u32(s[3], d);
}

void lrs_md4_x4_neon(const unsigned char *const in[4], size_t len, unsigned char *out)
{
    uint32x4_t s[4], X[16];
    unsigned char tail[4][128];
    const unsigned char *tp[4];
    uint32_t w[4][4];
    size_t off, nfull = len / 64, ntail = 0;
    int i;

    s[0] = vdupq_n_u32(LRS_MD4_IV_A);
    s[1] = vdupq_n_u32(LRS_MD4_IV_B);
    s[2] = vdupq_n_u32(LRS_MD4_IV_C);
    s[3] = vdupq_n_u32(LRS_MD4_IV_D);
    for (off = 0; off < 64 * nfull; off += 64) {
        md4_load4(X, in, off);
        md4_compress4(s, X);
    }
    /* The padded tails are copies, so no load reads past a message. */
    for (i = 0; i < 4; i++) {
        ntail = lrs_md4_pad_tail(tail[i], in[i], len);
        tp[i] = tail[i];
    }
    for (off = 0; off < 64 * ntail; off += 64) {
        md4_load4(X, tp, off);
        md4_compress4(s, X);
    }
    /* vst1q_u32 stores lane i at w[.][i] in either byte order. */
    for (i = 0; i < 4; i++)
        vst1q_u32(w[i], s[i]);
    for (i = 0; i < 4; i++)
        lrs_md4_put_digest(out + 16 * i, w[0][i], w[1][i], w[2][i], w[3][i]);
}

#else
/* Not aarch64: nothing to build (ISO C forbids an empty translation unit). */
typedef int lrs_md4_neon_not_built;
#endif
