"""Directory trees: bring a destination tree up to date with a source tree.

``sync_tree(src, dst)`` does it locally.  For two machines the same work is
split in three steps, each reading and writing one binary stream, so that
only a signature stream travels one way and a delta stream the other::

    # on the destination's machine
    tree_signature(dst_dir, out)                  # -> signature stream
    # on the source's machine
    tree_delta(src_dir, sig_stream, out)          # -> delta stream
    # back on the destination's machine
    tree_patch(dst_dir, delta_stream)             # -> TreeStats

``sync_tree`` is exactly these three steps joined by pipes, one thread each,
so memory stays bounded by buffers, one directory listing per level of
depth and one loaded signature at a time, whatever the tree's size.

What is synced: regular files (content, permission bits, mtime), directories
(permission bits, mtime; empty ones too), symbolic links (their target, as
it is, and their mtime where the platform can set it).  Other kinds of
entries (sockets, FIFOs, devices) are skipped.  Owners, setuid/setgid/sticky
bits, hard links, ACLs and extended attributes are not transferred: a stream
from a peer must not be able to create setuid programs.  A file is
*unchanged* when its size and mtime match (``checksum=False``) or its
BLAKE2b-256 digest and size match (``checksum=True``); it is then not
rewritten (its inode is kept) and only its metadata is updated.

Safety of :func:`tree_patch`, whatever the stream holds:

- every name is one path component, checked before it is used: no ``/``,
  ``\\``, NUL, ``.``, ``..`` or empty names (:class:`UnsafePathError`), and
  on Windows no drive letters, alternate data streams or device names;
- directories are opened without following symbolic links (``O_NOFOLLOW``
  with directory descriptors where the platform has them, ``lstat`` checks
  otherwise): a stream that leads through a symlink in the destination is
  refused with :class:`UnsafePathError`, and nothing outside the destination
  is read, written or removed;
- every file is written to a temporary file in its directory (an unnamed
  ``O_TMPFILE`` one on Linux, so that even a killed process leaves nothing
  behind), checked against the BLAKE2b-256 digest and size the stream gives
  for it, flushed to disk, given its permission bits and mtime, and only then
  renamed over the old file.  A truncated or corrupt stream raises a
  :class:`~librsync.LibrsyncError` (``InputEndedError``, ``CorruptDataError``)
  and the file being written is left as it was; files already completed stay
  completed, so running the sync again finishes the job.  Temporary files
  left by a killed process (named ``.lrsync-tree.<24 hex digits>.tmp``) are
  removed by the next ``tree_patch`` of their directory, and never synced;
- every length in the stream is checked against a bound before anything is
  allocated, and a delta may not make a file larger than the size announced
  for it, nor than four times its old version plus one signature block per
  byte of delta plus 1 MiB; paths stay under 4,096 bytes;
- an entry is removed only with ``delete=True``, or to put an entry of
  another type in its place.

:func:`tree_signature` reads the tree through directory descriptors (each
subdirectory opened with ``O_NOFOLLOW``, its device and inode checked
against the listing), so it stays inside the tree even while a hostile
stream is applied to the same tree (a pull, a serve receiver).

Stream format (version 2)
-------------------------

Both streams have one format: the 8-byte magic ``b"LRSTREE\\x01"`` (the
last byte is the format version), then records, each framed as::

    type: u8 | length: u32 | body: <length> bytes | crc: u32

All integers are big-endian; ``crc`` is the CRC-32 (zlib's) of type, length
and body.  A reader refuses unknown types, a length above the type's limit
(entries: 5,134 bytes, data chunks: 1 MiB) and a bad CRC
(``CorruptDataError``), and an early end of input (``InputEndedError``).

Entry records (``D F N P U L X``) share one body layout::

    mode: u32 | mtime_ns: i64 | name_len: u16 | name: <name_len> bytes | tail

``mode`` holds permission bits only (``0o777``), ``mtime_ns`` is
nanoseconds since the epoch, ``name`` is one path component (raw bytes of
the file system's name; empty only for the root).

=====  ===========  =========================================================
type   in stream    meaning, and tail
=====  ===========  =========================================================
``H``  both         header, always the first record; body: kind (``S``
                    signature or ``D`` delta), flags (bit 0 ``delete``,
                    informational; bit 1 ``checksum``: in a signature
                    stream, the ``E`` records carry the files' digests,
                    which only ``checksum=True`` compares; without it their
                    digest is 32 zero bytes)
``D``  both         enter a directory; no tail.  The second record is the
                    root's ``D`` (empty name).  Entries up to the matching
                    ``Q`` are inside it, in increasing byte order of name
``Q``  both         leave the current directory (the patch sets its mode and
                    mtime now, after its contents); empty body
``F``  signature    a regular file of the destination; tail: size u64.
                    Followed by ``C`` records holding its librsync signature
                    (RabinKarp + BLAKE2, rdiff's default block size) and an
                    ``E`` record
``N``  delta        a new file sent whole; tail: size u64 (an upper bound).
                    Followed by ``C`` records of content and an ``E`` record
``P``  delta        a changed file; tail: size u64 (an upper bound).
                    Followed by ``C`` records holding a librsync delta
                    against the destination's file, and an ``E`` record
``U``  delta        an unchanged file (tail: size u64, which the destination
                    file must have); only mode and mtime are applied
``L``  both         a symbolic link; tail: its target (1..4096 bytes, no NUL)
``X``  delta        remove this entry (recursively), with ``delete=True`` or
                    before an entry of another type takes its name; mode and
                    mtime are 0, no tail.  Only an ``X`` may be followed by
                    an entry of the same name
``C``  both         a chunk of file data (at most 1 MiB; writers use 256 KiB)
``E``  both         end of a file's data: size u64 and BLAKE2b-256 (32
                    bytes) of the file's whole content (the new file in a
                    delta stream; the destination's file in a signature
                    stream, if its header has the ``checksum`` flag).  A patched file whose size or digest differ is
                    not renamed into place: ``CorruptDataError``
``Z``  both         end of stream, after the root's ``Q``: the number of
                    records before it, u64
=====  ===========  =========================================================

Version 1 differed only in signature streams: every ``E`` record carried a
digest, which cost a BLAKE2b pass over every destination file that only
``checksum=True`` needs.  A stream of another version is refused
(``BadMagicError``, naming both versions).

Directories nest at most :data:`MAX_DEPTH` levels below the root
(``LimitExceededError`` beyond), a name is at most 1,024 bytes, and a
signature may describe at most 4,194,304 blocks (files up to about 16 TiB
with the default block sizes).  Readers read exactly up to the end of the
``Z`` record, so a stream may be followed by other data on the same
connection.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import io
import math
import os
import queue
import re
import secrets
import stat
import struct
import threading
import time
import zlib
from typing import (Any, Callable, Iterable, Iterator, List, NamedTuple, NoReturn, Optional,
                    Protocol, Tuple, Union)

from . import _api, _files, _parallel

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; temporaries are swept by name
    fcntl = None  # type: ignore[assignment]
from .exceptions import (
    RS_BAD_MAGIC,
    RS_CORRUPT,
    RS_INPUT_ENDED,
    BadMagicError,
    CorruptDataError,
    InputEndedError,
    LimitExceededError,
)

__all__ = [
    "sync_tree",
    "tree_signature",
    "tree_delta",
    "tree_patch",
    "TreeStats",
    "UnsafePathError",
    "FORMAT_VERSION",
    "MAGIC",
    "MAX_DEPTH",
]

#: Version of the stream format this module writes and reads.
FORMAT_VERSION = 2
#: The first bytes of every tree stream (signature or delta).
MAGIC = b"LRSTREE" + bytes([FORMAT_VERSION])
#: How many directory levels below the root a stream may nest.  One open
#: directory descriptor per level is held while patching, so this stays well
#: below the smallest common descriptor limit (256 on macOS).
MAX_DEPTH = 128

_CHUNK = 256 * 1024          # file data per C record, when writing
_MAX_CHUNK = 1 << 20          # ... when reading: what a reader accepts
_MAX_NAME = 1024              # NTFS allows 255 UTF-16 units: up to 765 UTF-8 bytes
_MAX_TARGET = 4096            # PATH_MAX on Linux
#: The longest path (destination root included) a patch creates: PATH_MAX
#: less one.  Deeper paths would work here (every step is relative to a
#: directory descriptor) but not in the tools a user then reaches for.
_MAX_PATH = 4095
#: What a delta may make of an old file: at most _EXPANSION_OLD times the
#: old file, plus one signature block per byte of delta (a COPY command of a
#: few bytes honestly repeats one block), plus _EXPANSION_SLACK.  Without a
#: bound a few kilobytes of COPY commands could fill a disk.
_EXPANSION_OLD = 4
_EXPANSION_SLACK = 1 << 20
_MAX_SIG_BLOCKS = 1 << 22     # ~16 TiB files at rdiff's block sizes; ~230 MiB loaded
_DIGEST = 32
_FLUSH_AT = 256 * 1024
#: Files at least this big get their digest computed in a helper thread
#: (overlapping the job's work on the next chunk) and, with ``threads`` > 1,
#: their signature or delta computed in that many threads.  Below it the
#: thread hand-offs cost more than they save.
_BIG_FILE = 8 << 20
_NO_DIGEST = bytes(_DIGEST)
_FLAG_DELETE, _FLAG_CHECKSUM = 1, 2

_H, _D, _Q, _F, _N, _P, _U, _L, _X, _C, _E, _Z = (ord(c) for c in "HDQFNPULXCEZ")
_REC = struct.Struct(">BI")
_CRC = struct.Struct(">I")
_ENTRY = struct.Struct(">IqH")
_U64 = struct.Struct(">Q")
_FILE_END = struct.Struct(">Q32s")
_ENTRY_MAX = _ENTRY.size + _MAX_NAME + _MAX_TARGET
_LIMITS = {_H: 2, _Q: 0, _E: _FILE_END.size, _Z: _U64.size, _C: _MAX_CHUNK,
           **{k: _ENTRY_MAX for k in (_D, _F, _N, _P, _U, _L, _X)}}
_EXACT = {_H: 2, _Q: 0, _E: _FILE_END.size, _Z: _U64.size}
_SIZED = (_F, _N, _P, _U)
_KIND_SIGNATURE, _KIND_DELTA = ord("S"), ord("D")
_STREAM_NAMES = {_KIND_SIGNATURE: "tree signature stream", _KIND_DELTA: "tree delta stream"}

_O_BINARY = getattr(os, "O_BINARY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
#: Directory descriptors make every step of the patch relative to a directory
#: already opened without following links, which no later rename of a parent
#: can redirect.  Where they are missing (Windows) paths are checked with
#: lstat instead.
_DIR_FDS = bool(
    _O_DIRECTORY and _O_NOFOLLOW
    and all(f in os.supports_dir_fd for f in (
        os.open, os.stat, os.mkdir, os.unlink, os.rmdir, os.rename, os.symlink, os.link))
    and os.scandir in os.supports_fd and os.chmod in os.supports_fd
    and os.utime in os.supports_fd)
#: Unnamed temporary files, linked into place once complete (Linux): a process
#: killed while writing leaves nothing behind.
_ANON_TEMPS = bool(_DIR_FDS and _O_TMPFILE and os.path.isdir("/proc/self/fd"))
_UTIME_NOFOLLOW = os.utime in os.supports_follow_symlinks
_WINDOWS = os.name == "nt"
_TEMP_RE = re.compile(r"\.lrsync-tree\.[0-9a-f]{24}\.tmp\Z")
_WIN_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[0-9\xb9\xb2\xb3]|"
                           r"LPT[0-9\xb9\xb2\xb3])(\..*)?\Z", re.IGNORECASE)

#: A directory: a str path or an os.PathLike of one (pathlib.Path).
StrPath = Union[str, "os.PathLike[str]"]


class _BinaryReader(Protocol):
    def read(self, size: int, /) -> bytes: ...


class _BinaryWriter(Protocol):
    def write(self, data: bytes, /) -> object: ...


#: What the steps read a stream from: a binary file object (read exactly up
#: to the stream's end), the whole stream as a bytes-like object, or an
#: iterable of bytes-like chunks (a socket reader's generator, say).
StreamIn = Union[_BinaryReader, bytes, bytearray, memoryview, Iterable[bytes]]


class UnsafePathError(CorruptDataError):
    """A tree stream names a path that would leave the destination: a name
    holding a separator, NUL, ``.`` or ``..``, or a path through a symbolic
    link in the destination.  Nothing was done for that entry, nor outside
    the destination."""

    def __init__(self, message: Optional[str] = None, code: int = RS_CORRUPT) -> None:
        super().__init__(code, message)

    def __reduce__(self) -> Tuple[type, Tuple[object, ...]]:
        return (type(self), (self.message, self.code))


@dataclasses.dataclass
class TreeStats:
    """What a tree step did (or, with ``dry_run``, would do).

    ``files`` counts the regular files of the tree described: the
    destination's for :func:`tree_signature`, the source's otherwise (then
    ``files_new + files_changed + files_unchanged``).  ``deleted`` counts
    entries removed (each file, link and directory of a removed directory).
    ``dirs`` and ``symlinks`` count the tree's directories (not the root) and
    links.  ``file_bytes`` is the size of the tree's files, ``literal_bytes``
    what had to be sent as data (new files, and the literal parts of
    deltas), ``copied_bytes`` what deltas reused from the old files.
    ``signature_bytes`` and ``delta_bytes`` are the sizes of the streams this
    step wrote or read (``sync_tree`` fills in both).
    """

    files: int = 0
    files_new: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    deleted: int = 0
    symlinks: int = 0
    dirs: int = 0
    file_bytes: int = 0
    literal_bytes: int = 0
    copied_bytes: int = 0
    signature_bytes: int = 0
    delta_bytes: int = 0
    dry_run: bool = False

    def __repr__(self) -> str:
        dry = ", dry_run=True" if self.dry_run else ""
        return (f"TreeStats(files={self.files} (new={self.files_new}, "
                f"changed={self.files_changed}, unchanged={self.files_unchanged}), "
                f"deleted={self.deleted}, symlinks={self.symlinks}, dirs={self.dirs}, "
                f"file_bytes={self.file_bytes}, literal_bytes={self.literal_bytes}, "
                f"copied_bytes={self.copied_bytes}, signature_bytes={self.signature_bytes}, "
                f"delta_bytes={self.delta_bytes}{dry})")


# --- names -------------------------------------------------------------------------

def _corrupt(message: str) -> CorruptDataError:
    return CorruptDataError(RS_CORRUPT, message)


def _shown(rel: str, name: bytes) -> str:
    return (rel + "/" if rel else "") + name.decode("utf-8", "backslashreplace")


def _check_name(name: bytes, rel: str) -> None:
    """Refuse what is not one plain path component, on every platform: a
    stream made on one system may be applied on another."""
    if not name:
        raise _corrupt(f"an entry of {rel or 'the root'!r} has an empty name")
    if len(name) > _MAX_NAME:
        raise _corrupt(f"a name of {len(name)} bytes in {rel or 'the root'!r} "
                       f"(the limit is {_MAX_NAME})")
    if name in (b".", b".."):
        raise UnsafePathError(f"the name {name!r} in {rel or 'the root'!r} "
                              "would leave its directory")
    for bad, what in ((b"/", "a '/'"), (b"\\", "a '\\'"), (b"\0", "a NUL byte")):
        if bad in name:
            raise UnsafePathError(f"the name {name!r} in {rel or 'the root'!r} holds "
                                  f"{what}: names must be single path components")


def _windows_name_problem(name: str) -> Optional[str]:
    """Why Windows would not store ``name`` as the plain file name it reads as
    (a drive letter or alternate data stream after ':', a device name, a
    trailing dot or space that it drops), or None."""
    if ":" in name:
        return "a ':' (a drive letter or an alternate data stream)"
    if any(c in name for c in '<>"|?*') or any(ord(c) < 32 for c in name):
        return "a character Windows does not allow in names"
    if name[-1:] in (".", " "):
        return "a trailing dot or space, which Windows drops"
    if _WIN_RESERVED.match(name):
        return "a device name"
    return None


def _local_name(name: bytes, rel: str, target: bool = False) -> str:
    """The name (or a symlink's target) as this platform's os functions take
    it."""
    try:
        text = os.fsdecode(name)
    except UnicodeDecodeError:  # Windows: names are UTF-8 in the stream
        raise _corrupt(f"the name {name!r} in {rel or 'the root'!r} is not UTF-8") from None
    if _WINDOWS and not target:
        problem = _windows_name_problem(text)
        if problem:
            raise UnsafePathError(f"the name {name!r} in {rel or 'the root'!r} holds {problem}")
    return text


# --- writing a stream ----------------------------------------------------------------

class _Writer:
    """Frames records onto a binary file object, in batches."""

    def __init__(self, out: object, what: str) -> None:
        if _files.as_buffer(out) is not None:
            raise TypeError(f"{what} must be a binary file object open for writing, "
                            "not a bytes-like object")
        _files.check_writer(out, what)
        self._out = out
        self._write = _files._writer_for(out)
        self._buf = bytearray(MAGIC)
        self._pending = bytearray()  # file data not yet in a C record
        self.nbytes = 0
        self.records = 0

    def record(self, kind: int, body: Union[bytes, bytearray, memoryview] = b"") -> None:
        head = _REC.pack(kind, len(body))
        buf = self._buf
        buf += head
        buf += body
        buf += _CRC.pack(zlib.crc32(body, zlib.crc32(head)))
        self.records += 1
        if len(buf) >= _FLUSH_AT:
            self._drain()

    def entry(self, kind: int, name: bytes, mode: int = 0, mtime: int = 0,
              tail: bytes = b"") -> None:
        self.record(kind, _ENTRY.pack(mode, mtime, len(name)) + name + tail)

    def data(self, view: memoryview) -> None:
        """A file's data, cut into C records of _CHUNK bytes whatever the
        sizes of the writes (a threaded job writes in other steps than one
        thread): the stream depends on the data only."""
        pending = self._pending
        if pending:
            take = _CHUNK - len(pending)
            pending += view[:take]
            view = view[take:]
            if len(pending) < _CHUNK:
                return
            self.record(_C, pending)
            pending.clear()
        whole = len(view) - len(view) % _CHUNK
        for i in range(0, whole, _CHUNK):
            self.record(_C, view[i:i + _CHUNK])
        if whole < len(view):
            pending += view[whole:]

    def end_file(self, size: int, digest: bytes) -> None:
        if self._pending:
            self.record(_C, self._pending)
            self._pending.clear()
        self.record(_E, _FILE_END.pack(size, digest))

    def close(self) -> None:
        """Write the end record and flush everything to the file object."""
        self.record(_Z, _U64.pack(self.records))
        self._drain()
        flush = getattr(self._out, "flush", None)
        if flush is not None:
            flush()

    def _drain(self) -> None:
        if self._buf:
            with memoryview(self._buf) as view:
                self._write(view)
            self.nbytes += len(self._buf)
            self._buf = bytearray()


# --- reading a stream ----------------------------------------------------------------

class _Reader:
    """Reads records from a stream in any of the StreamIn kinds, never more
    than the record being read (so nothing after the stream is consumed)."""

    def __init__(self, src: object, what: str) -> None:
        self._what = what
        self._read: Optional[Callable[[int], object]] = None
        self._chunks: Optional[Iterator[object]] = None
        self._pending = bytearray()
        if isinstance(src, (str, os.PathLike)):
            raise TypeError(f"{what} must be an open binary file, bytes or an iterable "
                            f"of bytes, not a path ({src!r}); open it first")
        if isinstance(src, io.TextIOBase):
            raise TypeError(f"{what} must be opened in binary mode, not text mode")
        view = _files.as_buffer(src)
        if view is not None:
            self._chunks = iter([view])
        elif hasattr(src, "read"):
            self._read = getattr(src, "read")
        else:
            try:
                self._chunks = iter(src)  # type: ignore[call-overload]
            except TypeError:
                raise TypeError(f"{what} must be a binary file object, bytes or an "
                                f"iterable of bytes, not {type(src).__name__}") from None
        self.nbytes = 0
        self.records = 0

    def exact(self, n: int) -> bytes:
        """The next ``n`` bytes; InputEndedError if the stream ends first."""
        if self._read is not None:
            parts: List[bytes] = []
            got = 0
            while got < n:
                want = n - got
                part = self._read(want)
                if part is None:
                    raise BlockingIOError(f"the {self._what} is non-blocking and has no "
                                          "data ready")
                if not isinstance(part, (bytes, bytearray)):
                    raise TypeError(f"read() of the {self._what} returned "
                                    f"{type(part).__name__}, not bytes")
                if not part:
                    self._ended(got)
                if len(part) > want:
                    raise OSError(f"read({want}) of the {self._what} returned "
                                  f"{len(part)} bytes")
                parts.append(bytes(part))
                got += len(part)
            data = parts[0] if len(parts) == 1 else b"".join(parts)
        else:
            assert self._chunks is not None
            pending = self._pending
            while len(pending) < n:
                chunk = next(self._chunks, None)
                if chunk is None:
                    self._ended(len(pending))
                view = _files.as_buffer(chunk)
                if view is None:
                    raise TypeError(f"the {self._what} yielded {type(chunk).__name__}, "
                                    "not a bytes-like object")
                with view:
                    pending += view
            data = bytes(pending[:n])
            del pending[:n]
        self.nbytes += n
        return data

    def _ended(self, got: int) -> NoReturn:
        raise InputEndedError(RS_INPUT_ENDED, f"the {self._what} ended after "
                              f"{self.nbytes + got} bytes, inside a record or before "
                              "its end record")

    def record(self) -> Tuple[int, bytes]:
        """The next record's (type, body), checked against its limits and CRC."""
        offset = self.nbytes
        head = self.exact(_REC.size)
        kind, n = _REC.unpack(head)
        limit = _LIMITS.get(kind)
        if limit is None:
            raise _corrupt(f"unknown record type {kind:#04x} at offset {offset} of the "
                           f"{self._what}")
        if n > limit or (kind in _EXACT and n != _EXACT[kind]):
            raise _corrupt(f"a {chr(kind)!r} record of {n} bytes at offset {offset} of the "
                           f"{self._what} (the limit is {limit})")
        body = self.exact(n)
        (crc,) = _CRC.unpack(self.exact(_CRC.size))
        if zlib.crc32(body, zlib.crc32(head)) != crc:
            raise _corrupt(f"checksum mismatch in the {chr(kind)!r} record at offset "
                           f"{offset} of the {self._what}")
        self.records += 1
        return kind, body

    def header(self, kind: int) -> int:
        """Read the magic and the header record; the stream must be ``kind``.
        Returns the header's flags."""
        magic = self.exact(len(MAGIC))
        if magic[:-1] != MAGIC[:-1]:
            raise BadMagicError(RS_BAD_MAGIC, f"the {self._what} is not a librsync tree "
                                f"stream (it starts with {magic!r})")
        if magic[-1] != FORMAT_VERSION:
            raise BadMagicError(RS_BAD_MAGIC, f"the {self._what} has format version "
                                f"{magic[-1]}; this library reads version {FORMAT_VERSION}")
        rkind, body = self.record()
        if rkind != _H:
            raise _corrupt(f"the {self._what} does not start with its header record")
        if body[0] != kind:
            got = _STREAM_NAMES.get(body[0], f"a stream of kind {body[0]:#04x}")
            raise BadMagicError(RS_BAD_MAGIC, f"expected a {_STREAM_NAMES[kind]} but got "
                                f"{'a ' if body[0] in _STREAM_NAMES else ''}{got}")
        return body[1]

    def root(self) -> _Entry:
        kind, body = self.record()
        if kind != _D:
            raise _corrupt(f"the {self._what} does not describe its root directory first")
        entry = _parse_entry(kind, body, "", root=True)
        if entry.name:
            raise _corrupt(f"the root of the {self._what} has a name ({entry.name!r})")
        return entry

    def end(self) -> None:
        kind, body = self.record()
        if kind != _Z:
            raise _corrupt(f"a {chr(kind)!r} record after the root directory of the "
                           f"{self._what}")
        (count,) = _U64.unpack(body)
        if count != self.records - 1:
            raise _corrupt(f"the {self._what} holds {self.records - 1} records but its end "
                           f"record counts {count}: records were lost or added")


class _Entry(NamedTuple):
    kind: int
    name: bytes
    mode: int
    mtime: int
    size: int = 0
    target: bytes = b""


def _parse_entry(kind: int, body: bytes, rel: str, root: bool = False) -> _Entry:
    if len(body) < _ENTRY.size:
        raise _corrupt(f"a {chr(kind)!r} record of {len(body)} bytes in {rel or 'the root'!r}"
                       " is too short for an entry")
    mode, mtime, n = _ENTRY.unpack_from(body)
    end = _ENTRY.size + n
    if end > len(body):
        raise _corrupt(f"a name of {n} bytes runs past its {chr(kind)!r} record "
                       f"in {rel or 'the root'!r}")
    name = body[_ENTRY.size:end]
    if not root:
        _check_name(name, rel)
    if mode & ~0o777:
        raise _corrupt(f"{_shown(rel, name)!r}: mode {mode:#o} has bits other than "
                       "permission bits")
    tail = body[end:]
    size = 0
    target = b""
    if kind in _SIZED:
        if len(tail) != _U64.size:
            raise _corrupt(f"{_shown(rel, name)!r}: a {chr(kind)!r} record needs a size")
        (size,) = _U64.unpack(tail)
        if size >= 1 << 63:
            raise _corrupt(f"{_shown(rel, name)!r}: an impossible size, {size}")
    elif kind == _L:
        if not 0 < len(tail) <= _MAX_TARGET or b"\0" in tail:
            raise _corrupt(f"{_shown(rel, name)!r}: a symlink target must be 1 to "
                           f"{_MAX_TARGET} bytes without NUL")
        target = tail
    elif tail:
        raise _corrupt(f"{_shown(rel, name)!r}: {len(tail)} stray bytes in a "
                       f"{chr(kind)!r} record")
    return _Entry(kind, name, mode, mtime, size, target)


class _ChunkReader:
    """One file's data: the C records up to its E record, as a binary reader
    (for the driver's jobs) or as chunks."""

    def __init__(self, r: _Reader, rel: str) -> None:
        self._r = r
        self._rel = rel
        self._chunk = b""
        self._pos = 0
        self.delivered = 0
        self._end: Optional[Tuple[int, bytes]] = None

    def _next(self) -> bool:
        if self._end is not None:
            return False
        kind, body = self._r.record()
        if kind == _C:
            self._chunk, self._pos = body, 0
            return True
        if kind == _E:
            size, digest = _FILE_END.unpack(body)
            self._end = (size, digest)
            return False
        raise _corrupt(f"{self._rel!r}: a {chr(kind)!r} record inside the file's data")

    def readinto(self, buffer: memoryview) -> int:
        while self._pos >= len(self._chunk):
            if not self._next():
                return 0
        n = min(len(buffer), len(self._chunk) - self._pos)
        buffer[:n] = self._chunk[self._pos:self._pos + n]
        self._pos += n
        self.delivered += n
        return n

    def chunks(self) -> Iterator[bytes]:
        while True:
            if self._pos < len(self._chunk):
                chunk = self._chunk[self._pos:] if self._pos else self._chunk
                self._pos = len(self._chunk)
                self.delivered += len(chunk)
                yield chunk
            if not self._next():
                return

    def skip(self) -> Tuple[int, bytes]:
        """Read past the data; the file's (size, digest)."""
        for _ in self.chunks():
            pass
        assert self._end is not None
        return self._end

    def end(self, consumed: Optional[int] = None, what: str = "signature") -> Tuple[int, bytes]:
        """The file's (size, digest), once no data is left before its E
        record; ``consumed``: how much of what was delivered a job used."""
        if consumed is not None and consumed < self.delivered:
            raise _corrupt(f"{self._rel!r}: data after the end of the file's {what}")
        for chunk in self.chunks():
            if chunk:
                raise _corrupt(f"{self._rel!r}: data after the end of the file's {what}")
        assert self._end is not None
        return self._end


# --- reading the local trees -----------------------------------------------------------

class _Hasher:
    """BLAKE2b-256 of one file's bytes, fed in order.

    With ``threaded`` (the step was given ``threads`` > 1) and a big file
    (``size`` >= ``_BIG_FILE``) the hashing runs in a helper thread on
    copies of the chunks, so that it overlaps the job working on the next
    chunk (hashlib releases the GIL for large updates, as the jobs do).
    That pays only with a core to spare: on a busy 2-core machine an A/B of
    ``tree_delta`` measured it no faster (the copies cost what the overlap
    saves), so one thread (the default) hashes inline.  The bytes hashed
    are exactly the bytes the job saw, in order, either way.
    ``enabled=False`` hashes nothing (the digest is then zeros)."""

    def __init__(self, size: int, enabled: bool = True, threaded: bool = False) -> None:
        self._hash = hashlib.blake2b(digest_size=_DIGEST) if enabled else None
        self._queue: Optional["queue.Queue[Optional[bytes]]"] = None
        self._thread: Optional[threading.Thread] = None
        if enabled and threaded and size >= _BIG_FILE:
            # A few chunks in flight bound the memory held by the copies.
            self._queue = queue.Queue(maxsize=8)
            self._thread = threading.Thread(target=self._work, name="tree digest",
                                            daemon=True)
            self._thread.start()

    def _work(self) -> None:
        assert self._queue is not None and self._hash is not None
        update, get = self._hash.update, self._queue.get
        while True:
            chunk = get()
            if chunk is None:
                return
            update(chunk)

    def update(self, view: Union[bytes, memoryview]) -> None:
        if self._queue is not None:
            # A copy: the job reuses its buffer for the next chunk.
            self._queue.put(bytes(view))
        elif self._hash is not None:
            self._hash.update(view)

    def close(self) -> None:
        """Stop the helper thread (also after a failure: no thread is left
        waiting)."""
        if self._thread is not None:
            assert self._queue is not None
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def digest(self) -> bytes:
        self.close()
        return self._hash.digest() if self._hash is not None else _NO_DIGEST


class _Source:
    """A regular file read at most up to ``limit`` bytes, hashed on the way:
    what is sent of it and its digest describe the same bytes, even if the
    file changes while it is read.  ``digest=False``: not hashed (a
    signature stream made without ``checksum``)."""

    def __init__(self, f: io.FileIO, limit: Optional[int], size: int = 0,
                 digest: bool = True, threaded: bool = False) -> None:
        self._f = f
        self._left = -1 if limit is None else limit
        self._hash = _Hasher(size, digest, threaded)
        self.size = 0

    def readinto(self, buffer: memoryview) -> int:
        if self._left == 0:
            return 0
        view = buffer if self._left < 0 or len(buffer) <= self._left else buffer[:self._left]
        n = self._f.readinto(view) or 0
        if n:
            self._hash.update(view[:n])
            self.size += n
            if self._left > 0:
                self._left -= n
        return n

    def digest(self) -> bytes:
        return self._hash.digest()

    def close(self) -> None:
        self._hash.close()


def _open_regular(path: str, dir_fd: Optional[int] = None
                  ) -> Optional[Tuple[io.FileIO, os.stat_result]]:
    """Open a regular file for reading (``path`` relative to ``dir_fd`` when
    given), or None if it vanished or is now something else: never through a
    symlink (O_NOFOLLOW), and O_NONBLOCK so that a FIFO put in its place
    cannot hang us."""
    try:
        fd = os.open(path, os.O_RDONLY | _O_BINARY | _O_CLOEXEC | _O_NOFOLLOW | _O_NONBLOCK,
                     dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            return None
        return io.FileIO(fd, "rb"), st
    except BaseException:
        os.close(fd)
        raise


def _listdir(path: Union[str, int], rel: str, shown: Optional[str] = None
             ) -> List[Tuple[bytes, str, os.stat_result]]:
    """A directory's directories, files and links, sorted by the bytes of their
    names (the order both streams use).  ``path`` is a path or an open
    directory descriptor (then ``shown`` is its path, for messages)."""
    where = shown if shown is not None else str(path)
    found = []
    with os.scandir(path) as it:
        for entry in it:
            if _TEMP_RE.match(entry.name):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)
                    or stat.S_ISLNK(st.st_mode)):
                continue
            name = os.fsencode(entry.name)
            try:
                _check_name(name, rel)
            except CorruptDataError as exc:
                raise ValueError(f"{os.path.join(where, entry.name)!r} cannot be synced: "
                                 f"{exc.message}") from None
            found.append((name, entry.name, st))
    found.sort(key=lambda item: item[0])
    return found


class _WalkDir:
    """A directory of a tree being read (signed): opened without following
    links, so that nothing a concurrent writer does (a peer's stream being
    applied to the same tree, say) can lead the reader outside the tree.

    With directory descriptors every access is relative to ``fd``, and a
    subdirectory is opened with O_NOFOLLOW | O_DIRECTORY and checked to be
    the very directory listed (device and inode): one swapped for a symlink
    or another directory after the listing is treated as vanished.  Without
    them (Windows) paths are used, each checked with lstat just before."""

    __slots__ = ("fd", "path")

    def __init__(self, fd: Optional[int], path: str) -> None:
        self.fd = fd
        self.path = path

    def _p(self, local: str) -> str:
        return local if self.fd is not None else os.path.join(self.path, local)

    def listdir(self, rel: str) -> List[Tuple[bytes, str, os.stat_result]]:
        return _listdir(self.fd if self.fd is not None else self.path, rel, self.path)

    def enter(self, local: str, listed: os.stat_result) -> Optional[_WalkDir]:
        """The subdirectory ``local`` if it is still the directory listed."""
        path = os.path.join(self.path, local)
        if self.fd is None:
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                return None
            if _is_link(st) or not stat.S_ISDIR(st.st_mode):
                return None
            return _WalkDir(None, path)
        try:
            fd = os.open(local, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC,
                         dir_fd=self.fd)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
                return None
            raise
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != (listed.st_dev, listed.st_ino):
            os.close(fd)
            return None
        return _WalkDir(fd, path)

    def open_regular(self, local: str) -> Optional[Tuple[io.FileIO, os.stat_result]]:
        return _open_regular(self._p(local), self.fd)

    def readlink(self, local: str) -> Optional[bytes]:
        """The target of the symlink ``local``, or None if it is gone or no
        longer a link: the tree may change while it is read, and an entry
        that vanished is not sent (as with files)."""
        try:
            if self.fd is not None:
                target = os.readlink(local, dir_fd=self.fd)
                raw = os.fsencode(target)
            else:
                raw = os.readlink(os.fsencode(self._p(local)))
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.EINVAL):
                return None
            raise
        if not 0 < len(raw) <= _MAX_TARGET:
            raise ValueError(f"{os.path.join(self.path, local)!r}: a symlink target of "
                             f"{len(raw)} bytes cannot be synced (the limit is "
                             f"{_MAX_TARGET})")
        return raw

    def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)


def _meta(st: os.stat_result) -> Tuple[int, int]:
    return stat.S_IMODE(st.st_mode) & 0o777, st.st_mtime_ns


def _readlink(path: str) -> bytes:
    target = os.readlink(os.fsencode(path))
    if not 0 < len(target) <= _MAX_TARGET:
        raise ValueError(f"{path!r}: a symlink target of {len(target)} bytes cannot be "
                         f"synced (the limit is {_MAX_TARGET})")
    return target


def _link_to_send(path: str) -> Optional[bytes]:
    """The target of the symlink at ``path``, or None if it is gone or no
    longer a link: the tree may change while it is read, and an entry that
    vanished is not sent (as with files)."""
    try:
        return _readlink(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.EINVAL):
            return None
        raise


def _root_dir(path: StrPath, what: str) -> str:
    root = os.fspath(path)
    if not isinstance(root, str):
        raise TypeError(f"{what} must be a str or os.PathLike[str] path, not "
                        f"{type(path).__name__}")
    return root


def _check_depth(depth: int, where: str) -> None:
    if depth > MAX_DEPTH:
        raise LimitExceededError(f"{where!r} is more than {MAX_DEPTH} directories deep")


# --- tree_signature ----------------------------------------------------------------------

def tree_signature(dst_dir: StrPath, out: _BinaryWriter, *, checksum: bool = False,
                   threads: int = 1) -> TreeStats:
    """Write the signature stream of the tree at ``dst_dir`` to ``out``.

    ``out`` is a binary file object (a pipe, a socket's file, a file); it is
    flushed, not closed.  The stream describes every directory, file and
    symbolic link (names, permission bits, mtimes; for each file its size
    and its librsync signature).  ``checksum=True`` adds the BLAKE2b-256
    digest of each file's content, which a :func:`tree_delta` with
    ``checksum=True`` needs (one more pass over every file).  ``threads=N``
    computes the signatures of big files (8 MiB and more) in N threads (and
    their digests, with ``checksum``, in one more); the stream is the same.  A missing ``dst_dir`` is described as an empty
    tree, so a first sync needs no special case.  Returns the
    :class:`TreeStats` of the tree described (``files``, ``dirs``,
    ``symlinks``, ``file_bytes``, ``signature_bytes``).
    """
    root = _root_dir(dst_dir, "tree_signature dst_dir")
    threads = _parallel.check_threads(threads)
    w = _Writer(out, "tree_signature output out")
    stats = TreeStats()
    top = _open_walk_root(root)
    try:
        listing = top.listdir("") if top is not None else []
        w.record(_H, bytes([_KIND_SIGNATURE, _FLAG_CHECKSUM if checksum else 0]))
        if top is not None:
            mode, mtime = _meta(os.stat(top.fd if top.fd is not None else top.path))
        else:
            mode, mtime = 0o755, 0
        w.entry(_D, b"", mode, mtime)
        if top is not None:
            _signature_dir(w, top, "", listing, 0, stats, bool(checksum), threads)
    finally:
        if top is not None:
            top.close()
    w.record(_Q)
    w.close()
    stats.signature_bytes = w.nbytes
    return stats


def _open_walk_root(root: str) -> Optional[_WalkDir]:
    """The tree's root to read, or None if it does not exist (an empty
    tree).  The root itself may be a symlink to the real directory: it is
    the caller's choice, not the stream's."""
    if not _DIR_FDS:
        try:
            st = os.stat(root)
        except FileNotFoundError:
            return None
        if not stat.S_ISDIR(st.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", root)
        return _WalkDir(None, root)
    try:
        fd = os.open(root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", root) from None
    return _WalkDir(fd, root)


def _signature_dir(w: _Writer, here: _WalkDir, rel: str,
                   listing: List[Tuple[bytes, str, os.stat_result]], depth: int,
                   stats: TreeStats, digests: bool, threads: int) -> None:
    for name, local, st in listing:
        child_rel = _shown(rel, name)
        if stat.S_ISDIR(st.st_mode):
            _check_depth(depth + 1, os.path.join(here.path, local))
            sub = here.enter(local, st)
            if sub is None:
                continue
            try:
                try:
                    # Listed before its D record is written (see sync_tree).
                    sub_listing = sub.listdir(child_rel)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                w.entry(_D, name, *_meta(st))
                _signature_dir(w, sub, child_rel, sub_listing, depth + 1, stats, digests,
                               threads)
            finally:
                sub.close()
            w.record(_Q)
            stats.dirs += 1
        elif stat.S_ISLNK(st.st_mode):
            target = here.readlink(local)
            if target is None:
                continue
            w.entry(_L, name, *_meta(st), target)
            stats.symlinks += 1
        else:
            opened = here.open_regular(local)
            if opened is None:
                continue
            f, fst = opened
            with f:
                w.entry(_F, name, *_meta(fst), _U64.pack(fst.st_size))
                source = _Source(f, None, fst.st_size, digests, threads > 1)
                try:
                    with _api.SignatureJob(
                            0, 0, _api.RS_RK_BLAKE2_SIG_MAGIC, fst.st_size,
                            threads=threads if fst.st_size >= _BIG_FILE else 1) as job:
                        job.run(source, w.data)
                    w.end_file(source.size, source.digest())
                finally:
                    source.close()
            stats.files += 1
            stats.file_bytes += source.size


# --- tree_delta ------------------------------------------------------------------------------

class _SigCursor:
    """Walks a signature stream entry by entry, checking its structure: names
    in increasing order, a depth limit, file data where it belongs."""

    def __init__(self, r: _Reader) -> None:
        self._r = r
        self._last: List[Optional[bytes]] = [None]   # per open directory
        self._rels = [""]

    def next(self) -> Optional[_Entry]:
        """The current directory's next entry, or None at its end (its Q)."""
        kind, body = self._r.record()
        if kind == _Q:
            self._last.pop()
            self._rels.pop()
            return None
        rel = self._rels[-1]
        if kind not in (_D, _F, _L):
            raise _corrupt(f"a {chr(kind)!r} record in {rel or 'the root'!r} of a tree "
                           "signature stream")
        entry = _parse_entry(kind, body, rel)
        last = self._last[-1]
        if last is not None and entry.name <= last:
            raise _corrupt(f"{_shown(rel, entry.name)!r} comes after {_shown(rel, last)!r} "
                           "in the signature stream: names must increase")
        self._last[-1] = entry.name
        if kind == _D:
            _check_depth(len(self._last), _shown(rel, entry.name))
            self._last.append(None)
            self._rels.append(_shown(rel, entry.name))
        return entry

    def skip(self, entry: _Entry) -> None:
        """Read past what follows ``entry``: a file's data, a directory's
        entries."""
        if entry.kind == _F:
            self.skip_data(entry)
        elif entry.kind == _D:
            depth = 1
            while depth:
                sub = self.next()
                if sub is None:
                    depth -= 1
                elif sub.kind == _D:
                    depth += 1
                elif sub.kind == _F:
                    self.skip_data(sub)

    def _rel(self, entry: _Entry) -> str:
        return _shown(self._rels[-1], entry.name)

    def skip_data(self, entry: _Entry) -> Tuple[int, bytes]:
        return _ChunkReader(self._r, self._rel(entry)).skip()

    def load(self, entry: _Entry) -> Tuple[_api.Signature, int, bytes]:
        """The file's loaded signature, size and digest."""
        data = _ChunkReader(self._r, self._rel(entry))
        # The block length a peer may choose is bounded by the size it
        # announces for the file (the search is bounded per byte anyway).
        job = _api.LoadSignatureJob(_MAX_SIG_BLOCKS, file_size=entry.size)
        with job:
            job.run(data, None)
        size, digest = data.end()
        return job.signature, size, digest


def tree_delta(src_dir: StrPath, sig_stream_in: StreamIn, out: _BinaryWriter, *,
               delete: bool = False, checksum: bool = False, threads: int = 1) -> TreeStats:
    """Read a signature stream (from :func:`tree_signature` of the
    destination) and write to ``out`` the delta stream that makes the
    destination a copy of the tree at ``src_dir``.

    ``sig_stream_in`` is a binary file object (read exactly up to the end of
    the stream), the stream as a bytes-like object, or an iterable of
    bytes-like chunks; ``out`` a binary file object (flushed, not closed).
    The streams are read and written as they go, so they can be a pipe or a
    connection in each direction.

    Files whose size and mtime match are sent as "unchanged" (with
    ``checksum=True``: whose size and BLAKE2b-256 digest match, which reads
    every source file whole, and a signature stream made with
    ``checksum=True``).  Changed files are sent as librsync deltas
    against the destination's file, new files whole; ``threads=N`` computes
    the deltas of big files (8 MiB and more) in N threads, and their
    digests in one more.  ``delete=True`` also
    removes what the destination has and the source has not; without it
    those are kept, and replacing a destination directory by a file or link
    raises ValueError.  The signature stream is untrusted input: a malformed
    one raises a :class:`~librsync.LibrsyncError`.  Returns the
    :class:`TreeStats` of what the delta stream asks for.
    """
    root = _root_dir(src_dir, "tree_delta src_dir")
    st = os.stat(root)
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", root)
    threads = _parallel.check_threads(threads)
    r = _Reader(sig_stream_in, "tree signature stream")
    w = _Writer(out, "tree_delta output out")
    flags = r.header(_KIND_SIGNATURE)
    if checksum and not flags & _FLAG_CHECKSUM:
        raise ValueError("tree_delta(checksum=True) needs a signature stream made with "
                         "tree_signature(checksum=True): this one has no file digests")
    r.root()
    stats = TreeStats()
    w.record(_H, bytes([_KIND_DELTA, (_FLAG_DELETE if delete else 0)
                        | (_FLAG_CHECKSUM if checksum else 0)]))
    w.entry(_D, b"", *_meta(st))
    _DeltaWalk(w, delete, checksum, stats, threads).dir(root, "", _SigCursor(r), 0)
    w.record(_Q)
    r.end()
    w.close()
    stats.files = stats.files_new + stats.files_changed + stats.files_unchanged
    stats.signature_bytes = r.nbytes
    stats.delta_bytes = w.nbytes
    return stats


class _DeltaWalk:
    """Walks the source tree and the signature stream side by side (both are
    in the same order), writing the delta stream."""

    def __init__(self, w: _Writer, delete: bool, checksum: bool, stats: TreeStats,
                 threads: int) -> None:
        self._w = w
        self._threads = threads
        self._delete = delete
        self._checksum = checksum
        self._stats = stats
        self._buf = bytearray(_CHUNK)

    def dir(self, path: str, rel: str, cur: Optional[_SigCursor], depth: int) -> None:
        """Send the directory ``path``; ``cur`` reads the destination's
        version of it (None: the destination has none)."""
        listing = _listdir(path, rel)
        if cur is None:
            for name, local, st in listing:
                self._new(os.path.join(path, local), _shown(rel, name), name, st, depth)
            return
        have = cur.next()
        for name, local, st in listing:
            while have is not None and have.name < name:
                self._extra(cur, have)
                have = cur.next()
            child = os.path.join(path, local)
            if have is not None and have.name == name:
                self._matched(child, _shown(rel, name), name, st, cur, have, depth)
                have = cur.next()
            else:
                self._new(child, _shown(rel, name), name, st, depth)
        while have is not None:
            self._extra(cur, have)
            have = cur.next()

    def _extra(self, cur: _SigCursor, have: _Entry) -> None:
        # Removed only once the signature stream is past it: sync_tree signs
        # the destination while it is being patched.
        cur.skip(have)
        if self._delete:
            self._remove(have.name)

    def _remove(self, name: bytes) -> None:
        self._w.entry(_X, name)
        self._stats.deleted += 1

    def _matched(self, child: str, rel: str, name: bytes, st: os.stat_result,
                 cur: _SigCursor, have: _Entry, depth: int) -> None:
        if stat.S_ISDIR(st.st_mode):
            if have.kind == _D:
                self._dir(child, rel, name, st, cur, depth)
                return
            cur.skip(have)
            self._remove(name)
        elif have.kind == _D:
            if not self._delete:
                kind = "file" if stat.S_ISREG(st.st_mode) else "symlink"
                raise ValueError(f"{rel!r} is a directory in the destination and a {kind} "
                                 "in the source; pass delete=True to replace it")
            cur.skip(have)
            self._remove(name)
        elif stat.S_ISREG(st.st_mode) and have.kind == _F:
            self._file(child, rel, name, cur, have)
            return
        else:
            cur.skip(have)  # a link where a file was, or the reverse: replaced
        self._new(child, rel, name, st, depth)

    def _new(self, child: str, rel: str, name: bytes, st: os.stat_result,
             depth: int) -> None:
        if stat.S_ISDIR(st.st_mode):
            self._dir(child, rel, name, st, None, depth)
        elif stat.S_ISLNK(st.st_mode):
            target = _link_to_send(child)
            if target is None:
                return
            self._w.entry(_L, name, *_meta(st), target)
            self._stats.symlinks += 1
        else:
            self._file(child, rel, name, None, None)

    def _dir(self, child: str, rel: str, name: bytes, st: os.stat_result,
             cur: Optional[_SigCursor], depth: int) -> None:
        _check_depth(depth + 1, child)
        self._w.entry(_D, name, *_meta(st))
        self._stats.dirs += 1
        self.dir(child, rel, cur, depth + 1)
        self._w.record(_Q)

    def _file(self, child: str, rel: str, name: bytes, cur: Optional[_SigCursor],
              have: Optional[_Entry]) -> None:
        opened = _open_regular(child)
        if opened is None:  # vanished since the listing
            if cur is not None and have is not None:
                self._extra(cur, have)
            return
        f, st = opened
        mode, mtime = _meta(st)
        size = st.st_size
        with f:
            sig = None
            if cur is not None and have is not None:
                if not self._checksum and have.size == size and have.mtime == mtime:
                    cur.skip(have)
                    self._unchanged(name, mode, mtime, size)
                    return
                sig, old_size, old_digest = cur.load(have)
                if self._checksum and old_size == size:
                    digest, got = self._digest(f, size)
                    if got == size and digest == old_digest:
                        self._unchanged(name, mode, mtime, size)
                        return
                    f.seek(0)
            source = _Source(f, size, size, threaded=self._threads > 1)
            try:
                self._send(name, mode, mtime, size, source, sig)
            finally:
                source.close()

    def _send(self, name: bytes, mode: int, mtime: int, size: int, source: _Source,
              sig: Optional[_api.Signature]) -> None:
        w, stats = self._w, self._stats
        if sig is None:
            w.entry(_N, name, mode, mtime, _U64.pack(size))
            buf = memoryview(self._buf)
            while True:
                n = source.readinto(buf)
                if not n:
                    break
                w.data(buf[:n])
            stats.files_new += 1
            stats.literal_bytes += source.size
        else:
            w.entry(_P, name, mode, mtime, _U64.pack(size))
            job: Union[_api.DeltaJob, _parallel.ParallelDeltaJob] = (
                _parallel.ParallelDeltaJob(sig, self._threads)
                if self._threads > 1 and size >= _BIG_FILE else _api.DeltaJob(sig))
            with job:
                job.run(source, w.data)
                done = job.stats
            stats.files_changed += 1
            stats.literal_bytes += done.lit_bytes
            stats.copied_bytes += done.copy_bytes
        w.end_file(source.size, source.digest())
        stats.file_bytes += source.size

    def _unchanged(self, name: bytes, mode: int, mtime: int, size: int) -> None:
        self._w.entry(_U, name, mode, mtime, _U64.pack(size))
        self._stats.files_unchanged += 1
        self._stats.file_bytes += size

    def _digest(self, f: io.FileIO, size: int) -> Tuple[bytes, int]:
        source = _Source(f, size)  # nothing else to overlap with: no thread
        buf = memoryview(self._buf)
        while source.readinto(buf):
            pass
        return source.digest(), source.size


# --- tree_patch --------------------------------------------------------------------------------

def _signature_block_len(size: int) -> int:
    """The block length tree_signature's signatures use for a file of
    ``size`` bytes (librsync's rs_sig_args: the square root, a multiple of
    128, at least 256)."""
    if size <= 256 * 256:
        return 256
    return max(256, math.isqrt(size) & ~127)


def _temp_name() -> str:
    return f".lrsync-tree.{secrets.token_hex(12)}.tmp"


def _is_link(st: os.stat_result) -> bool:
    # A Windows junction or other reparse point leads elsewhere as a symlink does.
    return stat.S_ISLNK(st.st_mode) or bool(getattr(st, "st_file_attributes", 0) & 0x400)


def _locked(fd: int) -> int:
    """``fd``, a new temporary file, with an exclusive lock on it for as long
    as it is open (see _Dir._sweep)."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pass  # a file system without locks: swept by name, as on Windows
    return fd


class _Temp:
    """A file being written: ``fd`` open, ``name`` None while it is an
    unnamed O_TMPFILE file."""

    __slots__ = ("fd", "name")

    def __init__(self, fd: int, name: Optional[str]) -> None:
        self.fd = fd
        self.name = name


class _Dir:
    """A destination directory being patched, opened without following links.

    With directory descriptors (``fd`` not None) every operation is relative
    to ``fd``; otherwise (Windows) to ``path``, whose every component was
    checked with lstat on the way in.  ``exists`` is False for a directory
    that a dry run would have created."""

    def __init__(self, fd: Optional[int], path: str, rel: str, dry_run: bool,
                 exists: bool = True) -> None:
        self.fd = fd
        self.path = path
        self.rel = rel
        self.dry_run = dry_run
        self.exists = exists
        self._anon = _ANON_TEMPS and fd is not None
        self._gone: set[str] = set()  # what a dry run has removed
        self._names: Optional[set[str]] = None  # listed at the first removal

    # -- helpers -------------------------------------------------------------

    def _p(self, name: str) -> str:
        return name if self.fd is not None else os.path.join(self.path, name)

    def _shown(self, name: str) -> str:
        return (self.rel + "/" if self.rel else "") + name

    def lstat(self, name: str) -> Optional[os.stat_result]:
        if not self.exists or name in self._gone:
            return None
        try:
            return os.stat(self._p(name), dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)

    # -- directories ---------------------------------------------------------

    @classmethod
    def root(cls, path: str, dry_run: bool, dir_fds: bool) -> _Dir:
        try:
            st = os.stat(path)  # the root itself may be a link to the real directory
        except FileNotFoundError:
            if dry_run:
                return cls(None, path, "", dry_run, exists=False)
            os.mkdir(path)
            st = os.stat(path)
        if not stat.S_ISDIR(st.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", path)
        fd = os.open(path, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC) if dir_fds else None
        d = cls(fd, path, "", dry_run)
        try:
            d._prepare()
        except BaseException:
            d.close()
            raise
        return d

    @classmethod
    def existing(cls, path: str, dry_run: bool) -> _Dir:
        """An existing directory (the caller's path, links followed) to put
        one file in: unlike ``root``, its mode is left alone; only our own
        dead temporary files in it are swept."""
        fd = None
        if _DIR_FDS:
            fd = os.open(path, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
        elif not os.path.isdir(path):
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", path)
        d = cls(fd, path, "", dry_run)
        if not dry_run:
            try:
                with os.scandir(fd if fd is not None else path) as it:
                    stale = [e.name for e in it
                             if _TEMP_RE.match(e.name) and not e.is_dir(follow_symlinks=False)]
                for name in stale:
                    d._sweep(name)
            except BaseException:
                d.close()
                raise
        return d

    def enter(self, name: str) -> _Dir:
        """The subdirectory ``name``, created if missing."""
        path = os.path.join(self.path, name)
        st = self.lstat(name)
        if st is None:
            if self.dry_run:
                return _Dir(None, path, self._shown(name), True, exists=False)
            os.mkdir(self._p(name), 0o700, dir_fd=self.fd)
        elif _is_link(st):
            raise UnsafePathError(f"{self._shown(name)!r} is a symlink in the destination; "
                                  "a tree stream may not lead through it")
        elif not stat.S_ISDIR(st.st_mode):
            raise _corrupt(f"{self._shown(name)!r} is not a directory in the destination "
                           "(the stream must remove it first)")
        fd = None
        if self.fd is not None:
            try:
                fd = os.open(name, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC,
                             dir_fd=self.fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafePathError(f"{self._shown(name)!r} turned into a symlink or "
                                          "file in the destination while it was patched"
                                          ) from None
                raise
        else:
            st = os.lstat(path)  # again, as late as possible
            if _is_link(st) or not stat.S_ISDIR(st.st_mode):
                raise UnsafePathError(f"{self._shown(name)!r} turned into a symlink or file "
                                      "in the destination while it was patched")
        d = _Dir(fd, path, self._shown(name), self.dry_run)
        try:
            d._prepare()
        except BaseException:
            d.close()
            raise
        return d

    def _prepare(self) -> None:
        if self.dry_run:
            return
        target: Union[int, str] = self.fd if self.fd is not None else self.path
        mode = os.stat(target).st_mode
        if mode & 0o700 != 0o700:
            # Its final mode is set when the stream leaves it; meanwhile we
            # must be able to create and rename files in it.
            os.chmod(target, stat.S_IMODE(mode) | 0o700)
        with os.scandir(target) as it:
            stale = [e.name for e in it
                     if _TEMP_RE.match(e.name) and not e.is_dir(follow_symlinks=False)]
        for name in stale:
            self._sweep(name)

    def _sweep(self, name: str) -> None:
        """Remove the temporary file ``name`` left by a killed patch, unless a
        live one is still writing it (it holds a lock on it from creation to
        rename): two syncs into one tree must not remove each other's files."""
        if fcntl is not None:
            try:
                fd = os.open(self._p(name), os.O_RDONLY | _O_CLOEXEC | _O_NOFOLLOW
                             | _O_NONBLOCK, dir_fd=self.fd)
            except OSError:
                return  # gone already, or a symlink: not ours to judge
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    return  # in use
                try:
                    os.unlink(self._p(name), dir_fd=self.fd)
                except FileNotFoundError:
                    pass
            finally:
                os.close(fd)
            return
        try:
            os.unlink(self._p(name), dir_fd=self.fd)
        except FileNotFoundError:
            pass

    def leave(self, entry: _Entry) -> None:
        """Set the directory's mode and mtime, after its contents."""
        if self.dry_run or not self.exists:
            return
        target: Union[int, str] = self.fd if self.fd is not None else self.path
        os.chmod(target, entry.mode)
        os.utime(target, ns=(time.time_ns(), entry.mtime))

    # -- removal ---------------------------------------------------------------

    def remove(self, name: str) -> int:
        """Remove the entry ``name`` (a directory with what it holds, never
        following links); how many entries went."""
        if not self.exists:
            return 0
        if self._names is None:
            # Only an entry of exactly this name: on a case-insensitive file
            # system lstat("readme") finds the "README" this stream has just
            # written (b"README" < b"readme"), which must stay.
            with os.scandir(self.fd if self.fd is not None else self.path) as it:
                self._names = {e.name for e in it}
        st = self.lstat(name) if name in self._names else None
        if st is None:
            return 0
        self._names.discard(name)
        if self.dry_run:
            self._gone.add(name)
        if not stat.S_ISDIR(st.st_mode) or _is_link(st):
            if not self.dry_run:
                os.unlink(self._p(name), dir_fd=self.fd)
            return 1
        sub = self._open_existing(name)
        try:
            count = 0
            target: Union[int, str] = sub.fd if sub.fd is not None else sub.path
            if not self.dry_run:
                mode = os.stat(target).st_mode
                if mode & 0o700 != 0o700:
                    os.chmod(target, stat.S_IMODE(mode) | 0o700)
            with os.scandir(target) as it:
                names = [e.name for e in it]
            for child in names:
                count += sub.remove(child)
        finally:
            sub.close()
        if not self.dry_run:
            os.rmdir(self._p(name), dir_fd=self.fd)
        return count + 1

    def _open_existing(self, name: str) -> _Dir:
        path = os.path.join(self.path, name)
        fd = None
        if self.fd is not None:
            fd = os.open(name, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC,
                         dir_fd=self.fd)
        else:
            st = os.lstat(path)
            if _is_link(st) or not stat.S_ISDIR(st.st_mode):
                raise UnsafePathError(f"{self._shown(name)!r} changed while it was removed")
        return _Dir(fd, path, self._shown(name), self.dry_run)

    # -- files -------------------------------------------------------------------

    def check_replaceable(self, name: str) -> Optional[os.stat_result]:
        """What is at ``name`` now, if a file or link may take its place."""
        st = self.lstat(name)
        if st is not None and stat.S_ISDIR(st.st_mode) and not _is_link(st):
            raise _corrupt(f"{self._shown(name)!r} is a directory in the destination "
                           "(the stream must remove it first)")
        return st

    def open_basis(self, name: str) -> io.BufferedReader:
        """The old file ``name`` for a patch to copy from: a regular file,
        opened without following a link."""
        st = self.lstat(name)
        if st is None or not stat.S_ISREG(st.st_mode):
            raise _corrupt(f"{self._shown(name)!r}: the stream has a delta for it, but the "
                           "destination has no regular file there")
        fd = self._open_regular(self._p(name), _O_BINARY, self._shown(name))
        try:
            return open(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    def _open_regular(self, path: str, flags: int, what: str) -> int:
        """A descriptor of the regular file at ``path`` (relative to this
        directory's descriptor, when there is one), opened without following
        a symlink: one put there since it was checked means someone is
        racing the patch, and a FIFO would block the open."""
        try:
            fd = os.open(path, os.O_RDONLY | _O_CLOEXEC | _O_NOFOLLOW | _O_NONBLOCK | flags,
                         dir_fd=self.fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafePathError(f"{what!r} turned into a symlink while it was "
                                      "patched") from None
            raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise _corrupt(f"{what!r} is no longer a regular file")
        except BaseException:
            os.close(fd)
            raise
        return fd

    def temp(self) -> _Temp:
        """A new, empty file to write the next version of a file to."""
        if self._anon:
            try:
                fd = os.open(".", _O_TMPFILE | os.O_WRONLY | _O_CLOEXEC, 0o600, dir_fd=self.fd)
                return _Temp(_locked(fd), None)
            except OSError as exc:
                # File systems without O_TMPFILE (older kernels, some network
                # file systems): named temporary files from now on.
                if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL,
                                     errno.ENOENT):
                    raise
                self._anon = False
        flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY | _O_CLOEXEC
                 | _O_NOFOLLOW)
        for _ in range(100):
            name = _temp_name()
            try:
                return _Temp(_locked(os.open(self._p(name), flags, 0o600, dir_fd=self.fd)),
                             name)
            except FileExistsError:
                continue
        raise FileExistsError(f"could not create a temporary file in {self.path!r}")

    def commit(self, temp: _Temp, name: str, mode: int, mtime: int,
               durable: bool = True) -> None:
        """Give the complete temporary file its metadata, flush it to disk
        (unless not ``durable``) and rename it over ``name``."""
        if os.chmod in os.supports_fd:
            os.chmod(temp.fd, mode)
        if os.utime in os.supports_fd:
            os.utime(temp.fd, ns=(time.time_ns(), mtime))
        if durable:
            os.fsync(temp.fd)
        if temp.name is None:
            name_tmp = _temp_name()
            os.link(f"/proc/self/fd/{temp.fd}", name_tmp, dst_dir_fd=self.fd)
            temp.name = name_tmp
        if os.chmod in os.supports_fd and os.utime in os.supports_fd:
            # Renamed while still open, so its lock keeps a concurrent sweep
            # (another sync of this directory) away until it has its name.
            os.replace(self._p(temp.name), self._p(name),
                       src_dir_fd=self.fd, dst_dir_fd=self.fd)
            temp.name = None
            fd, temp.fd = temp.fd, -1
            os.close(fd)
            return
        fd, temp.fd = temp.fd, -1
        os.close(fd)  # Windows cannot rename an open file
        if os.chmod not in os.supports_fd:
            os.chmod(self._p(temp.name), mode)
        if os.utime not in os.supports_fd:
            os.utime(self._p(temp.name), ns=(time.time_ns(), mtime))
        os.replace(self._p(temp.name), self._p(name),
                   src_dir_fd=self.fd, dst_dir_fd=self.fd)
        temp.name = None

    def discard(self, temp: _Temp) -> None:
        if temp.fd >= 0:
            fd, temp.fd = temp.fd, -1
            os.close(fd)
        if temp.name is not None:
            try:
                os.unlink(self._p(temp.name), dir_fd=self.fd)
            except FileNotFoundError:
                pass
            temp.name = None

    def symlink(self, name: str, target: str, mtime: int) -> None:
        """Make ``name`` a symlink to ``target``, replacing a file or link
        atomically."""
        st = self.check_replaceable(name)
        if st is not None and stat.S_ISLNK(st.st_mode):
            if os.readlink(self._p(name), dir_fd=self.fd) == target:
                # Kept as it is, like an unchanged file.
                if not self.dry_run and _UTIME_NOFOLLOW and st.st_mtime_ns != mtime:
                    os.utime(self._p(name), ns=(st.st_atime_ns, mtime), dir_fd=self.fd,
                             follow_symlinks=False)
                return
        if self.dry_run:
            return
        tmp = _temp_name()
        os.symlink(target, self._p(tmp), dir_fd=self.fd)
        try:
            if _UTIME_NOFOLLOW:
                os.utime(self._p(tmp), ns=(time.time_ns(), mtime), dir_fd=self.fd,
                         follow_symlinks=False)
            os.replace(self._p(tmp), self._p(name), src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException:
            try:
                os.unlink(self._p(tmp), dir_fd=self.fd)
            except OSError:
                pass
            raise

    def touch(self, name: str, entry: "_Entry | Any") -> None:
        """Apply an unchanged file's mode and mtime, without following a link."""
        what = self._shown(name)
        st = self.lstat(name)
        if st is None or not stat.S_ISREG(st.st_mode):
            raise _corrupt(f"{what!r}: the stream says it is unchanged, but the destination "
                           "has no regular file there")
        if st.st_size != entry.size:
            raise _corrupt(f"{what!r} changed in the destination since its signature was "
                           f"made ({st.st_size} bytes, not {entry.size}); run the sync again")
        if self.dry_run or (stat.S_IMODE(st.st_mode) == entry.mode
                            and st.st_mtime_ns == entry.mtime):
            return
        if self.fd is None:
            os.chmod(self._p(name), entry.mode)
            os.utime(self._p(name), ns=(st.st_atime_ns, entry.mtime))
            return
        fd = self._open_regular(name, 0, what)
        try:
            os.chmod(fd, entry.mode)
            os.utime(fd, ns=(st.st_atime_ns, entry.mtime))
        finally:
            os.close(fd)


class _Frame:
    """A directory open in the patch, and the ordering rule's state."""

    __slots__ = ("dir", "entry", "last", "after_x", "path_len", "pending_x")

    def __init__(self, d: _Dir, entry: _Entry, path_len: int) -> None:
        self.dir = d
        self.entry = entry
        self.last: Optional[bytes] = None
        self.after_x = False
        self.path_len = path_len  # bytes of this directory's full path
        # Without delete: a removal waiting for the entry that replaces it.
        self.pending_x: Optional[str] = None


def tree_patch(dst_dir: StrPath, delta_stream_in: StreamIn, *, dry_run: bool = False,
               max_file_size: Optional[int] = None, delete: bool = False) -> TreeStats:
    """Apply a delta stream (from :func:`tree_delta`) to the tree at
    ``dst_dir``, which is created if missing (its parent must exist).

    ``delta_stream_in`` is a binary file object (read exactly up to the end
    of the stream), the stream as a bytes-like object, or an iterable of
    bytes-like chunks.  Each file is replaced atomically once its content is
    complete and checked; permission bits and mtimes are set after content,
    and a directory's after everything in it.  A truncated or corrupt stream
    raises :class:`~librsync.InputEndedError` or
    :class:`~librsync.CorruptDataError` with the file being written left as
    it was; names that would leave the destination or lead through a
    symlink in it raise :class:`UnsafePathError`.  ``max_file_size``, if
    given, refuses files announced larger (:class:`~librsync.LimitExceededError`),
    a guard against streams from untrusted peers filling the disk.  Whatever
    it is, a delta may not make a file larger than four times its old version
    plus one block of the signature per byte of delta read (a few bytes of
    COPY commands honestly repeat one block; more means a hostile stream),
    plus 1 MiB (:class:`~librsync.LimitExceededError`).  ``delete=False`` (the
    default) refuses a stream that removes an entry other than to put one of
    another type in its place (:class:`UnsafePathError`): pass
    ``delete=True`` to apply a stream made by ``tree_delta(delete=True)``.
    Paths longer than 4,095 bytes (the destination's own path included) are
    refused (:class:`~librsync.LimitExceededError`).

    ``dry_run=True`` reads and checks the whole stream (running every
    patch, to check its result's digest) and changes nothing.  Returns the
    :class:`TreeStats` of what was (or would be) done.
    """
    return _tree_patch(dst_dir, delta_stream_in, dry_run, max_file_size, _DIR_FDS,
                       bool(delete))


def _tree_patch(dst_dir: StrPath, delta_stream_in: StreamIn, dry_run: bool,
                max_file_size: Optional[int], dir_fds: bool,
                delete: bool = False) -> TreeStats:
    root = _root_dir(dst_dir, "tree_patch dst_dir")
    if max_file_size is not None and (not isinstance(max_file_size, int)
                                      or max_file_size < 0):
        raise ValueError(f"max_file_size must be None or an int >= 0, not {max_file_size!r}")
    r = _Reader(delta_stream_in, "tree delta stream")
    r.header(_KIND_DELTA)
    entry = r.root()
    patcher = _Patcher(r, dry_run, max_file_size, delete,
                       len(os.fsencode(os.path.abspath(root))))
    patcher.run(_Dir.root(root, dry_run, dir_fds), entry)
    r.end()
    stats = patcher.stats
    stats.files = stats.files_new + stats.files_changed + stats.files_unchanged
    stats.delta_bytes = r.nbytes
    stats.dry_run = dry_run
    return stats


class _Patcher:
    def __init__(self, r: _Reader, dry_run: bool, max_file_size: Optional[int],
                 delete: bool = False, root_len: int = 0) -> None:
        self._r = r
        self._dry_run = dry_run
        self._max_file_size = max_file_size
        self._delete = delete
        self._root_len = root_len
        self.stats = TreeStats()

    def run(self, root: _Dir, root_entry: _Entry) -> None:
        stack = [_Frame(root, root_entry, self._root_len)]
        try:
            while stack:
                top = stack[-1]
                kind, body = self._r.record()
                if kind == _Q:
                    if top.pending_x is not None:
                        raise UnsafePathError(
                            f"the stream removes {top.dir._shown(top.pending_x)!r}, but "
                            "deletions were not asked for (delete=True, --delete)")
                    top.dir.leave(top.entry)
                    stack.pop().dir.close()
                    continue
                rel = top.dir.rel
                if kind not in (_D, _N, _P, _U, _L, _X):
                    raise _corrupt(f"a {chr(kind)!r} record in {rel or 'the root'!r} of a "
                                   "tree delta stream")
                entry = _parse_entry(kind, body, rel)
                if top.last is not None and (
                        entry.name < top.last
                        or (entry.name == top.last and (not top.after_x or kind == _X))):
                    raise _corrupt(f"{_shown(rel, entry.name)!r} comes after "
                                   f"{_shown(rel, top.last)!r} in the delta stream: names "
                                   "must increase (only a removal may precede its "
                                   "replacement)")
                top.last, top.after_x = entry.name, kind == _X
                name = _local_name(entry.name, rel)
                d = top.dir
                path_len = top.path_len + 1 + len(entry.name)
                if path_len > _MAX_PATH:
                    raise LimitExceededError(
                        f"{_shown(rel, entry.name)!r}: a path of {path_len} bytes in the "
                        f"destination (the limit is {_MAX_PATH})")
                if top.pending_x is not None:
                    if kind == _X or name != top.pending_x:
                        raise UnsafePathError(
                            f"the stream removes {d._shown(top.pending_x)!r}, but "
                            "deletions were not asked for (delete=True, --delete)")
                    self.stats.deleted += d.remove(name)
                    top.pending_x = None
                if kind == _X and not self._delete:
                    # Only as the first step of replacing it with another type.
                    top.pending_x = name
                    continue
                if kind == _D:
                    _check_depth(len(stack), _shown(rel, entry.name))
                    stack.append(_Frame(d.enter(name), entry, path_len))
                    self.stats.dirs += 1
                elif kind in (_N, _P):
                    self._file(d, name, entry)
                elif kind == _U:
                    d.touch(name, entry)
                    self.stats.files_unchanged += 1
                    self.stats.file_bytes += entry.size
                elif kind == _L:
                    d.symlink(name, _local_name(entry.target, rel, target=True), entry.mtime)
                    self.stats.symlinks += 1
                else:
                    self.stats.deleted += d.remove(name)
        finally:
            for frame in stack:
                frame.dir.close()

    def _file(self, d: _Dir, name: str, entry: _Entry) -> None:
        what = d._shown(name)
        if self._max_file_size is not None and entry.size > self._max_file_size:
            raise LimitExceededError(f"{what!r}: the stream announces {entry.size} bytes, "
                                     f"more than max_file_size={self._max_file_size}")
        d.check_replaceable(name)
        data = _ChunkReader(self._r, what)
        basis = d.open_basis(name) if entry.kind == _P else None
        try:
            temp = d.temp() if not self._dry_run else None
        except BaseException:
            if basis is not None:
                basis.close()
            raise
        digest = _Hasher(entry.size)
        written = 0
        # A patch's output: never more than announced, nor than the old file
        # honestly yields per byte of delta (_expansion_limit).
        old_size = os.fstat(basis.fileno()).st_size if basis is not None else 0
        allowed_base = _EXPANSION_OLD * old_size + _EXPANSION_SLACK
        per_byte = _signature_block_len(old_size)

        def write(view: memoryview) -> None:
            nonlocal written
            if basis is not None and (written + len(view)
                                      > allowed_base + data.delivered * per_byte):
                raise LimitExceededError(
                    f"{what!r}: the delta makes more than {written + len(view)} bytes of "
                    f"a {old_size}-byte old file from {data.delivered} bytes of delta "
                    "(the bound is four times the old file plus one signature block "
                    "per byte of delta, plus 1 MiB); a hostile stream?")
            digest.update(view)
            written += len(view)
            if temp is not None:
                done = 0
                while done < len(view):
                    done += os.write(temp.fd, view[done:])

        try:
            if basis is not None:
                with _api.PatchJob(basis, max_length=entry.size) as job:
                    job.run(data, write)
                    consumed = job.in_bytes
                    done = job.stats
                size, want = data.end(consumed, "delta")
                self.stats.literal_bytes += done.lit_bytes
                self.stats.copied_bytes += done.copy_bytes
                basis.close()  # before the rename: Windows cannot replace an open file
            else:
                for chunk in data.chunks():
                    if written + len(chunk) > entry.size:
                        raise _corrupt(f"{what!r}: more data than the {entry.size} bytes "
                                       "announced")
                    write(memoryview(chunk))
                size, want = data.end()
                self.stats.literal_bytes += written
            if want != digest.digest() or size != written:
                raise _corrupt(f"{what!r}: the patched file does not match the stream's "
                               f"checksum ({written} bytes, the stream says {size}); it was "
                               "not replaced")
            if temp is not None:
                d.commit(temp, name, entry.mode, entry.mtime)
        except BaseException:
            if temp is not None:
                d.discard(temp)
            raise
        finally:
            digest.close()
            if basis is not None:
                basis.close()
        if entry.kind == _P:
            self.stats.files_changed += 1
        else:
            self.stats.files_new += 1
        self.stats.file_bytes += written


# --- sync_tree ------------------------------------------------------------------------------------

def sync_tree(src_dir: StrPath, dst_dir: StrPath, *, delete: bool = False,
              checksum: bool = False, dry_run: bool = False, threads: int = 1,
              max_file_size: Optional[int] = None) -> TreeStats:
    """Make the tree at ``dst_dir`` a copy of the tree at ``src_dir``.

    Exactly :func:`tree_signature` of ``dst_dir``, :func:`tree_delta` of
    ``src_dir`` against it and :func:`tree_patch` of ``dst_dir``, each in its
    own thread and joined by pipes, so the streams are never held whole.
    ``delete``, ``checksum``, ``dry_run``, ``threads`` and ``max_file_size``
    mean what they mean for those steps.  The first real failure of any step is raised (not the broken
    pipe or truncated stream it causes in the others).  Returns the
    :class:`TreeStats` of the patch, with ``signature_bytes`` and
    ``delta_bytes`` the sizes of the two streams.
    """
    src = _root_dir(src_dir, "sync_tree src_dir")
    dst = _root_dir(dst_dir, "sync_tree dst_dir")
    threads = _parallel.check_threads(threads)
    if not os.path.isdir(src):
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", src)
    real_src, real_dst = os.path.realpath(src), os.path.realpath(dst)
    if os.path.commonpath([real_src, real_dst]) in (real_src, real_dst):
        # Each would be walked while the other is written into it.
        raise ValueError(f"sync_tree: {src!r} and {dst!r} are the same tree or one "
                         "holds the other")
    # The destination is signed while it is patched.  With an honest delta
    # stream the two never meet: both streams list entries in the same order
    # and the patch acts on an entry only after tree_delta has read it from
    # the signature stream, so tree_signature is done with it (a directory is
    # listed before its D record is written, a file read before its E record,
    # an extra entry removed only after its records).  A hostile stream (from
    # a peer, in a pull or a serve receiver) can act first; tree_signature
    # then still reads only inside the tree, through directory descriptors
    # checked against its listing, so the worst it sees is a changed tree.
    errors: List[Optional[BaseException]] = [None, None, None]
    sig_stats: List[TreeStats] = []
    patch_stats: List[TreeStats] = []
    sig_r, sig_w = os.pipe()
    try:
        delta_r, delta_w = os.pipe()
    except BaseException:
        os.close(sig_r)
        os.close(sig_w)
        raise
    # Each end gets a file object now, so each is closed exactly once, by
    # the step that uses it: a step that ends (or fails) closes its ends,
    # which ends the others with a broken pipe or a truncated stream.
    sig_out, sig_in = open(sig_w, "wb"), open(sig_r, "rb")
    delta_out, delta_in = open(delta_w, "wb"), open(delta_r, "rb")

    def signer() -> None:
        try:
            with sig_out:
                sig_stats.append(tree_signature(dst, sig_out, checksum=checksum,
                                                threads=threads))
        except BaseException as exc:
            errors[0] = exc

    def differ() -> None:
        try:
            with sig_in, delta_out:
                tree_delta(src, sig_in, delta_out, delete=delete, checksum=checksum,
                           threads=threads)
        except BaseException as exc:
            errors[1] = exc

    steps = [threading.Thread(target=signer, name="tree_signature", daemon=True),
             threading.Thread(target=differ, name="tree_delta", daemon=True)]
    started = []
    try:
        for t in steps:
            t.start()
            started.append(t)
        with delta_in:
            patch_stats.append(tree_patch(dst, delta_in, dry_run=dry_run,
                                          max_file_size=max_file_size, delete=delete))
    except BaseException as exc:
        errors[2] = exc
    finally:
        # What a thread that could not start would have closed:
        if steps[0] not in started:
            sig_out.close()
        if steps[1] not in started:
            sig_in.close()
            delta_out.close()
        delta_in.close()
        for t in started:
            t.join()
    for err in errors:
        if err is not None and not isinstance(err, BrokenPipeError):
            raise err
    for err in errors:
        if err is not None:
            raise err
    stats = patch_stats[0]
    stats.signature_bytes = sig_stats[0].signature_bytes
    return stats
