"""Patch COPYs done by the kernel (librsync/_directcopy.h): with a basis
file and an output file, copy_file_range moves the copied bytes on Linux.
The output must be exactly what the buffered path writes, in every output
kind, and every case the kernel refuses must fall back to pread."""

from __future__ import annotations

import io
import os
import sys

import pytest

import librsync
from librsync import _rsync

from conftest import make_data, mutate

LINUX = sys.platform.startswith("linux")
OLD = make_data(3 * 1024 * 1024 + 333, seed=61)
NEW = mutate(OLD, 30, seed=62) + make_data(5000, seed=63)
SIG = librsync.signature(OLD, block_size=1024).read()
DELTA = librsync.delta(NEW, SIG).read()


@pytest.fixture
def old_path(tmp_path):
    p = tmp_path / "old"
    p.write_bytes(OLD)
    return p


def _raw_patch(old_path, out_file, delta=DELTA, direct=True):
    """The driver's PatchJob on a basis read by descriptor, writing to
    out_file (unbuffered) as open_sink does; returns the job."""
    with open(old_path, "rb") as basis:
        job = _rsync.PatchJob(basis, fd=basis.fileno())
        if direct:
            job._set_direct_output(out_file.fileno())

        def write(view):
            n = 0
            while n < len(view):
                n += out_file.write(view[n:])

        job.run(delta, write)
    return job


def test_path_to_path_output_is_exact(tmp_path, old_path):
    out = tmp_path / "new"
    librsync.patch(old_path, DELTA, out)
    assert out.read_bytes() == NEW


def test_file_object_output_is_exact(tmp_path, old_path):
    with open(tmp_path / "new", "wb", buffering=0) as o:
        librsync.patch(old_path, DELTA, o)
    assert (tmp_path / "new").read_bytes() == NEW


def test_the_kernel_does_the_copies_on_linux(tmp_path, old_path):
    with open(tmp_path / "new", "wb", buffering=0) as o:
        job = _raw_patch(old_path, o)
    assert (tmp_path / "new").read_bytes() == NEW
    if LINUX:
        # All but the literals went file to file.
        assert job._direct_bytes == job.stats.copy_bytes > len(NEW) // 2
    else:
        assert job._direct_bytes == 0


def test_without_direct_output_nothing_is_copied_directly(tmp_path, old_path):
    with open(tmp_path / "new", "wb", buffering=0) as o:
        job = _raw_patch(old_path, o, direct=False)
    assert job._direct_bytes == 0
    assert (tmp_path / "new").read_bytes() == NEW


def test_output_at_an_offset_of_an_existing_file(tmp_path, old_path):
    path = tmp_path / "new"
    path.write_bytes(b"HEAD" * 1000)
    with open(path, "r+b", buffering=0) as o:
        o.seek(1234)
        librsync.patch(old_path, DELTA, o)
        o.seek(1234)
        assert o.read() == NEW
    assert path.read_bytes()[:1234] == (b"HEAD" * 1000)[:1234]


def test_append_mode_output_falls_back(tmp_path, old_path):
    # copy_file_range refuses an O_APPEND output (EBADF): pread does it.
    path = tmp_path / "new"
    path.write_bytes(b"prefix")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    with open(fd, "wb", buffering=0, closefd=True) as o:
        job = _raw_patch(old_path, o)
    assert job._direct_bytes == 0
    assert path.read_bytes() == b"prefix" + NEW


def test_pipe_output_falls_back(old_path):
    r, w = os.pipe()
    got = bytearray()
    import threading

    def drain():
        with open(r, "rb") as f:
            got.extend(f.read())

    t = threading.Thread(target=drain)
    t.start()
    with open(w, "wb", buffering=0) as o:
        job = _raw_patch(old_path, o)
    t.join()
    assert job._direct_bytes == 0
    assert bytes(got) == NEW


def test_copy_past_the_end_of_the_basis_is_refused_and_no_file_is_left(tmp_path):
    short = tmp_path / "short"
    short.write_bytes(OLD[: len(OLD) // 3])
    out = tmp_path / "new"
    out.write_bytes(b"keep me")
    with pytest.raises(librsync.LibrsyncError, match="past the end of the basis"):
        librsync.patch(short, DELTA, out)
    assert out.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "short"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_output_write_failure_is_an_oserror(old_path):
    with open("/dev/full", "wb", buffering=0) as o:
        with pytest.raises(OSError) as info:
            librsync.patch(old_path, DELTA, o)
    assert not isinstance(info.value, librsync.LibrsyncError)


def test_literal_first_then_copies_keeps_the_order(tmp_path, old_path):
    # Output the job produced before a COPY is written before the copied
    # bytes, whatever the buffer sizes.
    new = b"literal first " * 5000 + OLD + b"and last"
    delta = librsync.delta(new, SIG).read()
    for size in (1, 7, 4096, 1 << 20):
        out = tmp_path / f"new-{size}"
        with open(out, "wb", buffering=0) as o, open(old_path, "rb") as basis:
            job = _rsync.PatchJob(basis, fd=basis.fileno())
            job._set_output_size(size)
            job._set_direct_output(o.fileno())
            job.run(delta, o.write if size == 1 else (lambda v: o.write(v)))
        assert out.read_bytes() == new, size


def test_direct_output_only_before_the_job_writes(tmp_path, old_path):
    with open(old_path, "rb") as basis, open(tmp_path / "n", "wb", buffering=0) as o:
        job = _rsync.PatchJob(basis, fd=basis.fileno())
        job.update(DELTA[:100])
        if job.update(DELTA[100:200]) or True:
            pass
        with pytest.raises(ValueError, match="before the job has written"):
            job._set_direct_output(o.fileno())


def test_memory_basis_ignores_direct_output(tmp_path):
    with open(tmp_path / "n", "wb", buffering=0) as o:
        job = _rsync.PatchJob(OLD)
        job._set_direct_output(o.fileno())
        job.run(DELTA, o.write)
    assert job._direct_bytes == 0
    assert (tmp_path / "n").read_bytes() == NEW


def test_bytesio_and_none_outputs_unchanged(old_path):
    assert librsync.patch(old_path, DELTA, io.BytesIO()).getvalue() == NEW
    assert librsync.patch(old_path, DELTA).read() == NEW


def test_max_length_is_kept_to_the_byte_with_a_file_output(tmp_path, old_path):
    # The limit is checked between job steps; the kernel's copies would land
    # in the file before that check, so a limited patch reads the basis.
    limit = len(NEW) // 2
    out = tmp_path / "new"
    with open(out, "wb", buffering=0) as o:
        with pytest.raises(librsync.LimitExceededError):
            librsync.patch(old_path, DELTA, o, max_length=limit)
    assert out.stat().st_size <= limit
    with open(old_path, "rb") as basis, open(tmp_path / "n2", "wb", buffering=0) as o:
        job = _rsync.PatchJob(basis, len(NEW), fd=basis.fileno())
        job._set_direct_output(o.fileno())
        job.run(DELTA, o.write)
    assert job._direct_bytes == 0
    assert (tmp_path / "n2").read_bytes() == NEW
