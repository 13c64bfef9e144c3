"""What the public functions accept as inputs and outputs.

Every input (``f``, ``s``, ``d``) may be a binary file object, a bytes-like
object (the data itself), a path (``str`` / ``os.PathLike``; ``bytes`` is
always data) or an iterable of bytes-like chunks (a generator, a list, an
HTTP client's ``iter_content()``).  Every output may be ``None`` (a
SpooledTemporaryFile), a binary file object, or a path written atomically.
This module is the one place that decides which is which, so the C core only
ever sees a buffer or a binary reader/writer.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import stat
import tempfile
from typing import Any, Callable, Iterator, Union

__all__ = [
    "MAX_SPOOL",
    "is_path",
    "as_buffer",
    "open_source",
    "check_source",
    "ChunkReader",
    "source_size",
    "open_sink",
    "check_reader",
    "check_writer",
    "open_basis",
    "regular_fd",
]

#: Size above which the default output (a SpooledTemporaryFile) moves to disk.
#: Same value as the old python-librsync wrapper.
MAX_SPOOL = 1024**2 * 5

Source = Union[memoryview, Any]


def is_path(obj: object) -> bool:
    """``str`` and ``os.PathLike`` name files; ``bytes`` never does."""
    return isinstance(obj, (str, os.PathLike))


def as_buffer(obj: object) -> memoryview | None:
    """A flat, byte-sized memoryview of a bytes-like object, or None if ``obj``
    does not support the buffer protocol.  Refuses non-contiguous buffers
    rather than copying them silently."""
    if isinstance(obj, (str, os.PathLike)):
        return None
    try:
        view = memoryview(obj)  # type: ignore[arg-type]
    except TypeError:
        return None
    if not view.contiguous:
        view.release()
        raise ValueError("bytes-like input must be C-contiguous")
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


def _has_buffer(obj: object) -> bool:
    try:
        memoryview(obj).release()  # type: ignore[arg-type]
    except TypeError:
        return False
    return True


def _describe(obj: object) -> str:
    return type(obj).__name__


def _is_reader(f: object) -> bool:
    return hasattr(f, "readinto") or hasattr(f, "read")


def check_reader(f: object, what: str, kinds: str = "a bytes-like object or a path") -> None:
    """Raise TypeError unless ``f`` looks like a binary file open for reading.

    ``kinds`` names the other argument kinds the caller would have taken,
    for the message."""
    if isinstance(f, io.TextIOBase):
        raise TypeError(f"{what} must be opened in binary mode, not text mode")
    if not _is_reader(f):
        if hasattr(f, "__aiter__"):
            raise TypeError(f"{what} is an asynchronous iterable; "
                            "use librsync.aio for asyncio sources")
        raise TypeError(f"{what} must be a binary file object, {kinds}, not {_describe(f)}")
    if not hasattr(f, "readinto"):
        import inspect  # only here: most readers have readinto and never get this far

        if inspect.iscoroutinefunction(f.read):  # type: ignore[attr-defined]
            # An asyncio.StreamReader: its read() returns a coroutine, which
            # would otherwise fail deep inside the driver as "no len()".
            raise TypeError(f"{what} is an asyncio stream (its read() is a coroutine); "
                            "use librsync.aio for asyncio sources")


_SOURCE_KINDS = "a bytes-like object, a path or an iterable of bytes-like chunks"


def _is_chunk_iterable(obj: object) -> bool:
    # Called only once paths, bytes-like objects and readers are ruled out:
    # bytes iterate as ints, str as characters and files as lines, so an
    # iterable is a chunk source only when it is none of those.
    return hasattr(type(obj), "__iter__")


def check_source(obj: object, what: str, kinds: str = _SOURCE_KINDS) -> None:
    """Raise TypeError (or ValueError, for a non-contiguous buffer) unless
    ``obj`` is an input kind :func:`open_source` accepts, without opening or
    reading anything (for generators that open their input only when first
    advanced).  ``kinds`` is as for :func:`check_reader`."""
    if is_path(obj):
        return
    view = as_buffer(obj)
    if view is not None:
        view.release()
        return
    if _is_reader(obj) or not _is_chunk_iterable(obj):
        check_reader(obj, what, kinds)


class ChunkReader(io.RawIOBase):
    """A binary reader over an iterable of bytes-like chunks, so the driver
    reads an iterable as it reads a file: in its own bounded buffer, with
    chunks of any size (empty ones are skipped).

    The iterable is advanced only when the current chunk is used up, and a
    chunk's buffer is released before the next one is asked for, so a
    producer may reuse one bytearray for every chunk.  A chunk that is not
    bytes-like raises TypeError.  The iterable is the caller's: closing this
    reader does not close it (as with a caller's file object).
    """

    def __init__(self, chunks: object, what: str) -> None:
        super().__init__()
        self._chunks: Iterator[object] | None = iter(chunks)  # type: ignore[call-overload]
        self._what = what
        self._view: memoryview | None = None
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = self._view
        while view is None:
            if self._chunks is None:
                return 0
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self._chunks = None
                return 0
            view = as_buffer(chunk)
            if view is None:
                raise TypeError(f"{self._what} yielded {_describe(chunk)}, "
                                "not a bytes-like chunk")
            if not view.nbytes:
                view.release()
                view = None
            self._view, self._pos = view, 0
        n = min(len(buffer), view.nbytes - self._pos)
        buffer[:n] = view[self._pos:self._pos + n]
        self._pos += n
        if self._pos == view.nbytes:
            self._view = None
            view.release()
        return n

    def close(self) -> None:
        if self._view is not None:
            self._view.release()
            self._view = None
        self._chunks = None
        super().close()


def check_writer(f: object, what: str) -> None:
    """Raise TypeError unless ``f`` looks like a binary file open for writing."""
    if isinstance(f, io.TextIOBase):
        raise TypeError(f"{what} must be opened in binary mode, not text mode")
    if not hasattr(f, "write"):
        raise TypeError(
            f"{what} must be None, a binary file object or a path, not {_describe(f)}"
        )


class open_source:
    """``with open_source(obj, what) as src``: ``src`` is the data itself
    (``bytes``/``bytearray``), a memoryview (other bytes-like input) or a
    binary reader (a file object, a path opened here, or a
    :class:`ChunkReader` over an iterable of chunks).

    A path is opened unbuffered: the C core reads it with ``readinto`` into
    its own buffer, so a second buffer would only add a copy.  What this
    opens, it closes; a caller's file object or iterable is left open.  A
    class, not a generator context manager: many small calls pay for every
    step here.
    """

    __slots__ = ("_value", "_close")

    def __init__(self, obj: object, what: str) -> None:
        if type(obj) is bytes or type(obj) is bytearray:
            self._value: Source = obj  # the driver reads it by pointer
            self._close: Callable[[], None] | None = None
        elif is_path(obj):
            f = open(obj, "rb", buffering=0)  # type: ignore[call-overload]
            self._value, self._close = f, f.close
        else:
            view = as_buffer(obj)
            if view is not None:
                self._value, self._close = view, view.release
            elif not _is_reader(obj) and _is_chunk_iterable(obj):
                reader = ChunkReader(obj, what)
                self._value, self._close = reader, reader.close
            else:
                check_reader(obj, what, _SOURCE_KINDS)
                self._value, self._close = obj, None

    def __enter__(self) -> Source:
        return self._value

    def __exit__(self, *exc: object) -> None:
        if self._close is not None:
            self._close()


def regular_fd(f: Any) -> int | None:
    """The descriptor of the regular file behind ``f``, or None (pipes,
    sockets, in-memory files, and spooled files, whose ``fileno()`` would
    force them onto disk)."""
    if isinstance(f, tempfile.SpooledTemporaryFile):
        return None
    try:
        fd = f.fileno()
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return int(fd)
    except (AttributeError, OSError, ValueError):
        pass
    return None


def open_basis(obj: object, what: str) -> tuple[Any, int, bool]:
    """What a patch reads COPY data from, as ``(basis, fd, owned)`` for the
    driver's PatchJob: a bytes-like object (read by pointer) or a seekable
    binary reader; ``fd`` the descriptor to ``pread`` (-1: use the reader);
    ``owned`` when the basis is a file opened here from a path, for the job
    to close when it ends."""
    if type(obj) is bytes or type(obj) is bytearray:
        return obj, -1, False  # the common case for many small patches
    if is_path(obj):
        f = open(obj, "rb")  # type: ignore[call-overload]
        fd = regular_fd(f)
        return f, -1 if fd is None else fd, True
    view = as_buffer(obj)  # refuses non-contiguous data
    if view is not None:
        view.release()
        return obj, -1, False
    check_reader(obj, what)
    try:
        seekable = obj.seekable()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        seekable = hasattr(obj, "seek")
    if not seekable:
        raise ValueError(f"{what} must be seekable (COPY commands read it "
                         "at any offset); pass a regular file, bytes or mmap")
    fd = regular_fd(obj)
    if fd is None:
        return obj, -1, False
    if getattr(obj, "writable", lambda: False)():
        obj.flush()  # type: ignore[attr-defined]  # pread bypasses Python's write buffer
    return obj, fd, False


def source_size(src: Source) -> int:
    """Bytes left to read from ``src``, or -1 when that cannot be known (pipes,
    sockets, unseekable streams).  Used only to pick signature defaults, as
    rdiff does with the file size."""
    if type(src) is bytes or type(src) is bytearray:
        return len(src)
    if isinstance(src, memoryview):
        return src.nbytes
    try:
        fd = src.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    if isinstance(src, tempfile.SpooledTemporaryFile):
        fd = None  # fileno() would force a spooled file onto disk
    if fd is not None:
        try:
            st = os.fstat(fd)
        except OSError:
            return -1
        if not stat.S_ISREG(st.st_mode):
            return -1
        try:
            return max(st.st_size - int(src.tell()), 0)
        except (AttributeError, OSError, ValueError):
            return st.st_size
    try:
        if not src.seekable():
            return -1
        here = src.tell()
        end = src.seek(0, os.SEEK_END)
        src.seek(here)
        return max(int(end) - int(here), 0)
    except (AttributeError, OSError, ValueError):
        return -1


def _resolve_destination(path: str | bytes) -> str | bytes:
    # Writing "to a path" means to the file it names: follow a symlink so the
    # link is kept and its target updated, as `cp` and editors do.
    return os.path.realpath(path)


def _create_temp(dest: str | bytes) -> tuple[int, str | bytes]:
    """Create a new, empty file beside ``dest`` and return (fd, name).

    Not tempfile.mkstemp: that creates files with mode 0600, while a new output
    should get the usual 0666 & ~umask; os.open applies the umask for us
    without the thread-unsafe os.umask() query."""
    directory, base = os.path.split(dest)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    name: str | bytes
    for _ in range(100):
        token = secrets.token_hex(6)
        if isinstance(base, bytes):
            name = os.path.join(directory, b"." + base + b"." + token.encode() + b".tmp")  # type: ignore[arg-type]
        else:
            name = os.path.join(directory, f".{base}.{token}.tmp")  # type: ignore[arg-type]
        try:
            return os.open(name, flags, 0o666), name
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file beside {dest!r}")


def _writer_for(f: Any) -> Callable[[memoryview], None]:
    write = f.write

    def write_all(data: memoryview) -> None:
        # Raw (unbuffered) files may write less than asked; loop until done.
        # A None result means "would block" on a non-blocking raw file, which
        # we cannot wait for here.
        n = write(data)
        if n is None:
            if isinstance(f, io.RawIOBase):
                raise BlockingIOError("output file is non-blocking and not ready")
            return
        total = len(data)
        while n < total:
            m = write(data[n:])
            if not m:
                raise OSError(f"output write made no progress ({n} of {total} bytes)")
            n += m

    return write_all


def _rewind(f: Any, pos: int | None) -> None:
    if pos is None:
        return
    try:
        f.seek(pos)
    except (AttributeError, OSError, ValueError):
        pass


def _tell_if_seekable(f: Any) -> int | None:
    try:
        if f.seekable():
            return int(f.tell())
    except (AttributeError, OSError, ValueError):
        pass
    return None


class open_sink:
    """``with open_sink(obj, what) as sink``: ``sink.write`` takes the
    output, ``sink.result`` is what the public function returns.

    - ``None``: a SpooledTemporaryFile(max_size=MAX_SPOOL), rewound to 0 after
      success (closed on failure).
    - a file object: written from its current position and, when seekable,
      rewound to that position after success, so ``.read()`` returns the
      output; on failure what was written stays (we cannot unwrite it).
    - a path: written to a temporary file in the same folder, flushed to disk,
      then renamed over the path; on failure the temporary file is removed and
      an existing file at the path is untouched.  An existing file's permission
      bits are kept.

    A class for the same reason as :class:`open_source`.
    """

    __slots__ = ("write", "result", "direct_fd", "_kind", "_file", "_start", "_tmp", "_dest",
                 "_mode")
    write: Callable[[Any], object]
    # A descriptor that receives the output unbuffered at its offset, as
    # ``write`` does (a path's temporary file, or the caller's io.FileIO):
    # a patch job may then copy from its basis file to it in the kernel.
    direct_fd: int | None
    _file: Any
    _kind: int  # 0 spooled (None), 1 path, 2 the caller's file object
    _start: int | None
    _tmp: str | bytes
    _dest: str | bytes
    _mode: int | None

    def __init__(self, obj: object, what: str) -> None:
        self.result = obj
        self.direct_fd = None
        if type(obj) is io.BytesIO:
            # The usual in-memory output: its write() always takes everything,
            # so it needs neither the checks nor the short-write loop below.
            self._kind = 2
            self._file = obj
            self._start = obj.tell()
            self.write = obj.write
            return
        if obj is None:
            self._kind = 0
            self._file = tempfile.SpooledTemporaryFile(max_size=MAX_SPOOL, mode="w+b")
            self.result = self._file
            # In memory a BytesIO, on disk a buffered file: both write all.
            self.write = self._file.write
            return
        if is_path(obj):
            self._kind = 1
            self._dest = _resolve_destination(os.fspath(obj))  # type: ignore[call-overload]
            try:
                self._mode = stat.S_IMODE(os.stat(self._dest).st_mode)
            except FileNotFoundError:
                self._mode = None
            fd, self._tmp = _create_temp(self._dest)
            try:
                # Unbuffered: the driver writes large chunks, and a patch
                # job may write to fd itself between them.
                self._file = open(fd, "wb", buffering=0)
                self.direct_fd = fd
            except BaseException:
                os.close(fd)
                self._remove_temp()
                raise
        else:
            if _has_buffer(obj):
                raise TypeError(
                    f"{what} must be None, a binary file object or a path; "
                    f"a bytes-like object cannot receive output"
                )
            check_writer(obj, what)
            self._kind = 2
            self._file = obj
            self._start = _tell_if_seekable(obj)
            if type(obj) is io.FileIO and "a" not in obj.mode:
                self.direct_fd = obj.fileno()
        self.write = _writer_for(self._file)

    def __enter__(self) -> "open_sink":
        return self

    def run(self, job: Any, source: Source, stats: Callable[[Any], object] | None) -> Any:
        """``job.run(source, self.write)``, then ``stats(job.stats)`` if given,
        committed or aborted as ``with`` would: the one-shot functions' whole
        output step in one call (a 4 KiB signature takes about 10 us, so the
        two calls of the ``with`` protocol are worth saving)."""
        try:
            if self.direct_fd is not None:
                direct = getattr(job, "_set_direct_output", None)
                if direct is not None:
                    direct(self.direct_fd)
            job.run(source, self.write)
            if stats is not None:
                stats(job.stats)
        except BaseException:
            self._abort()
            raise
        self._commit()
        return self.result

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self._commit()
        else:
            self._abort()

    def _commit(self) -> None:
        f = self._file
        if type(f) is io.BytesIO:
            # The caller's BytesIO (only kind 2 holds one): its flush() does
            # nothing and its seek() cannot fail.
            f.seek(self._start or 0)  # an int for a BytesIO (set in __init__)
            return
        if self._kind == 0:
            f.seek(0)
        elif self._kind == 1:
            try:
                with f:
                    f.flush()
                    os.fsync(f.fileno())
                if self._mode is not None:
                    os.chmod(self._tmp, self._mode)
                os.replace(self._tmp, self._dest)
            except BaseException:
                self._remove_temp()
                raise
        else:
            flush = getattr(f, "flush", None)
            if flush is not None:
                flush()
            _rewind(f, self._start)

    def _abort(self) -> None:
        if self._kind == 0:
            self._file.close()
        elif self._kind == 1:
            with contextlib.suppress(OSError):
                self._file.close()
            self._remove_temp()

    def _remove_temp(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self._tmp)
