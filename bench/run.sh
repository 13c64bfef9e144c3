#!/bin/sh
# Set up a fresh Debian/Ubuntu machine and run the benchmark.
#
#   sh bench/run.sh                # full run (about 5 minutes on 2 idle cores)
#   sh bench/run.sh --quick        # smoke run; any run.py options pass through
#
# Installs: rdiff (the reference), GNU time (clean peak-RSS measurement),
# python-rsync 0.1.1 from PyPI, and this package from this checkout.
set -eu
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
PY="${PYTHON:-python3}"

if ! command -v rdiff >/dev/null 2>&1 || [ ! -x /usr/bin/time ]; then
    $SUDO apt-get update
    $SUDO apt-get install -y rdiff time
fi
if ! "$PY" -m pip --version >/dev/null 2>&1; then
    $SUDO apt-get install -y python3-pip python3-dev gcc
fi

"$PY" -m pip install "python-rsync==0.1.1"
# Build and install this checkout (the vendored librsync is compiled here).
"$PY" -m pip install .

# Run from outside the checkout so the installed build is the one imported.
exec "$PY" "$(pwd)/bench/run.py" "$@"
