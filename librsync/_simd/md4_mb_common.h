/* Pieces shared by the multi-buffer MD4 kernels (mb_md4_sse2.c, mb_md4_avx2.c,
 * mb_md4_avx512.c, mb_md4_neon.c).  Internal: only those files include it.
 *
 * Nothing here depends on an instruction set.  The 48 MD4 steps and the
 * driver (md4_mb) are written once, in terms of what each kernel defines
 * before including this header:
 *
 *   MD4V_T               the vector type
 *   MD4V_LANES           32-bit lanes per vector
 *   MD4V_ADD(a, b)       lane-wise 32-bit add
 *   MD4V_ROL(x, s)       lane-wise rotate left by the literal s
 *   MD4V_F/G/H(x, y, z)  MD4's round functions
 *   MD4V_K2, MD4V_K3     the round 2 and round 3 constants, broadcast
 *                        (named locals of md4_compress*: k2, k3)
 *   MD4V_SET1(c)         c in every lane
 *   MD4V_STORE(p, v)     lanes of v to uint32_t p[MD4V_LANES]
 *   md4_load(X, p, off)  a static function: word w of the 64-byte blocks
 *                        at p[0..MD4V_LANES-1] + off into X[w]
 *
 * so the step order, shifts and message-word schedule (the part that is
 * easy to get subtly wrong), the padding and the block loop exist in one
 * place and are tested through every kernel.
 */
#ifndef LIBRSYNC_PY_SIMD_MD4_MB_COMMON_H
#define LIBRSYNC_PY_SIMD_MD4_MB_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LRS_MD4_IV_A 0x67452301U
#define LRS_MD4_IV_B 0xefcdab89U
#define LRS_MD4_IV_C 0x98badcfeU
#define LRS_MD4_IV_D 0x10325476U

/* rs_mdfour_tail() pads a message with 0x80, zeros up to 8 bytes short of
 * a block boundary, then the message length in bits as a 64-bit
 * little-endian number (rs_mdfour counts it in a uint64_t, so len * 8
 * modulo 2^64).  When the message does not end on a block boundary its
 * last block is mixed, built here: the len % 64 (> 0) bytes after the last
 * whole block, 0x80, zeros, and the bit count if it still fits (len % 64 <
 * 56).  Otherwise one more block follows that holds no message bytes and
 * is the same in every lane: md4_mb broadcasts it instead. */
static void lrs_md4_mixed_tail(unsigned char buf[64], const unsigned char *msg, size_t len)
{
    size_t rem = len % 64;
    uint64_t bits = (uint64_t)len << 3;
    int i;

    memcpy(buf, msg + (len - rem), rem);
    buf[rem] = 0x80;
    memset(buf + rem + 1, 0, 64 - (rem + 1));
    if (rem < 56)
        for (i = 0; i < 8; i++)
            buf[56 + i] = (unsigned char)(bits >> (8 * i));
}

/* The digest of one lane from the four state words: little-endian bytes of
 * A, B, C, D (rs_mdfour_result's copy4), written bytewise so it holds on a
 * big-endian target too and needs no alignment of out. */
static void lrs_md4_put_digest(unsigned char *out, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    const uint32_t w[4] = {a, b, c, d};
    int i, j;

    for (i = 0; i < 4; i++)
        for (j = 0; j < 4; j++)
            out[4 * i + j] = (unsigned char)(w[i] >> (8 * j));
}

/* One step: a = (a + f(b, c, d) + x [+ k]) <<< s.  The sum a + x (+ k) does
 * not depend on the previous step, so it is formed first and only the
 * round function, one add and the rotate sit on the dependency chain from
 * step to step (the chain, not the number of instructions, bounds MD4: each
 * step needs the word the step before produced). */
#define LRS_MD4_S1(a, b, c, d, x, s) \
    a = MD4V_ROL(MD4V_ADD(MD4V_F(b, c, d), MD4V_ADD(a, x)), s)
#define LRS_MD4_S2(a, b, c, d, x, s) \
    a = MD4V_ROL(MD4V_ADD(MD4V_G(b, c, d), MD4V_ADD(MD4V_ADD(a, x), MD4V_K2)), s)
#define LRS_MD4_S3(a, b, c, d, x, s) \
    a = MD4V_ROL(MD4V_ADD(MD4V_H(b, c, d), MD4V_ADD(MD4V_ADD(a, x), MD4V_K3)), s)

/* The 48 steps of one MD4 compression (RFC 1320 section 3.4; the same
 * order, message words and shifts as rs_mdfour64).  Each step is
 * STEPn(a, b, c, d, k, s): state words a b c d given as indices 0..3 (the
 * roles rotate a b c d -> d a b c from step to step), message word k,
 * shift s.  The caller's STEPn maps indices to its variables, so one list
 * serves a kernel hashing one group of lanes and one interleaving two
 * independent groups.  Unrolled by hand: the shift amounts must be literals
 * (immediate operands of the shift/rotate instructions), the role rotation
 * is then free (no register moves), and a loop would make the compiler
 * keep the schedule in memory. */
#define LRS_MD4_48(ST1, ST2, ST3)                                             \
    do {                                                                      \
        ST1(0, 1, 2, 3, 0, 3);  ST1(3, 0, 1, 2, 1, 7);                        \
        ST1(2, 3, 0, 1, 2, 11); ST1(1, 2, 3, 0, 3, 19);                       \
        ST1(0, 1, 2, 3, 4, 3);  ST1(3, 0, 1, 2, 5, 7);                        \
        ST1(2, 3, 0, 1, 6, 11); ST1(1, 2, 3, 0, 7, 19);                       \
        ST1(0, 1, 2, 3, 8, 3);  ST1(3, 0, 1, 2, 9, 7);                        \
        ST1(2, 3, 0, 1, 10, 11); ST1(1, 2, 3, 0, 11, 19);                     \
        ST1(0, 1, 2, 3, 12, 3); ST1(3, 0, 1, 2, 13, 7);                       \
        ST1(2, 3, 0, 1, 14, 11); ST1(1, 2, 3, 0, 15, 19);                     \
                                                                              \
        ST2(0, 1, 2, 3, 0, 3);  ST2(3, 0, 1, 2, 4, 5);                        \
        ST2(2, 3, 0, 1, 8, 9);  ST2(1, 2, 3, 0, 12, 13);                      \
        ST2(0, 1, 2, 3, 1, 3);  ST2(3, 0, 1, 2, 5, 5);                        \
        ST2(2, 3, 0, 1, 9, 9);  ST2(1, 2, 3, 0, 13, 13);                      \
        ST2(0, 1, 2, 3, 2, 3);  ST2(3, 0, 1, 2, 6, 5);                        \
        ST2(2, 3, 0, 1, 10, 9); ST2(1, 2, 3, 0, 14, 13);                      \
        ST2(0, 1, 2, 3, 3, 3);  ST2(3, 0, 1, 2, 7, 5);                        \
        ST2(2, 3, 0, 1, 11, 9); ST2(1, 2, 3, 0, 15, 13);                      \
                                                                              \
        ST3(0, 1, 2, 3, 0, 3);  ST3(3, 0, 1, 2, 8, 9);                        \
        ST3(2, 3, 0, 1, 4, 11); ST3(1, 2, 3, 0, 12, 15);                      \
        ST3(0, 1, 2, 3, 2, 3);  ST3(3, 0, 1, 2, 10, 9);                       \
        ST3(2, 3, 0, 1, 6, 11); ST3(1, 2, 3, 0, 14, 15);                      \
        ST3(0, 1, 2, 3, 1, 3);  ST3(3, 0, 1, 2, 9, 9);                        \
        ST3(2, 3, 0, 1, 5, 11); ST3(1, 2, 3, 0, 13, 15);                      \
        ST3(0, 1, 2, 3, 3, 3);  ST3(3, 0, 1, 2, 11, 9);                       \
        ST3(2, 3, 0, 1, 7, 11); ST3(1, 2, 3, 0, 15, 15);                      \
    } while (0)

/* One group: state v[0..3], message X[0..15]. */
#define LRS_MD4_G1_S1(a, b, c, d, k, s) LRS_MD4_S1(v[a], v[b], v[c], v[d], X[k], s)
#define LRS_MD4_G1_S2(a, b, c, d, k, s) LRS_MD4_S2(v[a], v[b], v[c], v[d], X[k], s)
#define LRS_MD4_G1_S3(a, b, c, d, k, s) LRS_MD4_S3(v[a], v[b], v[c], v[d], X[k], s)
#define LRS_MD4_ROUNDS_1() LRS_MD4_48(LRS_MD4_G1_S1, LRS_MD4_G1_S2, LRS_MD4_G1_S3)

/* Two independent groups, state v/w, messages X/Y, step by step
 * interleaved: one group's chain leaves most execution ports idle (each
 * step waits for the last), the other group's step fills them. */
#define LRS_MD4_G2_S1(a, b, c, d, k, s) \
    LRS_MD4_S1(v[a], v[b], v[c], v[d], X[k], s); LRS_MD4_S1(w[a], w[b], w[c], w[d], Y[k], s)
#define LRS_MD4_G2_S2(a, b, c, d, k, s) \
    LRS_MD4_S2(v[a], v[b], v[c], v[d], X[k], s); LRS_MD4_S2(w[a], w[b], w[c], w[d], Y[k], s)
#define LRS_MD4_G2_S3(a, b, c, d, k, s) \
    LRS_MD4_S3(v[a], v[b], v[c], v[d], X[k], s); LRS_MD4_S3(w[a], w[b], w[c], w[d], Y[k], s)
#define LRS_MD4_ROUNDS_2() LRS_MD4_48(LRS_MD4_G2_S1, LRS_MD4_G2_S2, LRS_MD4_G2_S3)

/* The compression function (one group or two) and the driver, for the
 * kernel that includes this header. */
static inline void md4_compress(MD4V_T s[4], const MD4V_T X[16])
{
    const MD4V_T k2 = MD4V_SET1(0x5A827999);
    const MD4V_T k3 = MD4V_SET1(0x6ED9EBA1);
    MD4V_T v[4];
    int i;

    for (i = 0; i < 4; i++)
        v[i] = s[i];
    LRS_MD4_ROUNDS_1();
    for (i = 0; i < 4; i++)
        s[i] = MD4V_ADD(s[i], v[i]);
}

/* Two groups of lanes at once, their steps interleaved (LRS_MD4_ROUNDS_2). */
static inline void md4_compress_x2(MD4V_T s[4], MD4V_T t[4], const MD4V_T X[16], const MD4V_T Y[16])
{
    const MD4V_T k2 = MD4V_SET1(0x5A827999);
    const MD4V_T k3 = MD4V_SET1(0x6ED9EBA1);
    MD4V_T v[4], w[4];
    int i;

    for (i = 0; i < 4; i++) {
        v[i] = s[i];
        w[i] = t[i];
    }
    LRS_MD4_ROUNDS_2();
    for (i = 0; i < 4; i++) {
        s[i] = MD4V_ADD(s[i], v[i]);
        t[i] = MD4V_ADD(t[i], w[i]);
    }
}

/* MD4 of groups * MD4V_LANES messages (groups 1 or 2) of len bytes, as
 * the public kernels promise (mbhash.h): group g is lanes g*MD4V_LANES on,
 * one register per state word.  Whole blocks are read in place, a mixed
 * last block from padded copies (lrs_md4_mixed_tail), a block of padding
 * alone is broadcast. */
static void md4_mb(const unsigned char *const *in, size_t len, unsigned char *out, int groups)
{
    MD4V_T s[2][4], X[2][16];
    unsigned char tail[2 * MD4V_LANES][64];
    const unsigned char *tp[2 * MD4V_LANES];
    uint32_t w[4][MD4V_LANES];
    size_t off, rem = len % 64;
    uint64_t bits = (uint64_t)len << 3;
    int g, i;

    for (g = 0; g < 2; g++) {
        s[g][0] = MD4V_SET1(LRS_MD4_IV_A);
        s[g][1] = MD4V_SET1(LRS_MD4_IV_B);
        s[g][2] = MD4V_SET1(LRS_MD4_IV_C);
        s[g][3] = MD4V_SET1(LRS_MD4_IV_D);
    }
    for (off = 0; off + 64 <= len; off += 64) {
        md4_load(X[0], in, off);
        if (groups == 2) {
            md4_load(X[1], in + MD4V_LANES, off);
            md4_compress_x2(s[0], s[1], X[0], X[1]);
        } else {
            md4_compress(s[0], X[0]);
        }
    }
    if (rem) {
        /* Copies, so that no load reads past the end of a message. */
        for (i = 0; i < groups * MD4V_LANES; i++) {
            lrs_md4_mixed_tail(tail[i], in[i], len);
            tp[i] = tail[i];
        }
        md4_load(X[0], tp, 0);
        if (groups == 2) {
            md4_load(X[1], tp + MD4V_LANES, 0);
            md4_compress_x2(s[0], s[1], X[0], X[1]);
        } else {
            md4_compress(s[0], X[0]);
        }
    }
    if (rem == 0 || rem >= 56) {
        /* The block with no message bytes, equal in every lane (all equal
         * length): 0x80 first unless the mixed block took it, the bit count
         * in words 14 and 15 (little-endian halves), zeros between. */
        for (i = 0; i < 16; i++)
            X[0][i] = MD4V_SET1(0);
        if (rem == 0)
            X[0][0] = MD4V_SET1(0x80);
        X[0][14] = MD4V_SET1((uint32_t)bits);
        X[0][15] = MD4V_SET1((uint32_t)(bits >> 32));
        if (groups == 2)
            md4_compress_x2(s[0], s[1], X[0], X[0]);
        else
            md4_compress(s[0], X[0]);
    }
    for (g = 0; g < groups; g++) {
        for (i = 0; i < 4; i++)
            MD4V_STORE(w[i], s[g][i]);
        for (i = 0; i < MD4V_LANES; i++)
            lrs_md4_put_digest(out + 16 * (g * MD4V_LANES + i), w[0][i], w[1][i], w[2][i], w[3][i]);
    }
}

#endif /* LIBRSYNC_PY_SIMD_MD4_MB_COMMON_H */
