"""A typed program using librsync's public API, for ``mypy --strict``.

scripts/check_typing.sh type-checks this file against the installed package's
stubs (librsync/__init__.pyi, librsync/_rsync.pyi), and tests/test_typing.py
also runs it, so every line here is both well-typed and correct at run time.

``assert_type`` pins what the stubs promise (a one-shot call returns the
output it was given: a path stays a Path, a file object keeps its type), and
the ``# type: ignore[...]`` lines in ``_misuse`` must stay errors: --strict
reports an ignore that is no longer needed.
"""

from __future__ import annotations

import array
import io
import mmap
import os
import pathlib
import sys
import tempfile
from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from typing import TYPE_CHECKING, BinaryIO, Callable

import librsync
import librsync.tree
from librsync import (
    MAX_WEAK_COLLISIONS,
    RS_CORRUPT,
    RS_DONE,
    RS_INPUT_ENDED,
    RS_MD4_SIG_MAGIC,
    RS_RK_BLAKE2_SIG_MAGIC,
    BadMagicError,
    DeltaJob,
    InputEndedError,
    LibrsyncError,
    LimitExceededError,
    LoadSignatureJob,
    PatchJob,
    Signature,
    SignatureJob,
    Stats,
)
from librsync.tree import TreeStats, UnsafePathError

if TYPE_CHECKING:
    from typing_extensions import assert_type
else:  # typing.assert_type is 3.11+; at run time it only returns its argument

    def assert_type(value, _type):
        return value




def make_data(size: int, seed: int) -> bytes:
    return bytes((i * 7919 + seed) % 251 for i in range(size))


OLD = make_data(300_000, 1)
NEW = OLD[:100_000] + make_data(5_000, 2) + OLD[120_000:]


# --- the three steps, one-shot -----------------------------------------------


def in_memory() -> bytes:
    """bytes in, temporary files out."""
    sig = librsync.signature(OLD)
    assert_type(sig, "tempfile.SpooledTemporaryFile[bytes]")
    d = librsync.delta(NEW, sig)
    assert_type(d, "tempfile.SpooledTemporaryFile[bytes]")
    new = librsync.patch(OLD, d)
    data = new.read()
    assert_type(data, bytes)
    return data


def with_options(log: list[Stats]) -> int:
    """Signature options, threads, stats callbacks and a reusable Signature."""
    sig_bytes = librsync.signature(
        bytearray(OLD), None, 1024, 8, RS_MD4_SIG_MAGIC, threads=2, stats=log.append
    ).read()
    loaded: Signature = librsync.load_signature(sig_bytes, max_blocks=10_000)
    assert loaded.magic == RS_MD4_SIG_MAGIC and loaded.strong_len == 8
    assert len(loaded) == -(-len(OLD) // loaded.block_len)

    def report(st: Stats) -> None:
        log.append(st)
        assert st.op and st.elapsed >= 0.0

    out = io.BytesIO()
    same = librsync.delta(memoryview(NEW), loaded, out, threads=2, stats=report)
    assert_type(same, io.BytesIO)
    assert same is out
    patched = librsync.patch(array.array("B", OLD), out, max_length=len(NEW) + 1)
    assert patched.read() == NEW
    return sum(st.lit_bytes + st.copy_bytes for st in log if st.op == "delta")


def with_paths(folder: pathlib.Path) -> pathlib.Path:
    """Paths in and out; an output path is returned as it was passed."""
    old, new = folder / "old.bin", folder / "new.bin"
    old.write_bytes(OLD)
    new.write_bytes(NEW)
    sig_path = librsync.signature(old, folder / "old.sig")
    assert_type(sig_path, pathlib.Path)
    delta_name = librsync.delta(str(new), sig_path, os.path.join(folder, "new.delta"))
    assert_type(delta_name, str)
    with open(old, "rb") as basis, open(delta_name, "rb") as d:
        result = librsync.patch(basis, d, folder / "result.bin")
    # In place: the output may be the basis itself.
    librsync.patch(old, delta_name, old)
    assert old.read_bytes() == result.read_bytes() == NEW
    return result


def with_files(folder: pathlib.Path) -> None:
    """Binary file objects and mmap as inputs and outputs."""
    with open(folder / "old.bin", "wb") as f:
        f.write(OLD)
    with open(folder / "old.bin", "rb") as f, open(folder / "old.sig", "w+b") as s:
        written = librsync.signature(f, s)
        assert_type(written, io.BufferedRandom)
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            out: BinaryIO = io.BytesIO()
            librsync.patch(m, librsync.delta(NEW, written), out)
            assert out.read() == NEW


# --- streaming ---------------------------------------------------------------


def chunks(data: bytes, size: int = 4096) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def send_signature(old: bytes, send: Callable[[bytes], object]) -> Stats:
    with SignatureJob(file_size=len(old), magic=RS_RK_BLAKE2_SIG_MAGIC, threads=2) as job:
        assert job.threads == 2 and job.block_len > 0 and job.strong_len == 32
        for piece in chunks(old):
            send(job.update(piece))
        send(job.finish())
        assert job.finished and job.in_bytes == len(old)
        return job.stats


def receive_signature(pieces: Iterable[bytes]) -> Signature:
    loader = LoadSignatureJob(max_blocks=10_000_000)
    try:
        for piece in pieces:
            loader.update(piece)
        loader.finish()
        return loader.signature
    finally:
        loader.close()


def make_delta(new: bytes, sig: Signature | bytes) -> bytes:
    with DeltaJob(sig) as job:
        parts = [job.update(piece) for piece in chunks(new)]
        parts.append(job.finish())
        assert isinstance(job.signature, Signature)
        assert job.out_bytes == sum(map(len, parts))
        return b"".join(parts)


def apply_delta(basis: bytes, delta: bytes, trailer: bytes) -> bytes:
    out = io.BytesIO()
    with PatchJob(basis, max_length=1 << 30) as job:
        for piece in chunks(delta + trailer, 1000):
            out.write(job.update(piece))
        assert job.finished  # the delta's END command has been read
        out.write(job.finish())
        assert job.unused_data == trailer
        st: Stats = job.stats
        assert st.out_bytes == len(out.getvalue())
    return out.getvalue()


def streaming() -> bytes:
    sent: list[bytes] = []
    st = send_signature(OLD, sent.append)
    assert st.sig_blocks > 0 and st.block_len > 0
    sig = receive_signature(sent)
    d = make_delta(NEW, sig)
    assert d == make_delta(NEW, b"".join(sent))
    return apply_delta(OLD, d, b"trailing bytes")


def over_the_wire() -> bytes:
    """Chunk iterators out, iterables of chunks in."""
    sig_chunks = librsync.iter_signature(OLD, block_size=1024, chunk_size=8192)
    assert_type(sig_chunks, Generator[bytes, None, None])
    delta_chunks = librsync.iter_delta(NEW, sig_chunks, chunk_size=8192)
    first: bytes = next(delta_chunks)
    rest = [bytearray(c) for c in delta_chunks]  # any bytes-like chunks
    delta_chunks.close()
    return librsync.patch(OLD, [first, *rest]).read()


async def _aio_round_trip() -> bytes:
    import librsync.aio as aio

    async def pieces(data: bytes) -> AsyncIterator[bytes]:
        for piece in chunks(data):
            yield piece

    sig = await aio.load_signature(pieces(librsync.signature(OLD).read()))
    assert_type(sig, Signature)
    delta = b"".join([c async for c in aio.iter_delta(pieces(NEW), sig, chunk_size=4096)])
    out = await aio.patch(OLD, pieces(delta), io.BytesIO())
    return bytes(out.getvalue())


def with_asyncio() -> bytes:
    import asyncio

    return asyncio.run(_aio_round_trip())


# --- directory trees ----------------------------------------------------------


def trees(folder: pathlib.Path) -> TreeStats:
    """sync_tree, and its three steps with the stream kinds they take."""
    src, dst = folder / "src", folder / "dst"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "new.bin").write_bytes(NEW)
    stats = librsync.tree.sync_tree(src, dst, delete=True)
    assert_type(stats, TreeStats)
    sig = io.BytesIO()
    librsync.tree.tree_signature(str(dst), sig, checksum=True, threads=2)
    delta = io.BytesIO()
    sent = librsync.tree.tree_delta(src, sig.getvalue(), delta, checksum=True, threads=2)
    chunks: Iterator[bytes] = iter([delta.getvalue()])
    got = librsync.tree.tree_patch(dst, chunks, dry_run=False, max_file_size=1 << 20)
    assert got.files_unchanged == sent.files_unchanged == 1 and got.files == 1
    try:
        librsync.tree.tree_patch(dst, b"not a tree stream")
    except UnsafePathError:
        raise
    except LibrsyncError as exc:
        assert exc.code == librsync.RS_BAD_MAGIC
    return stats


# --- errors and constants ----------------------------------------------------


def describe(exc: LibrsyncError) -> str:
    names = {RS_INPUT_ENDED: "truncated", RS_CORRUPT: "corrupt"}
    return f"{names.get(exc.code, str(exc.code))}: {exc.message}"


def errors() -> list[str]:
    seen: list[str] = []
    sig = librsync.signature(OLD).read()
    d = librsync.delta(NEW, sig).read()
    try:
        librsync.patch(OLD, d[:-1])
    except InputEndedError as exc:  # also an EOFError
        assert isinstance(exc, EOFError)
        seen.append(describe(exc))
    try:
        librsync.load_signature(d)  # a delta where a signature belongs
    except BadMagicError as exc:
        seen.append(describe(exc))
    try:
        librsync.patch(OLD, d, max_length=10)
    except LimitExceededError as exc:
        seen.append(describe(exc))
    try:
        librsync.signature(OLD, magic=12345)
    except (LibrsyncError, ValueError) as exc:
        seen.append(type(exc).__name__)
    assert RS_DONE == 0 and MAX_WEAK_COLLISIONS >= 1
    assert librsync.MAX_BLOCK_LEN > librsync.RS_DEFAULT_BLOCK_LEN
    assert librsync.DEFAULT_BUFFER_SIZE >= 32 * 1024 and librsync.MAX_SPOOL > 0
    assert librsync.RS_DELTA_MAGIC != librsync.RS_BLAKE2_SIG_MAGIC
    assert librsync.RS_BLAKE2_SUM_LENGTH > librsync.RS_MD4_SUM_LENGTH
    version: str = librsync.LIBRSYNC_VERSION + " / " + librsync.__version__
    librsync.debug(3)
    trace: bool = librsync.supports_trace()
    seen.append(f"{version} trace={trace}")
    return seen


def _misuse(sig: Signature, job: PatchJob) -> None:
    """Never called: each line is an error the stubs must keep catching."""
    librsync.signature(OLD, bytearray())  # type: ignore[call-overload]  # not writable
    librsync.delta("new.bin", sig, 42)  # type: ignore[call-overload]
    librsync.patch(OLD, b"", threads=2)  # type: ignore[call-overload]  # patch has none
    librsync.load_signature(OLD, 10)  # type: ignore[call-arg]  # max_blocks is keyword-only
    librsync.iter_delta(NEW, sig, 4096)  # type: ignore[call-arg]  # chunk_size is keyword-only
    librsync.patch(OLD, ["text"])  # type: ignore[list-item]  # chunks must be bytes-like
    SignatureJob(1024, 8, RS_MD4_SIG_MAGIC, -1, 2)  # type: ignore[call-arg]  # threads too
    job.update("text")  # type: ignore[arg-type]
    job.stats.lit_bytes = 0  # type: ignore[misc]  # read-only
    print(len(job.finish()) + job.unused_data)  # type: ignore[operator]
    {sig.block_len: job.stats}[sig]  # type: ignore[index]
    librsync.tree.tree_patch("dst", "a path is not a stream")  # type: ignore[arg-type]
    librsync.tree.sync_tree("src", "dst", True)  # type: ignore[call-arg]  # delete is keyword-only


def main() -> int:
    assert in_memory() == NEW
    log: list[Stats] = []
    assert with_options(log) > 0 and len(log) == 2
    with tempfile.TemporaryDirectory() as tmp:
        assert with_paths(pathlib.Path(tmp)).read_bytes() == NEW
        with_files(pathlib.Path(tmp))
        assert trees(pathlib.Path(tmp)).files_new == 1
    assert streaming() == NEW
    assert over_the_wire() == NEW
    assert with_asyncio() == NEW
    print("\n".join(errors()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
