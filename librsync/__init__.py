"""rsync-style binary deltas: signature, delta, patch.

Three steps bring an old copy of a file up to date with a new one without
sending the whole new file:

1. ``sig = signature(old)`` -- a small summary of the old file;
2. ``d = delta(new, sig)`` -- what the new file has that the old lacks;
3. ``patch(old, d, out)`` -- rebuild the new file from the old one and the delta.

The formats are librsync's, byte for byte the same as the ``rdiff`` tool's.
librsync 2.3.4 is compiled into this package; nothing needs installing.

Every input may be a binary file object (read to its end, need not be
seekable, except ``patch``'s basis), a bytes-like object (bytes, bytearray,
memoryview, mmap, ...) or a path (``str`` or ``os.PathLike``; ``bytes`` is
always data).  Every output may be ``None`` (returns a SpooledTemporaryFile
rewound to 0), a binary file object (written, rewound to where writing began
if seekable, and returned) or a path (written atomically and returned).

For data that arrives in pieces (sockets, generators) use the streaming job
objects :class:`SignatureJob`, :class:`DeltaJob`, :class:`PatchJob` and
:class:`LoadSignatureJob`.
"""

from __future__ import annotations

import io
import os
from typing import IO, Any, Callable, Optional, Union

try:
    from . import _rsync  # noqa: F401  (first, for the error below)
except ImportError as _exc:  # pragma: no cover - depends on how it was installed
    raise ImportError(
        f"librsync's compiled core (_rsync) is missing from {os.path.dirname(__file__)}: "
        "this looks like an unbuilt source checkout.  Install it with "
        "'pip install .' or build in place with 'python setup.py build_ext --inplace'."
    ) from _exc
from . import _files, _parallel
from ._files import MAX_SPOOL
from ._rsync import (
    DEFAULT_BUFFER_SIZE,
    LIBRSYNC_VERSION,
    MAX_BLOCK_LEN,
    MAX_WEAK_COLLISIONS,
    RS_BLAKE2_SIG_MAGIC,
    RS_BLAKE2_SUM_LENGTH,
    RS_DEFAULT_BLOCK_LEN,
    RS_DEFAULT_MIN_STRONG_LEN,
    RS_DELTA_MAGIC,
    RS_MD4_SIG_MAGIC,
    RS_MD4_SUM_LENGTH,
    RS_RK_BLAKE2_SIG_MAGIC,
    RS_RK_MD4_SIG_MAGIC,
    DeltaJob,
    LoadSignatureJob,
    PatchJob,
    Signature,
    SignatureJob,
    Stats,
    blake2b_implementation,
    debug,
    load_signature,
    supports_trace,
)
from ._version import __version__
from .exceptions import (
    BadMagicError,
    CorruptDataError,
    InputEndedError,
    LibrsyncError,
    LibrsyncMemoryError,
    LibrsyncParamError,
    LimitExceededError,
    RS_DONE,
    RS_BLOCKED,
    RS_RUNNING,
    RS_IO_ERROR,
    RS_SYNTAX_ERROR,
    RS_MEM_ERROR,
    RS_INPUT_ENDED,
    RS_BAD_MAGIC,
    RS_UNIMPLEMENTED,
    RS_CORRUPT,
    RS_INTERNAL_ERROR,
    RS_PARAM_ERROR,
)

__all__ = [
    "signature",
    "delta",
    "patch",
    "load_signature",
    "Signature",
    "SignatureJob",
    "DeltaJob",
    "PatchJob",
    "LoadSignatureJob",
    "Stats",
    "LibrsyncError",
    "InputEndedError",
    "BadMagicError",
    "CorruptDataError",
    "LibrsyncMemoryError",
    "LibrsyncParamError",
    "LimitExceededError",
    "RS_DONE",
    "RS_BLOCKED",
    "RS_RUNNING",
    "RS_IO_ERROR",
    "RS_SYNTAX_ERROR",
    "RS_MEM_ERROR",
    "RS_INPUT_ENDED",
    "RS_BAD_MAGIC",
    "RS_UNIMPLEMENTED",
    "RS_CORRUPT",
    "RS_INTERNAL_ERROR",
    "RS_PARAM_ERROR",
    "debug",
    "supports_trace",
    "blake2b_implementation",
    "MAX_SPOOL",
    "MAX_BLOCK_LEN",
    "MAX_WEAK_COLLISIONS",
    "DEFAULT_BUFFER_SIZE",
    "RS_JOB_BLOCKSIZE",
    "RS_DEFAULT_STRONG_LEN",
    "RS_DEFAULT_BLOCK_LEN",
    "RS_DEFAULT_MIN_STRONG_LEN",
    "RS_MD4_SUM_LENGTH",
    "RS_BLAKE2_SUM_LENGTH",
    "RS_DELTA_MAGIC",
    "RS_MD4_SIG_MAGIC",
    "RS_BLAKE2_SIG_MAGIC",
    "RS_RK_MD4_SIG_MAGIC",
    "RS_RK_BLAKE2_SIG_MAGIC",
    "LIBRSYNC_VERSION",
    "__version__",
]

#: Kept from python-librsync, where it was the I/O chunk size.  This package
#: uses DEFAULT_BUFFER_SIZE buffers instead; the name stays for old callers.
RS_JOB_BLOCKSIZE = 65536
#: Kept from python-librsync: the strong-sum length it used (MD4, 8 bytes),
#: as in old rdiff-backup/duplicity signatures.  ``signature()`` defaults to
#: rdiff's choice (the hash's full length) instead; pass
#: ``strong_len=RS_DEFAULT_STRONG_LEN, magic=RS_MD4_SIG_MAGIC`` for the old
#: format.
RS_DEFAULT_STRONG_LEN = 8

Input = Union[IO[bytes], bytes, bytearray, memoryview, str, "os.PathLike[str]", Any]
StatsCallback = Callable[[Stats], None]


# Exact types only: subclasses may override the buffer protocol's meaning,
# and memoryviews may be non-contiguous; those take the general path.
_WHOLE_INPUTS = (bytes, bytearray)


def _run(job: Any, source_obj: object, what: str, out: object, out_what: str,
         stats: Optional[StatsCallback]) -> Any:
    with _files.open_sink(out, out_what) as sink:
        with job:
            with _files.open_source(source_obj, what) as source:
                job._drive(source, sink.write)
        if stats is not None:
            stats(job.stats)
    return sink.result


def signature(
    f: Input,
    s: Any = None,
    block_size: int = 0,
    strong_len: int = 0,
    magic: int = RS_RK_BLAKE2_SIG_MAGIC,
    *,
    threads: int = 1,
    stats: Optional[StatsCallback] = None,
) -> Any:
    """Compute the signature of ``f`` (the old file) and write it to ``s``.

    The defaults are exactly ``rdiff signature``'s, so the output is
    byte-identical to rdiff's for the same options:

    - ``magic``: ``RS_RK_BLAKE2_SIG_MAGIC`` (RabinKarp rolling sum, BLAKE2
      hash); ``RS_MD4_SIG_MAGIC`` with ``strong_len=8`` is the format of old
      rdiff-backup and duplicity repositories.
    - ``block_size=0``: the recommended block length for the input's size
      (its square root, at least 256), or 2048 when the size cannot be known
      (pipes); ``-b`` in rdiff.
    - ``strong_len=0``: the hash's full length (32 for BLAKE2, 16 for MD4);
      ``-1``: the smallest length librsync recommends for the input's size;
      ``-S`` in rdiff.

    ``threads=N`` computes block sums in N threads (byte-identical output;
    worth it for inputs of tens of MiB and more).  Returns ``s`` (see the
    module docstring for output kinds).  ``stats``, if given, is called with
    the job's :class:`Stats` on success.  For streaming use
    :class:`SignatureJob`.
    """
    _check_threads(threads)
    if type(f) in _WHOLE_INPUTS and type(s) is io.BytesIO and threads == 1:
        job = SignatureJob(block_size, strong_len, magic, len(f))
        blocks = -(-len(f) // job.block_len)
        job._run_whole(f, s, 12 + blocks * (4 + job.strong_len))
        if stats is not None:
            stats(job.stats)
        return s
    with _files.open_source(f, "signature input f") as source:
        size = _files.source_size(source)
        job = SignatureJob(block_size, strong_len, magic, size)
        with _files.open_sink(s, "signature output s") as sink:
            with job:
                if threads > 1:
                    result = _parallel.signature(source, sink.write, job.magic,
                                                 job.block_len, job.strong_len, threads)
                else:
                    job._drive(source, sink.write)
                    result = job.stats
            if stats is not None:
                stats(result)
    return sink.result


def _check_threads(threads: object) -> None:
    if threads == 1 and type(threads) is int:
        return
    if not isinstance(threads, int) or isinstance(threads, bool):
        raise TypeError(f"threads must be an int, not {type(threads).__name__}")
    if threads < 1:
        raise ValueError(f"threads must be >= 1, not {threads}")


def delta(
    f: Input,
    s: Union[Signature, Input],
    d: Any = None,
    *,
    threads: int = 1,
    stats: Optional[StatsCallback] = None,
) -> Any:
    """Compute the delta of ``f`` (the new file) against signature ``s``.

    ``s`` is a loaded :class:`Signature` (reused as is) or a signature in any
    input kind (loaded for this call).  The delta is written to ``d`` and
    ``d`` is returned (see the module docstring for output kinds).

    ``threads=N`` searches segments of the new file in N threads against the
    one signature and joins them into one delta (the seams are re-scanned,
    so the result is normally identical to the serial delta and always
    valid).  For streaming use :class:`DeltaJob`.
    """
    _check_threads(threads)
    if type(f) in _WHOLE_INPUTS and type(d) is io.BytesIO and threads == 1:
        job = DeltaJob(s)
        # A delta is rarely much larger than its input: literals plus a few
        # bytes of command per run.
        job._run_whole(f, d, len(f) + len(f) // 8 + 64)
        if stats is not None:
            stats(job.stats)
        return d
    if threads == 1:
        return _run(DeltaJob(s), f, "delta input f", d, "delta output d", stats)
    sig = s if isinstance(s, Signature) else load_signature(s)
    with _files.open_sink(d, "delta output d") as sink:
        with _files.open_source(f, "delta input f") as source:
            result = _parallel.delta(source, sink.write, sig, threads)
        if stats is not None:
            stats(result)
    return sink.result


def patch(
    f: Input,
    d: Input,
    o: Any = None,
    *,
    max_length: Optional[int] = None,
    stats: Optional[StatsCallback] = None,
) -> Any:
    """Apply delta ``d`` to ``f`` (the old file, the *basis*) and write the new
    file to ``o``.

    ``f`` must allow reading at any offset: a seekable binary file, a
    bytes-like object or mmap, or a path.  ``o`` may name the same path as
    ``f``: the file is then replaced safely once the new version is complete
    (its permission bits are kept).  ``max_length`` refuses deltas that would
    produce more than that many bytes (:class:`LimitExceededError`), a guard
    for deltas from untrusted sources.  For streaming use :class:`PatchJob`.
    """
    job = PatchJob(f, max_length)
    if type(d) in _WHOLE_INPUTS and type(o) is io.BytesIO:
        # The output is at most the basis plus the delta's literals, for
        # deltas that copy each basis byte once (the usual case).
        expected = len(d) + (len(f) if type(f) in _WHOLE_INPUTS else 1 << 30)
        job._run_whole(d, o, expected)
        if stats is not None:
            stats(job.stats)
        return o
    return _run(job, d, "patch delta d", o, "patch output o", stats)
