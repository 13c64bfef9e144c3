"""Shared fixtures: the rdiff reference tool, data generators, hypothesis
profiles."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys

import pytest

try:
    from hypothesis import HealthCheck, settings

    # "ci" explores more; "dev" keeps a local run quick.  Pick with
    # HYPOTHESIS_PROFILE=ci (set by .ci/run).
    settings.register_profile(
        "ci", max_examples=200, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    settings.register_profile(
        "dev", max_examples=40, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    pass

HERE = os.path.dirname(os.path.abspath(__file__))
UPSTREAM = os.path.join(HERE, "data", "upstream")

# Child interpreters must import the librsync this process imported (the
# installed package in CI, the in-place build locally).  Putting the checkout
# on their path, or running them with the checkout as cwd (``python -c`` and
# ``-m`` put the cwd first on sys.path), would import the uncompiled sources.
import librsync as _librsync  # noqa: E402

PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(_librsync.__file__)))
CHILD_CWD = HERE


def child_env(*extra_paths: str) -> dict:
    """os.environ with PYTHONPATH leading to this process's librsync."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (PKG_PARENT, *extra_paths, env.get("PYTHONPATH")) if p)
    return env


def _rdiff_path() -> str | None:
    return shutil.which("rdiff")


@pytest.fixture(scope="session")
def rdiff() -> str:
    """Path of the rdiff tool.  Skips when it is absent, unless
    LIBRSYNC_REQUIRE_RDIFF=1 (set by CI), where absence is a failure."""
    path = _rdiff_path()
    if path is None:
        if os.environ.get("LIBRSYNC_REQUIRE_RDIFF") == "1":
            pytest.fail("rdiff is required (LIBRSYNC_REQUIRE_RDIFF=1) but not installed")
        pytest.skip("rdiff is not installed (apt-get install rdiff); interop not checked")
    return path


@pytest.fixture(scope="session")
def distributed():
    """The ``distributed`` package (librsync.dask's engine, in the test
    extra).  Skips when it is absent, unless LIBRSYNC_REQUIRE_DASK=1 (set by
    CI), where absence is a failure."""
    try:
        import distributed
    except ImportError:
        if os.environ.get("LIBRSYNC_REQUIRE_DASK") == "1":
            pytest.fail("dask.distributed is required (LIBRSYNC_REQUIRE_DASK=1) "
                        "but not installed")
        pytest.skip("dask.distributed is not installed (pip install '.[dask]'); "
                    "librsync.dask not checked")
    return distributed


@pytest.fixture
def run_rdiff(rdiff):
    """Run ``rdiff ARGS...``; return the CompletedProcess (check=True)."""

    def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("check", True)
        kwargs.setdefault("capture_output", True)
        return subprocess.run([rdiff, *args], **kwargs)

    return run


def engine_in_child(function: str, **env: str) -> subprocess.CompletedProcess:
    """``librsync.<function>()`` as a fresh process importing this librsync
    reports it, with ``env`` added to its environment and every warning
    shown (engines are chosen at import, so a choice forced by the
    environment shows only there)."""
    full = child_env()
    full.update(env)
    return subprocess.run(
        [sys.executable, "-W", "always", "-c",
         f"import librsync; print(librsync.{function}())"],
        capture_output=True, text=True, check=True, cwd=CHILD_CWD, env=full)


def run_job(job, data: bytes, chunks: list[int] | None = None, out_size: int = 0) -> bytes:
    """All of a driver job's output for ``data``: in one ``finish``, or fed
    in pieces of the ``chunks`` lengths (the rest to ``finish``), with an
    output buffer of ``out_size`` bytes if given."""
    if out_size:
        job._set_output_size(out_size)
    if chunks is None:
        return job.finish(data)
    out, pos = [], 0
    for n in chunks:
        out.append(job.update(data[pos:pos + n]))
        pos += n
    out.append(job.finish(data[pos:]))
    return b"".join(out)


def make_data(size: int, seed: int = 0) -> bytes:
    """Deterministic pseudo-random bytes."""
    return random.Random(seed).randbytes(size)


def mutate(data: bytes, edits: int, seed: int = 1) -> bytes:
    """Apply ``edits`` random insertions, deletions and overwrites."""
    rnd = random.Random(seed)
    out = bytearray(data)
    for _ in range(edits):
        kind = rnd.randrange(3)
        pos = rnd.randrange(len(out) + 1)
        n = rnd.randrange(1, 300)
        if kind == 0:
            out[pos:pos] = rnd.randbytes(n)
        elif kind == 1:
            del out[pos:pos + n]
        else:
            out[pos:pos + n] = rnd.randbytes(n)
    return bytes(out)


@pytest.fixture
def data_factory():
    return make_data


@pytest.fixture
def mutate_factory():
    return mutate
