/* mbhash.h -- multi-buffer hash kernels for librsync signatures.
 *
 * Our code, not upstream's.  A signature hashes every block of the old file
 * on its own, and all blocks but the last have the same length, so several
 * equal-length messages can be hashed at once, one per SIMD lane.  Each
 * kernel is compiled from its own file with only its instruction-set flag
 * (the caller must check the CPU before calling it); a file built for the
 * wrong architecture is an empty translation unit, so a build can list
 * them all.
 */
#ifndef LIBRSYNC_PY_SIMD_MBHASH_H
#define LIBRSYNC_PY_SIMD_MBHASH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Two blocks, one per kernel family, each owned by its files. */

/* ---- BLAKE2b ------------------------------------------------------------
 * Unkeyed BLAKE2b with a 32-byte digest, i.e. exactly librsync's strong sum
 * (checksum.c: blake2b_init(&ctx, 32); update(block); final(out, 32)); the
 * signature keeps the first strong_len bytes of it.
 *
 * Hash LANES messages of `len` bytes each; message i starts at in[i] (any
 * alignment; in[i] may be NULL only when len == 0).  Digest i (32 bytes) is
 * written to out + 32*i (any alignment).  Messages may overlap each other,
 * but not out.  Digests are identical to the single-stream ones for every
 * length, so a caller can mix kernels and libb2 freely (e.g. libb2 for the
 * last, shorter block and for a batch with fewer blocks than lanes).
 *
 * What the caller must check first (cpuid, and xgetbv for the OS's saving
 * of the register state): x4_avx2 needs AVX2 and XCR0 bits 1-2 (0x6);
 * x8_avx512 needs AVX-512F and XCR0 0xe6.  x2_sse2 runs on any x86-64,
 * x2_neon on any little-endian aarch64. */
void lrs_blake2b_x4_avx2(const unsigned char *const in[4], size_t len, unsigned char *out);
/* SSE2 only (the x86-64 baseline). */
void lrs_blake2b_x2_sse2(const unsigned char *const in[2], size_t len, unsigned char *out);
/* aarch64 (little-endian) Advanced SIMD. */
void lrs_blake2b_x2_neon(const unsigned char *const in[2], size_t len, unsigned char *out);
/* AVX-512F (native 64-bit rotates). */
void lrs_blake2b_x8_avx512(const unsigned char *const in[8], size_t len, unsigned char *out);
/* ---- end BLAKE2b -------------------------------------------------------- */

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
