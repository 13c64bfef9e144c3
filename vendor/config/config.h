/* config.h -- our hand-written replacement for librsync 2.3.4's
 * cmake-generated src/config.h, for building librsync's library sources
 * statically inside the Python extension without running cmake.
 *
 * This file is ours, not upstream's: vendor/librsync/ stays pristine.
 * tests/test_build.py parses every #cmakedefine of upstream's config.h.in and
 * fails unless this header either defines it or names it in the
 * "Left undefined" list below, so a re-vendor that adds a switch is noticed.
 *
 * Left undefined: AC_APPLE_UNIVERSAL_BUILD DO_RS_TRACE HAVE_MCHECK_H
 *   HAVE_ZLIB_H HAVE_BZLIB_H HAVE_FSEEKO64 HAVE_FSTAT64 SIZEOF_OFF64_T
 *   (no universal-binary probing is needed since nothing here is probed; trace
 *   is off as in cmake Release builds -- set LIBRSYNC_TRACE=1 when building to
 *   turn it on; mcheck/zlib/bzip2 are unused by the library; the *64 large-file
 *   calls are unnecessary because _FILE_OFFSET_BITS=64 is forced below and
 *   musl >= 1.2.4 no longer has them).
 *
 * Targets: Linux (glibc, musl), macOS (clang, x86_64/arm64), Windows (MSVC,
 * mingw-w64 gcc, zig/clang *-windows-gnu).  Decisions are made with
 * predefined compiler macros only.
 *
 * Only these macros are actually consumed by the library sources
 * (grep of the src .c/.h files and src/blake2, rdiff.c excluded):
 *   fileutil.c : HAVE_UNISTD_H HAVE_FCNTL_H HAVE_SYS_TYPES_H HAVE_SYS_FILE_H
 *                HAVE_SYS_STAT_H HAVE_IO_H HAVE_FSEEKO64 HAVE__FSEEKI64
 *                HAVE_FSEEKO HAVE_FSTAT64 HAVE__FSTATI64 HAVE__FILENO
 *                SIZEOF_OFF_T  (and `#if _WIN32`)
 *   trace.h    : HAVE_PRINTF_Z HAVE___FUNC__ HAVE___FUNCTION__ DO_RS_TRACE
 *   trace.c    : DO_RS_TRACE
 *   mdfour.c, blake2/blake2-impl.h : WORDS_BIGENDIAN
 *   version.c  : PACKAGE VERSION
 * The rest of the cmake template (SIZEOF_LONG..., HAVE_MCHECK_H, HAVE_ZLIB_H,
 * HAVE_BZLIB_H, HAVE_FILENO, AC_APPLE_UNIVERSAL_BUILD) is unused by the
 * library and is set only for parity.
 *
 * NOT handled here (must be passed on the compiler command line for every
 * translation unit, including the Cython one, because librsync.h does not
 * include config.h):  -DLIBRSYNC_STATIC_DEFINE
 */
#ifndef LIBRSYNC_VENDOR_CONFIG_H
#define LIBRSYNC_VENDOR_CONFIG_H

#define PACKAGE "librsync"
#define VERSION "2.3.4"

/* Trace code (rs_trace) is off, as in cmake Release builds (ENABLE_TRACE=OFF):
 * it costs a call per block in the hot loops.  Errors and warnings are still
 * logged through rs_log0 -> rs_trace_impl.  setup.py passes -DDO_RS_TRACE when
 * LIBRSYNC_TRACE=1 is set in the build environment. */

/* ---- feature macros, copied from the cmake template (harmless) ---- */
#ifndef _ALL_SOURCE
#  define _ALL_SOURCE 1
#endif
#ifndef _GNU_SOURCE
#  define _GNU_SOURCE 1
#endif
#ifndef _POSIX_PTHREAD_SEMANTICS
#  define _POSIX_PTHREAD_SEMANTICS 1
#endif
#ifndef _TANDEM_SOURCE
#  define _TANDEM_SOURCE 1
#endif
#ifndef __EXTENSIONS__
#  define __EXTENSIONS__ 1
#endif
#ifndef _DARWIN_USE_64_BIT_INODE
#  define _DARWIN_USE_64_BIT_INODE 1
#endif

/* ---- headers ---- */
#define HAVE_SYS_STAT_H 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_FCNTL_H 1            /* MSVC has it too; needed for _O_BINARY */

#if defined(_WIN32)
#  define HAVE_IO_H 1             /* _setmode, _fileno */
#  if defined(__MINGW32__)
#    define HAVE_UNISTD_H 1       /* mingw-w64 ships one; MSVC does not */
#  endif
#else
#  define HAVE_UNISTD_H 1
#  define HAVE_SYS_FILE_H 1
#endif

/* ---- large-file I/O ----
 * POSIX: force a 64-bit off_t (no-op on LP64 glibc, musl and macOS; turns
 * 32-bit glibc, e.g. manylinux i686/armv7l, into 64-bit fseeko/fstat), so
 * the *64 variants (absent in musl >= 1.2.4) are never needed.
 * Windows: off_t is 32-bit long; use _fseeki64/_fstati64/_fileno like the
 * MSVC cmake build does.  (mingw also has fseeko64/fstat64, but cmake's
 * `SIZEOF_OFF_T < 8` path would then redirect fopen->fopen64; not needed.) */
#if defined(_WIN32)
#  define HAVE__FSEEKI64 1
#  define HAVE__FSTATI64 1
#  define HAVE__FILENO 1
#  define SIZEOF_OFF_T 4
#else
#  ifndef _FILE_OFFSET_BITS
#    define _FILE_OFFSET_BITS 64
#  endif
#  ifndef _LARGEFILE_SOURCE
#    define _LARGEFILE_SOURCE 1
#  endif
#  define HAVE_FSEEKO 1
#  define HAVE_FILENO 1
#  define SIZEOF_OFF_T 8
#endif

/* ---- printf %zu ----
 * cmake disables it for all of WIN32 (-> FMT_SIZE "%Iu").  But on mingw-w64
 * the _GNU_SOURCE above makes _mingw.h switch on __USE_MINGW_ANSI_STDIO, so
 * printf/snprintf are mingw's C99 implementation (gnu_printf format): "%zu" is
 * right there and "%Iu" draws -Wformat warnings (stats.c).  (mingw gcc still
 * warns about "%zu" in rs_log0 calls, because trace.h declares rs_log0 with
 * format(printf), which mingw gcc reads as ms_printf; harmless: rs_log0 ends
 * in mingw's own vsnprintf.  Use -Wno-format there if the noise matters.) */
#if defined(__MINGW32__) && !defined(__USE_MINGW_ANSI_STDIO)
#  define __USE_MINGW_ANSI_STDIO 1
#endif
#if !defined(_MSC_VER)
#  define HAVE_PRINTF_Z 1
#endif
/* MSVC: left undefined = the cmake result that upstream CI (windows-latest,
 * MSVC) tests; "%Iu" works in msvcrt and UCRT.  "%zu" would also be fine for
 * _MSC_VER >= 1900 (UCRT), which is every supported CPython. */

/* ---- __func__ ---- C99 and MSVC >= 2015 have it. */
#if defined(_MSC_VER) && _MSC_VER < 1900
#  define HAVE___FUNCTION__ 1
#else
#  define HAVE___FUNC__ 1
#  if defined(__GNUC__) || defined(_MSC_VER)
#    define HAVE___FUNCTION__ 1
#  endif
#endif

/* ---- byte order ---- (all Windows/macOS targets are little-endian) */
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__)
#  if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#    define WORDS_BIGENDIAN 1
#  endif
#elif defined(__BIG_ENDIAN__) || defined(_BIG_ENDIAN) || defined(__ARMEB__) \
   || defined(__MIPSEB__) || defined(__s390__) || defined(__sparc__)
#  define WORDS_BIGENDIAN 1
#endif

/* ---- type sizes: unused by the library sources, kept for parity ---- */
#define SIZEOF_UNSIGNED_SHORT 2
#define SIZEOF_UNSIGNED_INT 4
#define SIZEOF_LONG_LONG 8
#if defined(_WIN32) || !(defined(__LP64__) || defined(_LP64))
#  define SIZEOF_LONG 4
#  define SIZEOF_UNSIGNED_LONG 4
#else
#  define SIZEOF_LONG 8
#  define SIZEOF_UNSIGNED_LONG 8
#endif
#if defined(_WIN64) || defined(__LP64__) || defined(_LP64)
#  define SIZEOF_SIZE_T 8
#else
#  define SIZEOF_SIZE_T 4
#endif

/* ---- MSVC ---- */
#if defined(_MSC_VER) && !defined(_CRT_SECURE_NO_WARNINGS)
#  define _CRT_SECURE_NO_WARNINGS 1   /* cmake adds /D_CRT_SECURE_NO_WARNINGS */
#endif

/* ---- libb2 (vendor/libb2) ----
 * libb2's blake2-impl.h includes "config.h" as well and finds this one (its
 * own is generated by autotools, which we do not run).  It only asks whether
 * plain little-endian loads and stores may be used. */
#if !defined(WORDS_BIGENDIAN)
#  define NATIVE_LITTLE_ENDIAN 1
#endif

#endif /* LIBRSYNC_VENDOR_CONFIG_H */
