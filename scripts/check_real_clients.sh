#!/usr/bin/env bash
# Issue 23: rdiff-backup and duplicity, the real tools from PyPI, on
# librsync.compat, the drop-in for their C module `_librsync`.
#
#  1. Their sdists are built (their C modules compiled against Debian's
#     librsync-dev) into a throwaway venv, which sees the librsync under
#     test but cannot change it.
#  2. Side by side: their two C modules and ours on generated inputs (sizes
#     0 to 4 MiB, block sizes by each tool's rule): identical signatures,
#     each one's delta patched by the other; broken inputs.
#  3. Their compiled modules are moved away and a .pth file installs ours
#     (the README's recipe); both tools' librsync.py must resolve to it.
#  4. rdiff-backup: back up a tree, change it, back up again, restore the
#     current and the previous version, compare byte for byte.
#  5. duplicity (file:// target, no encryption): full, change, incremental,
#     restore both versions, compare byte for byte.
#  6. Their own test modules that exercise librsync.py: rdiff-backup's
#     testing/librsynctest.py (from its sdist), and duplicity's
#     testing/unit/test_diffdir.py and test_patchdir.py, from the newest
#     duplicity sdist that still ships its tests (3.0.4.0; later sdists
#     have none), run on that release's own sources -- all on our module.
#
# Usage: bash scripts/check_real_clients.sh   (as root on Debian for the
# apt-get; after `pip install .`).  PYTHON picks the interpreter that has
# the librsync under test (default python3).  About a minute on 2 cores.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Pinned, so that a new release of either tool cannot change what this
# checks on a day nothing here changed.  Raise them on purpose.
RDIFF_BACKUP=2.2.7
DUPLICITY=3.2.1
DUPLICITY_TESTS=3.0.4.0

say() { printf '\n== %s\n' "$*"; }
fail() { printf 'check_real_clients: FAIL: %s\n' "$*" >&2; exit 1; }

say "system packages: librsync-dev (their C modules), gnupg (duplicity), rdiff (rdiff-backup's tests)"
if ! dpkg -s librsync-dev gnupg rdiff >/dev/null 2>&1; then
    apt-get install -y -qq librsync-dev gnupg rdiff >/dev/null
fi

cd "$work"
ours="$("$python" -c 'import librsync, os; print(os.path.dirname(os.path.dirname(os.path.abspath(librsync.__file__))))')" \
    || fail "librsync does not import (run 'pip install .' first)"
# (The README's .venv lives inside the checkout: only the checkout's own
# librsync/, which has no compiled core, is refused.)
[[ "$ours" != "$root" ]] || fail "imported librsync from the checkout ($ours), not an installed copy"

say "a throwaway venv with rdiff-backup $RDIFF_BACKUP and duplicity $DUPLICITY from their sdists"
"$python" -m venv --system-site-packages "$work/venv"
py="$work/venv/bin/python"
site="$("$py" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
# The librsync under test, after the venv's own packages (a venv made by a
# venv's Python does not see that venv's site-packages otherwise).  Named to
# be read before librsync-compat.pth below, which imports it.
echo "$ours" > "$site/00-librsync-under-test.pth"
# --no-deps: duplicity requires every backend's SDK (boto3, azure, ...);
# a file:// backup needs only fasteners.
"$py" -m pip install -q --no-deps --no-binary rdiff-backup,duplicity \
    "rdiff-backup==$RDIFF_BACKUP" "duplicity==$DUPLICITY" fasteners PyYAML
"$py" -m pip download -q --no-deps --no-binary rdiff-backup,duplicity -d "$work/sdists" \
    "rdiff-backup==$RDIFF_BACKUP" "duplicity==$DUPLICITY_TESTS"
"$py" -c 'import librsync.compat, rdiff_backup._librsync, duplicity._librsync' \
    || fail "the venv does not import librsync.compat and both tools' C modules"

say "side by side: their C modules and librsync.compat"
"$py" "$root/scripts/real_clients.py" side-by-side

say "their C modules moved away; librsync.compat installed by a .pth file"
# duplicity falls back to a ctypes module on the system librsync when it
# cannot import _librsync: that goes too, so that nothing but ours can serve.
for m in "$site"/rdiff_backup/_librsync*.so "$site"/duplicity/_librsync*.so \
         "$site"/duplicity/_librsync_ctypes.py; do
    [[ -f "$m" ]] || fail "no module at $m"
    mv "$m" "$m.moved-away"
done
echo "import librsync.compat; librsync.compat.install()" > "$site/librsync-compat.pth"
"$py" "$root/scripts/real_clients.py" hooked

say "rdiff-backup $RDIFF_BACKUP on librsync.compat"
"$py" "$root/scripts/real_clients.py" rdiff-backup "$work/rb"

say "duplicity $DUPLICITY on librsync.compat"
"$py" "$root/scripts/real_clients.py" duplicity "$work/dup"

say "rdiff-backup's own librsync tests (testing/librsynctest.py of $RDIFF_BACKUP)"
tar -xzf "$work/sdists/rdiff_backup-$RDIFF_BACKUP.tar.gz" -C "$work"
(
    cd "$work/rdiff_backup-$RDIFF_BACKUP"
    # Their tests make their files under $VIRTUAL_ENV/testfiles (commontest.py).
    export VIRTUAL_ENV="$work/venv"
    "$py" testing/commontest.py
    "$py" -m pytest -q -p no:cacheprovider testing/librsynctest.py
)

say "duplicity's own tests of diffs and patches (testing/unit of $DUPLICITY_TESTS, on its sources)"
tar -xzf "$work/sdists/duplicity-$DUPLICITY_TESTS.tar.gz" -C "$work"
(
    cd "$work/duplicity-$DUPLICITY_TESTS"
    # That release's duplicity package, from the sdist: it has no compiled
    # _librsync, so only librsync.compat can serve it.
    "$py" -c 'import duplicity, librsync.compat as c
from duplicity import librsync as l
assert duplicity.__file__.startswith("'"$work"'"), duplicity.__file__
assert l._librsync.new_sigmaker is c.new_sigmaker
print("duplicity", duplicity.__version__, "from", duplicity.__file__, "on librsync.compat")'
    TMPDIR="$work/duptmp" && mkdir -p "$TMPDIR" && export TMPDIR
    # (Not -p no:cacheprovider: their pytest options include --failed-first.)
    "$py" -m pytest -q testing/unit/test_diffdir.py testing/unit/test_patchdir.py
)

say "real clients: all checks passed"
