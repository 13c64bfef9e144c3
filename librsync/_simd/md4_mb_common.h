/* Pieces shared by the multi-buffer MD4 kernels (md4_sse2.c, md4_avx2.c,
 * md4_avx512.c, md4_neon.c).  Internal: only those files include it.
 *
 * Nothing here depends on an instruction set.  The 48 MD4 steps are written
 * once, in terms of vector operations that each kernel defines before
 * including this header:
 *
 *   MD4V_ADD(a, b)       lane-wise 32-bit add
 *   MD4V_ROL(x, s)       lane-wise rotate left by the literal s
 *   MD4V_F/G/H(x, y, z)  MD4's round functions
 *   MD4V_K2, MD4V_K3     the round 2 and round 3 constants, broadcast
 *
 * so the step order, shifts and message-word schedule (the part that is
 * easy to get subtly wrong) exist in one place and are tested through every
 * kernel.
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

/* The padded end of one message, as rs_mdfour_tail() produces it: the
 * len % 64 bytes after the last whole block, 0x80, zeros up to 8 bytes short
 * of a block boundary, then the message length in bits as a 64-bit
 * little-endian number.  That needs a second block when fewer than 9 bytes
 * are left in the first (len % 64 >= 56).  Returns the number of blocks
 * written to buf (1 or 2).  rs_mdfour counts the length in a uint64_t, so
 * the bit count is len * 8 modulo 2^64 here too. */
static size_t lrs_md4_pad_tail(unsigned char buf[128], const unsigned char *msg, size_t len)
{
    size_t rem = len % 64;
    size_t nblocks = rem < 56 ? 1 : 2;
    size_t end = 64 * nblocks;
    uint64_t bits = (uint64_t)len << 3;
    int i;

    if (rem) /* msg may be NULL when len is 0: no memcpy from it then */
        memcpy(buf, msg + (len - rem), rem);
    buf[rem] = 0x80;
    memset(buf + rem + 1, 0, end - 8 - (rem + 1));
    for (i = 0; i < 8; i++)
        buf[end - 8 + i] = (unsigned char)(bits >> (8 * i));
    return nblocks;
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
 * order, message words and shifts as rs_mdfour64), on state words a b c d
 * and message words X[0..15].  Unrolled by hand: the shift amounts must be
 * literals (immediate operands of the shift/rotate instructions), the
 * word-role rotation a b c d -> d a b c is then free (no register moves),
 * and a loop would make the compiler keep the schedule in memory. */
#define LRS_MD4_ROUNDS(a, b, c, d, X)                                         \
    do {                                                                      \
        LRS_MD4_S1(a, b, c, d, X[0], 3);   LRS_MD4_S1(d, a, b, c, X[1], 7);   \
        LRS_MD4_S1(c, d, a, b, X[2], 11);  LRS_MD4_S1(b, c, d, a, X[3], 19);  \
        LRS_MD4_S1(a, b, c, d, X[4], 3);   LRS_MD4_S1(d, a, b, c, X[5], 7);   \
        LRS_MD4_S1(c, d, a, b, X[6], 11);  LRS_MD4_S1(b, c, d, a, X[7], 19);  \
        LRS_MD4_S1(a, b, c, d, X[8], 3);   LRS_MD4_S1(d, a, b, c, X[9], 7);   \
        LRS_MD4_S1(c, d, a, b, X[10], 11); LRS_MD4_S1(b, c, d, a, X[11], 19); \
        LRS_MD4_S1(a, b, c, d, X[12], 3);  LRS_MD4_S1(d, a, b, c, X[13], 7);  \
        LRS_MD4_S1(c, d, a, b, X[14], 11); LRS_MD4_S1(b, c, d, a, X[15], 19); \
                                                                              \
        LRS_MD4_S2(a, b, c, d, X[0], 3);   LRS_MD4_S2(d, a, b, c, X[4], 5);   \
        LRS_MD4_S2(c, d, a, b, X[8], 9);   LRS_MD4_S2(b, c, d, a, X[12], 13); \
        LRS_MD4_S2(a, b, c, d, X[1], 3);   LRS_MD4_S2(d, a, b, c, X[5], 5);   \
        LRS_MD4_S2(c, d, a, b, X[9], 9);   LRS_MD4_S2(b, c, d, a, X[13], 13); \
        LRS_MD4_S2(a, b, c, d, X[2], 3);   LRS_MD4_S2(d, a, b, c, X[6], 5);   \
        LRS_MD4_S2(c, d, a, b, X[10], 9);  LRS_MD4_S2(b, c, d, a, X[14], 13); \
        LRS_MD4_S2(a, b, c, d, X[3], 3);   LRS_MD4_S2(d, a, b, c, X[7], 5);   \
        LRS_MD4_S2(c, d, a, b, X[11], 9);  LRS_MD4_S2(b, c, d, a, X[15], 13); \
                                                                              \
        LRS_MD4_S3(a, b, c, d, X[0], 3);   LRS_MD4_S3(d, a, b, c, X[8], 9);   \
        LRS_MD4_S3(c, d, a, b, X[4], 11);  LRS_MD4_S3(b, c, d, a, X[12], 15); \
        LRS_MD4_S3(a, b, c, d, X[2], 3);   LRS_MD4_S3(d, a, b, c, X[10], 9);  \
        LRS_MD4_S3(c, d, a, b, X[6], 11);  LRS_MD4_S3(b, c, d, a, X[14], 15); \
        LRS_MD4_S3(a, b, c, d, X[1], 3);   LRS_MD4_S3(d, a, b, c, X[9], 9);   \
        LRS_MD4_S3(c, d, a, b, X[5], 11);  LRS_MD4_S3(b, c, d, a, X[13], 15); \
        LRS_MD4_S3(a, b, c, d, X[3], 3);   LRS_MD4_S3(d, a, b, c, X[11], 9);  \
        LRS_MD4_S3(c, d, a, b, X[7], 11);  LRS_MD4_S3(b, c, d, a, X[15], 15); \
    } while (0)

#endif /* LIBRSYNC_PY_SIMD_MD4_MB_COMMON_H */
