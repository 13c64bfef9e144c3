"""Signatures and deltas as iterators of chunks, for sending over a wire.

``iter_signature(f)`` and ``iter_delta(f, sig)`` are generators: each step
reads at most ``chunk_size`` bytes of ``f``, runs the job over them and
yields what it produced, so the output can go straight into an HTTP request
or response body, a socket, or a queue, while the input is still being read.
The other direction needs no iterator: ``patch()``, ``load_signature()`` and
``delta()`` take an iterable of chunks as any of their inputs.

Bounds (what a consumer can rely on):

- every chunk is a non-empty ``bytes`` of at most ``chunk_size`` bytes (an
  empty chunk would end an HTTP/1.1 chunked body);
- the generator reads ``f`` only when advanced, one piece of at most
  ``chunk_size`` bytes per step;
- it holds at most one step's output, which is about one piece of input
  plus what the job carries over (for a delta, its search window of
  ``2 * (block_len + 64 KiB)``), plus the driver's output buffer.

The chunks joined are byte for byte what ``signature()`` / ``delta()``
write for the same input and options.
"""

from __future__ import annotations

import operator

from . import _api, _files, _rsync
from ._rsync import RS_RK_BLAKE2_SIG_MAGIC

__all__ = ["iter_signature", "iter_delta"]

#: Default ``chunk_size``: big enough that per-step overhead is small, the
#: usual size of a socket read or an HTTP client's body chunk.
_CHUNK_SIZE = 64 * 1024


def _check_chunk_size(chunk_size):
    """``chunk_size`` as the iterators take it: an int >= 1."""
    if isinstance(chunk_size, bool):
        raise TypeError("chunk_size must be an int, not bool")
    try:
        size = operator.index(chunk_size)
    except TypeError:
        raise TypeError(f"chunk_size must be an int, not {type(chunk_size).__name__}") from None
    if size < 1:
        raise ValueError(f"chunk_size must be >= 1, not {size}")
    return size


def _split(data, size):
    """``data`` in non-empty pieces of at most ``size`` bytes (none if empty)."""
    if len(data) <= size:
        if data:
            yield data
        return
    for start in range(0, len(data), size):
        yield data[start:start + size]


def _pieces(source, size):
    """What ``_files.open_source`` gave, in pieces of at most ``size`` bytes.

    A bytes-like source is sliced in place.  A reader is read into one
    reused buffer: the jobs copy whatever they keep between calls, so a
    piece need only be valid until the next one is asked for."""
    if type(source) is bytes or type(source) is bytearray:
        # open_source passes these through as they are (the driver reads
        # them by pointer); slicing needs a view.
        with memoryview(source) as whole:
            yield from _pieces(whole, size)
        return
    if isinstance(source, memoryview):
        for start in range(0, source.nbytes, size):
            piece = source[start:start + size]
            try:
                yield piece
            finally:
                piece.release()
        return
    readinto = getattr(source, "readinto", None)
    if readinto is None:
        read = source.read
        while True:
            data = read(size)
            if data is None:
                raise BlockingIOError("input file is non-blocking and has no data ready")
            if isinstance(data, str):
                raise TypeError("input file must be opened in binary mode, not text mode")
            if not data:
                return
            if len(data) > size:
                raise OSError(f"read({size}) returned {len(data)} bytes")
            yield data
    buf = bytearray(size)
    view = memoryview(buf)
    try:
        while True:
            n = readinto(view)
            if n is None:
                raise BlockingIOError("input file is non-blocking and has no data ready")
            if not 0 <= n <= size:
                raise OSError(f"readinto() returned {n}, outside 0..{size}")
            if n == 0:
                return
            piece = view[:n]
            try:
                yield piece
            finally:
                piece.release()
    finally:
        view.release()


def _chunks(job, source, size):
    with job:
        for piece in _pieces(source, size):
            yield from _split(job.update(piece), size)
        yield from _split(job.finish(), size)


def iter_signature(f, *, block_size=0, strong_len=0, magic=RS_RK_BLAKE2_SIG_MAGIC,
                   chunk_size=_CHUNK_SIZE):
    """Compute the signature of ``f`` (the old file) as a generator of chunks.

    ``f`` is any input :func:`signature` takes: a bytes-like object, a
    binary file object, a path, or an iterable of bytes-like chunks.  The
    options mean what they mean for :func:`signature`, and the chunks joined
    are the bytes it writes (``block_size=0`` picks the block length from
    the input's size, or 2048 when the size cannot be known).

    Each chunk is a non-empty ``bytes`` of at most ``chunk_size`` bytes
    (default 64 KiB); ``f`` is read ``chunk_size`` bytes at a time, only as
    the generator is advanced.  Arguments are checked when this is called;
    a path is opened at the first ``next()``.  ``close()`` the generator (or
    drop it) to stop early: the job and any file it opened are released.
    """
    size = _check_chunk_size(chunk_size)
    _rsync.check_signature_args(block_size, strong_len, magic)
    _files.check_source(f, "signature input f")
    return _signature_chunks(f, block_size, strong_len, magic, size)


def _signature_chunks(f, block_size, strong_len, magic, size):
    with _files.open_source(f, "signature input f") as source:
        job = _rsync.SignatureJob(block_size, strong_len, magic, _files.source_size(source))
        yield from _chunks(job, source, size)


def iter_delta(f, sig, *, chunk_size=_CHUNK_SIZE):
    """Compute the delta of ``f`` (the new file) against ``sig`` as a
    generator of chunks.

    ``f`` is any input :func:`delta` takes (bytes-like, binary file, path,
    or an iterable of bytes-like chunks).  ``sig`` is a loaded
    :class:`Signature` or a signature in any input kind, loaded when this is
    called (so a bad signature raises here, not at the first ``next()``).
    The chunks joined are the bytes :func:`delta` writes.

    Each chunk is a non-empty ``bytes`` of at most ``chunk_size`` bytes
    (default 64 KiB); ``f`` is read ``chunk_size`` bytes at a time, only as
    the generator is advanced.  A delta job holds back up to its search
    window (``2 * (block_len + 64 KiB)``) before it can emit, so the first
    chunks may need a few pieces of input.  ``close()`` the generator (or
    drop it) to stop early: the job and any file it opened are released.
    """
    size = _check_chunk_size(chunk_size)
    _files.check_source(f, "delta input f")
    loaded = sig if type(sig) is _rsync.Signature else _api.load_signature(sig)
    loaded.block_len  # an unloaded Signature raises ValueError now, as delta() would
    return _delta_chunks(f, loaded, size)


def _delta_chunks(f, sig, size):
    with _files.open_source(f, "delta input f") as source:
        # The driver's job, not the facade's: the signature is loaded.
        yield from _chunks(_rsync.DeltaJob(sig), source, size)
