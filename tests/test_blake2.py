"""BLAKE2b builds: every one the CPU can run gives the same strong sums.

librsync's BLAKE2b strong sums come from libb2 (vendor/libb2): its portable
C build everywhere, plus its SIMD builds on x86, one of which is selected at
import by timing (librsync/_blake2.h).  A wrong build would silently make
signatures that no other rdiff can use, so each is checked against Python's
own hashlib.blake2b and against rdiff, not only against each other.
"""

from __future__ import annotations

import hashlib
import io
import platform
import subprocess
import sys

import pytest

import librsync
from librsync import _rsync

from conftest import CHILD_CWD, child_env, make_data

BUILDS = _rsync.blake2b_implementations()


@pytest.fixture()
def restore_selection():
    before = librsync.blake2b_implementation()
    yield
    _rsync._use_blake2b(before)


def test_selection_is_one_of_the_supported_builds():
    assert BUILDS[0] == "ref"
    assert librsync.blake2b_implementation() in BUILDS
    assert len(set(BUILDS)) == len(BUILDS)


@pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64") or sys.platform == "win32",
    reason="libb2's SIMD builds are compiled for x86 with gcc/clang only",
)
def test_simd_builds_are_compiled_in_on_x86():
    # Every x86-64 CPU has SSE2: its absence means setup.py left them out.
    assert "sse2" in BUILDS


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("length", [0, 1, 63, 127, 128, 129, 255, 256, 1000, 4096, 65539])
def test_digest_matches_hashlib(build, length):
    data = make_data(length, seed=length)
    expected = hashlib.blake2b(data, digest_size=32).digest()
    assert _rsync._blake2b_digest(build, data) == expected


@pytest.mark.parametrize("build", BUILDS)
def test_signatures_identical_across_builds_and_to_rdiff(build, rdiff, tmp_path, restore_selection):
    data = make_data(300_000, seed=5)
    (tmp_path / "basis").write_bytes(data)
    proc = subprocess.run([rdiff, "signature", "-b", "512", tmp_path / "basis", "-"],
                          capture_output=True, check=True)
    _rsync._use_blake2b(build)
    assert librsync.blake2b_implementation() == build
    ours = librsync.signature(data, io.BytesIO(), block_size=512).getvalue()
    assert ours == proc.stdout
    # Streaming and threaded paths hash through the same build.
    job_out = librsync.SignatureJob(block_size=512, threads=2)
    streamed = job_out.update(data[:100_000]) + job_out.finish(data[100_000:])
    assert streamed == proc.stdout


@pytest.mark.parametrize("build", BUILDS)
def test_delta_and_patch_with_each_build(build, restore_selection):
    old = make_data(200_000, seed=9)
    new = old[:50_000] + b"changed" + old[50_000:]
    _rsync._use_blake2b(build)
    sig = librsync.load_signature(librsync.signature(old, io.BytesIO()).getvalue())
    delta = librsync.delta(new, sig, io.BytesIO()).getvalue()
    assert len(delta) < 2_000
    assert librsync.patch(old, delta, io.BytesIO()).getvalue() == new


def test_unknown_or_unsupported_build_is_refused(restore_selection):
    with pytest.raises(ValueError, match="no BLAKE2b build named"):
        _rsync._use_blake2b("avx9000")
    with pytest.raises(ValueError):
        _rsync._blake2b_digest("avx9000", b"")
    with pytest.raises(TypeError):
        _rsync._use_blake2b(None)


def _child_selection(value):
    env = child_env()
    env["LIBRSYNC_BLAKE2B"] = value
    proc = subprocess.run(
        [sys.executable, "-W", "always", "-c",
         "import librsync; print(librsync.blake2b_implementation())"],
        cwd=CHILD_CWD, env=env, capture_output=True, text=True, check=True)
    return proc.stdout.strip(), proc.stderr


@pytest.mark.parametrize("build", BUILDS)
def test_environment_forces_a_build(build):
    assert _child_selection(build) == (build, "")


def test_environment_with_a_bad_name_warns_and_uses_the_cpus_choice(tmp_path):
    chosen, err = _child_selection("no-such-build")
    assert chosen in BUILDS
    assert "RuntimeWarning" in err and "LIBRSYNC_BLAKE2B ignored" in err


# What importing librsync may read the clock for: nothing.  The BLAKE2b build
# is chosen from the CPU's features; a choice by timing (as before) cost every
# process ~2 ms of its start and varied with the machine's load.
_COUNT_CLOCK = """
import time
calls = []
for name in ("perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns",
             "process_time", "thread_time", "time"):
    def counted(_real=getattr(time, name), _name=name):
        calls.append(_name)
        return _real()
    setattr(time, name, counted)
import librsync
print(librsync.blake2b_implementation(), len(calls))
"""


def _child_import_clock_reads():
    env = child_env()
    env.pop("LIBRSYNC_BLAKE2B", None)
    proc = subprocess.run([sys.executable, "-c", _COUNT_CLOCK], cwd=CHILD_CWD, env=env,
                          capture_output=True, text=True, check=True, timeout=60)
    chosen, reads = proc.stdout.split()
    return chosen, int(reads)


def test_import_reads_no_clock_to_choose_a_build():
    chosen, reads = _child_import_clock_reads()
    assert reads == 0
    assert chosen in BUILDS


def test_choice_is_the_same_in_every_process():
    # By CPU features, so the same in every process (timings differed
    # between processes on a busy machine).
    assert len({_child_import_clock_reads()[0] for _ in range(3)}) == 1
