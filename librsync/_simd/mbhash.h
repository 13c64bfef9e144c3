/* Multi-buffer strong sums: N equal-length messages hashed at once, one per
 * SIMD lane.  Our code (see the .c files beside this header); used by the
 * batched signature job (../_sigjob.h).  Each kernel writes digest i of
 * message in[i] (any alignment) to out + DIGEST*i. */
#ifndef LIBRSYNC_PY_MBHASH_H
#define LIBRSYNC_PY_MBHASH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* BLAKE2b-256, unkeyed (the parameter block librsync's rs_calc_strong_sum
 * uses); 32-byte digests. */
void lrs_blake2b_x2_sse2(const unsigned char *const in[2], size_t len, unsigned char *out);
void lrs_blake2b_x4_avx2(const unsigned char *const in[4], size_t len, unsigned char *out);
void lrs_blake2b_x8_avx512(const unsigned char *const in[8], size_t len, unsigned char *out);
void lrs_blake2b_x2_neon(const unsigned char *const in[2], size_t len, unsigned char *out);

/* MD4 as librsync's rs_mdfour; 16-byte digests. */
void lrs_md4_x4_sse2(const unsigned char *const in[4], size_t len, unsigned char *out);
void lrs_md4_x8_avx2(const unsigned char *const in[8], size_t len, unsigned char *out);
void lrs_md4_x16_avx512(const unsigned char *const in[16], size_t len, unsigned char *out);
void lrs_md4_x4_neon(const unsigned char *const in[4], size_t len, unsigned char *out);

#ifdef __cplusplus
}
#endif

#endif
