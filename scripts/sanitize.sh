#!/usr/bin/env bash
# Build the extension with AddressSanitizer + UndefinedBehaviorSanitizer (gcc)
# in a separate copy of the tree, then run the test suite and 10,000
# create/abandon cycles of every job kind with leak detection on.
#
#   scripts/sanitize.sh                 # tests -m "not slow" + abandon cycles
#   SANITIZE_SLOW=1 scripts/sanitize.sh # also the >4 GiB tests (minutes more)
#   SANITIZE_DIR=/tmp/x scripts/sanitize.sh
#   SANITIZE_TESTS="tests/test_sig_engines.py" scripts/sanitize.sh  # a subset
#
# Never builds in the working tree: the copy goes to $SANITIZE_DIR
# (default: a new temporary directory).  Exit status 0 means zero ASan/UBSan
# errors, zero leaks outside the CPython-only suppressions
# (scripts/lsan-python.supp), and all tests passed.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
DEST=${SANITIZE_DIR:-$(mktemp -d -t librsync-san.XXXXXX)}
CYCLES=${SANITIZE_CYCLES:-10000}
PY=$(python3 -c 'import sys; print(sys.executable)')  # not a shell shim
LOGS="$DEST/sanitizer-logs"
start=$(date +%s)

echo "== copying $SRC -> $DEST"
mkdir -p "$DEST"
# Others may be writing in the tree meanwhile: a file changing while it is
# read is a warning (tar status 1), not a failure.
{ tar -C "$SRC" -c --warning=no-file-changed --exclude=./.git --exclude=./build \
      --exclude='*.so' --exclude=./.hypothesis --exclude=./.pytest_cache \
      --exclude=./.benchmarks --exclude=./bench/data --exclude=./fuzz/artifacts . \
  || [[ $? == 1 ]]; } | tar -C "$DEST" -x
cd "$DEST"

echo "== building with LIBRSYNC_SANITIZE=1"
LIBRSYNC_SANITIZE=1 "$PY" setup.py build_ext --inplace -j 2 > build.log 2>&1 \
    || { tail -n 30 build.log; exit 1; }
grep -- "-fsanitize=address,undefined" build.log >/dev/null \
    || { echo "sanitizer flags missing from the build"; exit 1; }
ldd librsync/_rsync*.so | grep libasan >/dev/null \
    || { echo "extension is not linked to libasan"; exit 1; }

# python3 itself is not instrumented: the runtimes must be loaded first.
ASAN_LIB=$(gcc -print-file-name=libasan.so)
UBSAN_LIB=$(gcc -print-file-name=libubsan.so)
rm -rf "$LOGS"; mkdir -p "$LOGS"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86:detect_stack_use_after_return=0:fast_unwind_on_malloc=0:malloc_context_size=30:log_path=$LOGS/asan"
export LSAN_OPTIONS="suppressions=$DEST/scripts/lsan-python.supp:print_suppressions=0:exitcode=87"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=88:log_path=$LOGS/ubsan"
# Every Python object through malloc: ASan sees overflows of them, and a
# refcount leak in the Cython driver becomes an unreachable block LSan reports.
export PYTHONMALLOC=malloc
export HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-dev}

status=0
run() {  # run NAME CMD...: the command under the sanitizers
    local name=$1; shift
    echo "== $name"
    local t0=$(date +%s)
    if ! LD_PRELOAD="$ASAN_LIB $UBSAN_LIB" "$@"; then
        echo "!! $name failed"
        status=1
    fi
    echo "   ($(( $(date +%s) - t0 )) s)"
}

markers='not slow'
[[ "${SANITIZE_SLOW:-0}" == 1 ]] && markers=''
# Leak detection is off for the test run: a test runner keeps failed
# tests' tracebacks and fixtures alive until exit, CPython never frees those
# at finalization, and the CLI tests start rdiff (system librsync, not ours)
# and python3 children that inherit LD_PRELOAD.  ASan and UBSan errors stay
# fatal there; leaks are judged in the abandon-cycles process below, where
# every job is dropped and collected before exit.
ASAN_OPTIONS="${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0}" \
run "pytest -m '${markers:-all}'" "$PY" -m pytest -q -p no:cacheprovider \
    ${markers:+-m "$markers"} ${SANITIZE_TESTS:-tests}
run "abandon_cycles $CYCLES" "$PY" scripts/abandon_cycles.py "$CYCLES"

# Reports from every process (pytest's children included).
errors=$(cat "$LOGS"/asan.* "$LOGS"/ubsan.* 2>/dev/null \
         | grep -cE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" || true)
echo "== sanitizer reports: $errors"
if [[ "$errors" != 0 ]]; then
    status=1
    for f in "$LOGS"/*; do echo "--- $f"; head -n 60 "$f"; done
fi
echo "== total $(( $(date +%s) - start )) s; logs in $LOGS"
[[ $status == 0 ]] && echo "RESULT: PASS (0 sanitizer errors, 0 leaks)" || echo "RESULT: FAIL"
exit $status
