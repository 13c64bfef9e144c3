/* Multi-buffer strong-sum kernels for librsync signatures.
 *
 * A signature hashes every block of the old file on its own, and all blocks
 * but the last have the same length, so one call can hash several
 * equal-length messages at once, one per SIMD lane.  Each kernel is built in
 * its own translation unit with only its instruction-set flag (setup.py's
 * per-file ISA mechanism), and is an empty unit on other architectures, so
 * the caller must check at run time that the CPU has the instruction set
 * before calling one, and must only reference the ones built for its target
 * (the LRS_MB_* macros below say which).
 *
 * Several kernel families share this header; each owns one delimited block.
 */
#ifndef LIBRSYNC_PY_SIMD_MBHASH_H
#define LIBRSYNC_PY_SIMD_MBHASH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ==== MD4 (RS_MD4_SIG_MAGIC, RS_RK_MD4_SIG_MAGIC) ====================== */
/* MD4 (as rs_mdfour) of LANES messages of `len` bytes each; message i at
 * in[i] (any alignment).  Digest i (16 bytes) is written to out + 16*i.
 * Bit-for-bit rs_mdfour (RFC 1320: 0x80, zeros, 64-bit little-endian bit
 * count), for any len, including 0. */

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#  define LRS_MB_MD4_X86 1
void lrs_md4_x4_sse2(const unsigned char *const in[4], size_t len, unsigned char *out);
void lrs_md4_x8_avx2(const unsigned char *const in[8], size_t len, unsigned char *out);
/* AVX-512F only (native rotates, ternary logic); no BW/VL needed. */
void lrs_md4_x16_avx512(const unsigned char *const in[16], size_t len, unsigned char *out);
/* Twice the lanes: two register groups with their steps interleaved, which
 * hides the latency of MD4's serial chain of steps (see bench_md4.c for
 * which is faster on a given CPU).  Same contract otherwise.  (Not for
 * AVX-512: its 3-instruction chain per step already keeps the vector units
 * busy; two groups measured slower.) */
void lrs_md4_x8_sse2(const unsigned char *const in[8], size_t len, unsigned char *out);
void lrs_md4_x16_avx2(const unsigned char *const in[16], size_t len, unsigned char *out);
#endif

#if defined(__aarch64__) || defined(_M_ARM64)
#  define LRS_MB_MD4_NEON 1
/* aarch64 (little- or big-endian): Advanced SIMD is part of the base ISA. */
void lrs_md4_x4_neon(const unsigned char *const in[4], size_t len, unsigned char *out);
void lrs_md4_x8_neon(const unsigned char *const in[8], size_t len, unsigned char *out);
#endif
/* ==== end MD4 ========================================================== */

#ifdef __cplusplus
}
#endif

#endif /* LIBRSYNC_PY_SIMD_MBHASH_H */
