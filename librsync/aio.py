"""asyncio versions of the three steps: ``import librsync.aio``.

``import librsync`` does not load this module (nor asyncio).  Everything here
is a coroutine or an async iterator that keeps the event loop free: librsync's
work, and any blocking file I/O, runs in other threads, while the loop only
moves bytes between streams.

Inputs (``reader``, ``sig``, ``delta_reader``) may be:

- an asyncio stream: an ``asyncio.StreamReader``, or any object whose
  ``read(n)`` is a coroutine returning ``b""`` at the end;
- an async iterable of bytes-like chunks (an async generator, an HTTP
  client's streamed body);
- any input the synchronous functions take (bytes-like, binary file, path,
  iterable of chunks), read in a worker thread.

Outputs (``writer``) may be:

- an ``asyncio.StreamWriter``, or any object with a ``write()`` and a
  coroutine ``drain()``: each chunk is written and drained, so a slow peer
  slows the computation down instead of filling memory; the writer is left
  open (call ``write_eof()`` or ``close()`` yourself);
- an object whose ``write(data)`` is a coroutine (aiofiles-style), awaited;
- any output the synchronous functions take, written in a worker thread:
  ``None`` (returns a SpooledTemporaryFile rewound to 0), a binary file
  object, or a path, written atomically.

Each coroutine returns its ``writer`` (or the spooled file for ``None``).

Cancellation: a cancelled call returns only once the worker step it was
waiting for (one chunk's work) is over, so by the time ``CancelledError``
reaches the caller the job is freed, files it opened are closed, and a path
output has not been created (an existing file is untouched) -- or, if the
cancellation came after the output was complete, it has been renamed into
place whole.  Never a partial file.  Under ``asyncio.run()``, Ctrl-C
(``KeyboardInterrupt``) cancels the running tasks, so the same holds.

How the work is done off the loop:

- ``signature``, ``delta``, ``load_signature`` and the iterators run one job
  step (``update()`` on one chunk) at a time in the loop's default executor
  (``loop.run_in_executor``).  A job may be used by one thread at a time;
  its steps are awaited one after another, never two at once, and an async
  iterator consumed from two tasks at once raises RuntimeError.
- ``patch`` runs in a thread of its own for the whole call, because one COPY
  command of a delta may expand to any length, and a job step returns its
  whole output at once; the driver's ``run()`` writes a patch's output in
  bounded pieces, so the thread runs that and calls back into the loop for
  each read and write of an asyncio stream.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import inspect
import threading
from typing import (TYPE_CHECKING, Any, AsyncGenerator, Awaitable, Callable, Coroutine,
                    Optional, TypeVar)

from . import _api, _files, _iter, _rsync
from ._rsync import RS_RK_BLAKE2_SIG_MAGIC, Signature

if TYPE_CHECKING:
    from collections.abc import AsyncIterable

    from _typeshed import ReadableBuffer
    from typing_extensions import Protocol, TypeAlias

    class _AsyncReader(Protocol):
        async def read(self, n: int = ..., /) -> bytes: ...

    # What the synchronous functions read: see librsync._api.
    _SyncInput: TypeAlias = Any
    _Source: TypeAlias = "_AsyncReader | AsyncIterable[ReadableBuffer] | _SyncInput"
    _Output: TypeAlias = Any

__all__ = [
    "signature",
    "delta",
    "patch",
    "load_signature",
    "iter_signature",
    "iter_delta",
]

_T = TypeVar("_T")
_CHUNK_SIZE = _iter._CHUNK_SIZE
# How often a patch thread waiting for the event loop checks that the loop
# still exists (a loop closed under a pending call would strand the thread).
_LOOP_CHECK_INTERVAL = 1.0

_ASYNC_KINDS = "an asyncio stream, an async iterable of bytes-like chunks"
_SOURCE_KINDS = (f"{_ASYNC_KINDS}, a bytes-like object, a path or an iterable of "
                 "bytes-like chunks")


# --- argument kinds ---------------------------------------------------------------

def _async_kind(obj: object) -> str | None:
    """"stream" (a coroutine ``read``), "aiter" (an async iterable), or None
    for everything the synchronous functions read."""
    # The stream test comes first: a StreamReader is also an async iterable,
    # of lines, which would split binary data at b"\n" and fail on long lines.
    if inspect.iscoroutinefunction(getattr(obj, "read", None)):
        return "stream"
    if hasattr(obj, "__aiter__"):
        return "aiter"
    return None


def _check_source(obj: object, what: str) -> None:
    if _async_kind(obj) is None:
        _files.check_source(obj, what, _SOURCE_KINDS)


def _chunk_view(chunk: object, what: str) -> memoryview:
    view = _files.as_buffer(chunk)
    if view is None:
        raise TypeError(f"{what} yielded {type(chunk).__name__}, not a bytes-like chunk")
    return view


def _async_emit(obj: object) -> Callable[[bytes], Awaitable[None]] | None:
    """The coroutine that sends one chunk to an asynchronous writer, or None
    when ``obj`` is an output kind of the synchronous functions."""
    write = getattr(obj, "write", None)
    if write is None:
        return None
    drain = getattr(obj, "drain", None)
    if inspect.iscoroutinefunction(drain):
        async def write_and_drain(data: bytes) -> None:
            write(data)
            await drain()
        return write_and_drain
    if inspect.iscoroutinefunction(write):
        async def write_awaited(data: bytes) -> None:
            await write(data)
        return write_awaited
    return None


# --- running blocking calls off the loop -----------------------------------------------

async def _wait_through_cancel(fut: asyncio.Future[_T],
                               on_cancel: Callable[[], None] | None = None) -> _T:
    """Await ``fut``, the result of work in another thread.

    If the caller is cancelled meanwhile, ask the work to stop (``on_cancel``),
    wait for it to end anyway, then raise the CancelledError: a thread cannot
    be interrupted, and until it returns its job is busy and its files are
    open, so nothing can be cleaned up before."""
    try:
        return await asyncio.shield(fut)
    except asyncio.CancelledError:
        if on_cancel is not None:
            on_cancel()
        while not fut.done():
            try:
                await asyncio.wait((fut,))
            except asyncio.CancelledError:
                pass  # the first cancellation is raised below
        if not fut.cancelled():
            fut.exception()  # retrieved: the caller gets the cancellation instead
        raise


class _Worker:
    """Runs one operation's blocking calls in the loop's default executor,
    one at a time."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._running: asyncio.Future[Any] | None = None

    async def __call__(self, fn: Callable[..., _T], *args: Any) -> _T:
        fut = self._loop.run_in_executor(None, fn, *args)
        self._running = fut
        return await _wait_through_cancel(fut)

    def after(self, cleanup: Callable[[], object]) -> None:
        """Run ``cleanup`` now, or once the call in progress has returned.

        A call is still in progress only when something other than a
        cancellation (which waits for it) interrupted the awaiting
        coroutine; the job cannot be closed under the thread using it."""
        fut = self._running
        if fut is None or fut.done():
            cleanup()
        else:
            fut.add_done_callback(lambda _: cleanup())


# --- the step engine: signature, delta, load_signature ----------------------------------

async def _async_pieces(src: Any, kind: str, size: int, what: str) -> AsyncGenerator[Any, None]:
    if kind == "stream":
        while True:
            data = await src.read(size)
            if not data:
                return
            yield data
    else:
        async for chunk in src:
            view = _chunk_view(chunk, what)
            if view.nbytes:
                yield view
            view.release()


async def _sync_pieces(source: Any, size: int, work: _Worker) -> AsyncGenerator[Any, None]:
    pieces = _iter._pieces(source, size)
    try:
        if isinstance(source, (memoryview, bytes, bytearray)):
            for piece in pieces:  # slicing memory needs no thread
                yield piece
            return
        while True:
            # Reading a file or a synchronous iterable may block.
            piece = await work(next, pieces, None)
            if piece is None:
                return
            yield piece
    finally:
        pieces.close()


def _open_source(resources: contextlib.ExitStack, src: object, what: str) -> tuple[Any, int]:
    # Opening a path, and sizing a file (fstat, seek), may block.
    source = resources.enter_context(_files.open_source(src, what))
    return source, _files.source_size(source)


def _parts(data: bytes, size: int, split: bool) -> Any:
    if split:
        return _iter._split(data, size)
    return (data,) if data else ()


async def _outputs(make_job: Callable[[int], Awaitable[Any]], src: Any, what: str,
                   size: int, split: bool = False) -> AsyncGenerator[bytes, None]:
    """Run the job ``make_job(input size or -1)`` over ``src`` one step per
    piece of at most ``size`` bytes; yield each step's non-empty output
    (split into pieces of at most ``size`` bytes when ``split``)."""
    work = _Worker()
    resources = contextlib.ExitStack()
    try:
        kind = _async_kind(src)
        if kind is not None:
            pieces = _async_pieces(src, kind, size, what)
            file_size = -1
        else:
            source, file_size = await work(_open_source, resources, src, what)
            pieces = _sync_pieces(source, size, work)
        job = await make_job(file_size)
        resources.callback(job.close)
        try:
            async for piece in pieces:
                data = await work(job.update, piece)
                for part in _parts(data, size, split):
                    yield part
            for part in _parts(await work(job.finish), size, split):
                yield part
        finally:
            await pieces.aclose()
    finally:
        work.after(resources.close)


async def _write_all(outputs: AsyncGenerator[bytes, None], writer: object, what: str) -> Any:
    """Send every chunk of ``outputs`` to ``writer``; return what the call
    returns (see the module docstring)."""
    emit = _async_emit(writer)
    try:
        if emit is not None:
            async for data in outputs:
                await emit(data)
            return writer
        work = _Worker()
        sink_cm = contextlib.ExitStack()
        try:
            # Inside the try: cancelled while opening, the open completes
            # (the temporary file exists) before the cancellation arrives.
            # Created in the worker too: for a path, open_sink() itself
            # creates the temporary file, which may block.
            sink = await work(lambda: sink_cm.enter_context(_files.open_sink(writer, what)))
            async for data in outputs:
                await work(sink.write, data)
        except BaseException as exc:
            # Removes a path output's temporary file.
            work.after(functools.partial(sink_cm.__exit__, type(exc), exc, exc.__traceback__))
            raise
        await work(sink_cm.close)  # flush, fsync and rename: blocking
        return sink.result
    finally:
        await outputs.aclose()


async def _loaded(sig: object) -> Signature:
    if type(sig) is Signature:
        return sig
    if _async_kind(sig) is not None:
        return await load_signature(sig)
    return await _Worker()(_api.load_signature, sig)


def _check_signature_arg(sig: object) -> None:
    if type(sig) is not Signature:
        _check_source(sig, "signature sig")


# --- public coroutines and iterators --------------------------------------------------

async def signature(reader: _Source, writer: _Output = None, block_size: int = 0,
                    strong_len: int = 0, magic: int = RS_RK_BLAKE2_SIG_MAGIC, *,
                    chunk_size: int = _CHUNK_SIZE) -> Any:
    """Compute the signature of ``reader`` (the old file) and write it to
    ``writer``; return ``writer`` (see the module docstring for the kinds of
    both).

    The options mean what they mean for :func:`librsync.signature`, and the
    bytes written are the same.  ``block_size=0`` picks the block length from
    the input's size when it can be known (a path, a file, bytes) and uses
    2048 for streams, as rdiff does for a pipe.  The input is read
    ``chunk_size`` bytes (default 64 KiB) at a time.
    """
    size = _iter._check_chunk_size(chunk_size)
    _rsync.check_signature_args(block_size, strong_len, magic)
    _check_source(reader, "signature input reader")

    async def make_job(file_size: int) -> Any:
        return _rsync.SignatureJob(block_size, strong_len, magic, file_size)

    return await _write_all(_outputs(make_job, reader, "signature input reader", size),
                            writer, "signature output writer")


async def delta(reader: _Source, sig: Signature | _Source, writer: _Output = None, *,
                chunk_size: int = _CHUNK_SIZE) -> Any:
    """Compute the delta of ``reader`` (the new file) against ``sig`` and
    write it to ``writer``; return ``writer``.

    ``sig`` is a loaded :class:`librsync.Signature` (reused as is; one may
    serve any number of concurrent calls) or a signature in any input kind,
    loaded first (read to its end: a signature has no end marker of its
    own).  The bytes written are those of :func:`librsync.delta`.  The input
    is read ``chunk_size`` bytes (default 64 KiB) at a time.
    """
    size = _iter._check_chunk_size(chunk_size)
    _check_source(reader, "delta input reader")
    _check_signature_arg(sig)

    async def make_job(_file_size: int) -> Any:
        return _rsync.DeltaJob(await _loaded(sig))

    return await _write_all(_outputs(make_job, reader, "delta input reader", size),
                            writer, "delta output writer")


async def load_signature(reader: _Source, *, max_blocks: int | None = None,
                         max_block_len: int | None = None, file_size: int | None = None,
                         chunk_size: int = _CHUNK_SIZE) -> Signature:
    """Read a signature from ``reader`` to its end and build its hash table:
    the asynchronous :func:`librsync.load_signature`.

    ``max_blocks`` limits how many blocks an untrusted signature may
    describe (:class:`librsync.LimitExceededError`), checked as it arrives;
    ``max_block_len`` and ``file_size`` limit its block length as for
    :func:`librsync.load_signature`.
    """
    size = _iter._check_chunk_size(chunk_size)
    _check_source(reader, "signature reader")
    job = _rsync.LoadSignatureJob(max_blocks, max_block_len=max_block_len, file_size=file_size)

    async def make_job(_file_size: int) -> Any:
        return job

    async for _ in _outputs(make_job, reader, "signature reader", size):
        pass  # loading produces no output
    return job.signature


def iter_signature(reader: _Source, *, block_size: int = 0, strong_len: int = 0,
                   magic: int = RS_RK_BLAKE2_SIG_MAGIC,
                   chunk_size: int = _CHUNK_SIZE) -> AsyncGenerator[bytes, None]:
    """The signature of ``reader`` as an async iterator of chunks: the
    asynchronous :func:`librsync.iter_signature`.

    Each chunk is a non-empty ``bytes`` of at most ``chunk_size`` bytes
    (default 64 KiB), and ``reader`` is read ``chunk_size`` bytes at a time,
    only as the iterator is advanced.  Arguments are checked when this is
    called.  ``await it.aclose()`` stops early and frees the job and files.
    """
    size = _iter._check_chunk_size(chunk_size)
    _rsync.check_signature_args(block_size, strong_len, magic)
    _check_source(reader, "signature input reader")

    async def make_job(file_size: int) -> Any:
        return _rsync.SignatureJob(block_size, strong_len, magic, file_size)

    return _outputs(make_job, reader, "signature input reader", size, split=True)


def iter_delta(reader: _Source, sig: Signature | _Source, *,
               chunk_size: int = _CHUNK_SIZE) -> AsyncGenerator[bytes, None]:
    """The delta of ``reader`` against ``sig`` as an async iterator of
    chunks: the asynchronous :func:`librsync.iter_delta`.

    ``sig`` is as for :func:`delta`, loaded when the iterator is first
    advanced.  Chunks are non-empty ``bytes`` of at most ``chunk_size``
    bytes (default 64 KiB); ``reader`` is read ``chunk_size`` bytes at a
    time, only as the iterator is advanced.  ``await it.aclose()`` stops
    early and frees the job and files.
    """
    size = _iter._check_chunk_size(chunk_size)
    _check_source(reader, "delta input reader")
    _check_signature_arg(sig)

    async def make_job(_file_size: int) -> Any:
        return _rsync.DeltaJob(await _loaded(sig))

    return _outputs(make_job, reader, "delta input reader", size, split=True)


# --- patch: a thread of its own, calling back into the loop --------------------------

class _LoopCalls:
    """Lets a thread run coroutines on the event loop and wait for them, until
    the loop side stops it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._pending: Optional[concurrent.futures.Future[Any]] = None
        self.stopped = False

    def check(self) -> None:
        if self.stopped:
            raise asyncio.CancelledError()

    def call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coro`` on the loop; return its result (from the thread)."""
        with self._lock:
            if self.stopped:
                coro.close()
                raise asyncio.CancelledError()
            fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
            self._pending = fut
        try:
            while True:
                try:
                    return fut.result(_LOOP_CHECK_INTERVAL)
                except concurrent.futures.TimeoutError:
                    if self._loop.is_closed():
                        raise RuntimeError("the event loop was closed during a patch") from None
                except concurrent.futures.CancelledError:
                    raise asyncio.CancelledError() from None
        finally:
            with self._lock:
                self._pending = None

    def stop(self) -> None:
        """Make the thread's next (or current) call raise CancelledError."""
        with self._lock:
            self.stopped = True
            if self._pending is not None:
                self._pending.cancel()


class _AsyncChunks:
    """``read(n)`` over an async iterable of bytes-like chunks."""

    def __init__(self, chunks: Any, what: str) -> None:
        self._chunks = chunks.__aiter__()
        self._what = what
        self._view: memoryview | None = None
        self._pos = 0

    async def read(self, n: int) -> bytes:
        while self._view is None:
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                return b""
            view = _chunk_view(chunk, self._what)
            if view.nbytes:
                self._view, self._pos = view, 0
            else:
                view.release()
        data = bytes(self._view[self._pos:self._pos + n])
        self._pos += len(data)
        if self._pos == self._view.nbytes:
            # Released before the next chunk is asked for: a producer may
            # refill one bytearray for every chunk.
            self._view.release()
            self._view = None
        return data


class _LoopReader:
    """A binary reader for the patch thread over an asynchronous source."""

    def __init__(self, calls: _LoopCalls, read: Callable[[int], Awaitable[Any]]) -> None:
        self._calls = calls
        self._read = read

    def readinto(self, buffer: memoryview) -> int:
        data = self._calls.call(self._coro(len(buffer)))
        n = len(data)
        if n > len(buffer):
            raise OSError(f"read({len(buffer)}) returned {n} bytes")
        buffer[:n] = data
        return n

    async def _coro(self, n: int) -> Any:
        return await self._read(n)


class _LoopWriter:
    """A binary writer for the patch thread over an asynchronous writer."""

    def __init__(self, calls: _LoopCalls, emit: Callable[[bytes], Awaitable[None]]) -> None:
        self._calls = calls
        self._emit = emit

    def write(self, data: memoryview) -> int:
        chunk = bytes(data)  # the driver's view is valid only during this call
        self._calls.call(self._coro(chunk))
        return len(chunk)

    async def _coro(self, chunk: bytes) -> None:
        await self._emit(chunk)


def _patch_in_thread(basis: Any, d: Any, out: Any, max_length: int | None,
                     calls: _LoopCalls) -> Any:
    with _api.PatchJob(basis, max_length) as job:
        with _files.open_source(d, "patch delta delta_reader") as source:
            with _files.open_sink(out, "patch output writer") as sink:
                def write(view: memoryview) -> None:
                    calls.check()  # a cancelled patch stops at its next output
                    sink.write(view)

                job.run(source, write)
                # Last chance before a path output is renamed into place.
                calls.check()
    return sink.result


async def patch(basis: Any, delta_reader: _Source, writer: _Output = None, *,
                max_length: int | None = None) -> Any:
    """Apply the delta read from ``delta_reader`` to ``basis`` (the old file)
    and write the new file to ``writer``; return ``writer``.

    ``basis`` is what :func:`librsync.patch` takes (bytes-like, a seekable
    binary file, or a path; read in the patch's thread).  The delta is read
    to its end (EOF), as :func:`librsync.patch` reads it, so over a
    connection the sender should end its side (``write_eof()``) after it.
    ``max_length`` refuses deltas that would produce more than that many
    bytes (:class:`librsync.LimitExceededError`), a guard for deltas from
    untrusted peers.  Memory stays bounded however far a delta's COPY
    commands expand: output is produced and written 1 MiB at a time.
    """
    loop = asyncio.get_running_loop()
    calls = _LoopCalls(loop)
    kind = _async_kind(delta_reader)
    d: Any
    if kind == "stream":
        d = _LoopReader(calls, delta_reader.read)  # type: ignore[union-attr]
    elif kind == "aiter":
        d = _LoopReader(calls, _AsyncChunks(delta_reader, "patch delta delta_reader").read)
    else:
        _files.check_source(delta_reader, "patch delta delta_reader", _SOURCE_KINDS)
        d = delta_reader
    emit = _async_emit(writer)
    out = writer if emit is None else _LoopWriter(calls, emit)
    done: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, exc: BaseException | None) -> None:
        if done.done():
            return
        if exc is None:
            done.set_result(result)
        elif isinstance(exc, asyncio.CancelledError):
            done.cancel()  # stopped by the loop side, which raises its own
        else:
            done.set_exception(exc)

    def body() -> None:
        result, error = None, None
        try:
            result = _patch_in_thread(basis, d, out, max_length, calls)
        except BaseException as exc:
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits
            loop.call_soon_threadsafe(settle, result, error)

    # Not the executor: the thread is busy for the whole patch, waiting on
    # the peer most of the time.  A daemon, so that it cannot keep the
    # interpreter alive should its loop be closed under it.
    threading.Thread(target=body, name="librsync.aio.patch", daemon=True).start()
    result = await _wait_through_cancel(done, calls.stop)
    return writer if emit is not None else result
