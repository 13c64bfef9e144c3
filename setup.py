"""Build the ``librsync._rsync`` extension from the vendored librsync sources.

Everything declarative lives in pyproject.toml; this file only describes the
extension, because its sources and compiler flags need code:

* the library sources are upstream CMake's ``rsync_LIB_SRCS`` (the ``rdiff``
  command line and its ``isprefix.c`` helper are left out);
* flags depend on the compiler actually used, which is known only inside
  ``build_ext.build_extensions``.

Environment switches (all optional):
  LIBRSYNC_WERROR=1   warnings are errors for our own C (CI sets it)
  LIBRSYNC_TRACE=1    compile librsync's per-operation trace lines (slower)
  LIBRSYNC_SANITIZE=1 build with AddressSanitizer + UBSan (scripts/sanitize.sh)
"""

import os
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
VENDOR = os.path.join("vendor", "librsync", "src")

# Mirrors rsync_LIB_SRCS in vendor/librsync's CMakeLists.txt (not vendored:
# tests/test_build.py checks this list against the sources present instead).
LIBRSYNC_SOURCES = [
    "prototab.c", "base64.c", "buf.c", "checksum.c", "command.c", "delta.c",
    "emit.c", "fileutil.c", "hashtable.c", "hex.c", "job.c", "mdfour.c",
    "mksum.c", "msg.c", "netint.c", "patch.c", "readsums.c", "rollsum.c",
    "rabinkarp.c", "scoop.c", "stats.c", "sumset.c", "trace.c", "tube.c",
    "util.c", "version.c", "whole.c",
]

# Library sources compiled through a wrapper of ours in vendor/config/, which
# includes the pristine file: delta.c's lookups go through the delta
# search's work budget (librsync/_budget.h says why).
LIBRSYNC_WRAPPED = {"delta.c": "delta_budgeted.c"}

# BLAKE2b comes from the vendored libb2 (vendor/libb2/src, pristine) instead of
# librsync's bundled reference copy, through two-line wrappers of ours that
# give each build its own symbol suffix; librsync/_blake2.h defines the
# blake2b_* functions librsync calls and forwards them to the build chosen
# at import (the newest SIMD build unless the portable one times clearly faster).
LIBB2 = os.path.join("vendor", "libb2", "src")
BLAKE2_GLUE = os.path.join("vendor", "config", "blake2")
BLAKE2_SOURCES = ["blake2b_ref.c"]
# libb2's SIMD builds, x86 targets with gcc/clang only, each with the flags
# for its instruction set.  (MSVC would need /arch flags and __cpuid instead
# of __builtin_cpu_supports: not done, it gets the portable build.)
BLAKE2_X86_SOURCES = {
    "blake2b_sse2.c": ["-msse2"],
    "blake2b_ssse3.c": ["-msse2", "-mssse3"],
    "blake2b_sse41.c": ["-msse2", "-mssse3", "-msse4.1"],
    "blake2b_avx.c": ["-msse2", "-mssse3", "-msse4.1", "-mavx"],
}

# Our multi-buffer strong sums and block weak sums (librsync/_simd/), one
# file per instruction set with its flags; on other architectures each file
# compiles to nothing.  x86 with gcc/clang only, like libb2's builds above:
# the CPU checks use __builtin_cpu_supports.  On 64-bit ARM, NEON is part of
# the base instruction set, so those files need no flags.
SIMD = os.path.join("librsync", "_simd")
SIMD_X86_SOURCES = {
    "weaksum_avx2.c": ["-mavx2"],
    "mb_blake2b_sse2.c": ["-msse2"],
    "mb_blake2b_avx2.c": ["-mavx2"],
    "mb_blake2b_avx512.c": ["-mavx512f"],
    "mb_md4_sse2.c": ["-msse2"],
    "mb_md4_avx2.c": ["-mavx2"],
    "mb_md4_avx512.c": ["-mavx512f"],
}
SIMD_ARM64_SOURCES = ["mb_blake2b_neon.c", "mb_md4_neon.c"]


def _flag(name):
    return os.environ.get(name, "") not in ("", "0")


DEFINES = [
    # librsync.h would otherwise mark the API dllimport/visible (and Windows
    # links fail with __imp_rs_* references).  Must reach every translation
    # unit, the Cython one included, because librsync.h does not read config.h.
    ("LIBRSYNC_STATIC_DEFINE", None),
    # librsync assert()s on conditions that hostile deltas can reach; in a
    # release build those must be errors, not an abort() of Python.
    ("NDEBUG", None),
    # Without this, every delta search increments counters inside the shared
    # signature (hashtable.h, sumset.c): a data race when threads share one.
    ("HASHTABLE_NSTATS", None),
]
if _flag("LIBRSYNC_TRACE"):
    DEFINES.append(("DO_RS_TRACE", None))


def _targets_x86():
    """Whether the extension being built is for x86 (not the build machine:
    macOS builds for another arch via ARCHFLAGS, cross builds set
    _PYTHON_HOST_PLATFORM, which sysconfig reports)."""
    if sys.platform == "darwin" and os.environ.get("ARCHFLAGS"):
        return os.environ["ARCHFLAGS"].split() == ["-arch", "x86_64"]
    return sysconfig.get_platform().endswith(("x86_64", "amd64", "i686", "i386"))


def _targets_arm64():
    if sys.platform == "darwin" and os.environ.get("ARCHFLAGS"):
        return os.environ["ARCHFLAGS"].split() == ["-arch", "arm64"]
    return sysconfig.get_platform().endswith(("aarch64", "arm64"))


class BuildExt(build_ext):
    def build_extensions(self):
        ctype = self.compiler.compiler_type
        if ctype != "msvc" and _targets_x86():
            self._add_isa_sources(
                {os.path.join(BLAKE2_GLUE, name): isa
                 for name, isa in BLAKE2_X86_SOURCES.items()}, "LRS_BLAKE2_X86")
            self._add_isa_sources(
                {os.path.join(SIMD, name): isa for name, isa in SIMD_X86_SOURCES.items()},
                "LRS_SIMD_X86")
        elif ctype != "msvc" and _targets_arm64() and SIMD_ARM64_SOURCES:
            self._add_isa_sources({os.path.join(SIMD, name): [] for name in SIMD_ARM64_SOURCES},
                                  "LRS_SIMD_NEON")
        for ext in self.extensions:
            if ctype == "msvc":
                ext.extra_compile_args += ["/O2", "/D_CRT_SECURE_NO_WARNINGS"]
            else:
                args = [
                    # LTO lets gcc inline librsync's match search into its
                    # scan loop: 1.17x on the worst-case delta
                    # (bench/PROFILE.md).
                    "-O2", "-flto",
                    # Only PyInit__rsync leaves the module, so it can be
                    # imported beside anything linked to a system librsync.
                    "-fvisibility=hidden",
                    # Lets the linker drop librsync's unused FILE* helpers,
                    # which pull in newer glibc symbols (fstat64@2.33).
                    "-ffunction-sections",
                    "-fdata-sections",
                ]
                link = ["-O2", "-flto"]
                if sys.platform == "darwin":
                    link.append("-Wl,-dead_strip")
                elif sys.platform.startswith(("linux", "freebsd")):
                    link += ["-Wl,--gc-sections", "-Wl,-s"]
                if _flag("LIBRSYNC_SANITIZE"):
                    san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
                           "-fno-sanitize-recover=undefined", "-g"]
                    # LTO would hide frames from the sanitizer's reports.
                    args = [a for a in args if a not in ("-O2", "-flto")] + ["-O1"] + san
                    link = [l for l in link if l not in ("-Wl,-s", "-O2", "-flto")] + san
                ext.extra_compile_args += args
                ext.extra_link_args += link
        if ctype != "msvc" and not _flag("LIBRSYNC_SANITIZE"):
            # sysconfig's -g makes the module six times larger for no use.
            for attr in ("compiler_so", "compiler"):
                cmd = getattr(self.compiler, attr, None)
                if cmd:
                    setattr(self.compiler, attr, [a for a in cmd if a != "-g"])
        if _flag("LIBRSYNC_WERROR"):
            self._werror_for_own_sources(ctype)
        super().build_extensions()

    def _add_isa_sources(self, flags, define):
        """SIMD sources (libb2's builds, our kernels), each compiled with its
        own -m flags and ``define`` set for the whole extension.  Not with
        LTO: it must not move code between builds for different
        instruction sets (an AVX instruction inlined into the portable
        path would fault on a CPU without AVX)."""
        for ext in self.extensions:
            ext.sources += list(flags)
            ext.define_macros.append((define, "1"))
        original = self.compiler._compile

        def compile_one(obj, src, ext, cc_args, extra_postargs, pp_opts):
            isa = flags.get(os.path.normpath(src))
            if isa is not None:
                extra_postargs = [a for a in extra_postargs if a != "-flto"] + isa + ["-fno-lto"]
            return original(obj, src, ext, cc_args, extra_postargs, pp_opts)

        self.compiler._compile = compile_one

    def _werror_for_own_sources(self, ctype):
        """Warnings are errors in our translation unit only: librsync's
        vendored files have sign-compare warnings that we must not patch."""
        werror = ["/WX"] if ctype == "msvc" else ["-Wall", "-Wextra", "-Werror",
                                                  # Cython emits these by design.
                                                  "-Wno-unused-parameter",
                                                  "-Wno-unused-function",
                                                  "-Wno-missing-field-initializers"]
        original = self.compiler._compile

        def compile_one(obj, src, ext, cc_args, extra_postargs, pp_opts):
            if (os.path.basename(src).startswith("_rsync.")
                    or os.path.dirname(os.path.normpath(src)) == SIMD):
                extra_postargs = list(extra_postargs) + werror
            return original(obj, src, ext, cc_args, extra_postargs, pp_opts)

        if ctype != "msvc":  # MSVC compiles in one batch; there is no hook
            self.compiler._compile = compile_one


def extensions():
    from Cython.Build import cythonize

    ext = Extension(
        "librsync._rsync",
        sources=["librsync/_rsync.pyx"]
        + [os.path.join("vendor", "config", LIBRSYNC_WRAPPED[name])
           if name in LIBRSYNC_WRAPPED else os.path.join(VENDOR, name)
           for name in LIBRSYNC_SOURCES]
        + [os.path.join(BLAKE2_GLUE, name) for name in BLAKE2_SOURCES],
        # Our config.h must win over anything named config.h elsewhere (libb2's
        # blake2-impl.h includes one too).  libb2's blake2.h is the one
        # librsync's checksum.c finds: src/blake2/ is not on the path.
        include_dirs=[os.path.join("vendor", "config"), VENDOR, LIBB2,
                      os.path.join("vendor", "xxhash")],
        define_macros=list(DEFINES),
        # Header-only glue included by the generated C: rebuild when it changes.
        depends=[os.path.join("librsync", "_guards.h"),
                 os.path.join("librsync", "_budget.h"),
                 os.path.join("librsync", "_sigbytes.h"),
                 os.path.join("librsync", "_blake2.h"),
                 os.path.join("librsync", "_jobs.h"),
                 os.path.join("librsync", "_sigjob.h"),
                 os.path.join("librsync", "_deltajob.h"),
                 os.path.join("librsync", "_directcopy.h"),
                 os.path.join("librsync", "_simd", "mbhash.h"),
                 os.path.join("librsync", "_xxh3.h"),
                 os.path.join("librsync", "_xxh3.pxi"),
                 os.path.join("vendor", "xxhash", "xxhash.h")],
    )
    return cythonize(
        [ext],
        compiler_directives={"language_level": "3", "embedsignature": True},
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
