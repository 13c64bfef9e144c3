#!/bin/sh
# Build and run test_md4.c (the multi-buffer MD4 kernels against librsync's
# rs_mdfour) in every configuration this machine can run, and compile-check
# the others.  Usage, from anywhere:
#
#   librsync/_simd/run_md4_tests.sh            # everything below
#   librsync/_simd/run_md4_tests.sh native     # gcc only: quickest
#
# Steps (each one fails the script):
#   native   gcc -O2, -Wall -Wextra -Werror, each kernel with only its flag
#   asan     the same with AddressSanitizer + UBSan (reads past a message)
#   zig      clang (zig cc) for x86_64-linux-musl, run here
#   x86      zig cc for 32-bit x86 (x86-linux-musl), run here if it can be
#   neon     zig cc for aarch64-linux-musl and aarch64_be-linux-musl, run
#            under qemu-aarch64 / qemu-aarch64_be (apt-get install qemu-user)
#   cross    zig cc -c -Werror of every kernel for x86_64-windows-gnu,
#            x86_64-macos, aarch64-macos, aarch64-windows-gnu (not run)
#
# Not in the default list:
#   bench    gcc -O2 bench_md4.c: MiB/s of rs_mdfour and each kernel;
#            LRS_MD4_BENCH_ARGS="MiB passes" (default "32 7")
#
# Needs gcc; the zig steps need `pip install ziglang`.  A missing qemu is
# reported and that run skipped (compilation is still checked); set
# LRS_MD4_REQUIRE_QEMU=1 to make it an error.  On a CPU without AVX-512 (or
# AVX2) set LRS_MD4_ALLOW_MISSING=1, or the test fails for the kernel it
# could not run.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
V="$ROOT/vendor"
OUT=${TMPDIR:-/tmp}/lrs_md4_test.$$
mkdir -p "$OUT"
trap 'rm -rf "$OUT"' EXIT INT TERM

STEPS=${*:-native asan zig x86 neon cross}
WARN="-Wall -Wextra -Werror"
INC="-I$HERE -I$V/config -I$V/librsync/src -DLIBRSYNC_STATIC_DEFINE -DNDEBUG"
ZIG="python3 -m ziglang cc"

# build NAME "CC" "common flags" x86|other: objects + test binary $OUT/NAME/test
build() {
    name=$1 cc=$2 cflags=$3 arch=$4
    d="$OUT/$name"
    mkdir -p "$d"
    if [ "$arch" = x86 ]; then
        isa_sse2=-msse2 isa_avx2=-mavx2 isa_avx512=-mavx512f
    else  # the x86 files must compile to empty units without their flags
        isa_sse2= isa_avx2= isa_avx512=
    fi
    $cc $cflags $WARN $INC $isa_sse2 -c "$HERE/mb_md4_sse2.c" -o "$d/md4_sse2.o"
    $cc $cflags $WARN $INC $isa_avx2 -c "$HERE/mb_md4_avx2.c" -o "$d/md4_avx2.o"
    $cc $cflags $WARN $INC $isa_avx512 -c "$HERE/mb_md4_avx512.c" -o "$d/md4_avx512.o"
    $cc $cflags $WARN $INC -c "$HERE/mb_md4_neon.c" -o "$d/md4_neon.o"
    $cc $cflags $WARN $INC -c "$HERE/test_md4.c" -o "$d/test_md4.o"
    # Vendored C: compiled as setup.py does, without our -Werror.
    $cc $cflags $INC -c "$V/librsync/src/mdfour.c" -o "$d/mdfour.o"
    $cc $cflags "$d"/*.o -o "$d/test"
}

run() {
    echo "== $1"
    shift
    "$@"
}

for step in $STEPS; do
    case $step in
    native)
        build native gcc "-O2" x86
        run "gcc -O2" "$OUT/native/test"
        ;;
    asan)
        build asan gcc "-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" x86
        run "gcc ASan+UBSan" "$OUT/asan/test"
        ;;
    zig)
        build zig "$ZIG" "-target x86_64-linux-musl -O2 -static" x86
        run "zig cc (clang) x86_64" "$OUT/zig/test"
        ;;
    x86)
        build x86 "$ZIG" "-target x86-linux-musl -O2 -static" x86
        echo "== zig cc (clang) i386"
        rc=0
        "$OUT/x86/test" || rc=$?
        if [ $rc -eq 126 ]; then  # kernel without 32-bit support: cannot exec
            echo "== i386: compiled; NOT RUN (this kernel cannot execute 32-bit binaries)"
        elif [ $rc -ne 0 ]; then
            exit $rc
        fi
        ;;
    neon)
        for t in aarch64 aarch64_be; do
            build "$t" "$ZIG" "-target $t-linux-musl -O2 -static" other
            if command -v "qemu-$t" >/dev/null 2>&1; then
                run "zig cc $t, qemu-$t" "qemu-$t" "$OUT/$t/test"
            elif [ "${LRS_MD4_REQUIRE_QEMU:-0}" = 1 ]; then
                echo "qemu-$t not found" >&2
                exit 1
            else
                echo "== $t: compiled; NOT RUN (no qemu-$t: apt-get install qemu-user)"
            fi
        done
        ;;
    bench)
        build native gcc "-O2" x86
        gcc -O2 $WARN $INC -c "$HERE/bench_md4.c" -o "$OUT/native/bench_md4.o"
        gcc "$OUT/native/bench_md4.o" "$OUT/native/md4_"*.o "$OUT/native/mdfour.o" -o "$OUT/bench"
        run "bench_md4 ${LRS_MD4_BENCH_ARGS:-32 7}" "$OUT/bench" ${LRS_MD4_BENCH_ARGS:-32 7}
        ;;
    cross)
        for t in x86_64-windows-gnu x86_64-macos; do
            d="$OUT/cross-$t"
            mkdir -p "$d"
            for f in sse2:-msse2 avx2:-mavx2 avx512:-mavx512f neon:; do
                $ZIG -target "$t" -O2 $WARN $INC ${f#*:} -c "$HERE/mb_md4_${f%%:*}.c" -o "$d/${f%%:*}.o"
            done
            echo "== $t: compiled"
        done
        for t in aarch64-macos aarch64-windows-gnu; do
            d="$OUT/cross-$t"
            mkdir -p "$d"
            for f in sse2 avx2 avx512 neon; do
                $ZIG -target "$t" -O2 $WARN $INC -c "$HERE/mb_md4_$f.c" -o "$d/$f.o"
            done
            echo "== $t: compiled"
        done
        ;;
    *)
        echo "unknown step: $step" >&2
        exit 2
        ;;
    esac
done
echo "run_md4_tests.sh: all steps passed ($STEPS)"
