"""threads=N: multi-core signature and delta."""

from __future__ import annotations

import io
import os
import threading

import pytest
from hypothesis import example, given, strategies as st

import librsync
from librsync import _parallel

from conftest import make_data, mutate


@pytest.fixture(autouse=True)
def small_segments(monkeypatch):
    """Small segments so that a few MiB of test data crosses many seams."""
    monkeypatch.setattr(_parallel, "SIGNATURE_SEGMENT", 64 * 1024)
    monkeypatch.setattr(_parallel, "DELTA_SEGMENT", 64 * 1024)


OLD = make_data(3 << 20, seed=41)
NEW = mutate(OLD, 80, seed=42)


@pytest.mark.parametrize("threads", [2, 3, 8])
@pytest.mark.parametrize("block_size", [0, 256, 1000])
@pytest.mark.parametrize("magic", [librsync.RS_RK_BLAKE2_SIG_MAGIC, librsync.RS_MD4_SIG_MAGIC])
def test_parallel_signature_is_identical(threads, block_size, magic):
    serial = librsync.signature(OLD, block_size=block_size, magic=magic).read()
    assert librsync.signature(OLD, block_size=block_size, magic=magic,
                              threads=threads).read() == serial


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 64 * 1024, 64 * 1024 + 1])
def test_parallel_signature_edge_sizes(size):
    data = OLD[:size]
    assert librsync.signature(data, block_size=256, threads=2).read() == \
        librsync.signature(data, block_size=256).read()


def test_parallel_signature_from_unseekable_file():
    r, w = os.pipe()

    def feed():
        with os.fdopen(w, "wb") as f:
            f.write(OLD)

    t = threading.Thread(target=feed)
    t.start()
    with os.fdopen(r, "rb") as f:
        got = librsync.signature(f, threads=3).read()
    t.join()
    # a pipe's size is unknown: rdiff's default block length applies
    assert got == librsync.signature(OLD, block_size=2048).read()


def _count_segment_buffers(monkeypatch) -> list:
    """The distinct buffers _segments hands out from now on."""
    made: list = []
    real = _parallel._segments

    def counting(source, size, spare=None):
        for piece in real(source, size, spare):
            if not any(piece.obj is b for b in made):
                made.append(piece.obj)
            yield piece

    monkeypatch.setattr(_parallel, "_segments", counting)
    return made


@pytest.mark.parametrize("threads", [2, 3])
def test_parallel_signature_from_file_reuses_segment_buffers(tmp_path, threads, monkeypatch):
    """Segments read from a file go into recycled buffers: the output must
    not change when a buffer is refilled after its worker is done, and
    only about threads + 2 buffers are ever allocated for 48 segments."""
    path = tmp_path / "old"
    path.write_bytes(OLD)
    made = _count_segment_buffers(monkeypatch)
    with open(path, "rb") as f:
        got = librsync.signature(f, block_size=256, threads=threads).read()
    assert got == librsync.signature(OLD, block_size=256).read()
    assert len(made) <= threads + 2


@pytest.mark.parametrize("threads", [2, 3])
def test_parallel_delta_from_file_reuses_segment_buffers(tmp_path, threads, monkeypatch):
    """The same for the threaded delta: the joiner keeps nothing of a
    segment once it has taken its commands (seams are re-scanned from a
    copy), so a refilled buffer cannot change the delta."""
    path = tmp_path / "new"
    path.write_bytes(NEW)
    sig = librsync.signature(OLD, block_size=256).read()
    want = librsync.delta(NEW, sig, threads=threads).read()
    made = _count_segment_buffers(monkeypatch)
    with open(path, "rb") as f:
        got = librsync.delta(f, sig, threads=threads).read()
    assert got == want
    assert len(made) <= threads + 2
    assert librsync.patch(OLD, got).read() == NEW


def _count_seam_rescans(monkeypatch) -> list:
    """Seams the joiner re-scans (each a DeltaJob made in the main thread,
    where the workers' jobs are made in the pool's threads)."""
    import threading
    from librsync import _rsync as real
    rescans: list = []

    class Counting:
        def __getattr__(self, name):
            return getattr(real, name)

        def DeltaJob(self, sig):
            if threading.current_thread() is threading.main_thread():
                rescans.append(sig)
            return real.DeltaJob(sig)

    monkeypatch.setattr(_parallel, "_rsync", Counting())
    return rescans


def test_unrelated_data_is_not_rescanned_at_every_seam(monkeypatch):
    # Nothing of a seam's left side is held when it was all literals
    # (written out) or ended in a COPY: re-scanning the right side alone
    # would only repeat its worker's search, serially in the main thread.
    sig = librsync.load_signature(librsync.signature(OLD, block_size=1024))
    new = make_data(len(OLD), seed=43)
    rescans = _count_seam_rescans(monkeypatch)
    got = librsync.delta(new, sig, threads=2).read()
    assert rescans == []
    assert librsync.patch(OLD, got).read() == new
    assert len(got) <= len(librsync.delta(new, sig).read()) * 1.01


def test_seams_with_literals_on_both_sides_are_still_rescanned(monkeypatch):
    sig = librsync.load_signature(librsync.signature(OLD, block_size=1024))
    rescans = _count_seam_rescans(monkeypatch)
    got = librsync.delta(NEW, sig, threads=2).read()
    assert rescans, "edited data has seams inside literal runs"
    assert got == librsync.delta(NEW, sig).read()


def test_parallel_signature_stats():
    serial, parallel = [], []
    librsync.signature(OLD, stats=serial.append)
    librsync.signature(OLD, threads=2, stats=parallel.append)
    for field in ("op", "sig_blocks", "block_len", "in_bytes", "out_bytes"):
        assert getattr(parallel[0], field) == getattr(serial[0], field), field


@pytest.mark.parametrize("threads", [2, 4])
@pytest.mark.parametrize("block_size", [256, 2048])
def test_parallel_delta_equals_serial_on_edited_data(threads, block_size):
    sig = librsync.load_signature(librsync.signature(OLD, block_size=block_size))
    serial_stats, parallel_stats = [], []
    serial = librsync.delta(NEW, sig, stats=serial_stats.append).read()
    parallel = librsync.delta(NEW, sig, threads=threads, stats=parallel_stats.append).read()
    assert librsync.patch(OLD, parallel).read() == NEW
    assert parallel == serial
    s, p = serial_stats[0]._asdict(), parallel_stats[0]._asdict()
    s.pop("elapsed"), p.pop("elapsed")
    assert p == s


def test_parallel_delta_of_unrelated_data_is_valid_and_no_larger():
    other = make_data(2 << 20, seed=43)
    sig = librsync.load_signature(librsync.signature(OLD))
    serial = librsync.delta(other, sig).read()
    parallel = librsync.delta(other, sig, threads=2).read()
    assert librsync.patch(OLD, parallel).read() == other
    assert len(parallel) <= len(serial) * 1.01


@given(edits=st.integers(0, 60), seed=st.integers(0, 10_000),
       block_size=st.sampled_from([128, 256, 700]), threads=st.integers(2, 4))
# Found by the CI profile: the last segment (23 bytes) had no COPY, so its
# seam was not re-scanned and the file's final block went out as literals.
@example(edits=27, seed=203, block_size=128, threads=2)
def test_parallel_delta_always_valid(edits, seed, block_size, threads):
    old = OLD[:1 << 20]
    new = mutate(old, edits, seed=seed)
    sig = librsync.load_signature(librsync.signature(old, block_size=block_size))
    serial = librsync.delta(new, sig).read()
    parallel = librsync.delta(new, sig, threads=threads).read()
    assert librsync.patch(old, parallel).read() == new
    assert len(parallel) <= len(serial) * 1.01 + 64


@pytest.mark.parametrize("tail", [1, 23, 127, 128, 129, 1000])
def test_a_block_cut_by_the_last_seam_is_still_matched(tail):
    # The new file is the old one (whole blocks) after `tail` new bytes, so
    # its last segment is `tail` bytes long: for tail < block the old file's
    # final block straddles the last seam and that segment alone has no COPY.
    block = 128
    segment = _parallel.delta_segment(block)
    old = make_data(3 * segment, seed=tail)
    new = make_data(tail, seed=99) + old
    sig = librsync.load_signature(librsync.signature(old, block_size=block))
    serial = librsync.delta(new, sig).read()
    parallel = librsync.delta(new, sig, threads=2).read()
    assert librsync.patch(old, parallel).read() == new
    assert parallel == serial


def test_rdiff_applies_parallel_delta(tmp_path, run_rdiff):
    (tmp_path / "old").write_bytes(OLD)
    sig = librsync.signature(tmp_path / "old")
    librsync.delta(NEW, sig, tmp_path / "delta", threads=3)
    run_rdiff("patch", str(tmp_path / "old"), str(tmp_path / "delta"), str(tmp_path / "new"))
    assert (tmp_path / "new").read_bytes() == NEW


def test_parallel_delta_from_file_and_to_path(tmp_path):
    (tmp_path / "new").write_bytes(NEW)
    sig = librsync.signature(OLD)
    with open(tmp_path / "new", "rb") as f:
        assert librsync.delta(f, sig, tmp_path / "d", threads=2) == tmp_path / "d"
    assert librsync.patch(OLD, tmp_path / "d").read() == NEW


def test_parallel_input_error_propagates_and_leaves_no_file(tmp_path):
    class Failing(io.RawIOBase):
        def __init__(self):
            self.n = 0

        def readable(self):
            return True

        def readinto(self, b):
            self.n += 1
            if self.n > 3:
                raise OSError("network went away")
            b[:1000] = OLD[:1000]
            return 1000

    with pytest.raises(OSError, match="network went away"):
        librsync.delta(Failing(), librsync.signature(OLD), tmp_path / "d", threads=2)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("bad, exc", [(0, ValueError), (-2, ValueError), (1.5, TypeError),
                                      ("2", TypeError), (True, TypeError)])
def test_bad_thread_counts(bad, exc):
    with pytest.raises(exc):
        librsync.signature(OLD, threads=bad)
    with pytest.raises(exc):
        librsync.delta(NEW, librsync.signature(OLD), threads=bad)


# --- SignatureJob(threads=N): the streaming form ------------------------------------

@given(cuts=st.lists(st.integers(0, len(OLD)), max_size=12),
       size=st.sampled_from([0, 1, 300, 64 * 1024, 64 * 1024 + 1, len(OLD)]),
       threads=st.sampled_from([2, 3]))
def test_streaming_parallel_signature_is_identical_for_any_chunking(cuts, size, threads):
    data = OLD[:size]
    serial = librsync.signature(data, block_size=512).read()
    points = sorted({min(c, size) for c in cuts} | {0, size})
    with librsync.SignatureJob(512, threads=threads) as job:
        out = b"".join(job.update(data[a:b]) for a, b in zip(points, points[1:]))
        out += job.finish()
        assert job.finished
        assert job.stats.sig_blocks == -(-size // 512)
        assert job.stats.in_bytes == size and job.stats.out_bytes == len(serial)
    assert out == serial


def test_streaming_parallel_signature_returns_output_before_finish():
    """Output comes as segments complete, not all at finish(): memory stays
    bounded by the segments in flight."""
    job = librsync.SignatureJob(1024, threads=2)
    early = b"".join(job.update(OLD[i:i + 100_000]) for i in range(0, len(OLD), 100_000))
    rest = job.finish()
    assert len(early) > len(rest)
    assert early + rest == librsync.signature(OLD, block_size=1024).read()


def test_streaming_parallel_signature_job_rules():
    job = librsync.SignatureJob(threads=2)
    job.finish(b"abc")
    with pytest.raises(ValueError, match="finished"):
        job.update(b"more")
    with pytest.raises(TypeError):
        librsync.SignatureJob(threads=2).update("text")
    with pytest.raises(ValueError):
        librsync.SignatureJob(threads=0)
    with pytest.raises(TypeError):
        librsync.SignatureJob(threads=2.0)
    # Abandoned half-way: close() stops the workers; the job is then unusable.
    before = threading.active_count()
    job = librsync.SignatureJob(1024, threads=2)
    job.update(OLD)
    job.close()
    assert threading.active_count() <= before
    with pytest.raises(ValueError, match="closed"):
        job.update(b"x")
    assert librsync.SignatureJob(threads=3).threads == 3
