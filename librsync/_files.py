"""What the public functions accept as inputs and outputs.

Every input (``f``, ``s``, ``d``) may be a binary file object, a bytes-like
object (the data itself), a path (``str`` / ``os.PathLike``; ``bytes`` is
always data) or an iterable of bytes-like chunks (a generator, a list, an
HTTP client's ``iter_content()``).  Every output may be ``None`` (a
SpooledTemporaryFile), a binary file object, or a path: a regular file
replaced atomically, anything else (a device, a FIFO) written in place.
This module is the one place that decides which is which, so the C core only
ever sees a buffer or a binary reader/writer.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import sys
TYPE_CHECKING = False  # mypy takes it as True; typing costs ~3 ms of start-up
if TYPE_CHECKING:  # annotations only
    from typing import Any, Callable, Iterator

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
    "is_temp_of",
]

#: Size above which the default output (a SpooledTemporaryFile) moves to disk.
#: Same value as the old python-librsync wrapper.
MAX_SPOOL = 1024**2 * 5



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


#: Inputs up to this size that a file object of a known kind holds are read
#: whole into bytes: the driver would otherwise read them through a buffer
#: of this size (bench/PROFILE.md, per-call costs by input kind).
SMALL_INPUT = 1 << 20

#: Readers whose remaining size seek/tell tell exactly and whose read()
#: returns everything up to the end: the in-memory files (the default
#: outputs are SpooledTemporaryFiles) and the files open() returns.  Others
#: (sockets, pipes, wrappers) are read through the driver's buffer as before.
_SIZED_READERS = frozenset({io.BytesIO, io.BufferedReader, io.BufferedRandom, io.FileIO})


class _NotLoaded:
    """Stands for SpooledTemporaryFile before ``tempfile`` is imported: no
    object can be one then."""


def _spooled_type() -> type:
    """tempfile.SpooledTemporaryFile if ``tempfile`` is loaded.  Not imported
    here: it costs ~5 ms of start-up (shutil, random) that calls with
    bytes, file or path outputs never need."""
    module = sys.modules.get("tempfile")
    return getattr(module, "SpooledTemporaryFile", _NotLoaded)


def _new_spooled() -> Any:
    import tempfile

    return tempfile.SpooledTemporaryFile(max_size=MAX_SPOOL, mode="w+b")


def _small_rest(f: Any) -> bytes | None:
    """What is left to read in ``f`` as bytes (``f`` then at its end, as the
    driver would leave it), if that is at most SMALL_INPUT bytes and ``f`` is
    seekable; else None, with ``f`` where it was."""
    try:
        if type(f) is not io.BytesIO and not f.seekable():
            return None  # a pipe: its size is unknown (and tell() fails)
        here = f.tell()
        end = f.seek(0, os.SEEK_END)
        f.seek(here)
    except (AttributeError, OSError, ValueError):
        return None  # closed, or not seekable after all: the driver reports it
    if end - here > SMALL_INPUT:
        return None
    data = f.read()
    return data if type(data) is bytes else None


def _small_whole(f: Any) -> bytes | None:
    """All of ``f``'s content as bytes if it is at most SMALL_INPUT bytes,
    else None; ``f``'s position is kept either way."""
    try:
        here = f.tell()
        end = f.seek(0, os.SEEK_END)
        try:
            if end > SMALL_INPUT:
                return None
            f.seek(0)
            data = f.read()
        finally:
            f.seek(here)
    except (AttributeError, OSError, ValueError):
        return None  # closed: check_reader and the job report it as before
    return data if type(data) is bytes else None


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
        kind = type(obj)
        if kind is bytes or kind is bytearray:
            self._value: Any = obj  # the driver reads it by pointer
            self._close: Callable[[], None] | None = None
        elif kind in _SIZED_READERS or kind is _spooled_type():
            # Binary readers by their type (check_reader would pass them);
            # first, as the usual file objects of small calls.
            small = _small_rest(obj)
            self._value = obj if small is None else small
            self._close = None
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

    def __enter__(self) -> Any:
        return self._value

    def __exit__(self, *exc: object) -> None:
        if self._close is not None:
            self._close()


def regular_fd(f: Any) -> int | None:
    """The descriptor of the regular file behind ``f``, or None (pipes,
    sockets, in-memory files, and spooled files, whose ``fileno()`` would
    force them onto disk)."""
    if isinstance(f, _spooled_type()):
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
    if type(obj) is io.BytesIO or type(obj) is _spooled_type():
        # In-memory files (the default outputs): a small one is taken whole,
        # as bytes, so the job reads it by pointer and sizes its output to
        # it instead of using a 1 MiB buffer.
        whole = _small_whole(obj)
        if whole is not None:
            return whole, -1, False
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


def source_size(src: Any) -> int:
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
    if isinstance(src, _spooled_type()):
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


# --- path outputs ---------------------------------------------------------------
#
# A path names either a file to replace or something to write into.  A
# regular file (or a new name) is replaced atomically: the output goes to a
# temporary file beside it, renamed over it once complete.  Anything else -- a
# device such as /dev/null, a FIFO, a terminal, /dev/stdout -- is opened and
# written in place, as rdiff (fopen "wb") does: replacing /dev/null with a
# regular file, or a FIFO whose reader then gets nothing, is never what a
# caller meant.

#: Symlinks followed before giving up with ELOOP, as Linux's MAXSYMLINKS.
_MAX_LINKS = 40

#: Temporary-file slots of one output that every path output checks, and
#: sweeps when their writer is gone (see _create_temp).
_SWEPT_SLOTS = 8

#: Slots tried before giving up: a bound on the stat calls a directory full
#: of other people's files named like our temporaries can cost.
_MAX_SLOTS = 1024

_O_BINARY = getattr(os, "O_BINARY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

try:
    import fcntl
except ImportError:  # Windows: an open file cannot be deleted, which locks it
    fcntl = None  # type: ignore[assignment]

#: The names of this process's own descriptors: writing "to /dev/stdout" means
#: writing to descriptor 1 (its offset, its O_APPEND), not reopening what it
#: points at (at offset 0 for a file; impossible for a socket).
_STD_NAMES = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
_FD_NAME = r"/(?:dev/fd|proc/self/fd|proc/thread-self/fd|proc/(\d+)/fd)/(\d+)\Z"


def _own_fd(path: str | bytes) -> int | None:
    """The descriptor of this process that ``path`` names (``/dev/stdout``,
    ``/dev/fd/N``, ``/proc/self/fd/N``), or None.  By name, then confirmed
    by what the name and the descriptor lead to being the same object."""
    text = _abs_text(path)
    fd = _STD_NAMES.get(text)
    if fd is None:
        import re  # here: ~4 ms of start-up for the rare /dev/fd/N output

        m = re.match(_FD_NAME, text)
        if m is None or (m.group(1) is not None and int(m.group(1)) != os.getpid()):
            return None
        fd = int(m.group(2))
    try:
        by_fd, by_name = os.fstat(fd), os.stat(path)
    except (OSError, ValueError, OverflowError):
        return None
    if (by_fd.st_dev, by_fd.st_ino) != (by_name.st_dev, by_name.st_ino):
        return None
    return fd


_proc_dev: int | None = None


def _abs_text(path: str | bytes) -> str:
    """``path`` as an absolute path's text, for comparing names (a folder
    that has gone leaves a relative path as it is: it names nothing in
    /dev or /proc then)."""
    text = os.fsdecode(path)
    try:
        return os.path.abspath(text)
    except OSError:  # getcwd() of a removed folder
        return text


def _under_proc(path: str | bytes) -> bool:
    """Whether ``path`` names something in /proc or /dev/fd by its text."""
    return _abs_text(path).startswith(("/proc/", "/dev/fd/"))


def _is_magic_link(st: os.stat_result) -> bool:
    """Whether a symlink (lstat ``st``) lives in procfs, where links such
    as /proc/PID/fd/N are not paths to their object: readlink gives
    ``pipe:[1234]`` for a pipe, or a file's old name after a rename.  Such
    links are opened, never resolved (``_under_proc`` catches them by name
    where procfs is mounted as usual; this, wherever it is mounted)."""
    global _proc_dev
    if _proc_dev is None:
        try:
            _proc_dev = os.lstat("/proc/self").st_dev
        except OSError:
            _proc_dev = -1
    return st.st_dev == _proc_dev


def _check_followable(link: str | bytes, st: os.stat_result) -> None:
    """Refuse a symlink that Linux's ``fs.protected_symlinks`` would not let
    open() follow: one in a sticky world-writable directory (``/tmp``)
    owned by neither us nor the directory's owner.  We follow the link by
    readlink(), which that protection does not cover, so the check is ours
    (also where the sysctl is off): without it, a link planted in /tmp would
    make us create or replace any file its target names."""
    if os.name != "posix":
        return
    parent = os.stat(os.path.dirname(link) or ".")
    sticky_open = stat.S_ISVTX | stat.S_IWOTH
    if (parent.st_mode & sticky_open == sticky_open and st.st_uid != os.geteuid()
            and st.st_uid != parent.st_uid):
        raise PermissionError(errno.EACCES, "refusing to follow a symlink that another "
                              "user owns in a sticky world-writable directory", link)


def _plan_output(path: str | bytes) -> tuple[int, Any]:
    """How to write to ``path``: ``(_ATOMIC, name)`` to replace the regular
    file ``name`` (``path`` itself or, for a symlink, its final target, which
    may not exist yet); ``(_IN_PLACE, path)`` to open the special file
    ``path`` and write into it; ``(_THROUGH_PROC, path)`` the same for a
    path through a procfs link (another process's /proc/PID/fd/N);
    ``(_OWN_FD, n)`` to write to this process's descriptor ``n``.

    The kind is decided by ``os.stat`` (links followed, as open() would):
    missing or a regular file is replaced, anything else is written in place.
    Links are followed one readlink() at a time, never by
    ``os.path.realpath``, which turns a link to a pipe into the non-path
    ``pipe:[1234]``."""
    fd = _own_fd(path)
    if fd is not None:
        return _OWN_FD, fd
    try:
        st: os.stat_result | None = os.stat(path)
    except FileNotFoundError:  # new, or a dangling symlink to a new file
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    if st is not None and not stat.S_ISREG(st.st_mode):
        return _IN_PLACE, path
    cur: str | bytes = path
    for _ in range(_MAX_LINKS + 1):
        if _under_proc(cur):
            return _THROUGH_PROC, path
        try:
            lst = os.lstat(cur)
        except FileNotFoundError:
            return _ATOMIC, cur  # a new file (a missing folder fails on creation)
        if not stat.S_ISLNK(lst.st_mode):
            return _ATOMIC, cur
        if _is_magic_link(lst):
            return _THROUGH_PROC, path
        _check_followable(cur, lst)
        # Relative to the folder holding the link, as the kernel reads it:
        # joined, not normalised, so ".." is taken after folder links too.
        if isinstance(cur, bytes):
            cur = os.path.join(os.path.dirname(cur), os.readlink(cur))
        else:
            cur = os.path.join(os.path.dirname(cur), os.readlink(cur))
        fd = _own_fd(cur)
        if fd is not None:
            return _OWN_FD, fd
    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)


#: How a path output is written (open_sink's _kind; 0 and 2 are its other
#: kinds): replaced, or written in place -- a special file, this process's
#: own descriptor, or whatever a procfs link leads to.
_ATOMIC, _IN_PLACE, _OWN_FD, _THROUGH_PROC = 1, 3, 4, 5


def _temp_prefix(directory: str | bytes, base: str | bytes) -> str | bytes:
    """The name of output ``base``'s temporary files, up to the slot
    number: ``.BASE.lrsync-``.  A long ``base`` is cut (in bytes) so that
    the whole name fits in NAME_MAX, the same way for every slot."""
    room = 255 - len(f"..lrsync-{_MAX_SLOTS - 1}.tmp")
    if isinstance(base, bytes):
        return os.path.join(directory, b"." + base[:room] + b".lrsync-")  # type: ignore[arg-type]
    while len(os.fsencode(base)) > room:  # whole characters, for any encoding
        base = base[:-1]
    return os.path.join(directory, f".{base}.lrsync-")  # type: ignore[arg-type]


def _slot(prefix: str | bytes, n: int) -> str | bytes:
    if isinstance(prefix, bytes):
        return prefix + b"%d.tmp" % n
    return f"{prefix}{n}.tmp"


def is_temp_of(filename: object, dest: str | bytes) -> bool:
    """Whether ``filename`` is one of the temporary files that a path
    output to ``dest`` writes (for reporting a failure under the output's
    own name)."""
    if not isinstance(filename, (str, bytes)):
        return False
    try:
        kind, name = _plan_output(dest)
    except OSError:
        return False
    if kind != _ATOMIC:
        return False
    prefix = os.fsdecode(os.path.basename(_temp_prefix(*os.path.split(os.fsdecode(name)))))
    base = os.path.basename(os.fsdecode(filename))
    return base.startswith(prefix) and base[len(prefix):-4].isdigit() and base.endswith(".tmp")


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _lock(fd: int) -> bool:
    """Take the advisory lock that marks a temporary file as in use."""
    if fcntl is None:
        return True  # Windows: being open is the lock
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _sweep(name: str | bytes) -> bool:
    """Remove the temporary file ``name`` if its writer is gone; True when
    the slot is free afterwards.

    A writer holds an exclusive flock on its temporary file until the
    rename: the kernel drops it when the process dies, however it dies
    (kill -9 included), and it is never confused by a reused pid.  Only a
    regular file of our own user is removed, and only while we hold its
    lock and the name still leads to it."""
    if fcntl is None:  # Windows: a file still open in its writer cannot be deleted
        try:
            os.unlink(name)
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return True
    try:
        st = os.lstat(name)
    except FileNotFoundError:
        return True
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
        return False  # not ours to remove
    try:
        # Write access: locks over NFS are byte-range locks that need it.
        fd = os.open(name, os.O_WRONLY | _O_NOFOLLOW | os.O_NONBLOCK | _O_CLOEXEC)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        if not _same_file(os.fstat(fd), st) or not _lock(fd):
            return False  # replaced meanwhile, or its writer is alive
        try:
            if not _same_file(os.lstat(name), st):
                return False
            os.unlink(name)
        except FileNotFoundError:
            pass
        return True
    finally:
        os.close(fd)


def _claim(name: str | bytes) -> int | None:
    """Create the temporary file ``name``, locked, and return its descriptor;
    None when the slot is taken by a live writer (or is not ours)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY | _O_CLOEXEC
    for _ in range(3):
        try:
            # Not tempfile.mkstemp: that creates files with mode 0600, while a
            # new output should get the usual 0666 & ~umask; os.open applies
            # the umask for us without the thread-unsafe os.umask() query.
            fd = os.open(name, flags, 0o666)
        except FileExistsError:
            if not _sweep(name):
                return None
            continue
        try:
            # Between the creation and the lock another process sweeping
            # this output may take our new file for a dead writer's and
            # remove it; then the name no longer leads to our file and we
            # try again.
            if _lock(fd) and (fcntl is None or _same_file(os.fstat(fd), os.lstat(name))):
                return fd
        except FileNotFoundError:
            pass
        except BaseException:
            with contextlib.suppress(OSError):
                if _same_file(os.fstat(fd), os.lstat(name)):
                    os.unlink(name)
            os.close(fd)
            raise
        os.close(fd)
    return None


def _create_temp(dest: str | bytes) -> tuple[int, str | bytes]:
    """Create a new, empty, locked file beside ``dest`` and return
    ``(fd, name)``.

    Its name, ``.BASE.lrsync-N.tmp``, says whose it is: the output ``BASE``
    and a slot number ``N``.  A writer takes the first slot it can lock,
    removing on its way the files of dead writers (killed with -9, or by a
    power cut), and checks the first few slots in any case, so the next run
    on an output sweeps what an earlier one left.  Slots are few because
    writers of one output at a time are few: the cost is a failed stat
    each, not a scan of the folder."""
    directory, base = os.path.split(dest)
    prefix = _temp_prefix(directory, base)
    taken: tuple[int, str | bytes] | None = None
    try:
        for n in range(_MAX_SLOTS):
            name = _slot(prefix, n)
            if taken is None:
                fd = _claim(name)
                if fd is not None:
                    taken = fd, name
            elif n < _SWEPT_SLOTS:
                with contextlib.suppress(OSError):
                    _sweep(name)
            else:
                break
    except BaseException:
        if taken is not None:
            os.close(taken[0])
            with contextlib.suppress(OSError):
                os.unlink(taken[1])
        raise
    if taken is None:
        raise FileExistsError(errno.EEXIST, f"{_MAX_SLOTS} temporary files of this output "
                              "are in use", _slot(prefix, 0))
    return taken


def _open_in_place(path: str | bytes, kind: int) -> int | None:
    """Open ``path`` for writing in place, as rdiff would but without
    creating anything, so the output cannot replace it.  A FIFO with no
    reader blocks here until one comes, as with rdiff.  None if a special
    file turned out to be a regular one when opened (replaced meanwhile):
    the caller decides again."""
    flags = os.O_WRONLY | _O_BINARY | _O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            if kind != _THROUGH_PROC:
                os.close(fd)
                return None
            # A file behind /proc/PID/fd/N: rdiff's fopen "wb" truncates it.
            os.ftruncate(fd, 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _direct_ok(fd: int) -> bool:
    """Whether a patch may copy into ``fd`` in the kernel: a regular file,
    written at its offset (not O_APPEND)."""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        return fcntl is not None and not fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND
    except OSError:
        return False


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
    - a path naming a regular file, or nothing yet: written to a temporary
      file in the same folder (``.NAME.lrsync-N.tmp``, locked while in use),
      flushed to disk, then renamed over the path; on failure, including a
      signal that raises (KeyboardInterrupt, the command line's SIGTERM and
      SIGHUP), the temporary file is removed and an existing file at the
      path is untouched.  An existing file's permission bits are kept.  A
      temporary file of a writer that died without cleaning up (kill -9) is
      removed by the next output to the same path.  A symlink is kept and
      its final target replaced (created, for a dangling link), unless it
      is in a sticky world-writable folder such as /tmp and owned by
      neither us nor the folder's owner (PermissionError, as Linux's
      ``protected_symlinks``).
    - a path naming anything else (a device such as ``/dev/null``, a FIFO,
      a terminal): opened and written in place, never replaced, never
      created; a FIFO with no reader blocks until one opens it, as with
      rdiff.  ``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N`` and
      ``/proc/self/fd/N`` write to this process's descriptor itself (at its
      offset; a socket too).  On failure what was written stays.  A folder
      is refused (IsADirectoryError) before any work.

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
    _kind: int  # 0 spooled (None), 1 _ATOMIC, 2 the caller's file object,
    # 3 _IN_PLACE, 4 _OWN_FD, 5 _THROUGH_PROC
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
            self._file = _new_spooled()
            self.result = self._file
            # In memory a BytesIO, on disk a buffered file: both write all.
            self.write = self._file.write
            return
        if is_path(obj):
            path = os.fspath(obj)  # type: ignore[call-overload]
            opened: int | None = None
            for _ in range(3):
                self._kind, target = _plan_output(path)
                if self._kind == _ATOMIC:
                    self._dest = target
                    try:
                        self._mode = stat.S_IMODE(os.stat(target).st_mode)
                    except FileNotFoundError:
                        self._mode = None
                    opened, self._tmp = _create_temp(target)
                elif self._kind == _OWN_FD:
                    opened = os.dup(target)
                else:
                    opened = _open_in_place(target, self._kind)
                if opened is not None:
                    break
            if opened is None:
                raise OSError(errno.EAGAIN, "the output kept changing between a special "
                              "file and a regular one", path)
            fd = opened
            try:
                # Unbuffered: the driver writes large chunks, and a patch
                # job may write to fd itself between them.
                self._file = open(fd, "wb", buffering=0)
            except BaseException:
                os.close(fd)
                if self._kind == _ATOMIC:
                    self._remove_temp()
                raise
            if self._kind == _ATOMIC or _direct_ok(fd):
                self.direct_fd = fd
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

    def run(self, job: Any, source: Any, stats: Callable[[Any], object] | None) -> Any:
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
        elif self._kind == _ATOMIC:
            try:
                f.flush()
                fd = f.fileno()
                os.fsync(fd)
                if self._mode is not None:
                    if hasattr(os, "fchmod"):
                        os.fchmod(fd, self._mode)
                    else:
                        os.chmod(self._tmp, self._mode)
                if fcntl is None:
                    f.close()  # Windows renames no open file
                # Renamed still open, so still locked: a concurrent run on
                # this output must not sweep it as a dead writer's.
                os.replace(self._tmp, self._dest)
            except BaseException:
                with contextlib.suppress(OSError):
                    f.close()
                self._remove_temp()
                raise
            f.close()
        elif self._kind >= _IN_PLACE:
            f.close()  # unbuffered: nothing to flush
        else:
            flush = getattr(f, "flush", None)
            if flush is not None:
                flush()
            _rewind(f, self._start)

    def _abort(self) -> None:
        if self._kind == 0:
            self._file.close()
        elif self._kind == _ATOMIC:
            with contextlib.suppress(OSError):
                self._file.close()
            self._remove_temp()
        elif self._kind >= _IN_PLACE:
            # What was written stays, as with a file object of the caller's.
            with contextlib.suppress(OSError):
                self._file.close()

    def _remove_temp(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self._tmp)
