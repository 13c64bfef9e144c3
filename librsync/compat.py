"""The ``_librsync`` module of rdiff-backup and duplicity, on this package.

rdiff-backup and duplicity each compile a small C module, ``_librsync``,
against a system librsync; their ``librsync.py`` wrappers build everything
on its three constructors and one method.  This module offers the same
interface, so either tool can run on this package's librsync (compiled in,
no system library)::

    import librsync.compat
    librsync.compat.install()      # before the tool imports its librsync.py

What both wrappers rely on, and what this module does the same way:

- :func:`new_sigmaker`, :func:`new_deltamaker` and :func:`new_patchmaker`
  return objects with one method, ``cycle(inbuf)``, which returns
  ``(done, bytes_consumed, out)``: ``done`` is 1 when the job has ended and
  all its output has been returned, ``bytes_consumed`` how much of
  ``inbuf`` was taken (the wrappers keep the rest and pass it again), and
  ``out`` at most 64 KiB of output.  An empty ``inbuf`` means the end of
  the input.  (A patch ends at the delta's END command, with ``done`` set
  and any bytes after it not consumed.)
- Signatures are MD4 with 8-byte strong sums (``RS_MD4_SIG_MAGIC``), byte
  for byte what their C module writes for the same block length.
- The patch basis must be a real file (anything with a ``fileno()``, or a
  descriptor); anything else is refused with
  ``TypeError("Need true file object")``, which duplicity's wrapper relies
  on to unwrap a temporary file's ``.file``.  As theirs does, the module
  works on its own duplicate of the descriptor, read at any offset
  (``pread``, without moving the file's position).
- Failures of librsync raise :class:`librsyncError` (which the wrappers
  catch and re-raise as their own ``librsyncError``); it is also a
  :class:`~librsync.LibrsyncError`, with ``.code``.
- Both tools' constant names are here: ``RSM_JOB_BLOCKSIZE``
  (rdiff-backup), ``RS_JOB_BLOCKSIZE`` (duplicity), ``RS_DEFAULT_BLOCK_LEN``,
  and duplicity's :func:`get_version`.

Memory stays bounded whatever the input: each ``cycle`` takes at most
64 KiB of input, and a patch splits COPY commands so that no call produces
more than 64 KiB, however long a COPY the delta asks for.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import types
from typing import Optional, Union

from . import _format, _rsync
from .exceptions import RS_IO_ERROR, LibrsyncError

__all__ = [
    "new_sigmaker",
    "new_deltamaker",
    "new_patchmaker",
    "get_version",
    "librsyncError",
    "SignatureMaker",
    "DeltaMaker",
    "PatchMaker",
    "RS_DEFAULT_BLOCK_LEN",
    "RSM_JOB_BLOCKSIZE",
    "RS_JOB_BLOCKSIZE",
    "TOOLS",
    "install",
]

#: The most output one ``cycle()`` returns (and input it takes): their C
#: module's output buffer, 64 KiB.
RS_JOB_BLOCKSIZE = 65536
#: The same, under rdiff-backup's name.
RSM_JOB_BLOCKSIZE = RS_JOB_BLOCKSIZE
#: librsync's default block length, 2048, the wrappers' default for
#: ``new_sigmaker``.
RS_DEFAULT_BLOCK_LEN = _rsync.RS_DEFAULT_BLOCK_LEN

#: The tools whose ``_librsync`` :func:`install` replaces, by package name.
TOOLS = ("rdiff_backup", "duplicity")

# Their signatures: MD4 with 8-byte strong sums, whatever librsync defaults to.
_SIG_MAGIC = _rsync.RS_MD4_SIG_MAGIC
_SIG_STRONG_LEN = 8

_Buffer = Union[bytes, bytearray, memoryview]


class librsyncError(LibrsyncError):  # noqa: N801 -- their module's name
    """A librsync failure inside a maker (corrupt or truncated signature or
    delta, unreadable basis).

    ``str(err)`` starts as their module's message does, ``librsync error
    CODE while in WHERE``, followed by librsync's most specific text;
    ``code`` and ``message`` are as in :class:`~librsync.LibrsyncError`, and
    ``where`` names the step (``"patch cycle"``, ...).  The original
    exception is its ``__cause__``.
    """

    def __init__(self, code: int, message: Optional[str] = None, where: str = "") -> None:
        super().__init__(code, message)
        self.where = where
        if where:
            self.args = (f"librsync error {self.code} while in {where}: {self.message}",)

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return (type(self), (self.code, self.message, self.where))


def _wrap(exc: LibrsyncError, where: str) -> librsyncError:
    err = librsyncError(exc.code, exc.message, where)
    err.__cause__ = exc
    return err


def _input_view(inbuf: object) -> memoryview:
    # Their module parses with "y#": bytes-like, never str.
    if isinstance(inbuf, str):
        raise TypeError(f"cycle() argument must be a bytes-like object, not {type(inbuf).__name__}")
    try:
        return memoryview(inbuf).cast("B")  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"cycle() argument must be a bytes-like object, not {type(inbuf).__name__}") from None


class _Maker:
    """What the three makers share: a job of this package, and the output
    it has produced that no ``cycle()`` has returned yet."""

    _where = ""

    def __init__(self, job: _rsync._Job) -> None:
        self._job: Optional[_rsync._Job] = job
        self._out = memoryview(b"")   # output not yet returned
        self._ended = False           # the job has produced all its output
        self._failed: Optional[librsyncError] = None

    def _take_output(self, consumed: int) -> tuple[int, int, bytes]:
        out = bytes(self._out[:RS_JOB_BLOCKSIZE])
        self._out = self._out[RS_JOB_BLOCKSIZE:]
        done = self._ended and not len(self._out)
        if done:
            self._release()
        return int(done), consumed, out

    def _release(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.close()

    def _run(self, data: _Buffer, final: bool) -> int:
        """Feed the job; keep its output; return how many of ``data``'s bytes
        it used (all, except what follows a delta's END)."""
        job = self._job
        assert job is not None
        try:
            out = job.finish(data) if final else job.update(data)
        except LibrsyncError as exc:
            self._release()
            self._failed = _wrap(exc, self._where)
            raise self._failed from exc
        except BaseException:
            self._release()
            self._failed = librsyncError(RS_IO_ERROR, "an earlier call failed", self._where)
            raise
        used = len(data)
        if job.finished:
            self._ended = True
            used -= len(job.unused_data)
        self._out = memoryview(out)
        return used

    def cycle(self, inbuf: _Buffer) -> tuple[int, int, bytes]:
        """Feed ``inbuf`` (empty: the input has ended); return ``(done,
        bytes_consumed, out)`` with at most 64 KiB of output."""
        view = _input_view(inbuf)
        if self._failed is not None:
            # As a job of this package: a failed maker cannot go on.
            raise self._failed
        if len(self._out) or self._ended:
            # Output first: no new input until what is held has gone out.
            return self._take_output(0)
        if not len(view):
            self._run(b"", True)
            return self._take_output(0)
        chunk = view[:RS_JOB_BLOCKSIZE]
        return self._take_output(self._run(chunk, False))

    def __del__(self) -> None:
        # An abandoned maker frees its C job (and a patch its basis descriptor).
        try:
            self._release()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


class SignatureMaker(_Maker):
    """What :func:`new_sigmaker` returns: feed the old file, get its
    signature."""

    _where = "signature cycle"

    def __init__(self, blocklen: int) -> None:
        if not isinstance(blocklen, int) or isinstance(blocklen, bool):
            raise TypeError(f"block length must be an int, not {type(blocklen).__name__}")
        super().__init__(_rsync.SignatureJob(blocklen, _SIG_STRONG_LEN, _SIG_MAGIC))


class DeltaMaker(_Maker):
    """What :func:`new_deltamaker` returns: feed the new file, get its delta
    against the signature."""

    _where = "delta cycle"

    def __init__(self, sig: _Buffer) -> None:
        view = _input_view(sig)
        try:
            loader = _rsync.LoadSignatureJob()
            loader.finish(view)
            signature = loader.signature
        except LibrsyncError as exc:
            raise _wrap(exc, "delta rs_signature_t builder") from exc
        super().__init__(_rsync.DeltaJob(signature))


def _file_descriptor(obj: object) -> int:
    """PyObject_AsFileDescriptor's rules: an int, or ``fileno()`` returning one."""
    if isinstance(obj, int) and not isinstance(obj, bool):
        fd = obj
    else:
        fileno = getattr(obj, "fileno", None)
        if fileno is None:
            raise TypeError("no fileno()")
        fd = fileno()
        if not isinstance(fd, int) or isinstance(fd, bool):
            raise TypeError("fileno() did not return an int")
    if fd < 0:
        raise ValueError("negative file descriptor")
    return fd


class PatchMaker(_Maker):
    """What :func:`new_patchmaker` returns: feed a delta, get the new file.

    The delta's commands are followed as they arrive, only far enough to
    know how much output each produces: a COPY longer than what one call
    may return is handed to the job as several shorter COPYs, so every
    ``cycle()`` stays within 64 KiB of output.  librsync itself checks and
    applies every command."""

    _where = "patch cycle"

    def __init__(self, basis_file: object) -> None:
        try:
            fd = _file_descriptor(basis_file)
        except (TypeError, ValueError, OSError, AttributeError):
            raise TypeError("Need true file object") from None
        try:
            own = os.dup(fd)
        except OSError as exc:
            raise _wrap(LibrsyncError(RS_IO_ERROR, str(exc)), "new_patchmaker") from exc
        # Our own descriptor, closed by the job when it ends: the caller may
        # close its file object whenever it likes, as with their module.
        basis = open(own, "rb", buffering=0)  # noqa: SIM115 - the job closes it
        try:
            job = _rsync.PatchJob(basis, fd=own, close_basis=True)
        except BaseException:
            basis.close()
            raise
        super().__init__(job)
        self._basis_file = basis_file  # kept alive, as their module does
        self._head = 4                 # bytes of the magic still to pass on
        self._cmd = bytearray()        # a command's opcode and parameters, so far
        self._literal = 0              # literal bytes still to come
        self._raw = False              # after END or an unknown opcode: librsync decides
        self._copy_pos = 0             # the rest of a COPY being split
        self._copy_left = 0

    def cycle(self, inbuf: _Buffer) -> tuple[int, int, bytes]:
        """Feed ``inbuf`` (empty: the delta has ended); return ``(done,
        bytes_consumed, out)`` with at most 64 KiB of output."""
        view = _input_view(inbuf)
        if self._failed is not None:
            # As a job of this package: a failed maker cannot go on.
            raise self._failed
        if len(self._out) or self._ended:
            return self._take_output(0)
        if not len(view) and not self._copy_left:
            # The end of the delta: anything held is passed on, and librsync
            # says whether the delta was complete.
            self._run(bytes(self._cmd), True)
            self._cmd.clear()
            return self._take_output(0)
        feed, consumed = self._plan(view)
        used = self._run(b"".join(feed), False)
        if self._ended:
            # The delta's END came in this call: what followed it is not
            # consumed (it was all fed from ``view``, after everything held).
            consumed -= sum(len(piece) for piece in feed) - used
        return self._take_output(consumed)

    def _plan(self, view: memoryview) -> tuple[list[bytes], int]:
        """The delta bytes to give the job for at most 64 KiB of output, and
        how many bytes of ``view`` they take."""
        feed: list[bytes] = []
        budget = RS_JOB_BLOCKSIZE
        i, n = 0, len(view)
        commands = _format.COMMANDS
        while budget:
            if self._copy_left:
                take = min(self._copy_left, budget)
                feed.append(_format.encode_copy(self._copy_pos, take))
                self._copy_pos += take
                self._copy_left -= take
                budget -= take
                continue
            if i == n:
                break
            if self._raw:
                feed.append(bytes(view[i:]))
                i = n
            elif self._head:
                take = min(self._head, n - i)
                feed.append(bytes(view[i:i + take]))
                self._head -= take
                i += take
            elif self._literal:
                take = min(self._literal, n - i, budget)
                feed.append(bytes(view[i:i + take]))
                self._literal -= take
                budget -= take
                i += take
            else:
                if not self._cmd:
                    self._cmd.append(view[i])
                    i += 1
                entry = commands[self._cmd[0]]
                if entry is None:
                    # END, or an opcode librsync will refuse: from here on
                    # the bytes go to it as they are.
                    feed.append(bytes(self._cmd))
                    self._cmd.clear()
                    self._raw = True
                    continue
                kind, immediate, w1, w2 = entry
                take = min(1 + w1 + w2 - len(self._cmd), n - i)
                self._cmd += view[i:i + take]
                i += take
                if len(self._cmd) < 1 + w1 + w2:
                    break  # the rest of the command comes in a later call
                params = bytes(self._cmd[1:])
                header = bytes(self._cmd)
                self._cmd.clear()
                if kind == _format.LITERAL:
                    feed.append(header)
                    self._literal = int.from_bytes(params, "big") if w1 else immediate
                    continue
                pos = int.from_bytes(params[:w1], "big")
                length = int.from_bytes(params[w1:], "big")
                if length <= budget or pos >= 1 << 63 or length >= 1 << 63:
                    # Short enough, or values librsync reads as negative and
                    # refuses: as it came.
                    feed.append(header)
                    budget -= min(length, budget)
                else:
                    self._copy_pos, self._copy_left = pos, length
        return feed, i


def new_sigmaker(blocklen: int) -> SignatureMaker:
    """A maker of the signature of the data fed to its ``cycle()``: MD4,
    8-byte strong sums, ``blocklen``-byte blocks."""
    return SignatureMaker(blocklen)


def new_deltamaker(sig: _Buffer) -> DeltaMaker:
    """A maker of the delta of the data fed to its ``cycle()`` against
    ``sig``, a whole signature as one bytes-like object.

    :raises librsyncError: the signature is corrupt or truncated.
    """
    return DeltaMaker(sig)


def new_patchmaker(basis_file: object) -> PatchMaker:
    """A maker of the new file from ``basis_file`` (the old one: a real
    file object, or a file descriptor) and the delta fed to its ``cycle()``.

    :raises TypeError: ``"Need true file object"``, for anything without a
        file descriptor.
    """
    return PatchMaker(basis_file)


def get_version() -> str:
    """The compiled-in librsync's version, as duplicity's module gives it
    (``"librsync 2.3.4"``)."""
    return f"librsync {_rsync.LIBRSYNC_VERSION}"


# What their C module defines, and so what a tool's ``_librsync`` holds.
_SURFACE = ("new_sigmaker", "new_deltamaker", "new_patchmaker", "get_version",
            "librsyncError", "RS_DEFAULT_BLOCK_LEN", "RSM_JOB_BLOCKSIZE", "RS_JOB_BLOCKSIZE")


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``<tool>._librsync`` for the installed tools as a module of
    this module's functions, before any other finder can find the tool's
    own.  A module of its own per tool, made by the import system, so that
    it is also an attribute of the tool's package, as theirs would be."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname not in self.names:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default module

    def exec_module(self, module: types.ModuleType) -> None:
        this = sys.modules[__name__]
        module.__doc__ = f"rdiff-backup's and duplicity's _librsync, from {__name__}."
        for name in _SURFACE:
            setattr(module, name, getattr(this, name))


_finder = _Finder()


def install(*tools: str) -> None:
    """Make rdiff-backup and duplicity (or only the ``tools`` named, from
    :data:`TOOLS`) import this module's makers as their ``_librsync``.

    It adds an import hook for ``rdiff_backup._librsync`` and
    ``duplicity._librsync`` ahead of all others, so it must run before the
    tool imports its ``librsync.py``: at the start of a program, or for the
    tools' own commands from a ``.pth`` file in their environment's
    site-packages holding the one line
    ``import librsync.compat; librsync.compat.install()``.  A C module of
    theirs that is installed too is then never loaded.  Calling it again is
    harmless.

    :raises ValueError: a name not in :data:`TOOLS`.
    :raises RuntimeError: the tool's ``librsync.py`` is already imported
        with its own ``_librsync``: too late to replace it.
    """
    for tool in tools or TOOLS:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}: expected one of {', '.join(TOOLS)}")
    for tool in tools or TOOLS:
        name = f"{tool}._librsync"
        current = sys.modules.get(name)
        if current is not None and getattr(current, "__loader__", None) is not _finder:
            wrapper = sys.modules.get(f"{tool}.librsync")
            if wrapper is not None and getattr(wrapper, "_librsync", None) is current:
                raise RuntimeError(
                    f"{tool}.librsync is already imported with its own _librsync; "
                    f"call librsync.compat.install() before importing {tool}")
            # Their module, imported but not yet used: forget it.
            del sys.modules[name]
            parent = sys.modules.get(tool)
            if getattr(parent, "_librsync", None) is current:
                delattr(parent, "_librsync")
        _finder.names.add(name)
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
