#!/usr/bin/env bash
# Cross-compile check (issue "Packaging", item 4): the vendored librsync
# sources plus our vendor/config/config.h compile for the wheel targets that
# cannot be built natively here, and our own headers are warning-free there.
#
#   zig cc (PyPI ziglang): x86_64-macos aarch64-macos x86_64-windows-gnu
#                          aarch64-linux-gnu x86_64-linux-musl
#   Debian mingw-w64:      x86_64-w64-mingw32-gcc
#
# For every target:
#   1. each library source of setup.py's LIBRSYNC_SOURCES and BLAKE2_SOURCES
#      (plus, on x86 targets, BLAKE2_X86_SOURCES with their -m flags: libb2's
#      SIMD builds) is compiled (-c) with setup.py's DEFINES, include path
#      and code-generation flags; one listed in LIBRSYNC_WRAPPED is compiled
#      as its wrapper in vendor/config/ (delta_budgeted.c), as setup.py does.
#      Upstream's pristine files may warn (counted, never fatal: we don't
#      patch them); any error fails.
#   2. our own C -- vendor/config/config.h, librsync/_guards.h, _deltajob.h
#      (with _budget.h),
#      librsync/_blake2.h (which defines the blake2b_* functions librsync
#      calls, so the links below need it), librsync/_sigjob.h and the SIMD
#      kernels of librsync/_simd/ the target gets (SIMD_X86_SOURCES with
#      their -m flags, SIMD_ARM64_SOURCES) -- is
#      compiled with -Wall -Wextra -Werror in two generated translation units:
#        ours_config.c  config.h, every header it claims exists, a use of
#                       every function it claims exists, and static asserts
#                       of the sizes and byte order it states; then
#                       librsync.h + _guards.h, as the library sees them.
#        ours_guards.c  librsync.h + _guards.h + _blake2.h + _sigjob.h + _deltajob.h
#                       + _directcopy.h
#                       without config.h, as the
#                       Cython translation unit sees them.
#   3. the object files' headers are checked for the target's format and CPU.
#   4. every target but zig's x86_64-windows-gnu links all its objects into
#      a shared library with undefined symbols refused (ELF -z defs, Mach-O's
#      default, PE always) and section GC off: an unresolved rs_* symbol
#      means a source missing from setup.py's list, a duplicate one a source
#      listed twice.  (zig 0.17.1's Mach-O linker does not report duplicate
#      hidden symbols; the ELF and PE links of the same list do.)
#
# Not checked: the Cython-generated _rsync.c, which needs the target's
# Python headers (CI compiles it natively with LIBRSYNC_WERROR=1); the zig
# x86_64-windows-gnu link (zig first builds the whole mingw CRT, ~200 s cold;
# mingw-w64 links the same PE target); MSVC (zig ships no MSVC headers).
# -flto (setup.py) is left out: it would make the objects compiler IR, not
# target code whose format can be checked.
#
# Installs what it needs: ziglang via pip, gcc-mingw-w64-x86-64 via apt
# (root on Debian).  Runs from any cwd.  Exit status non-zero on any failure.
# Environment: PYTHON (default python3), JOBS (default: number of CPUs),
# KEEP=1 keeps the temporary directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
START=$SECONDS

WORK="$(mktemp -d "${TMPDIR:-/tmp}/check_cross.XXXXXX")"
APT_PID=
cleanup() {
    # Never leave apt/dpkg half done: let a background install finish.
    if [[ -n "$APT_PID" ]]; then wait "$APT_PID" 2>/dev/null || true; fi
    if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# ---- toolchains --------------------------------------------------------
# mingw-w64 from apt runs in the background while zig works.
MINGW=x86_64-w64-mingw32-gcc
if ! command -v "$MINGW" >/dev/null 2>&1; then
    echo "installing gcc-mingw-w64-x86-64 (apt, in the background)"
    (
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq gcc-mingw-w64-x86-64
    ) >"$WORK/apt.log" 2>&1 &
    APT_PID=$!
fi
if ! "$PY" -m ziglang version >/dev/null 2>&1; then
    echo "installing ziglang (pip)"
    "$PY" -m pip install -q --disable-pip-version-check ziglang
fi
ZIG="$("$PY" -c 'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')"
[[ -x "$ZIG" ]] || ZIG="$(command -v zig)"
echo "zig $("$ZIG" version)"

# ---- what setup.py compiles --------------------------------------------
# Read from setup.py's own literals so this list cannot drift from it.
SETUP_INFO="$("$PY" - <<'EOF'
import ast, sys
tree = ast.parse(open("setup.py").read(), "setup.py")
found = {}
for node in tree.body:
    if (isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in ("LIBRSYNC_SOURCES", "LIBRSYNC_WRAPPED", "DEFINES",
                                       "BLAKE2_SOURCES",
                                       "BLAKE2_X86_SOURCES", "SIMD_X86_SOURCES",
                                       "SIMD_ARM64_SOURCES")):
        found[node.targets[0].id] = ast.literal_eval(node.value)
if not found.get("LIBRSYNC_SOURCES") or "DEFINES" not in found:
    sys.exit("setup.py: no literal LIBRSYNC_SOURCES / DEFINES list found")
# A source setup.py compiles through a wrapper of ours (vendor/config/, which
# includes the pristine file) is compiled as that wrapper, as setup.py does.
wrapped = found.get("LIBRSYNC_WRAPPED", {})
for name in found["LIBRSYNC_SOURCES"]:
    if name in wrapped:
        print("W", wrapped[name])
    else:
        print("S", name)
# libb2 through our wrappers: the portable build everywhere, the SIMD builds
# (each with its -m flags) on x86 targets, as setup.py does.
for name in found.get("BLAKE2_SOURCES", []):
    print("B", name)
for name, flags in found.get("BLAKE2_X86_SOURCES", {}).items():
    print("X", name, " ".join(flags))
# Our SIMD kernels (librsync/_simd/): x86 ones with their -m flags, the
# 64-bit ARM ones with none.
for name, flags in found.get("SIMD_X86_SOURCES", {}).items():
    print("Y", name, " ".join(flags))
for name in found.get("SIMD_ARM64_SOURCES", []):
    print("A", name)
for name, value in found["DEFINES"]:
    print("D", "-D%s" % name if value is None else "-D%s=%s" % (name, value))
EOF
)"
VENDOR=vendor/librsync/src
GLUE=vendor/config/blake2
SIMD=librsync/_simd
SRCS=() DEFS=() X86_SRCS=() OURS_X86=() OURS_ARM64=()
declare -A ISA_FLAGS=()
while read -r kind val rest; do
    case "$kind" in
        S) SRCS+=("$VENDOR/$val") ;;
        W) SRCS+=("vendor/config/$val") ;;
        B) SRCS+=("$GLUE/$val") ;;
        X) X86_SRCS+=("$GLUE/$val"); ISA_FLAGS[$val]="$rest" ;;
        Y) OURS_X86+=("$SIMD/$val"); ISA_FLAGS[$val]="$rest" ;;
        A) OURS_ARM64+=("$SIMD/$val") ;;
        D) DEFS+=("$val") ;;
    esac
done <<<"$SETUP_INFO"
for s in "${SRCS[@]}" "${X86_SRCS[@]}" "${OURS_X86[@]}" "${OURS_ARM64[@]}"; do
    [[ -f "$s" ]] || { echo "missing source $s" >&2; exit 1; }
done
is_x86() { [[ "$1" == x86_64-* || "$1" == mingw-w64 ]]; }
is_arm64() { [[ "$1" == aarch64-* ]]; }
srcs_for() {  # the vendored sources setup.py compiles for a target, one per line
    printf '%s\n' "${SRCS[@]}"
    if is_x86 "$1"; then printf '%s\n' "${X86_SRCS[@]}"; fi
}
ours_for() {  # our C sources setup.py compiles for a target
    if is_x86 "$1"; then printf '%s\n' "${OURS_X86[@]}"; fi
    if is_arm64 "$1" && ((${#OURS_ARM64[@]})); then printf '%s\n' "${OURS_ARM64[@]}"; fi
    return 0
}
if [[ -n "$(printf '%s\n' "${SRCS[@]}" "${X86_SRCS[@]}" "${OURS_X86[@]}" "${OURS_ARM64[@]}" \
            | xargs -n1 basename | sort | uniq -d)" ]]; then
    echo "two sources share a basename; object names would clash" >&2; exit 1
fi
# setup.py's include_dirs (our config.h first) and its non-MSVC compile flags.
INCS=(-I vendor/config -I "$VENDOR" -I vendor/libb2/src)
CFLAGS=(-O2 -fvisibility=hidden -ffunction-sections -fdata-sections "${DEFS[@]}" "${INCS[@]}")
VENDOR_WARN=(-Wall -Wextra)
OURS_WARN=(-Wall -Wextra -Werror)
echo "${#SRCS[@]} sources, defines: ${DEFS[*]}"

# ---- our translation units ----------------------------------------------
cat >"$WORK/ours_config.c" <<'EOF'
/* Generated by scripts/check_cross.sh: config.h must be warning-free and
   everything it claims must hold for the target. */
#include "config.h"
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#ifdef HAVE_UNISTD_H
#  include <unistd.h>
#endif
#ifdef HAVE_FCNTL_H
#  include <fcntl.h>
#endif
#ifdef HAVE_SYS_TYPES_H
#  include <sys/types.h>
#endif
#ifdef HAVE_SYS_FILE_H
#  include <sys/file.h>
#endif
#ifdef HAVE_SYS_STAT_H
#  include <sys/stat.h>
#endif
#ifdef HAVE_IO_H
#  include <io.h>
#endif

_Static_assert(sizeof(off_t) == SIZEOF_OFF_T, "SIZEOF_OFF_T");
_Static_assert(sizeof(unsigned short) == SIZEOF_UNSIGNED_SHORT, "SIZEOF_UNSIGNED_SHORT");
_Static_assert(sizeof(unsigned int) == SIZEOF_UNSIGNED_INT, "SIZEOF_UNSIGNED_INT");
_Static_assert(sizeof(long) == SIZEOF_LONG, "SIZEOF_LONG");
_Static_assert(sizeof(unsigned long) == SIZEOF_UNSIGNED_LONG, "SIZEOF_UNSIGNED_LONG");
_Static_assert(sizeof(long long) == SIZEOF_LONG_LONG, "SIZEOF_LONG_LONG");
_Static_assert(sizeof(size_t) == SIZEOF_SIZE_T, "SIZEOF_SIZE_T");
#if !defined(_WIN32)
/* fileutil.c's fseek()/fstat() must handle files over 2 GiB. */
_Static_assert(sizeof(off_t) >= 8, "off_t is 32-bit: large files break");
#endif
#if !defined(__BYTE_ORDER__) || !defined(__ORDER_BIG_ENDIAN__)
#  error "cannot verify WORDS_BIGENDIAN on this compiler"
#elif (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__) != defined(WORDS_BIGENDIAN)
#  error "WORDS_BIGENDIAN is wrong for this target"
#endif
#if !defined(HAVE_FSEEKO) && !defined(HAVE__FSEEKI64) && !defined(HAVE_FSEEKO64)
#  error "no 64-bit fseek: fileutil.c would fall back to fseek(long)"
#endif
#if defined(__MINGW32__) && defined(HAVE_PRINTF_Z) \
    && (!defined(__USE_MINGW_ANSI_STDIO) || !__USE_MINGW_ANSI_STDIO)
#  error "mingw: %zu (HAVE_PRINTF_Z) needs mingw's C99 printf"
#endif
#if !defined(HAVE___FUNC__) && !defined(HAVE___FUNCTION__)
#  error "trace.h needs __func__ or __FUNCTION__"
#endif

/* Each function config.h says exists, called the way fileutil.c and
   trace.h call it: an undeclared one is an error under -Werror. */
int lrs_check_config(FILE *f, long long off, char *buf, size_t n);
int lrs_check_config(FILE *f, long long off, char *buf, size_t n)
{
    int r = 0;
#if defined(HAVE__FSEEKI64)
    r |= _fseeki64(f, off, SEEK_SET);
#endif
#if defined(HAVE_FSEEKO)
    r |= fseeko(f, (off_t)off, SEEK_SET);
#endif
#if defined(HAVE__FSTATI64)
    {
        struct _stati64 st;
        r |= _fstati64(_fileno(f), &st);
        r |= (int)(st.st_size > 0);
    }
#elif defined(HAVE_SYS_STAT_H)
    {
        struct stat st;
        r |= fstat(fileno(f), &st);
        r |= (int)S_ISREG(st.st_mode);
    }
#endif
#if defined(HAVE__FILENO)
    r |= _fileno(f);
#endif
#if defined(HAVE_FILENO)
    r |= fileno(f);
#endif
#if defined(HAVE_PRINTF_Z)
    r |= snprintf(buf, n, "%zu", n);
#else
    r |= snprintf(buf, n, "%Iu", n);
#endif
#if defined(HAVE___FUNC__)
    r |= (int)sizeof(__func__);
#endif
#if defined(HAVE___FUNCTION__)
    r |= (int)sizeof(__FUNCTION__);
#endif
#if defined(_WIN32)
    r |= _setmode(_fileno(stdout), _O_BINARY);   /* fileutil.c, #if _WIN32 */
#endif
    return r;
}

/* The library's view of our glue: config.h first, then librsync's headers. */
#include "librsync.h"
#include "_guards.h"
long lrs_check_guards_with_config(const rs_signature_t *sig, uint32_t *weak);
long lrs_check_guards_with_config(const rs_signature_t *sig, uint32_t *weak)
{
    return lrs_worst_weak_collision(sig, 1024, weak);
}
EOF
cat >"$WORK/ours_guards.c" <<'EOF'
/* Generated by scripts/check_cross.sh: _guards.h as the Cython translation
   unit includes it (librsync.h, no config.h), every function used. */
#include "librsync.h"
#include "_guards.h"
#include "_blake2.h"
#include "_sigjob.h"
#include "_deltajob.h"
#include "_directcopy.h"
long lrs_check_guards(const rs_signature_t *sig, uint32_t *weak);
long lrs_check_guards(const rs_signature_t *sig, uint32_t *weak)
{
    return lrs_worst_weak_collision(sig, 1024, weak);
}
/* _blake2.h as _rsync.pyx uses it; it also defines the blake2b_* functions
   librsync's checksum.c calls, so the link below needs it. */
int lrs_check_blake2(const uint8_t *in, size_t len, uint8_t *out);
int lrs_check_blake2(const uint8_t *in, size_t len, uint8_t *out)
{
    int i, n = lrs_blake2b_count(), chosen = 0;
    for (i = 0; i < n; i++)
        if (lrs_blake2b_name(i) && lrs_blake2b_supported(i)
            && lrs_blake2b_digest(i, in, len, out) == 0)
            chosen = i;
    /* The module selects cpuid's choice once every build checked out. */
    return lrs_blake2b_select(chosen >= 0 ? lrs_blake2b_preferred() : 0)
        + lrs_blake2b_selected();
}
/* One call of a job over all of in, at the end of the input. */
static int lrs_check_run(lrs_job *job, const unsigned char *in, size_t len,
                         unsigned char *out, size_t out_len)
{
    rs_buffers_t b;
    b.next_in = (char *)in;
    b.avail_in = len;
    b.eof_in = 1;
    b.next_out = (char *)out;
    b.avail_out = out_len;
    return (int)lrs_job_iter(job, &b);
}
/* _sigjob.h as _rsync.pyx uses it: every engine the target has, so the link
   below resolves each kernel it names. */
int lrs_check_sigjob(const unsigned char *in, size_t len, unsigned char *out);
int lrs_check_sigjob(const unsigned char *in, size_t len, unsigned char *out)
{
    const unsigned char *lanes[16];
    int i, k, r = 0;
    for (k = 0; k < 16; k++)
        lanes[k] = in;
    for (i = 0; i < lrs_sig_engine_count(); i++) {
        lrs_job *job;
        if (!lrs_sig_engine_name(i) || !lrs_sig_engine_supported(i))
            continue;
        r += lrs_sig_engine_hash(i, 0, lanes, lrs_sig_engine_lanes(i, 0), len, out);
        r += lrs_sig_engine_hash(i, 1, lanes, lrs_sig_engine_lanes(i, 1), len, out);
        job = lrs_sigjob_begin(i, 2048, 8, RS_RK_BLAKE2_SIG_MAGIC);
        if (job == NULL)
            return -1;
        r += lrs_check_run(job, in, len, out, 16 * 32);
        r += (int)lrs_job_statistics(job)->sig_blocks;
        lrs_job_free(job);
    }
    return r;
}
/* _directcopy.h as _rsync.pyx uses it (a stub where the target has no
   copy_file_range). */
int lrs_check_directcopy(int in_fd, int out_fd, size_t *len, const char *p, size_t n);
int lrs_check_directcopy(int in_fd, int out_fd, size_t *len, const char *p, size_t n)
{
    int err = 0;
    return lrs_direct_copy(in_fd, 0, len, out_fd, p, n, &err) + err;
}
/* _sigbytes.h (which _deltajob.h includes) as _rsync.pyx uses it. */
size_t lrs_check_sigbytes(const rs_signature_t *sig, unsigned char *out);
size_t lrs_check_sigbytes(const rs_signature_t *sig, unsigned char *out)
{
    lrs_signature_write(sig, out);
    return lrs_signature_size(sig);
}
/* _deltajob.h as _rsync.pyx uses it, with each engine's kernels. */
int lrs_check_deltajob(const rs_signature_t *sig, const unsigned char *in, size_t len,
                       unsigned char *out, size_t out_len);
int lrs_check_deltajob(const rs_signature_t *sig, const unsigned char *in, size_t len,
                       unsigned char *out, size_t out_len)
{
    int i, r = 0;
    for (i = -1; i < lrs_sig_engine_count(); i++) {
        lrs_job *job;
        if (i >= 0 && !lrs_sig_engine_supported(i))
            continue;
        job = lrs_deltajob_begin(sig, i);
        if (job == NULL)
            return -1;
        r += lrs_check_run(job, in, len, out, out_len);
        r += (int)lrs_job_statistics(job)->lit_cmds;
        r += (int)lrs_delta_budget(job)->skipped;
        lrs_job_free(job);
    }
    return r;
}
/* librsync's delta job behind _budget.h's budget (delta_budgeted.c). */
int lrs_check_rsdelta(const rs_signature_t *sig, const unsigned char *in, size_t len,
                      unsigned char *out, size_t out_len);
int lrs_check_rsdelta(const rs_signature_t *sig, const unsigned char *in, size_t len,
                      unsigned char *out, size_t out_len)
{
    int r;
    lrs_job *job = lrs_rsdelta_begin(sig);
    if (job == NULL)
        return -1;
    r = lrs_check_run(job, in, len, out, out_len);
    r += (int)lrs_delta_budget(job)->false_checks;
    lrs_job_free(job);
    return r;
}
EOF

# The one symbol the linked test library exports, as the real module exports
# only PyInit__rsync.  (Also needed because zig 0.17.1's Mach-O linker
# segfaults on a dylib that exports nothing.)
cat >"$WORK/export_stub.c" <<'EOF'
int lrs_cross_check_export(void) __attribute__((visibility("default")));
int lrs_cross_check_export(void) { return 0; }
EOF

# ---- targets --------------------------------------------------------------
# name | expected object format:cpu | link kind (none, elf, macho, pe).
# mingw-w64 stays last: its compiles wait for apt.
TARGETS=(
    "x86_64-macos|macho:x86_64|macho"
    "aarch64-macos|macho:arm64|macho"
    "x86_64-windows-gnu|coff:x86_64|none"
    "aarch64-linux-gnu|elf:aarch64|elf"
    "x86_64-linux-musl|elf:x86_64|elf"
    "mingw-w64|coff:x86_64|pe"
)

cc_for() {  # the compiler command for a target name
    if [[ "$1" == mingw-w64 ]]; then echo "$MINGW"; else echo "$ZIG cc -target $1"; fi
}

# One compile job: target, source (or generated file), kind (vendor|ours).
compile_one() {
    local target="$1" src="$2" kind="$3" obj log rc=0
    obj="$WORK/$target/$(basename "${src%.c}").o"
    log="${obj%.o}.log"
    local extra=("${VENDOR_WARN[@]}")
    # -I librsync: _guards.h, which the Cython file finds beside itself.
    [[ "$kind" == ours ]] && extra=("${OURS_WARN[@]}" -I librsync)
    if is_arm64 "$target" && ((${#OURS_ARM64[@]})); then extra+=(-DLRS_SIMD_NEON=1); fi
    # libb2's SIMD builds and _blake2.h's dispatch to them: x86 only.
    if is_x86 "$target"; then
        extra+=(-DLRS_BLAKE2_X86=1 -DLRS_SIMD_X86=1)
        # shellcheck disable=SC2206  # the flags are words
        [[ -n "${ISA_FLAGS[$(basename "$src")]:-}" ]] && extra+=(${ISA_FLAGS[$(basename "$src")]})
    fi
    # Extensions are position-independent: distutils adds -fPIC (CCSHARED)
    # on POSIX; on Windows the flag means nothing.
    [[ "$target" == *windows* || "$target" == mingw-w64 ]] || extra+=(-fPIC)
    # zig caches each compile and prints no warnings on a cache hit, so
    # compiles get a cache of their own that starts empty each run (links keep
    # the user's cache, where zig keeps the libc and compiler_rt it builds).
    # shellcheck disable=SC2046  # cc_for is a command with arguments
    ZIG_GLOBAL_CACHE_DIR="$WORK/zig-cache" $(cc_for "$target") -c "${CFLAGS[@]}" "${extra[@]}" \
        "$src" -o "$obj" >"$log" 2>&1 || rc=$?
    ((rc == 0)) || rm -f "$obj"   # zig leaves an empty one behind
    echo "$rc" >"${obj%.o}.rc"
}

run_jobs() {  # reads "target src kind" lines on stdin, runs JOBS at a time
    local target src kind running=0
    while read -r target src kind; do
        compile_one "$target" "$src" "$kind" &
        running=$((running + 1))
        if ((running >= JOBS)); then wait -n || true; running=$((running - 1)); fi
    done
    wait || true
}

joblist() {  # the compile jobs of the target names given
    local name s
    for name in "$@"; do
        mkdir -p "$WORK/$name"
        for s in "$WORK/ours_config.c" "$WORK/ours_guards.c"; do echo "$name $s ours"; done
        srcs_for "$name" | while read -r s; do echo "$name $s vendor"; done
        ours_for "$name" | while read -r s; do echo "$name $s ours"; done
    done
}

# Link check for one target; prints a status word, details into link.log.
link_check() {
    local target="$1" kind="$2" dir="$WORK/$1" objs
    objs=("$dir"/*.o)
    local log="$dir/link.log" out rc=0
    [[ "$kind" == none ]] && { echo "-"; return; }
    # A vendor source that failed would show up as undefined symbols.
    local s
    while read -r s; do
        [[ "$(cat "$dir/$(basename "${s%.c}").rc")" == 0 ]] || { echo "skipped"; return; }
    done < <(srcs_for "$target"; ours_for "$target")
    # --no-gc-sections: with every symbol hidden, the linker would otherwise
    # drop all sections and with them the undefined references it must see.
    # shellcheck disable=SC2054  # commas inside -Wl, arguments
    local args=(-O2 -shared -Wl,--no-gc-sections "${objs[@]}" "$WORK/export_stub.c")
    case "$kind" in
        elf) out="$dir/librsync.so"
             $ZIG cc -target "$target" -fPIC -Wl,-z,defs "${args[@]}" -o "$out" >"$log" 2>&1 || rc=$? ;;
        macho) out="$dir/librsync.dylib"  # undefined symbols are errors by default
             $ZIG cc -target "$target" "${args[@]}" -o "$out" >"$log" 2>&1 || rc=$? ;;
        pe) out="$dir/librsync.dll"
             "$MINGW" -Wl,--no-undefined "${args[@]}" -o "$out" >"$log" 2>&1 || rc=$? ;;
    esac
    if ((rc != 0)); then echo "FAIL"; return; fi
    # The linked file must be of the target's kind too.
    if check_format "${3}" "$out" >>"$log" 2>&1; then echo "ok"; else echo "FAIL"; fi
}

# check_format FORMAT:CPU FILE...: reads headers (no `file`/objdump needed).
check_format() {
    "$PY" - "$@" <<'EOF'
import struct, sys
want, files = sys.argv[1], sys.argv[2:]
ELF = {0x3E: "x86_64", 0xB7: "aarch64"}
MACHO = {0x01000007: "x86_64", 0x0100000C: "arm64"}
COFF = {0x8664: "x86_64", 0xAA64: "arm64"}
def kind(path):
    b = open(path, "rb").read(4096)
    if len(b) < 64:
        return "short file"
    if b[:4] == b"\x7fELF" and b[4] == 2:
        order = "<" if b[5] == 1 else ">"
        return "elf:" + ELF.get(struct.unpack(order + "H", b[18:20])[0], "?")
    if b[:4] == b"\xcf\xfa\xed\xfe":
        return "macho:" + MACHO.get(struct.unpack("<I", b[4:8])[0], "?")
    if b[:2] == b"MZ":  # PE image: COFF header after "PE\0\0"
        pe = struct.unpack("<I", b[0x3C:0x40])[0]
        if b[pe:pe + 4] == b"PE\0\0":
            return "coff:" + COFF.get(struct.unpack("<H", b[pe + 4:pe + 6])[0], "?")
    return "coff:" + COFF.get(struct.unpack("<H", b[:2])[0], "?")
bad = [(f, kind(f)) for f in files if kind(f) != want]
for f, k in bad:
    print("%s: %s, expected %s" % (f, k, want))
sys.exit(1 if bad else 0)
EOF
}

# ---- run ------------------------------------------------------------------
# The zig targets compile while apt installs mingw-w64 in the background.
NAMES=()
for t in "${TARGETS[@]}"; do NAMES+=("${t%%|*}"); done
joblist "${NAMES[@]:0:${#NAMES[@]}-1}" | run_jobs   # all but mingw-w64 (last)
if [[ -n "$APT_PID" ]]; then
    rc=0; wait "$APT_PID" || rc=$?; APT_PID=
    if ((rc)); then cat "$WORK/apt.log" >&2; echo "apt-get failed" >&2; exit 1; fi
fi
command -v "$MINGW" >/dev/null || { echo "$MINGW not found after install" >&2; exit 1; }
joblist mingw-w64 | run_jobs
COMPILE_END=$SECONDS

FAILED=0
ROWS=()
LINK_PIDS=()
for t in "${TARGETS[@]}"; do  # the links run side by side
    IFS='|' read -r name fmt link <<<"$t"
    ( link_check "$name" "$link" "$fmt" >"$WORK/$name/link.status" ) &
    LINK_PIDS+=($!)
done
wait "${LINK_PIDS[@]}"

for t in "${TARGETS[@]}"; do
    IFS='|' read -r name fmt link <<<"$t"
    dir="$WORK/$name"
    compiled=0 errors=0 vwarn=0 ours=ok
    mapfile -t TSRCS < <(srcs_for "$name")
    for s in "${TSRCS[@]}"; do
        b="$dir/$(basename "${s%.c}")"
        if [[ "$(cat "$b.rc")" == 0 ]]; then
            compiled=$((compiled + 1))
        else
            errors=$((errors + 1))
            echo "== $name: $s failed" >&2; cat "$b.log" >&2
        fi
        vwarn=$((vwarn + $(grep -c 'warning:' "$b.log" || true)))
    done
    mapfile -t TOURS < <(ours_for "$name")
    for b in "$dir/ours_config" "$dir/ours_guards" \
             $(for s in "${TOURS[@]}"; do echo "$dir/$(basename "${s%.c}")"; done); do
        if [[ "$(cat "$b.rc")" != 0 ]]; then
            ours=FAIL
            echo "== $name: $(basename "$b").c (our C, -Werror) failed" >&2
            cat "$b.log" >&2
        fi
    done
    if check_format "$fmt" "$dir"/*.o >"$dir/format.log" 2>&1; then
        format="$fmt"
    else
        format="FAIL"; cat "$dir/format.log" >&2
    fi
    linked="$(cat "$dir/link.status")"
    if [[ "$linked" == FAIL ]]; then
        echo "== $name: link failed" >&2; cat "$dir/link.log" >&2
    fi
    if ((errors)) || [[ "$ours" != ok || "$format" == FAIL || "$linked" == FAIL ]]; then
        FAILED=1
    fi
    ROWS+=("$(printf '%-20s %5s %8s %8s %-13s %s' "$name" "$compiled/${#TSRCS[@]}" \
        "$vwarn" "$ours" "$format" "$linked")")
done

echo
printf '%-20s %5s %8s %8s %-13s %s\n' target files vend-wrn our-h objects shared-link
printf '%s\n' "${ROWS[@]}"
echo "compile $((COMPILE_END - START))s wall of $((SECONDS - START))s total (${JOBS} jobs)"
if ((FAILED)); then echo "check_cross: FAILED"; exit 1; fi
echo "check_cross: ok"
