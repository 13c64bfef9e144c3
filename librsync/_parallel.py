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

import _thread
import collections
import contextlib
import time

TYPE_CHECKING = False  # mypy takes it as True; typing costs ~3 ms of start-up
if TYPE_CHECKING:  # annotations only
    import concurrent.futures
    from typing import Any, Callable, Iterator, List, Optional, Tuple

from . import _format, _rsync
from ._format import COPY as _COPY
from .exceptions import RS_INTERNAL_ERROR, error_for_code

# Segment sizes: large enough that per-job set-up and seams are negligible,
# small enough to bound memory at (threads + 1) segments, recycled (1 GiB
# with threads=2: 47-50 MiB peak RSS, bench/RESULTS.md (e)).
SIGNATURE_SEGMENT = 8 << 20
DELTA_SEGMENT = 8 << 20
# A seam is not re-scanned when its region would be larger than this (e.g.
# wholly new data, where there is no COPY to re-synchronise on and nothing to
# gain).
MAX_SEAM_RESCAN = 8 << 20


def check_threads(threads: object) -> int:
    """``threads`` as the one-shot functions and jobs take it: an int >= 1."""
    if type(threads) is int and threads == 1:
        return 1
    if not isinstance(threads, int) or isinstance(threads, bool):
        raise TypeError(f"threads must be an int, not {type(threads).__name__}")
    if threads < 1:
        raise ValueError(f"threads must be >= 1, not {threads}")
    return int(threads)


def _rsync_error(text: str) -> Exception:
    return error_for_code(RS_INTERNAL_ERROR, text)


# --- delta commands, as the seam re-scan needs them -------------------------------

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
    """Commands of a delta that librsync just produced, each keeping its
    encoding (a LITERAL's holds its data)."""
    view = memoryview(delta)
    return [_Cmd(c.kind, c.pos, c.length, view[c.start:c.end])
            for c in _format.parse_delta(view)]


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
            encoded = c.raw if c.raw is not None else _format.encode_copy(c.pos, c.length)
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
    import concurrent.futures  # here: ~1.5 ms that threads=1 callers never need

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

class _JobState:
    """The rules every job follows (as the driver's jobs do): one thread at a
    time, nothing after finish, failure or close."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = _thread.allocate_lock()  # threading.Lock, without threading's import
        self.state = "running"
        self.finish_called = False

    def enter(self) -> None:
        if not self._lock.acquire(blocking=False):
            raise RuntimeError(f"{self._name} is being used by another thread")
        if self.state == "running":
            return
        self._lock.release()
        if self.state == "finished":
            raise ValueError(f"{self._name} is already finished")
        if self.state == "failed":
            raise ValueError(f"{self._name} failed earlier and cannot continue")
        raise ValueError(f"{self._name} is closed")

    def leave(self) -> None:
        self._lock.release()

    @property
    def busy(self) -> bool:
        return self._lock.locked()


def _check_data(data: Any) -> memoryview:
    if data is None:
        data = b""
    if isinstance(data, str):
        raise TypeError(f"data must be a bytes-like object, not {type(data).__name__}")
    try:
        return memoryview(data).cast("B")
    except TypeError:
        raise TypeError(f"data must be a bytes-like object, not {type(data).__name__}") from None


class ParallelSignatureJob:
    """``SignatureJob(threads=N)``: the signature of whole-block segments
    (8 MiB) computed in N worker threads, each by a driver SignatureJob.

    Same interface as the driver's jobs: :meth:`update` / :meth:`finish`
    for streaming (input is cut into segments as it arrives; workers
    compute their sums while the caller feeds more; bodies come back in
    order), :meth:`run` for a whole source (read straight into recycled
    segment buffers), ``stats``, ``close()``.  At most ``threads + 1``
    segments are in flight.  Output is byte-identical to one job's: each
    block's sums depend only on that block.
    """

    def __init__(self, block_size: int = 0, strong_len: int = 0,
                 magic: int = _rsync.RS_RK_BLAKE2_SIG_MAGIC, file_size: int = -1, *,
                 threads: int = 2) -> None:
        self.threads = check_threads(threads)
        # A driver job validates and resolves the parameters exactly as a
        # one-thread signature would, and writes nothing.
        probe = _rsync.SignatureJob(block_size, strong_len, magic, file_size)
        probe.close()
        self.magic, self.block_len, self.strong_len = probe.magic, probe.block_len, probe.strong_len
        self._header = _format.SIGNATURE_HEADER.pack(self.magic, self.block_len, self.strong_len)
        self._segment = max(1, SIGNATURE_SEGMENT // self.block_len) * self.block_len
        self._rules = _JobState(type(self).__name__)
        self._pool: Optional[concurrent.futures.ThreadPoolExecutor] = None
        self._pending: collections.deque = collections.deque()
        self._buf = bytearray()
        self._blocks = 0
        self._header_sent = False
        self._started = time.perf_counter()
        self._ended: Optional[float] = None
        self.in_bytes = 0
        self.out_bytes = 0

    # -- one segment, in a worker -----------------------------------------------

    def _body(self, piece: Any) -> Tuple[bytes, int]:
        job = _rsync.SignatureJob(self.block_len, self.strong_len, self.magic)
        out = job.finish(piece)
        if out[:len(self._header)] != self._header:
            raise _rsync_error("segment signature header differs")
        return out[len(self._header):], job.stats.sig_blocks

    def _take(self, result: Tuple[bytes, int]) -> bytes:
        body, blocks = result
        self._blocks += blocks
        return body

    def _start(self) -> bytes:
        if self._header_sent:
            return b""
        self._header_sent = True
        return self._header

    # -- streaming ------------------------------------------------------------------

    def _feed(self, data: Any, final: bool) -> bytes:
        view = _check_data(data)
        with self._call(final):
            out: List[bytes] = [self._start()]
            self.in_bytes += view.nbytes
            self._buf += view
            view.release()
            while len(self._buf) >= self._segment or (final and self._buf):
                piece = bytes(self._buf[:self._segment])
                del self._buf[:self._segment]
                if self._pool is None:
                    import concurrent.futures

                    self._pool = concurrent.futures.ThreadPoolExecutor(
                        self.threads, thread_name_prefix="librsync")
                self._pending.append(self._pool.submit(self._body, piece))
                if len(self._pending) > self.threads:
                    out.append(self._take(self._pending.popleft().result()))
            while self._pending and (final or self._pending[0].done()):
                out.append(self._take(self._pending.popleft().result()))
        result = b"".join(out)
        self.out_bytes += len(result)
        return result

    def update(self, data: Any) -> bytes:
        """Feed ``data`` (bytes-like) and return the output ready so far."""
        return self._feed(data, False)

    def finish(self, data: Any = b"") -> bytes:
        """Feed the last ``data``, end the input, and return the rest of the
        output.  The workers stop; ``stats`` stays available."""
        return self._feed(data, True)

    # -- a whole source ---------------------------------------------------------------

    def run(self, source: Any, write: Callable[[Any], None]) -> None:
        """Read ``source`` (bytes-like or binary reader) to its end and pass
        the signature to ``write`` in order."""
        with self._call(True):
            write(memoryview(self._start()))
            self.out_bytes += len(self._header)
            spare: List[bytearray] = []

            def consume(piece: memoryview, result: Tuple[bytes, int]) -> None:
                body = self._take(result)
                self.in_bytes += piece.nbytes
                self.out_bytes += len(body)
                write(memoryview(body))
                # The worker is done with it: the next segment may be read into it.
                if isinstance(piece.obj, bytearray) and len(piece.obj) == self._segment:
                    spare.append(piece.obj)
                piece.release()

            with _as_view(source) as src:
                _ordered_map(self._body, _segments(src, self._segment, spare),
                             self.threads, consume)

    # -- lifecycle ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _call(self, final: bool) -> Iterator[None]:
        """Every call's rules in one place: one thread at a time, and a
        failure (or interrupt) ends the job, stopping its workers."""
        self._rules.enter()
        try:
            self._rules.finish_called = final
            yield
            if final:
                self._end("finished")
        except BaseException:
            self._end("failed")
            raise
        finally:
            self._rules.leave()

    def _end(self, state: str) -> None:
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        self._buf = bytearray()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._rules.state == "running":
            self._rules.state = state
            self._ended = time.perf_counter()

    def close(self) -> None:
        """Stop the workers and free the buffers.  Idempotent; a job that did
        not finish cannot be used afterwards."""
        if self._rules.busy:
            raise RuntimeError(f"{type(self).__name__} is being used by another thread")
        self._end("closed")

    def __enter__(self) -> "ParallelSignatureJob":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def finished(self) -> bool:
        """True once the job has produced all of its output."""
        return self._rules.state == "finished"

    @property
    def unused_data(self) -> bytes:
        """Always empty: a signature job uses all of its input."""
        return b""

    @property
    def stats(self) -> Any:
        """A :class:`Stats` snapshot of the work so far."""
        return _rsync.make_stats(
            "signature", sig_blocks=self._blocks, block_len=self.block_len,
            in_bytes=self.in_bytes, out_bytes=self.out_bytes,
            elapsed=(self._ended or time.perf_counter()) - self._started)

    def __repr__(self) -> str:
        return (f"<SignatureJob {_format.magic_name(self.magic)} threads={self.threads} "
                f"block_len={self.block_len} strong_len={self.strong_len} "
                f"in={self.in_bytes} out={self.out_bytes} {self._rules.state}>")


class _as_view:
    """A bytes-like source as a flat memoryview (released after), a reader
    as itself."""

    def __init__(self, source: Any) -> None:
        self._view: Optional[memoryview] = None
        try:
            self._view = memoryview(source).cast("B")
        except TypeError:
            self._source = source

    def __enter__(self) -> Any:
        return self._view if self._view is not None else self._source

    def __exit__(self, *exc: object) -> None:
        if self._view is not None:
            self._view.release()


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
        # The segment and seam jobs' search counters, added up.
        self.false_checks = self.skipped_checks = 0

    def _count(self, job: Any) -> None:
        self.false_checks += job.false_checks
        self.skipped_checks += job.skipped_checks

    def add(self, data: memoryview, result: Tuple[bytes, Tuple[int, int]]) -> None:
        delta_bytes, (false_checks, skipped_checks) = result
        self.false_checks += false_checks
        self.skipped_checks += skipped_checks
        self.in_bytes += len(data)
        cmds = _parse(delta_bytes)
        if not self.started:
            self._emit(_format.DELTA_MAGIC)
            self.started = True
        else:
            self._fix_seam(cmds, data)
        self.held.extend(cmds)
        self.held = _merge_copies(self.held)
        self._release()

    def finish(self) -> None:
        if not self.started:
            self._emit(_format.DELTA_MAGIC)
        _write_cmds(self.held, self.write, self.counts)
        self.held = []
        self._emit(bytes([_format.END]))

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
        # A right side without a COPY (a short last segment, or one of only
        # new data) is re-scanned whole: a block cut by the seam may still
        # match, and without this the final block of a file that ends in a
        # segment of a few bytes went out as literals.
        first = next((i for i, c in enumerate(right) if c.kind == _COPY), len(right))
        c = _output_len(right[:first])
        head = min(right[first].length, self.sig.block_len) if first < len(right) else 0
        left_len = _output_len(self.held[last + 1:])
        if left_len == 0 or left_len + c + head > MAX_SEAM_RESCAN:
            # Nothing of the left side is held (it ended in a COPY, or was
            # written out): re-scanning the right side's start alone finds
            # what its worker found from the same offset.  (Unrelated data
            # used to re-scan every whole segment here, serially.)  Or too
            # long to re-scan.
            return
        left_literals = b"".join(bytes(c.raw[len(c.raw) - c.length:])  # type: ignore[index, arg-type]
                                 for c in self.held[last + 1:])
        region = left_literals + bytes(right_data[:c + head])
        job = _rsync.DeltaJob(self.sig)
        mid = _parse(job.finish(region))
        self._count(job)
        if _output_len(mid) != len(region):
            raise _rsync_error("seam re-scan does not cover its region")
        rest: List[_Cmd] = []
        if first < len(right) and right[first].length > head:
            copy = right[first]
            rest.append(_Cmd(_COPY, copy.pos + head, copy.length - head, None))
        self.held[last + 1:] = mid
        right[:first + 1] = rest


def delta_segment(block_len: int) -> int:
    """Bytes of new file each worker searches: DELTA_SEGMENT, but at least
    room for a seam re-scan and librsync's own window several times over."""
    return max(DELTA_SEGMENT, 4 * (block_len + 65536))


class ParallelDeltaJob:
    """``delta(threads=N)``: segments of the new file searched in N worker
    threads against one shared signature, joined into one delta with the
    seams re-scanned.  A whole-source job: :meth:`run` and ``stats``.

    Each segment (and each seam re-scan) is one driver ``DeltaJob``, with
    that job's bound on the search's work: so the whole search costs at
    most that bound per byte, plus one base allowance per job.
    ``false_checks`` and ``skipped_checks`` add up the jobs' counters."""

    def __init__(self, sig: Any, threads: int) -> None:
        if type(sig) is not _rsync.Signature:
            raise TypeError(f"signature must be a loaded Signature, not {type(sig).__name__}")
        sig.block_len  # refuses a Signature that is not loaded
        self.signature = sig
        self.threads = check_threads(threads)
        self._stats: Any = None
        self.false_checks = 0
        self.skipped_checks = 0

    def run(self, source: Any, write: Callable[[Any], None]) -> None:
        """Write the delta of ``source`` (bytes-like or binary reader)."""
        if self._stats is not None:
            raise ValueError(f"{type(self).__name__} is already finished")
        started = time.perf_counter()
        sig = self.signature
        segment = delta_segment(sig.block_len)
        joiner = _DeltaJoiner(sig, write)

        def body(piece: memoryview) -> Tuple[bytes, Tuple[int, int]]:
            job = _rsync.DeltaJob(sig)
            out = job.finish(piece)
            return out, (job.false_checks, job.skipped_checks)

        spare: List[bytearray] = []

        def consume(piece: memoryview, result: Tuple[bytes, Tuple[int, int]]) -> None:
            joiner.add(piece, result)
            # The joiner keeps no view of the segment (its commands hold the
            # worker's delta bytes): the next one may be read into it, so the
            # threaded delta reuses threads + 1 buffers instead of allocating
            # (and faulting in) a fresh 8 MiB one per segment.
            if isinstance(piece.obj, bytearray) and len(piece.obj) == segment:
                spare.append(piece.obj)
            piece.release()

        with _as_view(source) as src:
            _ordered_map(body, _segments(src, segment, spare), self.threads, consume)
        joiner.finish()
        self.false_checks = joiner.false_checks
        self.skipped_checks = joiner.skipped_checks
        n = joiner.counts
        self._stats = _rsync.make_stats(
            "delta", lit_cmds=n.lit_cmds, lit_bytes=n.lit_bytes, lit_cmdbytes=n.lit_cmdbytes,
            copy_cmds=n.copy_cmds, copy_bytes=n.copy_bytes, copy_cmdbytes=n.copy_cmdbytes,
            in_bytes=joiner.in_bytes, out_bytes=n.out_bytes,
            elapsed=time.perf_counter() - started)

    @property
    def stats(self) -> Any:
        """The joined delta's :class:`Stats` (after :meth:`run`)."""
        if self._stats is None:
            raise ValueError("statistics are known once run() has finished")
        return self._stats

    def close(self) -> None:
        """Nothing to free: workers end with :meth:`run`."""

    def __enter__(self) -> "ParallelDeltaJob":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
