"""librsync.aio: the three steps over asyncio streams and async iterators,
with the work off the event loop, over real loopback TCP."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import threading
import time

import pytest

import librsync
import librsync.aio as aio

from conftest import child_env, make_data, mutate

MIB = 1 << 20
OLD = make_data(600_000, seed=51)
NEW = mutate(OLD, 30, seed=52)
SIG = librsync.signature(OLD).read()
DELTA = librsync.delta(NEW, SIG).read()
# What the streams' unknown size gives (rdiff on a pipe: block length 2048).
SIG_UNSIZED = librsync.signature(OLD, block_size=2048).read()
# A bound for waiting on a condition that a correct implementation reaches
# at once; reaching it fails the test instead of hanging it.
PATIENCE = 60.0


def run(coro):
    return asyncio.run(coro)


def stream(data: bytes) -> asyncio.StreamReader:
    """A real StreamReader holding ``data`` then EOF (inside a running loop)."""
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def achunks(data: bytes, size: int = 10_000):
    for i in range(0, len(data), size):
        await asyncio.sleep(0)
        yield data[i:i + size]


class AsyncSink:
    """An aiofiles-style writer: ``await write(data)``."""

    def __init__(self):
        self.parts: list[bytes] = []

    async def write(self, data):
        self.parts.append(bytes(data))

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


async def wait_for_condition(cond, what: str):
    deadline = time.monotonic() + PATIENCE
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        await asyncio.sleep(0.005)


def patch_threads():
    return [t for t in threading.enumerate() if t.name == "librsync.aio.patch"]


def no_patch_threads_left():
    for t in patch_threads():
        t.join(PATIENCE)
    return not patch_threads()


SOURCE_KINDS = ["bytes", "path", "file", "sync-chunks", "async-chunks", "stream"]
SIZED = {"bytes", "path", "file"}


def source(kind, data, tmp_path, name, closers):
    if kind == "bytes":
        return data
    if kind == "sync-chunks":
        return [data[i:i + 7777] for i in range(0, len(data), 7777)]
    if kind == "async-chunks":
        return achunks(data)
    if kind == "stream":
        return stream(data)
    path = tmp_path / name
    path.write_bytes(data)
    if kind == "path":
        return path
    f = open(path, "rb")
    closers.append(f)
    return f


# --- same bytes as the synchronous functions -------------------------------------------

@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_every_source_kind(kind, tmp_path):
    closers: list = []

    async def main():
        src = lambda data, name: source(kind, data, tmp_path, name, closers)  # noqa: E731
        sig = await aio.signature(src(OLD, "old"))
        assert sig.read() == (SIG if kind in SIZED else SIG_UNSIZED)
        assert (await aio.delta(src(NEW, "new"), src(SIG, "sig"))).read() == DELTA
        loaded = await aio.load_signature(src(SIG, "sig2"))
        assert (await aio.delta(src(NEW, "new2"), loaded)).read() == DELTA
        assert (await aio.patch(OLD, src(DELTA, "delta"))).read() == NEW
        chunks = [c async for c in aio.iter_delta(src(NEW, "new3"), loaded, chunk_size=5000)]
        assert b"".join(chunks) == DELTA and max(map(len, chunks)) <= 5000
        chunks = [c async for c in aio.iter_signature(src(OLD, "old2"), chunk_size=999)]
        assert b"".join(chunks) == (SIG if kind in SIZED else SIG_UNSIZED)
        assert all(type(c) is bytes and 0 < len(c) <= 999 for c in chunks)

    try:
        run(main())
    finally:
        for f in closers:
            f.close()


def test_options_are_those_of_signature():
    options = {"block_size": 700, "strong_len": 8, "magic": librsync.RS_MD4_SIG_MAGIC}
    expected = librsync.signature(OLD, **options).read()

    async def main():
        assert (await aio.signature(stream(OLD), None, 700, 8,
                                    librsync.RS_MD4_SIG_MAGIC)).read() == expected
        got = b"".join([c async for c in aio.iter_signature(achunks(OLD), **options)])
        assert got == expected

    run(main())


def test_output_kinds(tmp_path):
    async def main():
        buf = io.BytesIO(b"prefix")
        buf.seek(6)
        assert await aio.delta(NEW, SIG, buf) is buf
        assert buf.tell() == 6 and buf.read() == DELTA
        out = tmp_path / "sig"
        assert await aio.signature(OLD, out) == out
        assert out.read_bytes() == SIG
        sink = AsyncSink()
        assert await aio.patch(OLD, achunks(DELTA), sink) is sink
        assert sink.getvalue() == NEW
        target = tmp_path / "new"
        assert await aio.patch(OLD, stream(DELTA), str(target)) == str(target)
        assert target.read_bytes() == NEW
        with pytest.raises(TypeError, match="cannot receive output"):
            await aio.signature(OLD, bytearray(10))

    run(main())


# --- over TCP ------------------------------------------------------------------------

BIG_OLD = make_data(3 * MIB, seed=53)
BIG_NEW = mutate(BIG_OLD, 60, seed=54) + make_data(4 * MIB, seed=55)


@pytest.mark.parametrize("style", ["coroutines", "iterators"])
def test_signature_up_delta_down_over_tcp(style, tmp_path):
    old, new, out = tmp_path / "old", tmp_path / "new", tmp_path / "out"
    old.write_bytes(BIG_OLD)
    new.write_bytes(BIG_NEW)

    async def serve(reader, writer):
        # The client's signature ends at its EOF (write_eof); the delta goes
        # back, and closing the connection ends it for the client.
        sig = await aio.load_signature(reader, max_blocks=1_000_000)
        if style == "coroutines":
            await aio.delta(new, sig, writer)
        else:
            async for chunk in aio.iter_delta(new, sig, chunk_size=32 * 1024):
                assert len(chunk) <= 32 * 1024
                writer.write(chunk)
                await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def main():
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            if style == "coroutines":
                await aio.signature(old, writer)
            else:
                async for chunk in aio.iter_signature(old):
                    writer.write(chunk)
                    await writer.drain()
            writer.write_eof()
            assert await aio.patch(old, reader, out) == out
            writer.close()
            await writer.wait_closed()
        finally:
            server.close()
            await server.wait_closed()

    run(main())
    assert out.read_bytes() == BIG_NEW
    assert no_patch_threads_left()


def test_cancel_mid_transfer_leaves_no_partial_output(tmp_path):
    """The client is cancelled while the server is half-way through the
    delta and part of the new file is already on disk in the temporary
    file: the temporary file goes, the existing output is untouched."""
    out = tmp_path / "out"
    out.write_bytes(b"the previous version")
    delta = librsync.delta(BIG_NEW, librsync.signature(BIG_OLD)).read()
    assert len(delta) // 2 > 2 * MIB  # more than the patch's 1 MiB read buffer

    async def main():
        half_sent = asyncio.Event()
        never = asyncio.Event()

        async def serve(reader, writer):
            await reader.read()  # the request: anything up to EOF
            writer.write(delta[:len(delta) // 2])
            await writer.drain()
            half_sent.set()
            await never.wait()  # stalls mid-transfer until cancelled

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write_eof()
        task = asyncio.ensure_future(aio.patch(BIG_OLD, reader, out))
        await half_sent.wait()

        def partial_output_on_disk():
            temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
            return temps and temps[0].stat().st_size > 0

        await wait_for_condition(partial_output_on_disk, "a partial output file")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # Checked at once: cleanup is over when the cancellation arrives.
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
        assert out.read_bytes() == b"the previous version"
        writer.close()
        server.close()
        for t in asyncio.all_tasks() - {asyncio.current_task()}:
            t.cancel()

    run(main())
    assert no_patch_threads_left()


def test_cancelled_delta_to_a_path_leaves_nothing(tmp_path):
    out = tmp_path / "delta"
    stalled = asyncio.Event  # created inside the loop below

    async def main():
        gate = stalled()

        async def new_then_stall():
            data = make_data(2 * MIB, seed=56)
            for i in range(0, len(data), 64 * 1024):
                yield data[i:i + 64 * 1024]
            await gate.wait()  # never set: the peer stopped sending
            yield b"never"

        task = asyncio.ensure_future(aio.delta(new_then_stall(), SIG, out))

        def partial_output_on_disk():
            temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
            return temps and temps[0].stat().st_size > 0

        await wait_for_condition(partial_output_on_disk, "a partial delta file")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert list(tmp_path.iterdir()) == []

    run(main())


_INTERRUPTED_PATCH = """
import asyncio, os, random, signal, sys
import librsync, librsync.aio as aio

folder = sys.argv[1]
old = random.Random(1).randbytes(3 << 20)
new = old[:1 << 20] + random.Random(2).randbytes(4 << 20)
delta = librsync.delta(new, librsync.signature(old)).read()

async def stalled():
    yield delta[:len(delta) // 2]   # more than a read buffer: output starts
    await asyncio.Event().wait()    # then the peer goes quiet

async def main():
    task = asyncio.ensure_future(aio.patch(old, stalled(), os.path.join(folder, "out")))
    while not any(name.endswith(".tmp") and os.path.getsize(os.path.join(folder, name))
                  for name in os.listdir(folder)):
        await asyncio.sleep(0.005)
    signal.raise_signal(signal.SIGINT)   # Ctrl-C, with part of the output on disk
    await task

try:
    asyncio.run(main())
except KeyboardInterrupt:
    print("interrupted", sorted(os.listdir(folder)))
"""


def test_ctrl_c_during_a_patch_leaves_no_partial_output(tmp_path):
    script = tmp_path / "interrupted.py"
    script.write_text(_INTERRUPTED_PATCH)
    folder = tmp_path / "out"
    folder.mkdir()
    proc = subprocess.run([sys.executable, str(script), str(folder)], cwd=tmp_path,
                          env=child_env(), capture_output=True, text=True,
                          timeout=PATIENCE * 2)
    assert proc.stdout.strip() == "interrupted []", proc.stdout + proc.stderr
    assert list(folder.iterdir()) == []


def test_cancel_waits_for_the_step_in_progress(tmp_path):
    """Cancelled while a worker thread is inside a step (here a blocking
    read), the call does not return until the step is over, so that what
    the step used can be closed; then it raises CancelledError and leaves
    no output."""
    out = tmp_path / "sig"
    entered, release = threading.Event(), threading.Event()

    class BlockingReader(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buf):
            entered.set()
            assert release.wait(PATIENCE)
            return 0

    async def main():
        task = asyncio.ensure_future(aio.signature(BlockingReader(), out))
        await wait_for_condition(entered.is_set, "the worker's read")
        task.cancel()
        for _ in range(20):
            await asyncio.sleep(0)
        assert not task.done()  # still waiting for the worker
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert list(tmp_path.iterdir()) == []

    run(main())


def test_cancel_while_the_output_file_is_being_created(tmp_path, monkeypatch):
    """Cancelled while a worker creates the temporary output file: the file
    is created anyway (the thread cannot be stopped), then removed."""
    from librsync import _files

    entered, release = threading.Event(), threading.Event()
    create = _files._create_temp

    def slow_create(dest):
        made = create(dest)
        entered.set()
        assert release.wait(PATIENCE)
        return made

    monkeypatch.setattr(_files, "_create_temp", slow_create)

    async def main():
        task = asyncio.ensure_future(aio.delta(NEW, SIG, tmp_path / "delta"))
        await wait_for_condition(entered.is_set, "the temporary file")
        task.cancel()
        await asyncio.sleep(0)
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert list(tmp_path.iterdir()) == []

    run(main())


# --- the loop stays free ---------------------------------------------------------------

def test_loop_keeps_ticking_between_delta_chunks():
    new = make_data(16 * MIB, seed=57)
    ticks = [0]

    class TickRecorder:
        def __init__(self):
            self.at = []
            self.size = 0

        async def write(self, data):
            self.at.append(ticks[0])
            self.size += len(data)

    async def ticker():
        while True:
            ticks[0] += 1
            await asyncio.sleep(0)

    async def main():
        t = asyncio.ensure_future(ticker())
        sink = TickRecorder()
        try:
            await aio.delta(new, SIG, sink, chunk_size=256 * 1024)
        finally:
            t.cancel()
        return sink

    sink = run(main())
    assert sink.size > len(new)  # all literal: the delta is the input, and more
    assert len(sink.at) > 30
    gaps = [b - a for a, b in zip(sink.at, sink.at[1:])]
    # Every step ran while the loop went on (the ticker is always ready).
    assert min(gaps) >= 1, gaps


def test_reads_and_patch_copies_run_in_other_threads_while_the_loop_runs():
    """A reader (signature) and a basis (patch: read by the C job's COPY
    callback, inside the job) that only return once the ticker has moved on:
    they would wait forever on the loop's thread."""
    ticks = [0]
    threads: set = set()

    def wait_for_ticks():
        threads.add(threading.get_ident())
        start = ticks[0]
        deadline = time.monotonic() + PATIENCE
        while ticks[0] < start + 3:
            assert time.monotonic() < deadline, "the event loop did not run"
            time.sleep(0.001)

    class SlowReader(io.BytesIO):
        def readinto(self, buf):
            wait_for_ticks()
            return super().readinto(buf)

    async def ticker():
        while True:
            ticks[0] += 1
            await asyncio.sleep(0)

    async def main():
        t = asyncio.ensure_future(ticker())
        try:
            loop_thread = threading.get_ident()
            sig = await aio.signature(SlowReader(OLD), chunk_size=100_000)
            assert sig.read() == SIG  # a BytesIO: its size is known
            assert (await aio.patch(SlowReader(OLD), achunks(DELTA))).read() == NEW
            assert threads and loop_thread not in threads
        finally:
            t.cancel()

    run(main())


# --- one thread at a time, many calls at once -------------------------------------------

def test_one_iterator_cannot_be_advanced_by_two_tasks_at_once():
    async def main():
        it = aio.iter_delta(make_data(4 * MIB, seed=58), SIG, chunk_size=MIB)
        first = asyncio.ensure_future(it.__anext__())
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError):
            await it.__anext__()
        assert len(await first) <= MIB
        await it.aclose()

    run(main())


def test_many_concurrent_deltas_share_one_signature():
    async def main():
        sig = await aio.load_signature(SIG)
        results = await asyncio.gather(*(aio.delta(achunks(NEW, 3000 + i), sig)
                                         for i in range(8)))
        assert all(r.read() == DELTA for r in results)

    run(main())


def test_aclose_releases_the_job_and_the_file(tmp_path):
    p = tmp_path / "new"
    p.write_bytes(NEW)

    async def main():
        it = aio.iter_delta(p, SIG, chunk_size=1000)
        await it.__anext__()
        job, src = it.ag_frame.f_locals["job"], it.ag_frame.f_locals["source"]
        assert not src.closed
        await it.aclose()
        assert src.closed
        with pytest.raises(ValueError, match="closed"):
            job.update(b"x")

    run(main())


# --- errors ----------------------------------------------------------------------------

def test_librsync_errors_come_through():
    async def main():
        with pytest.raises(librsync.BadMagicError, match="expected a delta"):
            await aio.patch(OLD, stream(SIG))
        with pytest.raises(librsync.InputEndedError):
            await aio.patch(OLD, achunks(DELTA[:-1]))
        with pytest.raises(librsync.LimitExceededError):
            await aio.patch(OLD, stream(DELTA), max_length=len(NEW) - 1)
        with pytest.raises(librsync.BadMagicError, match="expected a signature"):
            await aio.load_signature(stream(DELTA))
        with pytest.raises(librsync.BadMagicError, match="expected a signature"):
            await aio.delta(NEW, achunks(DELTA))
        with pytest.raises(librsync.LimitExceededError):
            await aio.load_signature(achunks(SIG), max_blocks=3)

    run(main())
    assert no_patch_threads_left()


def test_a_failed_patch_to_a_path_leaves_nothing(tmp_path):
    out = tmp_path / "out"

    async def main():
        with pytest.raises(librsync.InputEndedError):
            await aio.patch(OLD, stream(DELTA[:-1]), out)

    run(main())
    assert list(tmp_path.iterdir()) == []


def test_source_and_sink_exceptions_propagate():
    class Lost(Exception):
        pass

    async def broken():
        yield DELTA[:1000]
        raise Lost("peer went away")

    class BrokenSink:
        async def write(self, data):
            raise Lost("cannot write")

    async def main():
        with pytest.raises(Lost, match="peer went away"):
            await aio.patch(OLD, broken())
        with pytest.raises(Lost, match="peer went away"):
            await aio.delta(broken(), SIG)
        with pytest.raises(Lost, match="cannot write"):
            await aio.patch(OLD, DELTA, BrokenSink())
        with pytest.raises(Lost, match="cannot write"):
            await aio.signature(OLD, BrokenSink())

    run(main())
    assert no_patch_threads_left()


def test_bad_arguments():
    async def not_bytes():
        yield "text"

    async def main():
        with pytest.raises(TypeError, match="not a bytes-like chunk"):
            await aio.patch(OLD, not_bytes())
        with pytest.raises(TypeError, match="not a bytes-like chunk"):
            await aio.signature(not_bytes())
        with pytest.raises(TypeError, match="asyncio stream"):
            await aio.signature(12)
        with pytest.raises(TypeError):
            await aio.patch(OLD, None)
        with pytest.raises(TypeError):
            await aio.delta(NEW, 3.5)
        with pytest.raises(ValueError, match="chunk_size"):
            await aio.signature(OLD, chunk_size=0)
        with pytest.raises(ValueError):
            await aio.signature(OLD, block_size=-1)
        # The iterators check their arguments when called, not when advanced.
        with pytest.raises(TypeError, match="chunk_size"):
            aio.iter_delta(NEW, SIG, chunk_size="big")
        with pytest.raises(TypeError):
            aio.iter_signature(object())
        with pytest.raises(TypeError):
            aio.iter_delta(NEW, object())

    run(main())


def test_a_path_source_that_does_not_exist(tmp_path):
    async def main():
        with pytest.raises(FileNotFoundError):
            await aio.signature(tmp_path / "missing")
        with pytest.raises(FileNotFoundError):
            await aio.patch(tmp_path / "missing", DELTA)

    run(main())
    assert os.listdir(tmp_path) == []
