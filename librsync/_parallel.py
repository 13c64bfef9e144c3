"""Multi-core signature and delta (``threads=N``).

Both split the input into segments that worker threads process with ordinary
jobs (the C work runs without the GIL), and join the results in order, with
at most ``threads + 1`` segments in memory.

Signature: each block's sums depend only on that block, so segments that are
whole multiples of the block length give signature bodies that concatenate
into exactly the serial signature.

Delta: each segment's delta is valid on its own, and deltas concatenate (one
header, the commands of every segment, one END).  But a segment boundary cuts
matches that straddle it, which would cost up to two blocks of literal data
per boundary.  So each seam is re-scanned serially: from the end of the left
segment's last COPY to one block into the right segment's first COPY.  The
serial scanner also restarts after every COPY, so the re-scan sees what it
sees, and then adjacent COPY commands are merged as librsync merges them.
The joined delta is then normally byte-identical to the serial one, and
always valid (tests/test_parallel.py applies it with rdiff too).
"""

from __future__ import annotations

import collections
import concurrent.futures
import struct
import time
from typing import Any, Callable, Iterator, List, Optional, Tuple

from . import _rsync

# Segment sizes: large enough that per-job set-up and seams are negligible,
# small enough to bound memory at (threads + 1) segments (1 GiB with
# threads=2: about 55 MiB peak RSS, bench/RESULTS.md (e)).
SIGNATURE_SEGMENT = 8 << 20
DELTA_SEGMENT = 8 << 20
# A seam is not re-scanned when its region would be larger than this (e.g.
# wholly new data, where there is no COPY to re-synchronise on and nothing to
# gain).
MAX_SEAM_RESCAN = 8 << 20

_DELTA_MAGIC = struct.pack(">I", _rsync.RS_DELTA_MAGIC)
_END = b"\x00"

# --- delta commands (prototab.h) --------------------------------------------------
_LITERAL, _COPY = 1, 2
_SIZES = (1, 2, 4, 8)


def _int_len(value: int) -> int:
    # rs_int_len in netint.c: the smallest of 1, 2, 4, 8 bytes that holds it.
    for n in _SIZES:
        if value < (1 << (8 * n)):
            return n
    raise ValueError("value does not fit in 8 bytes")


def _encode(kind: int, a: int, b: int = 0) -> bytes:
    """Encode a LITERAL (a = length) or COPY (a = position, b = length)
    command header exactly as librsync's emit.c does."""
    if kind == _LITERAL:
        if a <= 64:
            return bytes([a])
        n = _int_len(a)
        return bytes([0x41 + _SIZES.index(n)]) + a.to_bytes(n, "big")
    pn, ln = _int_len(a), _int_len(b)
    op = 0x45 + 4 * _SIZES.index(pn) + _SIZES.index(ln)
    return bytes([op]) + a.to_bytes(pn, "big") + b.to_bytes(ln, "big")


class _Cmd:
    """One delta command: its kind, the span of new-file bytes it produces,
    and either its original encoding or what to re-encode."""

    __slots__ = ("kind", "pos", "length", "raw")

    def __init__(self, kind: int, pos: int, length: int, raw: Optional[memoryview]) -> None:
        self.kind = kind
        self.pos = pos  # basis offset (COPY) or offset in the data (LITERAL)
        self.length = length
        self.raw = raw  # None once changed


def _parse(delta: bytes) -> List[_Cmd]:
    """Commands of a delta that librsync just produced (magic, ..., END)."""
    view = memoryview(delta)
    if bytes(view[:4]) != _DELTA_MAGIC or bytes(view[-1:]) != _END:
        raise _rsync_error("segment delta is not framed as expected")
    cmds: List[_Cmd] = []
    i, end = 4, len(view) - 1
    while i < end:
        op = view[i]
        start = i
        i += 1
        if 1 <= op <= 0x44:
            if op <= 0x40:
                n = op
            else:
                size = _SIZES[op - 0x41]
                n = int.from_bytes(view[i:i + size], "big")
                i += size
            cmds.append(_Cmd(_LITERAL, i, n, view[start:i + n]))
            i += n
        elif 0x45 <= op <= 0x54:
            k = op - 0x45
            ps, ls = _SIZES[k // 4], _SIZES[k % 4]
            pos = int.from_bytes(view[i:i + ps], "big")
            length = int.from_bytes(view[i + ps:i + ps + ls], "big")
            i += ps + ls
            cmds.append(_Cmd(_COPY, pos, length, view[start:i]))
        else:
            raise _rsync_error(f"unexpected command {op:#04x} in a segment delta")
    if i != end:
        raise _rsync_error("segment delta ends inside a command")
    return cmds


def _rsync_error(text: str) -> Exception:
    from .exceptions import RS_INTERNAL_ERROR, error_for_code

    return error_for_code(RS_INTERNAL_ERROR, text)


def _output_len(cmds: List[_Cmd]) -> int:
    return sum(c.length for c in cmds)


def _merge_copies(cmds: List[_Cmd]) -> List[_Cmd]:
    """Merge COPY commands that continue each other in the basis, as the
    serial delta does when a match extends the previous one."""
    out: List[_Cmd] = []
    for c in cmds:
        prev = out[-1] if out else None
        if (prev is not None and prev.kind == _COPY and c.kind == _COPY
                and prev.pos + prev.length == c.pos):
            out[-1] = _Cmd(_COPY, prev.pos, prev.length + c.length, None)
        else:
            out.append(c)
    return out


class _Counts:
    """Statistics of the joined delta, counted from the commands written
    (segment jobs' own counts include re-scanned seams twice)."""

    def __init__(self) -> None:
        self.lit_cmds = self.lit_bytes = self.lit_cmdbytes = 0
        self.copy_cmds = self.copy_bytes = self.copy_cmdbytes = 0
        self.out_bytes = 0


def _write_cmds(cmds: List[_Cmd], write: Callable[[Any], None], counts: _Counts) -> None:
    for c in cmds:
        if c.kind == _COPY:
            encoded = c.raw if c.raw is not None else _encode(_COPY, c.pos, c.length)
            counts.copy_cmds += 1
            counts.copy_bytes += c.length
            counts.copy_cmdbytes += len(encoded)
        else:
            # Literal commands always keep their encoding, which holds their data.
            assert c.raw is not None
            encoded = c.raw
            counts.lit_cmds += 1
            counts.lit_bytes += c.length
            counts.lit_cmdbytes += len(encoded) - c.length
        counts.out_bytes += len(encoded)
        write(encoded)


# --- the ordered worker pool -------------------------------------------------------

def _segments(source: Any, size: int,
              spare: Optional[List[bytearray]] = None) -> Iterator[memoryview]:
    """Consecutive pieces of at most ``size`` bytes: slices of a buffer, or
    buffers read from a file (each piece is owned by one worker).  Buffers
    put back into ``spare`` by the consumer are filled again instead of new
    ones: a fresh 8 MiB bytearray is zero-filled (and often faulted in) only
    to be overwritten, about a tenth of a threaded signature's time."""
    if isinstance(source, memoryview):
        for start in range(0, source.nbytes, size):
            yield source[start:start + size]
        return
    readinto = getattr(source, "readinto", None)
    while True:
        buf = spare.pop() if spare else bytearray(size)
        view = memoryview(buf)
        filled = 0
        while filled < size:
            if readinto is not None:
                n = readinto(view[filled:])
                if n is None:
                    raise BlockingIOError("input file is non-blocking and has no data ready")
            else:
                chunk = source.read(size - filled)
                if isinstance(chunk, str):
                    raise TypeError("input file must be opened in binary mode, not text mode")
                n = len(chunk)
                view[filled:filled + n] = chunk
            if not n:
                break
            filled += n
        if filled:
            yield view[:filled]
        if filled < size:
            return


def _ordered_map(fn: Callable[[memoryview], Any], pieces: Iterator[memoryview], threads: int,
                 consume: Callable[[memoryview, Any], None]) -> None:
    """Run ``fn`` over pieces in ``threads`` workers; ``consume(piece,
    result)`` in input order, keeping at most threads + 1 pieces alive."""
    with concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="librsync") as pool:
        pending: collections.deque = collections.deque()
        try:
            for piece in pieces:
                pending.append((piece, pool.submit(fn, piece)))
                if len(pending) > threads:
                    done_piece, future = pending.popleft()
                    consume(done_piece, future.result())
            while pending:
                done_piece, future = pending.popleft()
                consume(done_piece, future.result())
        except BaseException:
            for _, future in pending:
                future.cancel()
            raise


# --- signature -----------------------------------------------------------------------

def signature(source: Any, write: Callable[[Any], None], magic: int, block_len: int,
              strong_len: int, threads: int) -> Any:
    """Write the signature of ``source``; return its merged Stats."""
    started = time.perf_counter()
    parts: List[Any] = []
    header = struct.pack(">III", magic, block_len, strong_len)
    write(memoryview(header))
    segment = max(1, SIGNATURE_SEGMENT // block_len) * block_len

    def body(piece: memoryview) -> Tuple[bytes, Any]:
        job = _rsync.SignatureJob(block_len, strong_len, magic)
        out = job.finish(piece)
        if out[:12] != header:
            raise _rsync_error("segment signature header differs")
        return out[12:], job.stats

    spare: List[bytearray] = []

    def consume(piece: memoryview, result: Tuple[bytes, Any]) -> None:
        write(memoryview(result[0]))
        parts.append(result[1])
        # The worker is done with it: the next segment may be read into it.
        if isinstance(piece.obj, bytearray) and len(piece.obj) == segment:
            spare.append(piece.obj)
        piece.release()

    _ordered_map(body, _segments(source, segment, spare), threads, consume)
    return _rsync._make_stats(
        "signature",
        sig_blocks=sum(p.sig_blocks for p in parts),
        block_len=block_len,
        in_bytes=sum(p.in_bytes for p in parts),
        out_bytes=len(header) + sum(p.out_bytes - len(header) for p in parts),
        elapsed=time.perf_counter() - started)


class SignatureStream:
    """The engine of ``SignatureJob(threads=N)``: the streaming form of
    :func:`signature`.  Input is cut into whole-block segments as it
    arrives; workers compute their sums while the caller feeds more, and
    the bodies are returned in order.  At most ``threads + 1`` segments
    are in flight, plus the partial one being filled."""

    def __init__(self, magic: int, block_len: int, strong_len: int, threads: int) -> None:
        self._magic, self._block_len, self._strong_len = magic, block_len, strong_len
        self._header = struct.pack(">III", magic, block_len, strong_len)
        self._segment = max(1, SIGNATURE_SEGMENT // block_len) * block_len
        self._threads = threads
        self._pool: Optional[concurrent.futures.ThreadPoolExecutor] = None
        self._pending: collections.deque = collections.deque()
        self._buf = bytearray()
        self._parts: List[Any] = []
        self._header_sent = False
        self._started = time.perf_counter()
        self._ended: Optional[float] = None
        self.in_bytes = 0
        self.out_bytes = 0

    def _body(self, piece: bytes) -> Tuple[bytes, Any]:
        job = _rsync.SignatureJob(self._block_len, self._strong_len, self._magic)
        out = job.finish(piece)
        if out[:12] != self._header:
            raise _rsync_error("segment signature header differs")
        return out[12:], job.stats

    def _submit(self, piece: bytes) -> None:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                self._threads, thread_name_prefix="librsync")
        self._pending.append(self._pool.submit(self._body, piece))

    def _collect(self, out: List[bytes]) -> None:
        body, stats = self._pending.popleft().result()
        self._parts.append(stats)
        out.append(body)

    def _feed(self, data: Any, final: bool) -> bytes:
        out: List[bytes] = []
        if not self._header_sent:
            out.append(self._header)
            self._header_sent = True
        view = memoryview(data).cast("B")
        self.in_bytes += view.nbytes
        self._buf += view
        view.release()
        while len(self._buf) >= self._segment or (final and self._buf):
            piece = bytes(self._buf[:self._segment])
            del self._buf[:self._segment]
            self._submit(piece)
            if len(self._pending) > self._threads:
                self._collect(out)  # bounds memory: wait for the oldest
        while self._pending and (final or self._pending[0].done()):
            self._collect(out)
        if final:
            self.close()
            self._ended = time.perf_counter()
        result = b"".join(out)
        self.out_bytes += len(result)
        return result

    def update(self, data: Any) -> bytes:
        return self._feed(data, False)

    def finish(self, data: Any = b"") -> bytes:
        return self._feed(data, True)

    def close(self) -> None:
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        self._buf = bytearray()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def stats(self) -> Any:
        return _rsync._make_stats(
            "signature",
            sig_blocks=sum(p.sig_blocks for p in self._parts),
            block_len=self._block_len,
            in_bytes=self.in_bytes,
            out_bytes=self.out_bytes,
            elapsed=(self._ended or time.perf_counter()) - self._started)


# --- delta ----------------------------------------------------------------------------

class _DeltaJoiner:
    """Joins segment deltas in order, re-scanning each seam.

    Commands from the last COPY onwards are held back: the next seam's
    re-scan starts where that COPY ends, and its first COPY may extend it.
    The data of the held literals is in their encoding, so no segment data
    has to be kept for the left side of a seam.
    """

    def __init__(self, sig: Any, write: Callable[[Any], None]) -> None:
        self.sig = sig
        self.write = write
        self.counts = _Counts()
        self.in_bytes = 0
        self.held: List[_Cmd] = []
        self.started = False

    def add(self, data: memoryview, result: Tuple[bytes, Any]) -> None:
        delta_bytes, _stats = result
        self.in_bytes += len(data)
        cmds = _parse(delta_bytes)
        if not self.started:
            self._emit(_DELTA_MAGIC)
            self.started = True
        else:
            self._fix_seam(cmds, data)
        self.held.extend(cmds)
        self.held = _merge_copies(self.held)
        self._release()

    def finish(self) -> None:
        if not self.started:
            self._emit(_DELTA_MAGIC)
        _write_cmds(self.held, self.write, self.counts)
        self.held = []
        self._emit(_END)

    def _emit(self, data: bytes) -> None:
        self.counts.out_bytes += len(data)
        self.write(data)

    def _last_copy(self) -> int:
        return max((i for i, c in enumerate(self.held) if c.kind == _COPY), default=-1)

    def _release(self) -> None:
        """Write what no later seam can change: everything before the last
        COPY, or everything if the literals after it are too long to re-scan."""
        last = self._last_copy()
        tail = _output_len(self.held[last + 1:])
        cut = last if last >= 0 and tail <= MAX_SEAM_RESCAN else len(self.held)
        _write_cmds(self.held[:cut], self.write, self.counts)
        del self.held[:cut]

    def _fix_seam(self, right: List[_Cmd], right_data: memoryview) -> None:
        last = self._last_copy()
        first = next((i for i, c in enumerate(right) if c.kind == _COPY), -1)
        if last < 0 or first < 0:
            return  # nothing to re-synchronise on: plain concatenation is valid
        left_literals = b"".join(bytes(c.raw[len(c.raw) - c.length:])  # type: ignore[index, arg-type]
                                 for c in self.held[last + 1:])
        c = _output_len(right[:first])
        head = min(right[first].length, self.sig.block_len)
        if len(left_literals) + c + head > MAX_SEAM_RESCAN:
            return
        region = left_literals + bytes(right_data[:c + head])
        mid = _parse(_rsync.DeltaJob(self.sig).finish(region))
        if _output_len(mid) != len(region):
            raise _rsync_error("seam re-scan does not cover its region")
        copy = right[first]
        rest: List[_Cmd] = []
        if copy.length > head:
            rest.append(_Cmd(_COPY, copy.pos + head, copy.length - head, None))
        self.held[last + 1:] = mid
        right[:first + 1] = rest


def delta(source: Any, write: Callable[[Any], None], sig: Any, threads: int) -> Any:
    """Write the delta of ``source`` against loaded signature ``sig``;
    return merged Stats."""
    started = time.perf_counter()
    segment = max(DELTA_SEGMENT, 4 * (sig.block_len + 65536))
    joiner = _DeltaJoiner(sig, write)

    def body(piece: memoryview) -> Tuple[bytes, Any]:
        job = _rsync.DeltaJob(sig)
        out = job.finish(piece)
        return out, job.stats

    _ordered_map(body, _segments(source, segment), threads, joiner.add)
    joiner.finish()
    n = joiner.counts
    return _rsync._make_stats(
        "delta", lit_cmds=n.lit_cmds, lit_bytes=n.lit_bytes, lit_cmdbytes=n.lit_cmdbytes,
        copy_cmds=n.copy_cmds, copy_bytes=n.copy_bytes, copy_cmdbytes=n.copy_cmdbytes,
        in_bytes=joiner.in_bytes, out_bytes=n.out_bytes,
        elapsed=time.perf_counter() - started)
