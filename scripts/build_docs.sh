#!/usr/bin/env bash
# Builds the documentation with warnings as errors, then runs its examples
# as doctests:
#
#   docs/_build/html      the site (docs/_build/html/index.html)
#   docs/_build/doctest   the doctest report (output.txt)
#
# It documents the librsync that Python imports, the first of:
#  1. this checkout's in-place build (python setup.py build_ext --inplace),
#     if it imports with this python;
#  2. an installed librsync built from this checkout's sources (in CI,
#     .ci/run has already run `pip install ".[test]"`);
#  3. this checkout, after building the extension in place (needs a C
#     compiler; installs the build requirements if they are missing).
# It installs the documentation tools, never the project itself.
#
# Usage: bash scripts/build_docs.sh   (from any directory)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
say() { printf '\n== %s\n' "$*"; }

# The `docs` extra of pyproject.toml, kept equal to it by tests/test_docs.py.
# Capped below the next major release: with -W, a release that deprecates
# something we use would otherwise fail CI on a day nothing here changed.
python3 -m pip install -q "sphinx>=7.2,<10"

# Sphinx runs from docs/, not from the root: `python -m` puts the cwd first
# on sys.path, and the checkout's librsync/ (without a compiled core unless
# built in place) would shadow an installed package.
cd "$root/docs"
# Installed from this checkout's sources: its .py and .pyi files are ours.  A
# version number would not do: every development install has the same one,
# whichever branch it was built from.
installed_is_ours() {
    python3 - "$root/librsync" <<'EOF'
import filecmp, os, sys
import librsync
ours, theirs = sys.argv[1], os.path.dirname(os.path.abspath(librsync.__file__))
names = sorted(n for n in os.listdir(ours) if n.endswith((".py", ".pyi")))
_, differ, missing = filecmp.cmpfiles(ours, theirs, names, shallow=False)
sys.exit(1 if differ or missing else 0)
EOF
}
if PYTHONPATH="$root" python3 -c "import librsync" >/dev/null 2>&1; then
    export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
elif installed_is_ours >/dev/null 2>&1; then
    :
else
    say "no importable librsync built from this checkout: building the extension in place"
    python3 -m pip install -q "setuptools>=77" "Cython>=3.1"
    mkdir -p "$root/build"
    (cd "$root" && python3 setup.py build_ext --inplace -j 2 > "$root/build/build_docs-ext.log" 2>&1) \
        || { tail -30 "$root/build/build_docs-ext.log"; exit 1; }
    export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
fi
python3 -c "import librsync, os; print('documenting librsync', librsync.__version__, 'from', os.path.dirname(librsync.__file__))"

# -E: read every page again.  A saved environment would skip unchanged pages,
# so a warning in one of them would pass a second, incremental run.
say "HTML (docs/_build/html)"
python3 -m sphinx -E -W --keep-going -b html . _build/html
say "doctests"
python3 -m sphinx -E -W -b doctest . _build/doctest
echo "build_docs: OK (${SECONDS}s)"
