#!/usr/bin/env bash
# The package's type information, checked on every CI run:
#
#  1. The installed librsync (not the uncompiled checkout) carries py.typed,
#     __init__.pyi, _api.pyi, _iter.pyi and _rsync.pyi beside its compiled
#     _rsync module (aio.py is typed in place).
#  2. `mypy --strict` passes on tests/typing/example.py, a typed program using
#     the whole public API (its assert_type lines pin what the stubs promise,
#     and its `type: ignore` lines must stay errors).
#  3. `mypy --strict` passes on the installed librsync/dask.py, which is
#     typed inline (plain Python, no stub) against dask.distributed's types,
#     and on tests/typing/dask_example.py, a typed program using it.
#  4. mypy's stubtest finds no difference between the stubs and the runtime
#     modules (names, argument names and kinds, defaults, @final), except the
#     entries of tests/typing/stubtest_allowlist.txt, each explained there.
#
# Usage: bash scripts/check_typing.sh   (from any directory, after
# `pip install .`; it installs mypy and dask.distributed itself).
# MYPY_SPEC overrides which mypy.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

say() { printf '\n== %s\n' "$*"; }
fail() { printf 'check_typing: FAIL: %s\n' "$*" >&2; exit 1; }

# Pinned: each mypy release may add stubtest checks, and CI should not start
# failing on a day nothing here changed.  Raise it on purpose.
# types-tqdm: stubtest type-checks every module first, and librsync.cli
# imports the optional tqdm for its progress bar.  dask.distributed (the
# `dask` extra, typed): stubtest imports librsync.dask, and mypy reads its
# types.
python3 -m pip install -q "${MYPY_SPEC:-mypy==2.4.1}" types-tqdm "dask[distributed]>=2024.1"

# Everything below runs in an empty directory with no MYPYPATH/PYTHONPATH:
# from the repository root, both Python and mypy would find the checkout's
# librsync/ (stubs, but no compiled _rsync) before the installed package.
cd "$work"
unset MYPYPATH PYTHONPATH

say "the installed package"
pkg="$(python3 - <<'EOF'
import importlib.machinery, importlib.util, os
import librsync, librsync._rsync as core
pkg = os.path.dirname(os.path.abspath(librsync.__file__))
print(pkg)
assert os.path.dirname(os.path.abspath(core.__file__)) == pkg, core.__file__
assert importlib.util.find_spec("librsync._rsync").origin.endswith(
    tuple(importlib.machinery.EXTENSION_SUFFIXES)), "librsync._rsync is not compiled"
EOF
)" || fail "librsync does not import (run 'pip install .' first)"
# The checkout's own librsync/ (an in-place build), not an installed copy,
# which may well live under the checkout (the README's .venv).
case "$pkg/" in
    "$root"/librsync/) fail "imported librsync from the checkout ($pkg), not an installed copy" ;;
esac
for f in py.typed __init__.pyi _api.pyi _iter.pyi _rsync.pyi; do
    [[ -f "$pkg/$f" ]] || fail "$f is not installed in $pkg (package-data / MANIFEST.in)"
done
echo "librsync at $pkg: py.typed, __init__.pyi, _api.pyi, _iter.pyi, _rsync.pyi present"

mypy_version="$(python3 -m mypy --version)"
echo "$mypy_version"

say "mypy --strict tests/typing/example.py"
# A copy in the empty directory: mypy puts a checked file's directory on its
# search path and climbs out of it through packages, so checking it in place
# could resolve librsync somewhere other than site-packages.
cp "$root/tests/typing/example.py" "$work/example.py"
failed=()
python3 -m mypy --strict --no-incremental example.py \
    || failed+=("mypy --strict on tests/typing/example.py")

say "mypy --strict librsync.dask (installed)"
# The module only: the others it imports are read for their types (their
# stubs are what stubtest checks below).
python3 -m mypy --strict --no-incremental --follow-imports=silent -m librsync.dask \
    || failed+=("mypy --strict on librsync.dask")
# distributed leaves Client(), LocalCluster() and Client.gather() unannotated;
# calling them is not what this checks.
cp "$root/tests/typing/dask_example.py" "$work/dask_example.py"
python3 -m mypy --strict --untyped-calls-exclude=distributed --no-incremental dask_example.py \
    || failed+=("mypy --strict on tests/typing/dask_example.py")

say "stubtest librsync"
python3 -m mypy.stubtest librsync \
    --allowlist "$root/tests/typing/stubtest_allowlist.txt" \
    || failed+=("stubtest: librsync/*.pyi differ from the installed runtime")

if ((${#failed[@]})); then
    for what in "${failed[@]}"; do printf 'check_typing: FAIL: %s (%s)\n' "$what" "$mypy_version" >&2; done
    exit 1
fi
say "typing checks passed"
