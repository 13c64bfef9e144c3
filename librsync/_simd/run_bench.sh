#!/bin/sh
# Builds bench_mbhash.c with the kernels and libb2's builds, each file with
# only its own instruction-set flags (libb2's as setup.py compiles them),
# and runs it.  Usage: librsync/_simd/run_bench.sh [seconds_per_run]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
CC=${CC:-gcc}
O=${OPT:--O2}
INC="-I$here -I$root/vendor/libb2/src -I$root/vendor/config"
for f in sse2:-msse2 avx2:-mavx2 avx512:-mavx512f neon:; do
    $CC $O -I"$here" ${f#*:} -c "$here/mb_blake2b_${f%%:*}.c" -o "$tmp/k_${f%%:*}.o"
done
g="$root/vendor/config/blake2"
$CC $O $INC -c "$g/blake2b_ref.c" -o "$tmp/b2_ref.o"
$CC $O $INC -msse2 -mssse3 -msse4.1 -c "$g/blake2b_sse41.c" -o "$tmp/b2_sse41.o"
$CC $O $INC -msse2 -mssse3 -msse4.1 -mavx -c "$g/blake2b_avx.c" -o "$tmp/b2_avx.o"
$CC $O $INC -c "$here/bench_mbhash.c" -o "$tmp/bench.o"
$CC "$tmp"/*.o -o "$tmp/bench_mbhash"
"$tmp/bench_mbhash" "$@"
