"""Protocol 3's wire format: messages, variable-length integers, the file
list codec, and the bounds every reader checks before it allocates.

Each direction of a connection is a sequence of messages::

    type: u8 | length: varint | payload: <length> bytes

Integers in payloads are unsigned LEB128 varints (at most 10 bytes, below
2**64); signed ones (mtime differences) are zigzag-encoded first.  There is
no per-message checksum: the transport (a pipe, ssh, TCP) is reliable, and
what matters, each file's content, is checked end to end with its XXH3-128
digest.

Sender to receiver:

=====  ==========================================================================
``H``  hello: magic ``LRS3``, protocol version, feature flags (see FEATURES)
``L``  part of a directory's listing: dir id, ``last`` flag, entry count, entries
``Q``  the file list is complete: directories and files announced (counts)
``F``  the data of a requested file follows: file id, kind (whole or delta)
``C``  a chunk of that data (literal bytes, or a librsync delta), maybe zstd
``E``  end of that file: its size, its digest, flags (``CHANGED``: the source
       changed while it was read; the receiver keeps its old version)
``K``  a requested file could not be sent (vanished, unreadable): id, reason
``Z``  end: the sender's statistics
``!``  the sender stopped (it could not read its source, say): why, as text
=====  ==========================================================================

Receiver to sender:

=====  ==========================================================================
``H``  hello: magic, version, features, and the options it asks for
``R``  request a file: id, kind (whole, delta, delta-again with full strong
       sums) and, for a delta, the old file's size and signature parameters
``S``  a chunk of that request's signature; ``T`` ends it
``A``  every request for the files of a directory has been sent (the sender
       may forget that directory's entries)
``Z``  end: no more requests
``!``  the receiver stopped (a refused list, a full disk): why, as text
=====  ==========================================================================
"""

from __future__ import annotations

import struct
import threading
from typing import Any, List, NamedTuple, Optional, Tuple

from ..exceptions import (
    RS_BAD_MAGIC,
    RS_CORRUPT,
    RS_INPUT_ENDED,
    RS_IO_ERROR,
    BadMagicError,
    CorruptDataError,
    InputEndedError,
    LibrsyncError,
    LimitExceededError,
)

#: The protocol version this package speaks.
VERSION = 3
MAGIC = b"LRS3"

HELLO, LIST, LIST_END, FILE, CHUNK, END_FILE, SKIP, DONE = (ord(c) for c in "HLQFCEKZ")
#: Either way: this side stopped, and why (UTF-8 text); nothing follows.
ERROR = ord("!")
REQUEST, SIG, SIG_END, ACK = (ord(c) for c in "RSTA")

# Feature flags in a hello.
FEAT_ZSTD = 1        # this side can compress and decompress zstd
FEAT_COMPRESS = 2    # this side asks for compression
FEAT_CHECKSUM = 4    # (receiver) compare files by content: send digests in the list
FEAT_SINGLE = 8      # (sender) the source is one file, not a directory

# File data kinds.
WHOLE, DELTA, DELTA_AGAIN = 0, 1, 2
# END_FILE flags.
CHANGED = 1
# Entry kinds in a listing (the high bit: a digest follows).
KIND_FILE, KIND_DIR, KIND_LINK = ord("f"), ord("d"), ord("l")
_HAS_DIGEST = 0x80

#: What a reader accepts.  Writers stay well below.
MAX_MESSAGE = (1 << 20) + 1024
MAX_NAME = 1024
MAX_TARGET = 4096
MAX_DIR_ENTRIES = 1 << 20
MAX_DEPTH = 128
MAX_PATH = 4095
DIGEST_SIZE = 16
#: A chunk of file data, when writing.
CHUNK_SIZE = 256 * 1024
#: A listing message is cut after this many bytes of entries.
LIST_PART = 64 * 1024


def pump(reader: Any, sink: Any) -> None:
    """Everything ``reader`` gives (``readinto``), in CHUNK_SIZE pieces, to
    ``sink`` (one buffer reused: each piece is a view of it)."""
    view = memoryview(bytearray(CHUNK_SIZE))
    while True:
        n = reader.readinto(view)
        if not n:
            return
        sink(view[:n])


def corrupt(message: str) -> CorruptDataError:
    return CorruptDataError(RS_CORRUPT, message)


class PeerError(LibrsyncError):
    """The other side of a sync stopped, and said why (an ``!`` message):
    its failure, not this side's."""

    def __init__(self, message: Optional[str] = None, code: int = RS_IO_ERROR) -> None:
        super().__init__(code, message)

    def __reduce__(self) -> Tuple[type, Tuple[object, ...]]:
        return (type(self), (self.message, self.code))


def error_payload(e: BaseException) -> bytes:
    """An ``!`` message's text for ``e``, bounded."""
    text = str(e) or type(e).__name__
    if isinstance(e, OSError) and e.strerror:
        text = e.strerror + (f": {e.filename}" if e.filename is not None else "")
    return text.encode("utf-8", "replace")[:4096]


def peer_error(who: str, payload: bytes) -> PeerError:
    text = payload[:4096].decode("utf-8", "replace")
    return PeerError(f"the {who} stopped: {text}")


# --- varints --------------------------------------------------------------------------

def put_uvarint(out: bytearray, value: int) -> None:
    if value < 0:
        raise ValueError(f"a varint cannot hold {value}")
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def put_svarint(out: bytearray, value: int) -> None:
    put_uvarint(out, (value << 1) if value >= 0 else ((-value) << 1) - 1)


class Cursor:
    """Reads a message's payload, every read checked against its end."""

    __slots__ = ("data", "pos", "what")

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what

    def uvarint(self) -> int:
        data, pos = self.data, self.pos
        value = shift = 0
        while True:
            if pos >= len(data):
                raise corrupt(f"a {self.what} ends inside a number")
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
            if shift >= 64:
                raise corrupt(f"a number of more than 64 bits in a {self.what}")
        if value >= 1 << 64:
            raise corrupt(f"a number of more than 64 bits in a {self.what}")
        self.pos = pos
        return value

    def svarint(self) -> int:
        z = self.uvarint()
        return (z >> 1) if not z & 1 else -((z + 1) >> 1)

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise corrupt(f"a {self.what} is too short")
        self.pos += 1
        return self.data[self.pos - 1]

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise corrupt(f"a {self.what} is too short ({n} bytes announced)")
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def bounded(self, limit: int, name: str) -> int:
        value = self.uvarint()
        if value > limit:
            raise corrupt(f"{name} {value} in a {self.what} (the limit is {limit})")
        return value

    def rest(self) -> bytes:
        out = self.data[self.pos:]
        self.pos = len(self.data)
        return out

    def done(self) -> None:
        if self.pos != len(self.data):
            raise corrupt(f"{len(self.data) - self.pos} stray bytes after a {self.what}")


# --- messages ----------------------------------------------------------------------------

class MessageWriter:
    """Writes whole messages to a binary stream; thread-safe (a role may
    write from two threads, each message stays whole)."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._lock = threading.Lock()
        self.nbytes = 0

    def send(self, kind: int, payload: bytes | bytearray | memoryview = b"",
             flush: bool = False) -> None:
        head = bytearray((kind,))
        put_uvarint(head, len(payload))
        with self._lock:
            self._raw.write(head)
            if payload:
                self._raw.write(payload)
            self.nbytes += len(head) + len(payload)
            if flush:
                self._raw.flush()

    def flush(self) -> None:
        with self._lock:
            self._raw.flush()


class MessageReader:
    """Reads messages from a binary stream, never past the last one asked
    for, each checked against MAX_MESSAGE before its payload is read."""

    def __init__(self, raw: Any, what: str) -> None:
        self._raw = raw
        self.what = what
        self.nbytes = 0

    def _exact(self, n: int) -> bytes:
        data = self._raw.read(n)
        if len(data) == n:
            self.nbytes += n
            return data
        parts = [data] if data else []
        got = len(data)
        while got < n:
            part = self._raw.read(n - got)
            if not part:
                raise InputEndedError(RS_INPUT_ENDED, f"the {self.what} ended after "
                                      f"{self.nbytes + got} bytes, inside a message")
            parts.append(part)
            got += len(part)
        self.nbytes += n
        return b"".join(parts)

    def next(self) -> Tuple[int, bytes]:
        head = self._raw.read(1)
        if not head:
            raise InputEndedError(RS_INPUT_ENDED, f"the {self.what} ended after "
                                  f"{self.nbytes} bytes, before its end")
        self.nbytes += 1
        kind = head[0]
        length = shift = 0
        while True:
            byte = self._exact(1)[0]
            length |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
            if shift > 21:  # a fourth continuation: far past MAX_MESSAGE
                raise corrupt(f"a message length of more than 4 bytes in the {self.what}")
        if length > MAX_MESSAGE:
            raise corrupt(f"a message of {length} bytes in the {self.what} (the limit is "
                          f"{MAX_MESSAGE})")
        return kind, self._exact(length) if length else b""


# --- hello ---------------------------------------------------------------------------------

class Hello(NamedTuple):
    version: int
    features: int


def hello_payload(features: int) -> bytes:
    out = bytearray(MAGIC)
    put_uvarint(out, VERSION)
    put_uvarint(out, features)
    return bytes(out)


def read_hello(r: MessageReader) -> Hello:
    kind, payload = r.next()
    if kind != HELLO or payload[:len(MAGIC)] != MAGIC:
        raise BadMagicError(RS_BAD_MAGIC, f"the {r.what} does not start with a protocol 3 "
                            f"hello (it starts with {bytes([kind]) + payload[:8]!r})")
    c = Cursor(payload[len(MAGIC):], "hello")
    version = c.uvarint()
    if version != VERSION:
        raise BadMagicError(RS_BAD_MAGIC, f"the other side speaks sync protocol {version}; "
                            f"this one speaks {VERSION}")
    return Hello(version, c.uvarint())


# --- the file list ------------------------------------------------------------------------

class Entry(NamedTuple):
    """One entry of a directory's listing."""

    kind: int            # KIND_FILE, KIND_DIR or KIND_LINK
    name: bytes
    mode: int            # permission bits (0o777)
    mtime: int           # nanoseconds since the epoch
    size: int = 0        # files
    target: bytes = b""  # links
    digest: bytes = b""  # files, with checksum


class ListingEncoder:
    """Encodes one directory's entries, in order, into LIST payloads of
    about LIST_PART bytes: names share their prefix with the previous name,
    mtimes are differences from the previous mtime."""

    def __init__(self, dir_id: int) -> None:
        self.dir_id = dir_id
        self._prev_name = b""
        self._prev_mtime = 0
        self._body = bytearray()
        self._count = 0

    def add(self, e: Entry) -> Optional[bytes]:
        """Add ``e``; a full payload (not the last) when one is ready."""
        body = self._body
        body.append(e.kind | (_HAS_DIGEST if e.digest else 0))
        prev = self._prev_name
        shared = 0
        limit = min(len(prev), len(e.name), 255)
        while shared < limit and prev[shared] == e.name[shared]:
            shared += 1
        put_uvarint(body, shared)
        put_uvarint(body, len(e.name) - shared)
        body += e.name[shared:]
        put_uvarint(body, e.mode)
        put_svarint(body, e.mtime - self._prev_mtime)
        if e.kind == KIND_FILE:
            put_uvarint(body, e.size)
            if e.digest:
                body += e.digest
        elif e.kind == KIND_LINK:
            put_uvarint(body, len(e.target))
            body += e.target
        self._prev_name, self._prev_mtime = e.name, e.mtime
        self._count += 1
        if len(body) >= LIST_PART:
            return self._payload(last=False)
        return None

    def finish(self) -> bytes:
        return self._payload(last=True)

    def _payload(self, last: bool) -> bytes:
        out = bytearray()
        put_uvarint(out, self.dir_id)
        out.append(1 if last else 0)
        put_uvarint(out, self._count)
        out += self._body
        self._body = bytearray()
        self._count = 0
        return bytes(out)


class ListingDecoder:
    """Decodes the LIST payloads of one directory, checking every bound:
    names (one path component, increasing), modes, sizes, targets, and the
    number of entries."""

    def __init__(self, dir_id: int, digests: bool) -> None:
        self.dir_id = dir_id
        self._digests = digests
        self._prev_name = b""
        self._prev_mtime = 0
        self.total = 0

    def decode(self, c: Cursor) -> List[Entry]:
        count = c.bounded(MAX_DIR_ENTRIES - self.total, "an entry count")
        self.total += count
        out = []
        for _ in range(count):
            flags = c.byte()
            kind = flags & ~_HAS_DIGEST
            if kind not in (KIND_FILE, KIND_DIR, KIND_LINK):
                raise corrupt(f"an entry of unknown kind {flags:#04x} in a listing")
            shared = c.bounded(len(self._prev_name), "a shared name prefix of")
            suffix = c.take(c.bounded(MAX_NAME, "a name length"))
            name = self._prev_name[:shared] + suffix
            check_name(name)
            if name <= self._prev_name and self._prev_name:
                raise corrupt(f"{name!r} comes after {self._prev_name!r} in a listing: "
                              "names must increase")
            mode = c.bounded(0o7777, "a mode") & 0o777
            mtime = self._prev_mtime + c.svarint()
            if not -(1 << 63) <= mtime < 1 << 63:
                raise corrupt(f"an mtime out of range in a listing ({mtime})")
            size = 0
            target = digest = b""
            if kind == KIND_FILE:
                size = c.bounded((1 << 63) - 1, "a size")
                if flags & _HAS_DIGEST:
                    if not self._digests:
                        raise corrupt("a digest in a listing that should have none")
                    digest = c.take(DIGEST_SIZE)
                elif self._digests:
                    raise corrupt("a file without its digest in a checksum listing")
            elif flags & _HAS_DIGEST:
                raise corrupt("a digest on an entry that is not a file")
            elif kind == KIND_LINK:
                target = c.take(c.bounded(MAX_TARGET, "a link target of"))
                if not target or b"\0" in target:
                    raise corrupt("an empty symlink target, or one holding NUL, in a listing")
            self._prev_name, self._prev_mtime = name, mtime
            out.append(Entry(kind, name, mode, mtime, size, target, digest))
        return out


def check_name(name: bytes) -> None:
    """One plain path component, whatever the platform the stream came from."""
    if not name:
        raise corrupt("an empty name in a listing")
    if name in (b".", b".."):
        raise _unsafe(f"the name {name!r} would leave its directory")
    for bad in (b"/", b"\\", b"\0"):
        if bad in name:
            raise _unsafe(f"the name {name!r} holds {bad!r}: names must be single path "
                          "components")


def _unsafe(message: str) -> CorruptDataError:
    from ..tree import UnsafePathError  # one exception for every unsafe path
    return UnsafePathError(message)


def limit_error(message: str) -> LimitExceededError:
    return LimitExceededError(message)


_U32 = struct.Struct(">I")
