/* blake2b_mb_util.h -- compiler helpers for the multi-buffer BLAKE2b files.
 * Our code. */
#ifndef LIBRSYNC_PY_SIMD_BLAKE2B_MB_UTIL_H
#define LIBRSYNC_PY_SIMD_BLAKE2B_MB_UTIL_H

#if defined(_MSC_VER) && !defined(__clang__)
#define B2B_INLINE static __forceinline
#else
/* Forced: compress must be inlined into the block loop so the message words
 * and constants stay in registers (gcc does not always do it at -O2 for a
 * function this large). */
#define B2B_INLINE static inline __attribute__((always_inline))
#endif

/* For the short loops over lanes and message words (loads, transpositions,
 * pointer set-up): unrolled, their arrays become registers.  gcc -O2 leaves
 * them rolled, with the arrays on the stack; unrolling them took the
 * AVX-512 kernel from 2700 to 3300 MiB/s and AVX2 from 2200 to 2400 with
 * gcc 12 -O2 (like -O3; bench_mbhash.c at 16 KiB blocks, AMD EPYC family 25
 * model 17). */
#if defined(__clang__)
#define B2B_UNROLL _Pragma("unroll")
#elif defined(__GNUC__) && __GNUC__ >= 8
#define B2B_UNROLL _Pragma("GCC unroll 16")
#else
#define B2B_UNROLL
#endif

#endif /* LIBRSYNC_PY_SIMD_BLAKE2B_MB_UTIL_H */
