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
    "util.c", "version.c", "whole.c", "blake2/blake2b-ref.c",
]


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


class BuildExt(build_ext):
    def build_extensions(self):
        ctype = self.compiler.compiler_type
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
            if os.path.basename(src).startswith("_rsync."):
                extra_postargs = list(extra_postargs) + werror
            return original(obj, src, ext, cc_args, extra_postargs, pp_opts)

        if ctype != "msvc":  # MSVC compiles in one batch; there is no hook
            self.compiler._compile = compile_one


def extensions():
    from Cython.Build import cythonize

    ext = Extension(
        "librsync._rsync",
        sources=["librsync/_rsync.pyx"]
        + [os.path.join(VENDOR, name) for name in LIBRSYNC_SOURCES],
        # Our config.h must win over anything named config.h elsewhere.
        include_dirs=[os.path.join("vendor", "config"), VENDOR,
                      os.path.join(VENDOR, "blake2")],
        define_macros=DEFINES,
        # Header-only glue included by the generated C: rebuild when it changes.
        depends=[os.path.join("librsync", "_guards.h")],
    )
    return cythonize(
        [ext],
        compiler_directives={"language_level": "3", "embedsignature": True},
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
