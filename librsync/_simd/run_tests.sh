#!/bin/sh
# Builds and runs test_mbhash.c (the multi-buffer BLAKE2b kernels against
# libb2's reference), then checks against Python's hashlib, and, where zig
# (pip install ziglang) and qemu-user are present, cross-builds: aarch64
# (run under qemu-aarch64), and compile-only checks of every kernel file for
# Windows and macOS.  Every compile is -Wall -Wextra -Werror.
# Usage: librsync/_simd/run_tests.sh   (from anywhere; exit 0 = all passed)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
CC=${CC:-gcc}
PY=${PYTHON:-python3}
W="-Wall -Wextra -Werror"
INC="-I$here -I$root/vendor/libb2/src -I$root/vendor/config"
notrun=""

# build OUT CC EXTRA... : the test program with every kernel file, each
# compiled with only its own instruction-set flag (as the extension will).
build() {
    out=$1; cc=$2; shift 2
    d="$tmp/$(basename "$out").o.d"; mkdir -p "$d"
    for f in sse2:-msse2 avx2:-mavx2 avx512:-mavx512f neon:; do
        name=${f%%:*}; isa=${f#*:}
        case "$*" in *aarch64*) isa="" ;; esac
        $cc -O2 $W "$@" $isa -I"$here" -c "$here/mb_blake2b_$name.c" -o "$d/$name.o"
    done
    # vendored code: not ours to fix warnings in, so no -Werror
    $cc -O2 "$@" $INC -c "$root/vendor/config/blake2/blake2b_ref.c" -o "$d/ref.o"
    $cc -O2 $W "$@" $INC -c "$here/test_mbhash.c" -o "$d/test.o"
    $cc "$@" "$d"/*.o -o "$out"
}

# kat RUNNER... : the kernels' digests of a fixed pattern against hashlib.
kat() {
    "$@" --kat > "$tmp/kat.txt"
    "$PY" - "$tmp/kat.txt" <<'PYEOF'
import hashlib, sys
n = bad = 0
for line in open(sys.argv[1]):
    name, length, lane, got = line.split()
    length, lane = int(length), int(lane)
    data = bytes((j * 31 + lane * 17 + (j >> 8)) & 0xff for j in range(length))
    want = hashlib.blake2b(data, digest_size=32).hexdigest()
    n += 1
    if got != want:
        bad += 1
        print("hashlib mismatch:", name, length, lane, got, want)
kernels = sorted({l.split()[0] for l in open(sys.argv[1])})
print("hashlib: %d digests from %s: %s" % (n, ",".join(kernels), "ok" if n and not bad else "FAILED"))
sys.exit(1 if bad or not n else 0)
PYEOF
}

echo "== $CC, native"
build "$tmp/t_native" "$CC"
"$tmp/t_native"
kat "$tmp/t_native"

echo "== $CC, AddressSanitizer + UBSan (reads past a message's end fault)"
build "$tmp/t_asan" "$CC" -fsanitize=address,undefined -fno-sanitize-recover=undefined -g
"$tmp/t_asan"

if "$PY" -c "import ziglang" 2>/dev/null; then
    ZIG="$PY -m ziglang cc"
    # Baseline x86-64, not zig's default of this machine's CPU, so every
    # kernel file must bring its own instruction-set flag as with gcc.
    echo "== zig cc (clang), x86_64-linux-musl baseline"
    build "$tmp/t_clang" "$ZIG" -target x86_64-linux-musl -mcpu=baseline -static
    "$tmp/t_clang"

    echo "== zig cc, aarch64-linux-musl"
    build "$tmp/t_arm" "$ZIG" -target aarch64-linux-musl -static
    # With the SHA3 extension the rotations are xar instructions instead
    # (Apple's compilers enable it by default).
    echo "== zig cc, aarch64-linux-musl +sha3"
    build "$tmp/t_arm_sha3" "$ZIG" -target aarch64-linux-musl -mcpu=generic+sha3 -static
    if command -v qemu-aarch64 >/dev/null 2>&1; then
        echo "-- under qemu-aarch64:"
        qemu-aarch64 "$tmp/t_arm"
        kat qemu-aarch64 "$tmp/t_arm"
        echo "-- +sha3, under qemu-aarch64 -cpu max:"
        qemu-aarch64 -cpu max "$tmp/t_arm_sha3"
        kat qemu-aarch64 -cpu max "$tmp/t_arm_sha3"
    else
        notrun="$notrun aarch64-run(no qemu-aarch64)"
    fi

    # Compile-only: each file must build alone with its flag, and be an
    # empty translation unit, warning-free, on the other architecture.
    for tgt in x86_64-windows-gnu x86_64-macos aarch64-macos aarch64-windows-gnu; do
        printf '== zig cc -c, %s:' "$tgt"
        for f in sse2:-msse2 avx2:-mavx2 avx512:-mavx512f neon:; do
            name=${f%%:*}; isa=${f#*:}
            case $tgt in aarch64*) isa="" ;; esac
            $ZIG -target "$tgt" -O2 $W -pedantic -std=c99 $isa -I"$here" \
                -c "$here/mb_blake2b_$name.c" -o "$tmp/c.o"
            printf ' %s' "$name"
        done
        echo " ok"
    done
else
    notrun="$notrun zig(pip install ziglang)"
fi

if [ -n "$notrun" ]; then
    echo "NOT RUN (tools missing):$notrun"
fi
echo "all run checks passed"
