#!/usr/bin/env bash
# Checks the wheel configuration offline: [tool.cibuildwheel] in
# pyproject.toml and .github/workflows/wheels.yml.  No wheel is built (that
# needs Docker and the other OSes); cibuildwheel's --print-build-identifiers
# reads the same configuration and selection rules as a real run.
#
#   scripts/check_wheel_config.sh          (from any directory)
#   PYTHON=python3.12 scripts/check_wheel_config.sh
#
# It installs what it needs with pip: cibuildwheel at the version the workflow
# pins (so the identifiers are the ones CI will build), yamllint and
# check-jsonschema (whose GitHub workflow schema ships inside the package,
# so no network is used after the install).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
WORKFLOW=.github/workflows/wheels.yml

die() { echo "check_wheel_config: FAIL: $*" >&2; exit 1; }

[ -f pyproject.toml ] || die "pyproject.toml not found in $(pwd)"
[ -f "$WORKFLOW" ] || die "$WORKFLOW not found"

# The one `uses: pypa/cibuildwheel@vX.Y.Z` of the workflow.
pins=$(sed -n 's/^[[:space:]]*uses:[[:space:]]*pypa\/cibuildwheel@v\([0-9]*\.[0-9]*\.[0-9]*\)[[:space:]]*$/\1/p' "$WORKFLOW" | sort -u)
[ -n "$pins" ] || die "$WORKFLOW must use pypa/cibuildwheel@vX.Y.Z (a pinned version tag)"
[ "$(printf '%s\n' "$pins" | wc -l)" -eq 1 ] || die "$WORKFLOW pins several cibuildwheel versions: $pins"
cibw_version=$pins

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
"$PYTHON" -m pip install -q "cibuildwheel==$cibw_version" yamllint check-jsonschema

start=$SECONDS

# 1. Workflow: YAML lint (long lines allowed; `on:` is a key, not a boolean)
#    and the GitHub workflow schema vendored in check-jsonschema.
"$PYTHON" -m yamllint --strict -d '{extends: default, rules: {line-length: disable, document-start: disable, truthy: {check-keys: false}}}' "$WORKFLOW" \
    || die "yamllint found problems in $WORKFLOW"
schema_out=$("$PYTHON" -m check_jsonschema --builtin-schema vendor.github-workflows "$WORKFLOW" 2>&1) \
    || die "$WORKFLOW does not match the GitHub workflow schema:
$schema_out"

# 2. Build identifiers, per-identifier options, and the runner matrix.
CHECK_SECONDS=$((SECONDS - start)) "$PYTHON" - "$WORKFLOW" "$cibw_version" <<'PY'
import json
import os
import subprocess
import sys
import time
from pathlib import Path

T0 = time.monotonic()

import jsonschema
import yaml

try:
    import tomllib
except ImportError:  # Python < 3.11: cibuildwheel depends on tomli there
    import tomli as tomllib

workflow_path, cibw_version = sys.argv[1], sys.argv[2]
errors = []
per_wheel = {}  # message -> identifiers it applies to


def wheel_error(ident, message):
    per_wheel.setdefault(message, []).append(ident)

PYTHONS = ["cp39", "cp310", "cp311", "cp312", "cp313", "cp314", "cp314t"]
FREE_THREADED = {"cp314t"}
PLATFORM_TAGS = {
    "linux": [f"{libc}linux_{arch}" for libc in ("many", "musl")
              for arch in ("x86_64", "aarch64")],
    "macos": ["macosx_x86_64", "macosx_arm64"],
    # cp39/cp310 win_arm64 exist in cibuildwheel (NuGet's pythonarm64
    # packages, as python.org made no ARM64 installer for them).
    "windows": ["win_amd64", "win_arm64"],
}
EXPECTED = {p: {f"{py}-{tag}" for py in PYTHONS for tag in tags}
            for p, tags in PLATFORM_TAGS.items()}

# No CIBW_* from the caller's environment may change the answer.
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("CIBW_")}


def identifiers(platform, archs=None):
    env = dict(CLEAN_ENV)
    if archs is not None:
        env["CIBW_ARCHS"] = archs
    proc = subprocess.run(
        [sys.executable, "-m", "cibuildwheel", "--print-build-identifiers",
         "--platform", platform, "."],
        env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"check_wheel_config: FAIL: cibuildwheel --print-build-identifiers "
                 f"--platform {platform} failed:\n{proc.stderr.strip()}")
    return proc.stdout.split()


def describe(ids):
    return " ".join(sorted(ids)) or "(none)"


# 2a. What pyproject.toml selects, per platform: exactly the expected set.
selected = {}
for platform, expected in EXPECTED.items():
    got = identifiers(platform)
    selected[platform] = set(got)
    if len(got) != len(set(got)):
        errors.append(f"{platform}: identifiers listed twice: {got}")
    threaded = {i for i in got if i.split("-")[0].endswith("t")}
    other_impl = {i for i in got if not i.startswith("cp")}
    unexpected_threaded = {i for i in threaded if i.split("-")[0] not in FREE_THREADED}
    if unexpected_threaded:
        errors.append(f"{platform}: free-threaded builds selected: {describe(unexpected_threaded)}")
    threaded -= unexpected_threaded
    if other_impl:
        errors.append(f"{platform}: non-CPython builds selected: {describe(other_impl)}")
    missing = expected - set(got)
    extra = set(got) - expected - unexpected_threaded - other_impl
    if missing:
        errors.append(f"{platform}: expected but not selected: {describe(missing)}")
    if extra:
        errors.append(f"{platform}: selected but not expected: {describe(extra)}")

# 2b. [tool.cibuildwheel] against the JSON schema cibuildwheel ships (types
#     and values; cibuildwheel itself already refused unknown keys above).
import cibuildwheel

schema_path = Path(cibuildwheel.__file__).parent / "resources" / "cibuildwheel.schema.json"
schema = json.loads(schema_path.read_text())
with open("pyproject.toml", "rb") as f:
    table = tomllib.load(f).get("tool", {}).get("cibuildwheel")
if table is None:
    errors.append("pyproject.toml has no [tool.cibuildwheel] table")
else:
    validator = jsonschema.validators.validator_for(schema)(schema)
    for err in validator.iter_errors(table):
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        errors.append(f"[tool.cibuildwheel] {where}: {err.message}")

# 2c. The options each wheel gets.  This uses cibuildwheel's Python API, which
#     is not public: the version is pinned above, so a change shows up here
#     when the workflow's pin is bumped.
try:
    from cibuildwheel.options import CommandLineArguments, compute_options

    for platform, ids in selected.items():
        options = compute_options(platform, CommandLineArguments.defaults(), env={})
        for ident in sorted(ids):
            build = options.build_options(ident)
            env = build.environment.as_dictionary(prev_environment={})
            ours = sorted(k for k in env if k.startswith("LIBRSYNC_"))
            if ours:
                wheel_error(ident, f"environment sets {ours} "
                            "(LIBRSYNC_WERROR and the debug switches are not for wheels)")
            if not build.test_command:
                wheel_error(ident, "no test-command")
            elif "{project}/tests" not in build.test_command or "cd " in build.test_command:
                wheel_error(ident, "test-command must run pytest on {project}/tests "
                            f"from cibuildwheel's temporary cwd, got {build.test_command!r}")
            if build.test_extras != "[test]":
                wheel_error(ident, f"test-extras is {build.test_extras!r}, expected [test]")
            if ident.split("-")[0] in FREE_THREADED and (
                    "_is_gil_enabled()" not in (build.test_command or "")
                    or "error::RuntimeWarning" not in (build.test_command or "")):
                wheel_error(ident, "a free-threaded wheel's test-command must first check "
                            "that importing librsync leaves the GIL off")
            if not options.globals.test_selector(ident):
                wheel_error(ident, "tests are skipped (test-skip)")
            if platform == "macos":
                if ident.endswith("arm64"):
                    want = "11.0"
                elif ident.startswith(("cp314-", "cp314t-")):
                    want = "10.15"
                else:
                    want = "10.13"
                got = env.get("MACOSX_DEPLOYMENT_TARGET")
                if got != want:
                    wheel_error(ident, f"MACOSX_DEPLOYMENT_TARGET is {got}, expected {want}")
            if platform == "linux":
                arch = ident.split("_", 1)[1]
                images = (build.manylinux_images if "manylinux" in ident
                          else build.musllinux_images)
                want = "manylinux_2_28" if "manylinux" in ident else "musllinux_1_2"
                image = (images or {}).get(arch, "")
                if f"/{want}_{arch}" not in image:
                    wheel_error(ident, f"image {image!r}, expected {want}")
except (ImportError, AttributeError, TypeError) as exc:
    errors.append(f"cannot read per-wheel options with cibuildwheel {cibw_version} "
                  f"({type(exc).__name__}: {exc}); update section 2c of this script")

# 2d. The workflow's runners: each builds only its own architecture (so every
#     wheel is tested natively), and together they build every wheel once.
with open(workflow_path) as f:
    workflow = yaml.safe_load(f)
try:
    matrix = workflow["jobs"]["build_wheels"]["strategy"]["matrix"]["include"]
except (KeyError, TypeError):
    matrix = []
    errors.append("jobs.build_wheels.strategy.matrix.include not found in the workflow")
ARM = {"aarch64", "arm64", "ARM64"}
built = {}
for entry in matrix:
    runner, archs = entry.get("os", ""), str(entry.get("archs", ""))
    platform = ("linux" if runner.startswith("ubuntu") else
                "macos" if runner.startswith("macos") else
                "windows" if runner.startswith("windows") else None)
    if platform is None:
        errors.append(f"matrix entry {entry}: unknown runner")
        continue
    # GitHub's arm64 images have "arm" in their label, except macos-14 and
    # later, which are Apple silicon unless labelled -intel (macos-13 was Intel).
    runner_is_arm = ("arm" in runner or (platform == "macos"
                                         and "intel" not in runner and runner != "macos-13"))
    for arch in archs.split():
        if (arch in ARM) != runner_is_arm:
            errors.append(f"{runner}: builds {arch}, not its native architecture "
                          "(its wheels could not be tested)")
    for ident in identifiers(platform, archs):
        if ident in built:
            errors.append(f"{ident} is built by both {built[ident]} and {runner}")
        built[ident] = runner
everything = set().union(*EXPECTED.values())
unbuilt = everything - set(built)
if unbuilt:
    errors.append(f"no runner of the workflow builds: {describe(unbuilt)}")
stray = set(built) - everything
if stray:
    errors.append(f"the workflow builds unexpected wheels: {describe(stray)}")

with open(workflow_path) as f:
    if "LIBRSYNC_" in f.read():
        errors.append(f"{workflow_path} sets LIBRSYNC_* variables; wheels are built without them")

for message, idents in per_wheel.items():
    errors.append(f"{message} [{len(idents)} wheels: {describe(idents)}]")
if errors:
    print("check_wheel_config: FAIL:", file=sys.stderr)
    for e in errors:
        print(f"  - {e}", file=sys.stderr)
    sys.exit(1)
counts = ", ".join(f"{p} {len(ids)}" for p, ids in selected.items())
print(f"check_wheel_config: OK: cibuildwheel {cibw_version} selects "
      f"{len(everything)} CPython 3.9-3.14 wheels ({counts}; free-threaded: cp314t, "
      f"not cp313t; no PyPy), "
      f"{len(matrix)} native runners build each once; {workflow_path} passes yamllint "
      f"and the GitHub workflow schema "
      f"({int(os.environ['CHECK_SECONDS']) + time.monotonic() - T0:.0f} s after installs)")
PY
