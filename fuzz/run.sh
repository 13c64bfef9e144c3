#!/usr/bin/env bash
# Time-boxed fuzzing of the five atheris targets (see fuzz/README.md).
#
#   fuzz/run.sh            60 s in all, split evenly between the targets
#   FUZZ_SECONDS=3600 fuzz/run.sh
#   FUZZ_TARGETS="patch loadsig" fuzz/run.sh
#
# Exit status is non-zero if any target found a crash, a hang (an input
# running longer than FUZZ_TIMEOUT seconds), memory above FUZZ_RSS_MB, or
# an unexpected exception; the input that did it is left in
# $FUZZ_ARTIFACTS (default fuzz/artifacts/), named crash-*/timeout-*/oom-*.
# New interesting inputs go to a scratch directory, never into the
# committed seed corpus.
set -euo pipefail
cd "$(dirname "$0")"

SECONDS_TOTAL=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"patch loadsig delta tree sync"}
TIMEOUT=${FUZZ_TIMEOUT:-10}
RSS_MB=${FUZZ_RSS_MB:-2048}
ARTIFACTS=${FUZZ_ARTIFACTS:-$PWD/artifacts}
WORK=${FUZZ_WORK:-$(mktemp -d -t librsync-fuzz.XXXXXX)}
# Trees the tree target patches, in memory where there is a tmpfs.
FUZZ_SCRATCH=$(mktemp -d -p /dev/shm librsync-fuzz.XXXXXX 2>/dev/null || mktemp -d)
export FUZZ_SCRATCH
trap 'rm -rf "$FUZZ_SCRATCH"' EXIT

python3 -c "import atheris" 2>/dev/null || python3 -m pip install -q atheris
python3 -c "import _common; print('fuzzing', _common.librsync.__file__)" \
    || { echo "build the extension first (pip install . or build_ext --inplace)"; exit 2; }

set -- $TARGETS
per_target=$(( SECONDS_TOTAL / $# ))
(( per_target >= 1 )) || per_target=1
mkdir -p "$ARTIFACTS"
status=0
for t in "$@"; do
    mkdir -p "$WORK/$t"
    echo "== fuzz_$t.py for ${per_target}s (timeout ${TIMEOUT}s/input, rss ${RSS_MB} MB)"
    if ! python3 "fuzz_$t.py" "$WORK/$t" "corpus/$t" \
            -max_total_time="$per_target" -timeout="$TIMEOUT" \
            -rss_limit_mb="$RSS_MB" -max_len=65536 \
            -artifact_prefix="$ARTIFACTS/$t-" -print_final_stats=1 \
            > "$WORK/$t.log" 2>&1; then
        status=1
        echo "!! fuzz_$t.py found a problem; last lines of its log:"
        tail -n 40 "$WORK/$t.log"
    else
        grep -E "^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+ +DONE)" \
            "$WORK/$t.log" || tail -n 3 "$WORK/$t.log"
    fi
done
echo "== scratch corpus and logs: $WORK"
exit $status
