"""The public functions and job classes, re-exported by ``librsync``.

Layers, each importing only those below it::

    librsync (the namespace)  ->  _api (this file)
        ->  _files (argument kinds)  _parallel (threads=N)  _format (stream formats)
        ->  _rsync (the driver: librsync's jobs)  ->  librsync's C

Every one-shot call takes the same path: this module picks the job (the
driver's, or a threads=N engine from ``_parallel``), ``_files`` turns the
arguments into a buffer or reader and a sink, and ``job.run(source, write)``
does the work.  Output buffers are sized by the jobs themselves.
"""

import abc

from . import _files, _parallel, _rsync
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
    LoadSignatureJob,
    Signature,
    Stats,
    blake2b_implementation,
    debug,
    delta_engine,
    delta_engines,
    signature_engine,
    signature_engines,
    supports_trace,
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
    "debug",
    "supports_trace",
    "blake2b_implementation",
    "signature_engine",
    "signature_engines",
    "delta_engine",
    "delta_engines",
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


# --- the one run path ------------------------------------------------------------

def _run(job, source, out, out_what, stats):
    """Run ``job`` over an opened ``source`` into the output argument
    ``out``; report its statistics; return what the caller gets back."""
    return _files.open_sink(out, out_what).run(job, source, stats)


def _signature_job(block_size, strong_len, magic, file_size, threads):
    if threads == 1:
        return _rsync.SignatureJob(block_size, strong_len, magic, file_size)
    return _parallel.ParallelSignatureJob(block_size, strong_len, magic, file_size,
                                          threads=threads)


def _patch_job(basis, max_length):
    obj, fd, owned = _files.open_basis(basis, "patch basis")
    return _rsync.PatchJob(obj, max_length, fd=fd, close_basis=owned)


def _loaded(s):
    if type(s) is Signature:
        return s
    if type(s) is bytes:
        # The in-memory fast path of load_signature() (bytes need no opening).
        job = LoadSignatureJob()
        job.run(s, None)
        return job.signature
    return load_signature(s)


# --- one-shot functions ----------------------------------------------------------

def signature(f, s=None, block_size=0, strong_len=0, magic=RS_RK_BLAKE2_SIG_MAGIC,
              *, threads=1, stats=None):
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
    threads = _parallel.check_threads(threads)
    if threads == 1 and (type(f) is bytes or type(f) is bytearray):
        # In-memory data needs no opening: the per-call cost of many small
        # signatures is mostly this function's own (bench/PROFILE.md).
        return _run(_rsync.SignatureJob(block_size, strong_len, magic, len(f)), f, s,
                    "signature output s", stats)
    with _files.open_source(f, "signature input f") as source:
        job = _signature_job(block_size, strong_len, magic, _files.source_size(source),
                             threads)
        return _run(job, source, s, "signature output s", stats)


def delta(f, s, d=None, *, threads=1, stats=None):
    """Compute the delta of ``f`` (the new file) against signature ``s``.

    ``s`` is a loaded :class:`Signature` (reused as is) or a signature in any
    input kind (loaded for this call).  The delta is written to ``d`` and
    ``d`` is returned (see the module docstring for output kinds).

    ``threads=N`` searches segments of the new file in N threads against the
    one signature and joins them into one delta (the seams are re-scanned,
    so the result is normally identical to the serial delta and always
    valid).  For streaming use :class:`DeltaJob`.
    """
    threads = _parallel.check_threads(threads)
    sig = _loaded(s)
    job = _rsync.DeltaJob(sig) if threads == 1 else _parallel.ParallelDeltaJob(sig, threads)
    if type(f) is bytes or type(f) is bytearray:
        return _run(job, f, d, "delta output d", stats)
    with _files.open_source(f, "delta input f") as source:
        return _run(job, source, d, "delta output d", stats)


def patch(f, d, o=None, *, max_length=None, stats=None):
    """Apply delta ``d`` to ``f`` (the old file, the *basis*) and write the new
    file to ``o``.

    ``f`` must allow reading at any offset: a seekable binary file, a
    bytes-like object or mmap, or a path.  ``d`` is any input kind,
    including an iterable of bytes-like chunks such as the body of an HTTP
    response as it arrives (read 1 MiB at a time; output is written in
    1 MiB pieces however far the delta's COPY commands expand).  ``o`` may
    name the same path as ``f``: the file is then replaced safely once the
    new version is complete (its permission bits are kept).  ``max_length`` refuses deltas that would
    produce more than that many bytes (:class:`LimitExceededError`), a guard
    for deltas from untrusted sources.  For streaming use :class:`PatchJob`.
    """
    # The job closes a basis it opened when it ends, before the output is
    # renamed into place (an open file cannot be replaced on Windows); close()
    # covers the failures that come before it runs.
    if type(f) is bytes and (type(d) is bytes or type(d) is bytearray):
        # All in memory: nothing to open or close.  (Only for bytes: the job
        # holds a view of f until it ends or is freed, which would keep a
        # bytearray from being resized if output failed before the job ran.)
        return _run(_rsync.PatchJob(f, max_length), d, o, "patch output o", stats)
    with _patch_job(f, max_length) as job:
        with _files.open_source(d, "patch delta d") as source:
            return _run(job, source, o, "patch output o", stats)


def load_signature(s, *, max_blocks=None, max_block_len=None, file_size=None):
    """Read a signature (binary file, bytes-like, path or an iterable of
    bytes-like chunks) and build its hash table once.

    The returned :class:`Signature` can be passed to ``delta()`` and
    :class:`DeltaJob` any number of times, from any number of threads, without
    reloading.  ``max_blocks`` limits how many blocks an untrusted signature
    may describe (memory is about ``blocks * (strong_len + 24)`` bytes);
    exceeding it raises :class:`LimitExceededError`.  ``max_block_len``
    limits its block length the same way, and ``file_size`` (the size of
    the file it describes, when you know it) limits the block length to 16
    times that size's square root (at least 2048): rdiff never chooses more
    than the root.  A header no signature writer produces (a block length
    below 1, a strong sum length of 0 or longer than its hash's digest) is
    refused with :class:`CorruptDataError`.  See :ref:`search-budget` for
    what a delta against a forged signature can cost.
    """
    job = LoadSignatureJob(max_blocks, max_block_len=max_block_len, file_size=file_size)
    with _files.open_source(s, "signature s") as source:
        job.run(source, None)
    return job.signature


# --- job classes: the driver's, with the facade's argument kinds ------------------

class SignatureJob(_rsync.SignatureJob, metaclass=abc.ABCMeta):
    """Incremental signature: feed the old file with :meth:`update`, get the
    signature bytes back; :meth:`finish` ends it.

    ``block_size``, ``strong_len`` and ``magic`` mean what they mean for
    :func:`signature`; ``file_size`` (the total input size, -1 if unknown)
    picks the same defaults rdiff would.  The chosen values are in
    ``magic``, ``block_len`` and ``strong_len``.

    ``threads=N`` computes the sums of whole-block segments (8 MiB) in N
    worker threads while you feed more (the object is then the
    multi-threaded engine, still an instance of this class); output is
    byte-identical, only returned in segment-sized steps.  ``close()`` stops
    the workers.
    """

    __slots__ = ()
    #: Worker threads computing the sums (1: this thread, in librsync's job).
    threads = 1

    def __new__(cls, block_size=0, strong_len=0, magic=RS_RK_BLAKE2_SIG_MAGIC,
                file_size=-1, *, threads=1):
        if _parallel.check_threads(threads) > 1:
            return _parallel.ParallelSignatureJob(block_size, strong_len, magic,
                                                  file_size, threads=threads)
        return super().__new__(cls)

    def __init__(self, block_size=0, strong_len=0, magic=RS_RK_BLAKE2_SIG_MAGIC,
                 file_size=-1, *, threads=1):
        super().__init__(block_size, strong_len, magic, file_size)


SignatureJob.register(_parallel.ParallelSignatureJob)


class DeltaJob(_rsync.DeltaJob):
    """Incremental delta of a new file against a signature: feed the new
    file with :meth:`update`, get delta bytes back.

    ``signature`` is a loaded :class:`Signature` (shared, not copied: many
    DeltaJobs may use one Signature in any number of threads) or a signature
    in any input kind, loaded here.
    """

    __slots__ = ()

    def __init__(self, signature):
        super().__init__(_loaded(signature))


class PatchJob(_rsync.PatchJob):
    """Incremental patch: feed a delta with :meth:`update`, get the new file's
    bytes back, copying unchanged parts from ``basis``.

    ``basis`` is the old file: a bytes-like object or mmap (read by pointer),
    a seekable binary file object (read with ``pread`` outside the GIL when it
    is a real file, else with ``seek`` + ``readinto``), or a path (opened here
    and closed when the job ends).  COPY offsets count from the start of the
    file, whatever its current position.  ``max_length`` (None: no limit)
    fails the patch with :class:`LimitExceededError` before more than that
    many bytes are output.
    """

    __slots__ = ()

    def __init__(self, basis, max_length=None):
        obj, fd, owned = _files.open_basis(basis, "patch basis")
        super().__init__(obj, max_length, fd=fd, close_basis=owned)
