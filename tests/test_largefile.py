"""Files and streams larger than 4 GiB (PITFALLS 8: sizes and offsets must
never pass through 32-bit types).

The basis is a sparse file, so these tests need little disk space; the data
above 4 GiB is a few stamped bytes.  The streaming test runs in a child
process so its peak memory (``VmHWM``, else ``ru_maxrss``) can be compared
with the size of the data.  Marked slow; CI runs them too.
"""

from __future__ import annotations

import io
import mmap
import os
import struct
import subprocess
import sys
import textwrap

import pytest

import librsync
from conftest import CHILD_CWD, child_env

pytestmark = pytest.mark.slow

HERE = os.path.dirname(os.path.abspath(__file__))

GIB4 = 1 << 32
DELTA_MAGIC = struct.pack(">I", librsync.RS_DELTA_MAGIC)

#: (offset, bytes) written into the sparse basis, all but one above 4 GiB.
STAMPS = [
    (1000, b"below 4 GiB"),
    (GIB4 - 6, b"straddles-4GiB"),
    (GIB4 + 100, b"just above 4 GiB"),
    (GIB4 + (1 << 20) + 17, b"a MiB further"),
    (GIB4 + (3 << 20) - 5, b"the very end"),
]
BASIS_SIZE = GIB4 + (3 << 20) + 7


def copy8(pos: int, length: int) -> bytes:
    """COPY_N8_N8: 8-byte position and length."""
    return b"\x54" + pos.to_bytes(8, "big") + length.to_bytes(8, "big")


def lit(data: bytes) -> bytes:
    return b"\x42" + len(data).to_bytes(2, "big") + data


@pytest.fixture(scope="module")
def sparse_basis(tmp_path_factory):
    path = tmp_path_factory.mktemp("large") / "basis.sparse"
    with open(path, "wb") as f:
        os.truncate(f.fileno(), BASIS_SIZE)
        for pos, data in STAMPS:
            f.seek(pos)
            f.write(data)
    assert os.path.getsize(path) == BASIS_SIZE
    return path


def expected_slice(pos: int, length: int) -> bytes:
    """What the sparse basis holds at [pos, pos+length)."""
    out = bytearray(length)
    for spos, data in STAMPS:
        for i, b in enumerate(data):
            if pos <= spos + i < pos + length:
                out[spos + i - pos] = b
    return bytes(out)


COPIES = [
    (GIB4 + 100, 16),              # the stamp above 4 GiB
    (GIB4 - 6, 14),                # straddling the 4 GiB boundary
    (GIB4 + (1 << 20), 64),        # another MiB up
    (GIB4 + (3 << 20) - 5, 12),    # ends exactly at the end of the basis
    (1000, 11),                    # and one below, for contrast
    (GIB4 - 4096, 1 << 20),        # a long copy crossing 4 GiB
]


def _delta_and_expected():
    commands = [lit(b"<head>")]
    expected = [b"<head>"]
    for pos, length in COPIES:
        commands.append(copy8(pos, length))
        expected.append(expected_slice(pos, length))
    return DELTA_MAGIC + b"".join(commands) + b"\x00", b"".join(expected)


class NoFileno(io.RawIOBase):
    """A real file hidden behind seek/readinto only: the copy callback must
    seek the Python object past 4 GiB."""

    def __init__(self, f):
        self._f = f

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, pos, whence=0):
        return self._f.seek(pos, whence)

    def tell(self):
        return self._f.tell()

    def readinto(self, buf):
        return self._f.readinto(buf)


@pytest.mark.parametrize("kind", ["path", "file_pread", "mmap", "python_file_object"])
def test_copy_from_beyond_4gib(sparse_basis, kind):
    d, expected = _delta_and_expected()
    if kind == "path":
        out = librsync.patch(str(sparse_basis), d).read()
        with librsync.PatchJob(sparse_basis) as job:
            assert job.update(d) + job.finish() == expected
    else:
        with open(sparse_basis, "rb") as f:
            if kind == "file_pread":
                basis = f
            elif kind == "mmap":
                basis = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            else:
                basis = NoFileno(f)
            out = librsync.patch(basis, d).read()
            if kind == "mmap":
                basis.close()
    assert len(out) == len(expected)
    assert out == expected


@pytest.mark.parametrize("kind", ["path", "file_pread", "mmap"])
def test_copy_past_end_of_large_basis_is_input_ended(sparse_basis, kind):
    d = DELTA_MAGIC + copy8(BASIS_SIZE - 3, 10) + b"\x00"
    with open(sparse_basis, "rb") as f:
        basis = {"path": str(sparse_basis), "file_pread": f,
                 "mmap": mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)}[kind]
        with pytest.raises(librsync.InputEndedError, match=f"offset {BASIS_SIZE}"):
            librsync.patch(basis, d)


# ---------------------------------------------------------------------------
# A > 4 GiB stream through signature, delta and patch, in bounded memory
# ---------------------------------------------------------------------------

STREAM_CHILD = r"""
import hashlib, os, resource, sys, zlib
import librsync
from conftest import CHILD_CWD, child_env

BLOCK = 1 << 20
SIZE = (1 << 32) + 3 * BLOCK + 12345      # 4 GiB + a bit, not a block multiple
CHANGED = (1 << 32) + BLOCK + 500          # the new version differs here
basis_path, delta_path = sys.argv[1], sys.argv[2]


class Pattern:
    # Non-seekable reader of SIZE bytes: each 1 MiB block is zeros with its
    # index stamped at the start, so blocks are distinct; with changed=True
    # a few bytes above 4 GiB differ.
    def __init__(self, changed=False):
        self.pos = 0
        self.changed = changed
        self.crc = 0

    def readable(self):
        return True

    def seekable(self):
        return False

    def readinto(self, buf):
        n = min(len(buf), SIZE - self.pos, BLOCK - self.pos % BLOCK)
        if n <= 0:
            return 0
        mv = memoryview(buf)[:n]
        mv[:] = bytes(n)
        start = self.pos % BLOCK
        stamp = (self.pos // BLOCK).to_bytes(8, "big")
        if start < 8:
            k = min(8 - start, n)
            mv[:k] = stamp[start:start + k]
        if self.changed and self.pos <= CHANGED < self.pos + n:
            k = min(6, self.pos + n - CHANGED)
            mv[CHANGED - self.pos:CHANGED - self.pos + k] = b"CHANGE"[:k]
        self.crc = zlib.crc32(mv, self.crc)
        self.pos += n
        mv.release()
        return n


def rss_mib():
    # This process's own peak where Linux tells it (VmHWM): ru_maxrss starts
    # at the parent's peak, since subprocess spawns with vfork, so it would
    # report the test process's size instead.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


# The basis file the patch reads: the same pattern, written sparsely.
with open(basis_path, "wb") as f:
    os.truncate(f.fileno(), SIZE)
    for k in range(SIZE // BLOCK + 1):
        f.seek(k * BLOCK)
        f.write(k.to_bytes(8, "big")[: max(0, min(8, SIZE - k * BLOCK))])

stats = []
old = Pattern()
sig = librsync.signature(old, block_size=BLOCK, strong_len=8, stats=stats.append).read()
assert old.pos == SIZE, old.pos
assert stats[-1].in_bytes == SIZE, stats[-1]
assert len(sig) == 12 + (SIZE + BLOCK - 1) // BLOCK * 12, len(sig)

new = Pattern(changed=True)
librsync.delta(new, sig, delta_path, stats=stats.append)
assert stats[-1].in_bytes == SIZE, stats[-1]
assert stats[-1].copy_bytes > SIZE - 2 * BLOCK, stats[-1]
delta_size = os.path.getsize(delta_path)
assert delta_size < 3 * BLOCK, delta_size  # one changed block as a literal


class CrcSink:
    def __init__(self):
        self.crc = 0
        self.n = 0

    def write(self, data):
        self.crc = zlib.crc32(data, self.crc)
        self.n += len(data)
        return len(data)


sink = CrcSink()
librsync.patch(basis_path, delta_path, sink, stats=stats.append)
assert sink.n == SIZE, sink.n
assert stats[-1].out_bytes == SIZE
assert sink.crc == new.crc, (sink.crc, new.crc)
print(rss_mib())
"""


def test_signature_delta_patch_of_a_stream_over_4gib_in_bounded_memory(tmp_path):
    basis = tmp_path / "basis"
    delta = tmp_path / "delta"
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(STREAM_CHILD), str(basis), str(delta)],
        capture_output=True, text=True, env=child_env(), cwd=CHILD_CWD, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    peak_mib = int(proc.stdout.split()[-1])
    # 4 GiB went through each step; buffers are a few MiB.
    assert peak_mib < 256, f"peak RSS {peak_mib} MiB for a 4 GiB stream"
