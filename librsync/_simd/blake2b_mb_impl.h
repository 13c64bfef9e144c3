/* blake2b_mb_impl.h -- the multi-buffer BLAKE2b body shared by every
 * instruction-set file (mb_blake2b_sse2.c, mb_blake2b_avx2.c, ...).  Our code.
 *
 * The state is transposed: vector register v<k> holds state word k of all
 * B2B_LANES messages, one message per lane.  Every lane then runs the same
 * instruction stream, which works because the messages have the same length:
 * the block count, byte counter and final flag are the same in every lane,
 * so they are scalars broadcast to all lanes.
 *
 * Before including this file, the instruction-set file defines:
 *   B2B_LANES                messages per call
 *   B2B_V                    the vector type (B2B_LANES 64-bit lanes)
 *   B2B_SET1(x)              x (uint64_t) in every lane
 *   B2B_ADD(a, b), B2B_XOR(a, b)     lane-wise 64-bit add / xor
 *   B2B_ROR32/24/16/63(x)    lane-wise rotate right by that many bits
 *   B2B_XROR32/24/16/63(x, y)  optional: B2B_ROR<n>(B2B_XOR(x, y)), for an
 *                            instruction set that does both in one
 *   B2B_INTERLEAVE_G         optional: 32 vector registers (see B2B_G4)
 *   b2b_load(m, p)           m[w] = word w of the 128-byte block at p[lane]
 *                            (little-endian), for w = 0..15: a transposition
 *   b2b_store(out, h)        the first 32 bytes of lane i's chain value
 *                            h[0..3] to out + 32*i: the inverse transposition
 * and then defines its public function by calling b2b_mb_hash().
 */
#ifndef LIBRSYNC_PY_SIMD_BLAKE2B_MB_IMPL_H
#define LIBRSYNC_PY_SIMD_BLAKE2B_MB_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "blake2b_mb_util.h"

#define B2B_BLOCK 128
#define B2B_OUTLEN 32

/* The BLAKE2b initialisation vector (the SHA-512 IV, from RFC 7693). */
#define B2B_IV0 UINT64_C(0x6a09e667f3bcc908)
#define B2B_IV1 UINT64_C(0xbb67ae8584caa73b)
#define B2B_IV2 UINT64_C(0x3c6ef372fe94f82b)
#define B2B_IV3 UINT64_C(0xa54ff53a5f1d36f1)
#define B2B_IV4 UINT64_C(0x510e527fade682d1)
#define B2B_IV5 UINT64_C(0x9b05688c2b3e6c1f)
#define B2B_IV6 UINT64_C(0x1f83d9abfb41bd6b)
#define B2B_IV7 UINT64_C(0x5be0cd19137e2179)

/* Parameter block word 0 for an unkeyed sequential hash: digest length 32,
 * key length 0, fanout 1, depth 1 (everything else is zero, so h[1..7] are
 * the plain IV).  This is what blake2b_init(S, 32) sets up. */
#define B2B_PARAM0 (UINT64_C(0x01010000) | B2B_OUTLEN)

/* Every rotation in G rotates an xor. */
#ifndef B2B_XROR32
#define B2B_XROR32(x, y) B2B_ROR32(B2B_XOR(x, y))
#define B2B_XROR24(x, y) B2B_ROR24(B2B_XOR(x, y))
#define B2B_XROR16(x, y) B2B_ROR16(B2B_XOR(x, y))
#define B2B_XROR63(x, y) B2B_ROR63(B2B_XOR(x, y))
#endif

/* The mixing function G on one column (or diagonal) of the state, for all
 * lanes at once: rotations 32, 24, 16, 63 as in RFC 7693. */
#define B2B_G(a, b, c, d, x, y)                   \
    do {                                          \
        a = B2B_ADD(B2B_ADD(a, b), x);            \
        d = B2B_XROR32(d, a);                     \
        c = B2B_ADD(c, d);                        \
        b = B2B_XROR24(b, c);                     \
        a = B2B_ADD(B2B_ADD(a, b), y);            \
        d = B2B_XROR16(d, a);                     \
        c = B2B_ADD(c, d);                        \
        b = B2B_XROR63(b, c);                     \
    } while (0)

/* With 32 vector registers (AVX-512, aarch64), the four G's of a half
 * round (four columns, or four diagonals) go step by step, their four
 * dependency chains side by side in the instruction stream: gcc 12 then
 * schedules the AVX-512 kernel 8-10 % faster (3450 -> 3750 MiB/s at 16 KiB
 * blocks); clang is within noise either way.  With AVX2's or SSE2's 16
 * registers the same order costs 30 % (the temporaries of four chains no
 * longer fit and spill), so there one G follows the other.  For NEON it is
 * unmeasured here (qemu only); in-order cores are known to want it. */
#ifdef B2B_INTERLEAVE_G
#define B2B_G4(a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3,  \
               x0, x1, x2, x3, y0, y1, y2, y3)                                 \
    do {                                                                       \
        a0 = B2B_ADD(B2B_ADD(a0, b0), x0); a1 = B2B_ADD(B2B_ADD(a1, b1), x1);  \
        a2 = B2B_ADD(B2B_ADD(a2, b2), x2); a3 = B2B_ADD(B2B_ADD(a3, b3), x3);  \
        d0 = B2B_XROR32(d0, a0); d1 = B2B_XROR32(d1, a1);                      \
        d2 = B2B_XROR32(d2, a2); d3 = B2B_XROR32(d3, a3);                      \
        c0 = B2B_ADD(c0, d0); c1 = B2B_ADD(c1, d1);                            \
        c2 = B2B_ADD(c2, d2); c3 = B2B_ADD(c3, d3);                            \
        b0 = B2B_XROR24(b0, c0); b1 = B2B_XROR24(b1, c1);                      \
        b2 = B2B_XROR24(b2, c2); b3 = B2B_XROR24(b3, c3);                      \
        a0 = B2B_ADD(B2B_ADD(a0, b0), y0); a1 = B2B_ADD(B2B_ADD(a1, b1), y1);  \
        a2 = B2B_ADD(B2B_ADD(a2, b2), y2); a3 = B2B_ADD(B2B_ADD(a3, b3), y3);  \
        d0 = B2B_XROR16(d0, a0); d1 = B2B_XROR16(d1, a1);                      \
        d2 = B2B_XROR16(d2, a2); d3 = B2B_XROR16(d3, a3);                      \
        c0 = B2B_ADD(c0, d0); c1 = B2B_ADD(c1, d1);                            \
        c2 = B2B_ADD(c2, d2); c3 = B2B_ADD(c3, d3);                            \
        b0 = B2B_XROR63(b0, c0); b1 = B2B_XROR63(b1, c1);                      \
        b2 = B2B_XROR63(b2, c2); b3 = B2B_XROR63(b3, c3);                      \
    } while (0)

/* One round, as the one below but in B2B_G4 order. */
#define B2B_ROUND(s0, s1, s2, s3, s4, s5, s6, s7,                 \
                  s8, s9, s10, s11, s12, s13, s14, s15)           \
    do {                                                          \
        B2B_G4(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11,  \
               v12, v13, v14, v15, m[s0], m[s2], m[s4], m[s6],    \
               m[s1], m[s3], m[s5], m[s7]);                       \
        B2B_G4(v0, v1, v2, v3, v5, v6, v7, v4, v10, v11, v8, v9,  \
               v15, v12, v13, v14, m[s8], m[s10], m[s12], m[s14], \
               m[s9], m[s11], m[s13], m[s15]);                    \
    } while (0)

#else /* !B2B_INTERLEAVE_G */

/* One round: columns, then diagonals.  The arguments are that round's row of
 * the message permutation sigma, written out so every m[] index is a
 * compile-time constant (no table lookups in the inner loop). */
#define B2B_ROUND(s0, s1, s2, s3, s4, s5, s6, s7,                 \
                  s8, s9, s10, s11, s12, s13, s14, s15)           \
    do {                                                          \
        B2B_G(v0, v4, v8, v12, m[s0], m[s1]);                     \
        B2B_G(v1, v5, v9, v13, m[s2], m[s3]);                     \
        B2B_G(v2, v6, v10, v14, m[s4], m[s5]);                    \
        B2B_G(v3, v7, v11, v15, m[s6], m[s7]);                    \
        B2B_G(v0, v5, v10, v15, m[s8], m[s9]);                    \
        B2B_G(v1, v6, v11, v12, m[s10], m[s11]);                  \
        B2B_G(v2, v7, v8, v13, m[s12], m[s13]);                   \
        B2B_G(v3, v4, v9, v14, m[s14], m[s15]);                   \
    } while (0)

#endif /* B2B_INTERLEAVE_G */

/* Compress one block of every lane into h.  t is the byte counter after
 * this block (t1, the counter's high word, is 0: lengths are below 2^64);
 * f is the final-block flag f0 (all ones on the last block, else 0; f1 is
 * only for the last node of a tree and stays 0). */
B2B_INLINE void b2b_compress(B2B_V h[8], const B2B_V m[16], uint64_t t, uint64_t f)
{
    B2B_V v0 = h[0], v1 = h[1], v2 = h[2], v3 = h[3];
    B2B_V v4 = h[4], v5 = h[5], v6 = h[6], v7 = h[7];
    B2B_V v8 = B2B_SET1(B2B_IV0), v9 = B2B_SET1(B2B_IV1);
    B2B_V v10 = B2B_SET1(B2B_IV2), v11 = B2B_SET1(B2B_IV3);
    B2B_V v12 = B2B_SET1(B2B_IV4 ^ t), v13 = B2B_SET1(B2B_IV5);
    B2B_V v14 = B2B_SET1(B2B_IV6 ^ f), v15 = B2B_SET1(B2B_IV7);

    /* Twelve rounds; rounds 10 and 11 reuse sigma rows 0 and 1. */
    B2B_ROUND( 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15);
    B2B_ROUND(14, 10,  4,  8,  9, 15, 13,  6,  1, 12,  0,  2, 11,  7,  5,  3);
    B2B_ROUND(11,  8, 12,  0,  5,  2, 15, 13, 10, 14,  3,  6,  7,  1,  9,  4);
    B2B_ROUND( 7,  9,  3,  1, 13, 12, 11, 14,  2,  6,  5, 10,  4,  0, 15,  8);
    B2B_ROUND( 9,  0,  5,  7,  2,  4, 10, 15, 14,  1, 11, 12,  6,  8,  3, 13);
    B2B_ROUND( 2, 12,  6, 10,  0, 11,  8,  3,  4, 13,  7,  5, 15, 14,  1,  9);
    B2B_ROUND(12,  5,  1, 15, 14, 13,  4, 10,  0,  7,  6,  3,  9,  2,  8, 11);
    B2B_ROUND(13, 11,  7, 14, 12,  1,  3,  9,  5,  0, 15,  4,  8,  6,  2, 10);
    B2B_ROUND( 6, 15, 14,  9, 11,  3,  0,  8, 12,  2, 13,  7,  1,  4, 10,  5);
    B2B_ROUND(10,  2,  8,  4,  7,  6,  1,  5, 15, 11,  9, 14,  3, 12, 13,  0);
    B2B_ROUND( 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15);
    B2B_ROUND(14, 10,  4,  8,  9, 15, 13,  6,  1, 12,  0,  2, 11,  7,  5,  3);

    h[0] = B2B_XOR(h[0], B2B_XOR(v0, v8));
    h[1] = B2B_XOR(h[1], B2B_XOR(v1, v9));
    h[2] = B2B_XOR(h[2], B2B_XOR(v2, v10));
    h[3] = B2B_XOR(h[3], B2B_XOR(v3, v11));
    h[4] = B2B_XOR(h[4], B2B_XOR(v4, v12));
    h[5] = B2B_XOR(h[5], B2B_XOR(v5, v13));
    h[6] = B2B_XOR(h[6], B2B_XOR(v6, v14));
    h[7] = B2B_XOR(h[7], B2B_XOR(v7, v15));
}

/* BLAKE2b-256 of B2B_LANES messages of len bytes each.
 *
 * Finalisation, as in blake2b_update/blake2b_final: the last block is the
 * one compressed with the final flag, and the counter then is len itself.
 * So a message whose length is a multiple of 128 ends with its last full
 * block (no extra empty block), a tail is zero-padded to a full block, and
 * the empty message is one all-zero block with counter 0. */
static void b2b_mb_hash(const unsigned char *const in[B2B_LANES], size_t len,
                        unsigned char *out)
{
    B2B_V h[8], m[16];
    const unsigned char *p[B2B_LANES];
    /* Lane i's zero-padded last block when it is partial: the kernels
     * never read past in[i] + len. */
    unsigned char tail[B2B_LANES][B2B_BLOCK];
    size_t nblocks = len ? (len + B2B_BLOCK - 1) / B2B_BLOCK : 1;
    size_t last_off = (nblocks - 1) * B2B_BLOCK;
    size_t last_len = len - last_off; /* 0 (only when len == 0) .. 128 */
    size_t b;
    int i;

    h[0] = B2B_SET1(B2B_IV0 ^ B2B_PARAM0);
    h[1] = B2B_SET1(B2B_IV1);
    h[2] = B2B_SET1(B2B_IV2);
    h[3] = B2B_SET1(B2B_IV3);
    h[4] = B2B_SET1(B2B_IV4);
    h[5] = B2B_SET1(B2B_IV5);
    h[6] = B2B_SET1(B2B_IV6);
    h[7] = B2B_SET1(B2B_IV7);

    /* One loop with a single b2b_compress call site, so the twelve
     * unrolled rounds exist once in the binary (they are several KiB). */
    for (b = 0; b < nblocks; b++) {
        int final = b + 1 == nblocks;
        if (final && last_len < B2B_BLOCK) {
            memset(tail, 0, sizeof tail);
            B2B_UNROLL
            for (i = 0; i < B2B_LANES; i++) {
                /* Guarded: in[i] may be NULL for the empty message, and
                 * even NULL + 0 is undefined behaviour. */
                if (last_len)
                    memcpy(tail[i], in[i] + last_off, last_len);
                p[i] = tail[i];
            }
        } else {
            B2B_UNROLL
            for (i = 0; i < B2B_LANES; i++)
                p[i] = in[i] + b * B2B_BLOCK;
        }
        b2b_load(m, p);
        b2b_compress(h, m, final ? (uint64_t)len : (uint64_t)(b + 1) * B2B_BLOCK,
                     final ? ~UINT64_C(0) : 0);
    }

    b2b_store(out, h);
}

#endif /* LIBRSYNC_PY_SIMD_BLAKE2B_MB_IMPL_H */
