"""Streaming jobs, loaded signatures, statistics, threads, interrupts, leaks."""

from __future__ import annotations

import _thread
import gc
import os
import threading
import tracemalloc

import pytest
from hypothesis import given, strategies as st

import librsync

from conftest import make_data, mutate

OLD = make_data(300_000, seed=31)
NEW = mutate(OLD, 25, seed=32)
SIG = librsync.signature(OLD).read()
DELTA = librsync.delta(NEW, SIG).read()


def chunked(data: bytes, sizes: list[int]):
    """Split ``data`` into pieces of the given sizes (cycled)."""
    pos, i = 0, 0
    while pos < len(data):
        n = sizes[i % len(sizes)]
        yield data[pos:pos + n]
        pos += n
        i += 1


def run_job(job, pieces) -> bytes:
    out = [job.update(p) for p in pieces]
    out.append(job.finish())
    return b"".join(out)


chunk_sizes = st.lists(st.integers(min_value=1, max_value=70_000), min_size=1, max_size=8)


@given(sizes=chunk_sizes, final_with_data=st.booleans())
def test_signature_job_any_chunking(sizes, final_with_data):
    pieces = list(chunked(OLD, sizes))
    job = librsync.SignatureJob(file_size=len(OLD))
    if final_with_data and pieces:
        out = b"".join(job.update(p) for p in pieces[:-1]) + job.finish(pieces[-1])
    else:
        out = run_job(job, pieces)
    assert out == SIG


@given(sizes=chunk_sizes, data=st.data())
def test_delta_job_any_chunking(sizes, data):
    new = mutate(OLD, data.draw(st.integers(0, 40)), seed=data.draw(st.integers(0, 999)))
    expected = librsync.delta(new, SIG).read()
    sig = librsync.load_signature(SIG)
    assert run_job(librsync.DeltaJob(sig), chunked(new, sizes)) == expected


@given(sizes=chunk_sizes)
def test_patch_job_any_chunking(sizes):
    assert run_job(librsync.PatchJob(OLD), chunked(DELTA, sizes)) == NEW


@given(sizes=chunk_sizes)
def test_load_signature_job_any_chunking(sizes):
    job = librsync.LoadSignatureJob()
    assert run_job(job, chunked(SIG, sizes)) == b""
    sig = job.signature
    assert librsync.delta(NEW, sig).read() == DELTA


def test_tiny_chunks_exercise_delta_window_rule():
    """One byte at a time: the delta job must buffer until its window is
    large enough, never erroring with 'no progress'."""
    small_new = NEW[:40_000]
    expected = librsync.delta(small_new, SIG).read()
    assert run_job(librsync.DeltaJob(SIG), chunked(small_new, [1, 3, 2])) == expected


def test_delta_job_accepts_signature_in_any_kind(tmp_path):
    p = tmp_path / "sig"
    p.write_bytes(SIG)
    for sig in (SIG, bytearray(SIG), memoryview(SIG), str(p), p, open(p, "rb"),
                librsync.load_signature(SIG)):
        assert run_job(librsync.DeltaJob(sig), [NEW]) == DELTA
        if hasattr(sig, "close"):
            sig.close()


def test_patch_job_basis_kinds(tmp_path):
    p = tmp_path / "old"
    p.write_bytes(OLD)
    with open(p, "rb") as f:
        for basis in (OLD, bytearray(OLD), p, str(p), f):
            assert run_job(librsync.PatchJob(basis), [DELTA]) == NEW


def test_patch_job_completes_at_end_command_and_keeps_trailing_data():
    job = librsync.PatchJob(OLD)
    out = job.update(DELTA + b"TRAILER")
    assert job.finished and out == NEW
    assert job.unused_data == b"TRAILER"
    assert job.update(b"MORE") == b""
    assert job.unused_data == b"TRAILERMORE"
    assert job.finish() == b""
    with pytest.raises(ValueError, match="finished"):
        job.update(b"x")


@pytest.mark.parametrize("make", [
    lambda: librsync.SignatureJob(),
    lambda: librsync.DeltaJob(SIG),
    lambda: librsync.PatchJob(OLD),
    lambda: librsync.LoadSignatureJob(),
])
def test_update_after_finish_raises(make):
    job = make()
    payload = {librsync.PatchJob: DELTA, librsync.LoadSignatureJob: SIG}.get(type(job), b"abc")
    job.update(payload)
    job.finish()
    assert job.finished
    with pytest.raises(ValueError, match="finished"):
        job.update(b"more")
    with pytest.raises(ValueError, match="finished"):
        job.finish()


def test_failed_job_cannot_continue():
    job = librsync.PatchJob(OLD)
    with pytest.raises(librsync.BadMagicError):
        job.update(b"garbage!")
    with pytest.raises(ValueError, match="failed"):
        job.update(DELTA)


def test_closed_job_cannot_continue():
    with librsync.SignatureJob() as job:
        job.update(b"abc")
    with pytest.raises(ValueError, match="closed"):
        job.update(b"abc")
    job.close()  # idempotent


def test_update_rejects_non_bytes():
    job = librsync.SignatureJob()
    for bad in ("text", 5, None.__class__, [1, 2]):
        with pytest.raises(TypeError):
            job.update(bad)
    # still usable after a TypeError: the header comes out with the first data
    header = (job.magic.to_bytes(4, "big") + job.block_len.to_bytes(4, "big")
              + job.strong_len.to_bytes(4, "big"))
    assert job.update(b"ok") == header


def test_job_reprs_show_kind_and_progress():
    job = librsync.SignatureJob(file_size=len(OLD))
    job.update(OLD[:100_000])
    r = repr(job)
    assert "SignatureJob" in r and "in=" in r and "running" in r
    assert "DeltaJob" in repr(librsync.DeltaJob(SIG))
    assert "PatchJob" in repr(librsync.PatchJob(OLD))
    sig = librsync.load_signature(SIG)
    assert f"blocks={len(sig)}" in repr(sig)


def test_signature_object_properties():
    sig = librsync.load_signature(SIG)
    job = librsync.SignatureJob(file_size=len(OLD))
    assert sig.magic == librsync.RS_RK_BLAKE2_SIG_MAGIC == job.magic
    assert sig.block_len == job.block_len
    assert sig.strong_len == 32 == job.strong_len
    assert len(sig) == -(-len(OLD) // sig.block_len)
    with pytest.raises(TypeError):
        librsync.Signature()


def test_load_signature_max_blocks():
    n = len(librsync.load_signature(SIG))
    assert len(librsync.load_signature(SIG, max_blocks=n)) == n
    with pytest.raises(librsync.LimitExceededError):
        librsync.load_signature(SIG, max_blocks=n - 1)
    with pytest.raises(ValueError):
        librsync.load_signature(SIG, max_blocks=-1)


# --- statistics ------------------------------------------------------------------

def test_stats_of_identical_files():
    job = librsync.DeltaJob(SIG)
    run_job(job, [OLD])
    s = job.stats
    assert (s.op, s.copy_cmds, s.lit_cmds, s.lit_bytes) == ("delta", 1, 0, 0)
    assert s.copy_bytes == len(OLD)
    assert s.in_bytes == len(OLD) and s.out_bytes == job.out_bytes > 0
    assert s.elapsed >= 0
    with pytest.raises(AttributeError):
        s.lit_bytes = 5  # read-only


def test_stats_of_unrelated_files_are_all_literal():
    other = make_data(50_000, seed=99)
    job = librsync.DeltaJob(SIG)
    d = run_job(job, [other])
    s = job.stats
    assert s.copy_cmds == 0 and s.lit_bytes == len(other)
    assert s.out_bytes == len(d)


def test_stats_of_signature_and_patch():
    job = librsync.SignatureJob(file_size=len(OLD))
    sig = run_job(job, [OLD])
    s = job.stats
    assert s.op == "signature" and s.in_bytes == len(OLD) and s.out_bytes == len(sig)
    assert s.sig_blocks == len(librsync.load_signature(sig))
    assert s.block_len == job.block_len

    pj = librsync.PatchJob(OLD)
    run_job(pj, [DELTA])
    p = pj.stats
    assert p.op == "patch" and p.in_bytes == len(DELTA) and p.out_bytes == len(NEW)
    assert p.lit_bytes + p.copy_bytes == len(NEW)
    assert p._asdict()["copy_cmds"] == p.copy_cmds


def test_stats_while_running_and_after_close():
    job = librsync.SignatureJob()
    job.update(OLD[:50_000])
    assert job.stats.in_bytes == 50_000
    job.close()
    assert job.stats.in_bytes == 50_000


# --- threads -----------------------------------------------------------------------

def test_build_keeps_delta_search_from_writing_to_signature():
    """librsync counts hash-table statistics inside the signature unless
    built with HASHTABLE_NSTATS; those writes would race between threads."""
    assert librsync._rsync.SIGNATURE_READ_ONLY is True


def test_shared_signature_used_by_many_threads():
    sig = librsync.load_signature(SIG)
    news = [mutate(OLD, 10, seed=s) for s in range(8)]
    expected = [librsync.delta(n, SIG).read() for n in news]
    results: dict[int, bytes] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(3):
                d = librsync.delta(news[i], sig).read()
                assert d == expected[i]
                assert librsync.patch(OLD, d).read() == news[i]
            results[i] = d
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(results) == list(range(8))


def test_four_threads_mixed_jobs_all_checked():
    errors: list[BaseException] = []
    sig = librsync.load_signature(SIG)

    def work(seed: int) -> None:
        try:
            new = mutate(OLD, 5, seed=seed)
            s = librsync.signature(new).read()
            assert s == librsync.signature(bytes(new)).read()
            d = run_job(librsync.DeltaJob(sig), chunked(new, [10_000, 70_001]))
            assert run_job(librsync.PatchJob(OLD), chunked(d, [333])) == new
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_one_job_used_from_two_threads_is_refused():
    """A job is single-threaded; concurrent use raises instead of corrupting."""
    job = librsync.DeltaJob(SIG)
    big = make_data(8 << 20, seed=5)
    seen: list[BaseException] = []
    started = threading.Event()

    def worker():
        started.set()
        try:
            job.update(big)
        except BaseException as e:
            seen.append(e)

    t = threading.Thread(target=worker)
    t.start()
    started.wait()
    refused = 0
    for _ in range(2000):
        try:
            job.update(b"x")
        except RuntimeError:
            refused += 1
            break
        except ValueError:
            break
    t.join()
    assert not seen or isinstance(seen[0], (RuntimeError, ValueError))
    # The race may or may not be hit; when hit it must be a RuntimeError.
    assert refused in (0, 1)


# --- interrupts ----------------------------------------------------------------------

def _interrupt_soon(delay: float = 0.2) -> threading.Timer:
    t = threading.Timer(delay, _thread.interrupt_main)
    t.start()
    return t


@pytest.mark.parametrize("step", ["signature", "delta"])
def test_ctrl_c_interrupts_long_one_shot_call(tmp_path, step):
    """A big in-memory input is processed in bounded slices with a signal
    check after each, so Ctrl-C lands promptly and no output file is left."""
    big = bytearray(1 << 30)  # 1 GiB of zeros (calloc: cheap)
    target = tmp_path / "out"
    timer = _interrupt_soon()
    try:
        with pytest.raises(KeyboardInterrupt):
            if step == "signature":
                librsync.signature(big, target)
            else:
                # unrelated data makes delta slow: worst case for interrupts
                librsync.delta(big, librsync.signature(b"\x01" * 100_000), target)
    finally:
        timer.cancel()
    assert os.listdir(tmp_path) == []


def test_ctrl_c_during_file_input(tmp_path):
    class Endless:
        def readinto(self, b):
            b[:] = b"\x07" * len(b)
            return len(b)

    timer = _interrupt_soon()
    try:
        with pytest.raises(KeyboardInterrupt):
            librsync.signature(Endless(), tmp_path / "sig")
    finally:
        timer.cancel()
    assert os.listdir(tmp_path) == []


# --- leaks ---------------------------------------------------------------------------

def test_abandoned_jobs_do_not_leak():
    """10,000 jobs created, fed half-way and dropped: traced memory must not
    grow with the count (C-side buffers are freed with the job)."""
    def cycle(n: int) -> None:
        sig = librsync.load_signature(librsync.signature(OLD[:20_000]).read())
        for i in range(n):
            kind = i % 4
            if kind == 0:
                j = librsync.SignatureJob()
                j.update(OLD[:3000])
            elif kind == 1:
                j = librsync.DeltaJob(sig)
                j.update(OLD[:3000])
            elif kind == 2:
                j = librsync.PatchJob(OLD)
                j.update(DELTA[:200])
            else:
                j = librsync.LoadSignatureJob()
                j.update(SIG[:3000])
            del j

    cycle(200)  # warm caches
    gc.collect()
    tracemalloc.start()
    try:
        cycle(1000)
        gc.collect()
        first, _ = tracemalloc.get_traced_memory()
        cycle(9000)
        gc.collect()
        second, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert second - first < 256 * 1024, (first, second)


def _rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
def test_abandoned_jobs_release_c_memory():
    """librsync's own allocations are invisible to tracemalloc: check RSS."""
    sig_bytes = librsync.signature(OLD, block_size=256).read()

    def cycle(n: int) -> None:
        for _ in range(n):
            sig = librsync.load_signature(sig_bytes)
            j = librsync.DeltaJob(sig)
            j.update(NEW[:150_000])
            j2 = librsync.PatchJob(OLD)
            j2.update(DELTA[:1000])
            del j, j2, sig

    cycle(300)
    gc.collect()
    before = _rss_kib()
    cycle(3000)
    gc.collect()
    after = _rss_kib()
    assert after - before < 20 * 1024, (before, after)
