# cython: language_level=3, embedsignature=True, boundscheck=False, wraparound=False
# cython: cdivision=True
# Safe without the GIL (free-threaded CPython): the audit is the "Threads"
# notes below and tests/test_threads_shared.py.
# cython: freethreading_compatible=True
"""The job driver: runs librsync's ``rs_job_iter`` state machines.

Everything that touches librsync's C API is here, and nothing above it: this
module imports no other part of the package except ``exceptions``.  Jobs take
buffers and binary readers/writers only; argument kinds (paths, spooled
files, descriptors) are decided by ``_files.py``, threads by
``_parallel.py``, and the public functions live in ``_api.py``.  The rules
this file follows, and why:

* The GIL is released around every ``rs_job_iter`` call, so jobs in different
  threads run in parallel.  A job object itself is used by one thread at a
  time (a ``busy`` flag turns concurrent use into an exception, not memory
  corruption); the flag is tested and set inside a critical section on the
  job, which is what keeps that true on free-threaded CPython, where no GIL
  makes the test-and-set atomic.
* Threads: what else is shared between threads, and why it is safe without
  a GIL.  A loaded ``Signature`` is never written after loading (librsync is
  built with ``HASHTABLE_NSTATS``, so a search updates no counters in it).
  The BLAKE2b build is chosen once, while the module is imported.  The trace
  hook writes only to a ``threading.local`` and to ``logging`` (thread-safe);
  ``debug()`` stores one int that librsync and the hook read.  ``Stats`` is
  immutable.
* Input is never copied when it is already in memory: bytes-like inputs are
  handed to librsync by pointer.  File inputs are read with ``readinto`` into
  one reused buffer.  Input librsync did not consume stays in that buffer for
  the next call; nothing is ever "given back" by seeking the file.
* Output is written from slices of one reused buffer.
* librsync's delta job scans its input window in place and only consumes it
  when it emits a command, and ``rs_job_iter`` reports a call that neither
  consumed input nor produced output as an internal error.  So a delta job is
  never called with a non-final window smaller than
  ``2 * (block_len + MAX_DELTA_CMD)``: such a window always lets the scan cross
  a miss-flush (64 KiB) or a match, which consumes input.  See ``_min_window``.
"""

cimport cython
from cpython.buffer cimport (PyBUF_SIMPLE, PyBuffer_Release, PyObject_CheckBuffer,
                             PyObject_GetBuffer)
from cpython.bytearray cimport PyByteArray_FromStringAndSize
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.exc cimport PyErr_CheckSignals
from cpython.pyport cimport PY_SSIZE_T_MAX
from cpython.ref cimport PyObject
from libc.errno cimport EINTR, EINVAL, errno
from libc.stdint cimport INT64_MAX
from libc.string cimport memcpy, memmove

cimport librsync._librsync as C

import _thread  # threading.local is _thread._local; threading costs ~2 ms to import
import os
import time

from librsync.exceptions import LimitExceededError, error_for_code


cdef extern from "Python.h":
    object PyMemoryView_FromMemory(char *mem, Py_ssize_t size, int flags)
    int PyBUF_READ
    int PyBUF_WRITE


# pread() reads the basis of a patch at an offset without the GIL and without
# moving the Python file object's position.  Windows has no pread, so there the
# basis is read through the file object (seek + readinto, with the GIL).
cdef extern from *:
    """
    #include <errno.h>
    #if defined(_WIN32)
    #  define LRS_HAVE_PREAD 0
    static Py_ssize_t lrs_pread(int fd, void *buf, size_t n, long long off)
    {
        (void)fd; (void)buf; (void)n; (void)off;
        errno = ENOSYS;
        return -1;
    }
    #else
    #  include <unistd.h>
    #  define LRS_HAVE_PREAD 1
    static Py_ssize_t lrs_pread(int fd, void *buf, size_t n, long long off)
    {
        return (Py_ssize_t)pread(fd, buf, n, (off_t)off);
    }
    #endif
    """
    int LRS_HAVE_PREAD
    Py_ssize_t lrs_pread(int fd, void *buf, size_t n, long long off) nogil


# Whether this build keeps librsync from writing into a loaded signature
# during a delta search (hashtable.h's find counters and sumset.c's
# calc_strong_count are compiled out).  Sharing a Signature between threads
# is safe only if this is true; tests/test_streaming.py checks it.
cdef extern from *:
    """
    #ifdef HASHTABLE_NSTATS
    #  define LRS_SIGNATURE_READ_ONLY 1
    #else
    #  define LRS_SIGNATURE_READ_ONLY 0
    #endif
    """
    int LRS_SIGNATURE_READ_ONLY

SIGNATURE_READ_ONLY = bool(LRS_SIGNATURE_READ_ONLY)


cdef extern from "_guards.h" nogil:
    long lrs_worst_weak_collision(const C.rs_signature *sig, long limit,
                                  unsigned int *weak_out)

cdef extern from "_jobs.h" nogil:
    ctypedef struct lrs_job:
        pass
    C.rs_result lrs_job_iter(lrs_job *job, C.rs_buffers_t *buffers)
    const C.rs_stats_t *lrs_job_statistics(lrs_job *job)
    void lrs_job_free(lrs_job *job)
    lrs_job *lrs_wrap_rs_job(C.rs_job_t *rs)

cdef extern from "_sigjob.h" nogil:
    int lrs_sig_engine_count()
    const char *lrs_sig_engine_name(int i)
    int lrs_sig_engine_supported(int i)
    int lrs_sig_engine_lanes(int i, int md4)
    lrs_job *lrs_sigjob_begin(int engine, size_t block_len, size_t strong_len,
                              C.rs_magic_number magic)
    int lrs_sig_engine_hash(int engine, int md4, const unsigned char **inputs,
                            int n, size_t length, unsigned char *out)

cdef extern from "_directcopy.h" nogil:
    int LRS_HAVE_COPY_FILE_RANGE
    int LRS_DC_COPIED, LRS_DC_PAST_END, LRS_DC_WRITE_FAILED
    int lrs_direct_copy(int in_fd, long long pos, size_t *len, int out_fd,
                        const char *pending, size_t pending_len, int *err)

cdef extern from "_budget.h" nogil:
    ctypedef struct lrs_budget:
        unsigned long long false_checks
        unsigned long long skipped
    unsigned int LRS_BUDGET_PER_BYTE, LRS_BUDGET_COMPARE, LRS_BUDGET_BASE_BLOCKS
    unsigned int LRS_KEY_FAILS
    unsigned long long LRS_BUDGET_BASE, LRS_KEY_WORK


def _search_budget():
    """The delta search's work budget (librsync/_budget.h), for tests and
    docs: units (about a byte hashed each) per byte of new file, per
    strong-sum comparison, the base allowance (bytes, block lengths), and
    the failed checks in a row (and their units) after which a rolling
    checksum is dropped."""
    return {"per_byte": LRS_BUDGET_PER_BYTE, "compare": LRS_BUDGET_COMPARE,
            "base": LRS_BUDGET_BASE, "base_blocks": LRS_BUDGET_BASE_BLOCKS,
            "key_fails": LRS_KEY_FAILS, "key_work": LRS_KEY_WORK}

cdef extern from "_deltajob.h" nogil:
    lrs_job *lrs_deltajob_begin(const C.rs_signature_t *sig, int engine)
    lrs_job *lrs_rsdelta_begin(const C.rs_signature_t *sig)
    const lrs_budget *lrs_delta_budget(lrs_job *job)

cdef extern from "_sigbytes.h" nogil:
    size_t lrs_signature_size(const C.rs_signature *sig)
    void lrs_signature_write(const C.rs_signature *sig, unsigned char *out)

#: Most blocks with different contents that a loaded signature may give one
#: rolling checksum, or rolling checksums that start their hash-table probe
#: at one slot (equal in the table's low bits).  Building the hash table
#: costs time quadratic in this number (measured: 1,024 adds about 0.3 s to
#: a 500,000-block signature, 4,096 adds 2.5 s); honest signatures stay in
#: single digits.
cdef enum:
    WEAK_COLLISION_LIMIT = 1024
MAX_WEAK_COLLISIONS = WEAK_COLLISION_LIMIT


# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

# rs_librsync_version reads "librsync 2.3.4"; keep just the number.
LIBRSYNC_VERSION = (<bytes>C.rs_librsync_version).decode("ascii").rpartition(" ")[2]

RS_DELTA_MAGIC = <int>C.RS_DELTA_MAGIC
RS_MD4_SIG_MAGIC = <int>C.RS_MD4_SIG_MAGIC
RS_BLAKE2_SIG_MAGIC = <int>C.RS_BLAKE2_SIG_MAGIC
RS_RK_MD4_SIG_MAGIC = <int>C.RS_RK_MD4_SIG_MAGIC
RS_RK_BLAKE2_SIG_MAGIC = <int>C.RS_RK_BLAKE2_SIG_MAGIC

RS_MD4_SUM_LENGTH = C.RS_MD4_SUM_LENGTH
RS_BLAKE2_SUM_LENGTH = C.RS_BLAKE2_SUM_LENGTH
RS_DEFAULT_BLOCK_LEN = <int>C.RS_DEFAULT_BLOCK_LEN
RS_DEFAULT_MIN_STRONG_LEN = <int>C.RS_DEFAULT_MIN_STRONG_LEN

RESULT_CODES = {
    "RS_DONE": <int>C.RS_DONE, "RS_BLOCKED": <int>C.RS_BLOCKED,
    "RS_RUNNING": <int>C.RS_RUNNING, "RS_IO_ERROR": <int>C.RS_IO_ERROR,
    "RS_SYNTAX_ERROR": <int>C.RS_SYNTAX_ERROR, "RS_MEM_ERROR": <int>C.RS_MEM_ERROR,
    "RS_INPUT_ENDED": <int>C.RS_INPUT_ENDED, "RS_BAD_MAGIC": <int>C.RS_BAD_MAGIC,
    "RS_UNIMPLEMENTED": <int>C.RS_UNIMPLEMENTED, "RS_CORRUPT": <int>C.RS_CORRUPT,
    "RS_INTERNAL_ERROR": <int>C.RS_INTERNAL_ERROR,
    "RS_PARAM_ERROR": <int>C.RS_PARAM_ERROR,
}

# job.h: the largest delta command; also the delta scanner's miss-flush unit.
cdef enum:
    MAX_DELTA_CMD = 1 << 16
    # Output buffer for one-shot calls on small inputs: below glibc's mmap
    # threshold (128 KiB), so it is a cheap heap allocation.
    SMALL_OUTPUT_BUFFER = 4 * 1024
    # magic, block length and strong sum length, 4 bytes each.
    SIG_HEADER_LEN = 12

#: Largest block length accepted, for new signatures and for loaded ones.  A
#: delta job buffers a few blocks, so a hostile signature claiming 2 GiB
#: blocks would otherwise make it allocate gigabytes.  rdiff's recommended
#: block length reaches this only for files of 256 TiB.
MAX_BLOCK_LEN = 1 << 24

#: Size of the reused input and output buffers.  librsync's docs ask for at
#: least 32 KiB; larger means fewer GIL round trips per byte.  A job also
#: checks for Ctrl-C (signals) once per buffer.
DEFAULT_BUFFER_SIZE = 1 << 20

cdef inline bint _is_sig_magic(unsigned int magic) noexcept:
    return (magic == <unsigned int>C.RS_MD4_SIG_MAGIC
            or magic == <unsigned int>C.RS_BLAKE2_SIG_MAGIC
            or magic == <unsigned int>C.RS_RK_MD4_SIG_MAGIC
            or magic == <unsigned int>C.RS_RK_BLAKE2_SIG_MAGIC)


# Bound once: jobs read the clock twice each, and many small jobs add up.
cdef object _perf_counter = time.perf_counter


cdef dict _SIG_MAGICS = {
    RS_MD4_SIG_MAGIC: RS_MD4_SUM_LENGTH,
    RS_BLAKE2_SIG_MAGIC: RS_BLAKE2_SUM_LENGTH,
    RS_RK_MD4_SIG_MAGIC: RS_MD4_SUM_LENGTH,
    RS_RK_BLAKE2_SIG_MAGIC: RS_BLAKE2_SUM_LENGTH,
}
#: The signature magics librsync knows, each with its hash's full length.
SIGNATURE_MAGICS = dict(_SIG_MAGICS)
#: No strong sum is longer (librsync.h).
RS_MAX_STRONG_SUM_LENGTH = C.RS_MAX_STRONG_SUM_LENGTH

MAGIC_NAMES = {
    RS_DELTA_MAGIC: "delta",
    RS_MD4_SIG_MAGIC: "rollsum/md4 signature",
    RS_BLAKE2_SIG_MAGIC: "rollsum/blake2 signature",
    RS_RK_MD4_SIG_MAGIC: "rabinkarp/md4 signature",
    RS_RK_BLAKE2_SIG_MAGIC: "rabinkarp/blake2 signature",
}


# ---------------------------------------------------------------------------
# Logging: librsync's trace hook -> the "librsync" logger
# ---------------------------------------------------------------------------

# The "librsync" logger, made when librsync first has a line to log:
# ``logging`` costs ~6 ms to import and most processes never log a line.
cdef object _logger = None


cdef object _get_logger():
    global _logger
    if _logger is None:
        import logging
        logger = logging.getLogger("librsync")
        # A library must not print on its own: without this, Python's
        # last-resort handler would write librsync's ERROR lines to stderr.
        logger.addHandler(logging.NullHandler())
        _logger = logger
    return _logger


# logging's level numbers (CRITICAL, ERROR, WARNING, INFO, DEBUG), fixed by
# its documentation, so that mapping them needs no import.
cdef dict _PY_LEVELS = {
    C.RS_LOG_EMERG: 50, C.RS_LOG_ALERT: 50,
    C.RS_LOG_CRIT: 50, C.RS_LOG_ERR: 40,
    C.RS_LOG_WARNING: 30, C.RS_LOG_NOTICE: 20,
    C.RS_LOG_INFO: 20, C.RS_LOG_DEBUG: 10,
}
# What debug() asked for.  librsync's own level is kept at least at RS_LOG_ERR
# so error details always reach us for exception messages.
cdef int _user_level = C.RS_LOG_INFO
# Error lines logged by librsync in this thread since the current job call
# began; the trace hook runs in the thread that called rs_job_iter.
_errors = _thread._local()


cdef void _trace_hook(C.rs_loglevel level, const char *msg) noexcept with gil:
    try:
        text = msg.decode("utf-8", "replace").rstrip("\n")
        if text.startswith("librsync: "):
            text = text[10:]
        py_level = _PY_LEVELS.get(level, 10)
        if <int>level <= <int>C.RS_LOG_ERR:
            pending = getattr(_errors, "lines", None)
            if pending is not None:
                if len(pending) < 8:
                    pending.append(text)
                # The error reaches the caller as an exception carrying
                # this text; logging it as an ERROR too would report one
                # failure twice (and alarm those who handle it).
                py_level = 10
        if <int>level <= _user_level:
            _get_logger().log(py_level, "%s", text)
    except BaseException:
        pass  # never unwind into C; a lost log line is the lesser harm


def debug(level=C.RS_LOG_DEBUG):
    """Set which librsync messages reach the ``"librsync"`` logger.

    ``level`` is a syslog priority (``syslog.LOG_ERR`` = 3 ... ``LOG_DEBUG`` = 7),
    as in the old python-librsync wrapper.  Messages at or above that priority
    are logged; the default is ``LOG_INFO``.  Per-block trace lines exist only
    in a build made with ``LIBRSYNC_TRACE=1`` (see :func:`supports_trace`).
    """
    global _user_level
    level = int(level)
    if not 0 <= level <= 7:
        raise ValueError(f"level must be a syslog priority 0..7, not {level}")
    _user_level = level
    C.rs_trace_set_level(<C.rs_loglevel>max(level, <int>C.RS_LOG_ERR))


def supports_trace():
    """True if this build of librsync can log per-operation trace lines."""
    return bool(C.rs_supports_trace())


C.rs_trace_to(_trace_hook)
C.rs_trace_set_level(C.RS_LOG_INFO)


cdef extern from "_blake2.h" nogil:
    int lrs_blake2b_count()
    const char *lrs_blake2b_name(int i)
    int lrs_blake2b_supported(int i)
    int lrs_blake2b_digest(int i, const unsigned char *data, size_t length,
                           unsigned char *out)
    int lrs_blake2b_select(int i)
    int lrs_blake2b_selected()
    int lrs_blake2b_preferred()


def blake2b_implementations():
    """Names of the BLAKE2b builds this CPU can run, ``"ref"`` (portable C)
    first; on x86 also libb2's ``"sse2"``, ``"ssse3"``, ``"sse41"``, ``"avx"``
    as the CPU allows."""
    return [lrs_blake2b_name(i).decode() for i in range(lrs_blake2b_count())
            if lrs_blake2b_supported(i)]


def blake2b_implementation():
    """The BLAKE2b build that librsync's strong sums use in this process:
    the newest SIMD build of :func:`blake2b_implementations`, or the portable
    ``"ref"`` build on CPUs where it is known to be faster (chosen from the
    CPU's features, not timed), or the one named by the ``LIBRSYNC_BLAKE2B``
    environment variable.  Every build gives the
    same digests."""
    return lrs_blake2b_name(lrs_blake2b_selected()).decode()


cdef int _blake2b_index(str name) except -1:
    for i in range(lrs_blake2b_count()):
        if lrs_blake2b_name(i).decode() == name:
            if not lrs_blake2b_supported(i):
                raise ValueError(f"this CPU cannot run the {name!r} BLAKE2b build")
            return i
    raise ValueError(f"no BLAKE2b build named {name!r} "
                     f"(this CPU has {', '.join(blake2b_implementations())})")


def _blake2b_digest(str name not None, const unsigned char[::1] data):
    """BLAKE2b-256 of ``data`` by the named build (for tests)."""
    cdef int i = _blake2b_index(name)
    cdef unsigned char out[32]
    cdef size_t n = data.shape[0]
    cdef const unsigned char *p = &data[0] if n else <const unsigned char *>b""
    if lrs_blake2b_digest(i, p, n, out) != 0:
        raise RuntimeError(f"BLAKE2b build {name!r} failed")
    return PyBytes_FromStringAndSize(<char *>out, 32)


def _use_blake2b(str name not None):
    """Make librsync use the named BLAKE2b build (tests and benchmarks; not
    while jobs are running in other threads)."""
    lrs_blake2b_select(_blake2b_index(name))


def _use_forced(str variable, use):
    """Apply the choice the environment variable names, if any: True when
    it was applied, False when unset or refused (with a warning, so a typo
    does not go unnoticed, and the automatic choice instead)."""
    forced = os.environ.get(variable)
    if not forced:
        return False
    try:
        use(forced)
        return True
    except ValueError as e:
        import warnings
        warnings.warn(f"{variable} ignored: {e}", RuntimeWarning, stacklevel=3)
        return False


def _select_blake2b():
    """Use the build cpuid prefers (lrs_blake2b_preferred in _blake2.h) or
    the one LIBRSYNC_BLAKE2B names.  Nothing is timed: every process pays
    for its import, and timings on a busy machine flip between builds."""
    if _use_forced("LIBRSYNC_BLAKE2B", _use_blake2b):
        return
    cdef int preferred = lrs_blake2b_preferred()
    cdef bytes sample
    if preferred != 0:
        # A build whose digest differs is never used (it cannot happen with
        # libb2's tested code, but a miscompiled one must not corrupt sums).
        # 4 KiB: 32 compressions, every code path of the build.
        sample = bytes(range(256)) * 16
        name = lrs_blake2b_name(preferred).decode()
        if _blake2b_digest(name, sample) != _blake2b_digest("ref", sample):
            preferred = 0
    lrs_blake2b_select(preferred)


_select_blake2b()


# -- signature engines (_sigjob.h) -------------------------------------------

# Index into lrs_sig_engines of the engine new signature jobs use, or -1 for
# librsync's own job (mksum.c), kept reachable for comparison.
cdef int _sig_engine = 0


def signature_engines():
    """Names of the signature engines this build and CPU can run:
    ``"librsync"`` (librsync's own job, one block at a time), ``"portable"``
    (the batched job of this package, one block at a time in portable C),
    then the multi-buffer SIMD kernels the CPU supports (``"sse2"``,
    ``"avx2"``, ``"avx512"`` on x86; ``"neon"`` on 64-bit ARM), which hash
    several blocks at once.  Every engine writes the same bytes."""
    return ["librsync"] + [lrs_sig_engine_name(i).decode()
                           for i in range(lrs_sig_engine_count())
                           if lrs_sig_engine_supported(i)]


def signature_engine():
    """The engine of :func:`signature_engines` that new signature jobs use:
    the widest SIMD kernels the CPU supports, unless the
    ``LIBRSYNC_SIGNATURE_ENGINE`` environment variable named another at
    import."""
    return "librsync" if _sig_engine < 0 else lrs_sig_engine_name(_sig_engine).decode()


cdef int _sig_engine_index(str name) except -2:
    if name == "librsync":
        return -1
    for i in range(lrs_sig_engine_count()):
        if lrs_sig_engine_name(i).decode() == name:
            if not lrs_sig_engine_supported(i):
                raise ValueError(f"this CPU cannot run the {name!r} signature engine")
            return i
    raise ValueError(f"no signature engine named {name!r} "
                     f"(this CPU has {', '.join(signature_engines())})")


def _use_signature_engine(str name not None):
    """Make new signature jobs use the named engine (tests and benchmarks;
    jobs already running keep theirs)."""
    global _sig_engine
    _sig_engine = _sig_engine_index(name)


def _signature_engine_lanes(str name not None):
    """``(BLAKE2b lanes, MD4 lanes)``: how many blocks the named engine
    hashes at once."""
    cdef int i = _sig_engine_index(name)
    if i < 0:
        return (1, 1)
    return (lrs_sig_engine_lanes(i, 0), lrs_sig_engine_lanes(i, 1))


def _signature_engine_hash(str name not None, bint md4, list messages not None):
    """The named engine's strong sums (32-byte BLAKE2b or 16-byte MD4) of
    ``messages``, equal-length bytes objects, as many as the engine has
    lanes for that hash (for tests of the kernels themselves)."""
    cdef int i = _sig_engine_index(name)
    cdef const unsigned char *inputs[16]
    cdef unsigned char out[16 * 32]
    cdef int n = len(messages), k
    cdef size_t length
    cdef size_t digest = 16 if md4 else 32
    if i < 0:
        raise ValueError("librsync's job has no kernel of its own")
    if not 1 <= n <= 16:
        raise ValueError("1 to 16 messages")
    length = len(messages[0])
    for k in range(n):
        if type(messages[k]) is not bytes or <size_t>len(messages[k]) != length:
            raise ValueError("messages must be bytes of equal length")
        inputs[k] = <const unsigned char *><bytes>messages[k]
    if lrs_sig_engine_hash(i, md4, inputs, n, length, out) != 0:
        raise ValueError(f"the {name!r} engine does not hash {n} messages at once")
    return [PyBytes_FromStringAndSize(<char *>out + k * digest, digest) for k in range(n)]


def _select_signature_engine():
    """The widest kernels the CPU runs (engines are listed narrowest first),
    or the one LIBRSYNC_SIGNATURE_ENGINE names."""
    if _use_forced("LIBRSYNC_SIGNATURE_ENGINE", _use_signature_engine):
        return
    names = signature_engines()
    _use_signature_engine(names[len(names) - 1])


_select_signature_engine()


# -- delta engines (_deltajob.h) ---------------------------------------------

# The delta search new delta jobs use: librsync's job (delta.c), kept
# reachable for comparison, or ours, which makes the same decisions with a
# faster scan loop and writes the same bytes.
_DELTA_ENGINES = ("librsync", "fast")
cdef bint _fast_delta = True


def delta_engines():
    """Names of the delta engines: ``"librsync"`` (librsync's own search,
    which looks every byte up in the signature) and ``"fast"`` (this
    package's scan loop in front of the same lookup).  Both write the same
    bytes."""
    return list(_DELTA_ENGINES)


def delta_engine():
    """The engine of :func:`delta_engines` that new delta jobs use:
    ``"fast"``, unless the ``LIBRSYNC_DELTA_ENGINE`` environment variable
    named another at import."""
    return "fast" if _fast_delta else "librsync"


def _use_delta_engine(str name not None):
    """Make new delta jobs use the named engine (tests and benchmarks; jobs
    already running keep theirs)."""
    global _fast_delta
    if name not in _DELTA_ENGINES:
        raise ValueError(f"no delta engine named {name!r} "
                         f"(there are {', '.join(_DELTA_ENGINES)})")
    _fast_delta = name == "fast"


_use_forced("LIBRSYNC_DELTA_ENGINE", _use_delta_engine)


cdef object _make_error(int code, str detail=None):
    """The exception for a failed job: the code, plus the most specific line
    librsync logged (not its generic "<job> job failed" summary)."""
    lines = getattr(_errors, "lines", None) or []
    _errors.lines = None
    if detail is None:
        for line in lines:
            if " job failed: " in line:
                continue
            # "ERROR: (rs_patch_s_run) bogus command 0x99" -> "bogus command 0x99"
            for prefix in ("ERROR: ", "CRITICAL! ", "ALERT! ", "EMERGENCY! "):
                if line.startswith(prefix):
                    line = line[len(prefix):]
            if line.startswith("("):
                line = line.partition(") ")[2] or line
            detail = line
            break
    return error_for_code(code, detail)


# ---------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------

@cython.final
cdef class Stats:
    """What a job did: librsync's ``rs_stats_t`` plus byte counts and time.

    ``in_bytes``/``out_bytes`` are counted by this binding (librsync updates
    them only in its FILE* helpers); ``elapsed`` is wall-clock seconds from the
    job's creation to its end (or to now, while it runs).
    """
    cdef readonly str op
    cdef readonly long long lit_cmds, lit_bytes, lit_cmdbytes
    cdef readonly long long copy_cmds, copy_bytes, copy_cmdbytes
    cdef readonly long long sig_cmds, sig_bytes, false_matches, sig_blocks
    cdef readonly long long block_len, in_bytes, out_bytes
    cdef readonly double elapsed

    _FIELDS = ("op", "lit_cmds", "lit_bytes", "lit_cmdbytes", "copy_cmds",
               "copy_bytes", "copy_cmdbytes", "sig_cmds", "sig_bytes",
               "false_matches", "sig_blocks", "block_len", "in_bytes",
               "out_bytes", "elapsed")

    def _asdict(self):
        """The statistics as a plain dict."""
        return {name: getattr(self, name) for name in self._FIELDS}

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in self._asdict().items())
        return f"Stats({fields})"

    def __eq__(self, other):
        if not isinstance(other, Stats):
            return NotImplemented
        return self._asdict() == other._asdict()

    __hash__ = None


def make_stats(str op, *, long long lit_cmds=0, long long lit_bytes=0,
                long long lit_cmdbytes=0, long long copy_cmds=0, long long copy_bytes=0,
                long long copy_cmdbytes=0, long long sig_blocks=0, long long block_len=0,
                long long in_bytes=0, long long out_bytes=0, double elapsed=0.0):
    """A :class:`Stats` for work that no single job did (``threads=N``
    engines add up their segment jobs' work)."""
    cdef Stats s = Stats.__new__(Stats)
    s.op = op
    s.lit_cmds, s.lit_bytes, s.lit_cmdbytes = lit_cmds, lit_bytes, lit_cmdbytes
    s.copy_cmds, s.copy_bytes, s.copy_cmdbytes = copy_cmds, copy_bytes, copy_cmdbytes
    s.sig_blocks, s.block_len = sig_blocks, block_len
    s.in_bytes, s.out_bytes, s.elapsed = in_bytes, out_bytes, elapsed
    return s


# ---------------------------------------------------------------------------
# Jobs
# ---------------------------------------------------------------------------

cdef enum JobState:
    ST_RUNNING = 0
    ST_FINISHED = 1
    ST_FAILED = 2
    ST_CLOSED = 3


cdef class _Job:
    """Common driver of one librsync job (not for direct use)."""
    cdef lrs_job *_job
    cdef C.rs_buffers_t _bufs
    cdef bytearray _outbuf
    cdef char *_outp
    cdef size_t _outsize
    # Bytes at the start of the output buffer that a patch job's copy
    # callback has already written to the output file itself (_directcopy.h).
    cdef size_t _written
    cdef size_t _want_outsize
    cdef size_t _min_window
    cdef bytearray _pending
    cdef list _collected
    cdef long long _in_bytes
    cdef long long _out_bytes
    cdef long long _max_out
    cdef double _t_start
    cdef double _t_end
    cdef JobState _state
    cdef bint _busy
    cdef object _cb_error
    # librsync's statistics, copied when its job is freed (a plain struct
    # copy: building a Stats object per job is left to whoever asks).
    cdef C.rs_stats_t _final_c
    cdef bint _have_final
    # Which stream this job reads: 0 raw data, 1 a signature, 2 a delta.
    # librsync checks a signature's magic only after its whole header, so a
    # delta given as a signature would otherwise fail as "unexpected end of
    # input" or "invalid magic" with no hint of what was wrong.
    cdef int _expects
    cdef bytes _head
    # A delta's END command completes a patch job before finish() is called;
    # what follows it is kept here, like zlib's decompressobj.unused_data.
    cdef bytes _unused
    cdef bint _finish_called

    def __cinit__(self, *args, **kwargs):
        self._job = NULL
        self._head = b""
        self._unused = b""
        # Allocated on first use (_pump), so a job that needs no output
        # buffer, or a smaller one, never holds a 1 MiB one.
        self._outsize = 0
        self._want_outsize = DEFAULT_BUFFER_SIZE
        self._outbuf = None
        self._outp = NULL
        self._pending = bytearray()
        self._min_window = 0
        self._max_out = -1
        self._t_start = _perf_counter()
        self._state = ST_RUNNING

    def __dealloc__(self):
        if self._job is not NULL:
            lrs_job_free(self._job)
            self._job = NULL

    # -- subclass hooks ----------------------------------------------------

    cdef int _on_done(self) except -1:
        return 0

    cdef int _release_inputs(self) except -1:
        return 0

    # -- lifecycle -----------------------------------------------------------

    cdef int _enter(self) except -1:
        cdef int refused = 0
        with cython.critical_section(self):
            if self._busy:
                refused = 1
            elif self._state == ST_FINISHED and self._finish_called:
                refused = 2
            elif self._state == ST_FAILED:
                refused = 3
            elif self._state == ST_CLOSED:
                refused = 4
            else:
                self._busy = True
        if refused:
            name = type(self).__name__
            if refused == 1:
                raise RuntimeError(f"{name} is being used by another thread")
            raise ValueError(f"{name} " + ("is already finished", "failed earlier and cannot continue",
                                           "is closed")[refused - 2])
        _errors.lines = []
        return 0

    cdef void _leave(self) noexcept:
        with cython.critical_section(self):
            self._busy = False

    cdef int _finish_job(self, JobState state) except -1:
        """Free librsync's job state, keeping the final statistics."""
        if self._t_end == 0:
            self._t_end = _perf_counter()
        if self._job is not NULL:
            self._final_c = lrs_job_statistics(self._job)[0]
            self._have_final = True
            lrs_job_free(self._job)
            self._job = NULL
        self._state = state
        self._pending = bytearray()
        # No more output can come: a finished job holds no 1 MiB buffer.
        self._outbuf = None
        self._outp = NULL
        self._outsize = 0
        self._release_inputs()
        return 0

    def close(self):
        """Free the job's C state and buffers.  Idempotent; a job that did not
        finish cannot be used afterwards."""
        cdef bint busy
        with cython.critical_section(self):
            busy = self._busy
            # Held while closing, so a call starting in another thread meanwhile
            # is refused rather than finding the C job half freed.
            self._busy = True
        if busy:
            raise RuntimeError(f"{type(self).__name__} is being used by another thread")
        try:
            self._close()
        finally:
            self._leave()

    cdef int _close(self) except -1:
        if self._state == ST_RUNNING or self._job is not NULL:
            self._finish_job(ST_CLOSED if self._state == ST_RUNNING else self._state)
        self._outbuf = None
        self._outp = NULL
        self._outsize = 0
        return 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _set_output_size(self, size_t size):
        """Use an output buffer of ``size`` bytes (tests: a job must resume
        correctly when its output fills up anywhere)."""
        if self._outp != NULL or size == 0:
            raise ValueError("set before the first output, to 1 or more bytes")
        self._want_outsize = size

    @property
    def finished(self):
        """True once the job has produced all of its output (for a patch,
        as soon as the delta's END command has been read)."""
        return self._state == ST_FINISHED

    @property
    def unused_data(self):
        """Bytes fed after the end of the stream (after a delta's END
        command), which the job did not use."""
        return self._unused

    # -- statistics ----------------------------------------------------------

    cdef Stats _snapshot(self):
        cdef Stats s = Stats.__new__(Stats)
        cdef const C.rs_stats_t *st = NULL
        if self._job is not NULL:
            st = lrs_job_statistics(self._job)
        elif self._have_final:
            st = &self._final_c
        if st is not NULL:
            s.op = (<bytes>st.op).decode("ascii") if st.op is not NULL else ""
            s.lit_cmds = st.lit_cmds
            s.lit_bytes = st.lit_bytes
            s.lit_cmdbytes = st.lit_cmdbytes
            s.copy_cmds = st.copy_cmds
            s.copy_bytes = st.copy_bytes
            s.copy_cmdbytes = st.copy_cmdbytes
            s.sig_cmds = st.sig_cmds
            s.sig_bytes = st.sig_bytes
            s.false_matches = st.false_matches
            s.sig_blocks = st.sig_blocks
            s.block_len = st.block_len
        else:
            s.op = ""
        s.in_bytes = self._in_bytes
        s.out_bytes = self._out_bytes
        s.elapsed = (self._t_end or _perf_counter()) - self._t_start
        return s

    @property
    def stats(self):
        """A :class:`Stats` snapshot of this job's work so far."""
        return self._snapshot()

    @property
    def in_bytes(self):
        """Bytes of input consumed so far."""
        return self._in_bytes

    @property
    def out_bytes(self):
        """Bytes of output produced so far."""
        return self._out_bytes

    # -- the pump ------------------------------------------------------------

    cdef int _emit(self, object write, size_t produced) except -1:
        cdef object view
        cdef size_t written = self._written
        if self._max_out >= 0 and self._out_bytes + <long long>produced > self._max_out:
            raise LimitExceededError(
                f"output would exceed max_length={self._max_out} bytes")
        self._out_bytes += produced
        if write is None:
            self._collected.append(PyBytes_FromStringAndSize(self._outp, produced))
            return 0
        if written >= produced:
            return 0
        view = PyMemoryView_FromMemory(self._outp + written, produced - written, PyBUF_READ)
        try:
            write(view)
        finally:
            # A writer that kept the view would see the buffer's next contents;
            # releasing it turns that into an error instead.
            view.release()
        return 0

    cdef bint _pump(self, object write) except -1:
        """Run rs_job_iter over the current input window.

        Returns True when the job is done, False when it needs more input (the
        window is used up, or what is left is below the delta window rule and
        more may come).  Output goes to ``write`` (or is collected)."""
        cdef C.rs_result r
        cdef size_t produced, before_in
        if self._expects and len(self._head) < 4:
            self._check_head()
        if self._outp == NULL:
            # Not bytearray(n): that zero-fills the whole buffer on every job.
            self._outbuf = PyByteArray_FromStringAndSize(NULL, self._want_outsize)
            self._outp = <char *>self._outbuf
            self._outsize = self._want_outsize
        while True:
            self._bufs.next_out = self._outp
            self._bufs.avail_out = self._outsize
            self._written = 0
            before_in = self._bufs.avail_in
            with nogil:
                r = lrs_job_iter(self._job, &self._bufs)
            self._in_bytes += before_in - self._bufs.avail_in
            produced = self._outsize - self._bufs.avail_out
            if self._cb_error is not None:
                err, self._cb_error = self._cb_error, None
                raise err
            if r != C.RS_DONE and r != C.RS_BLOCKED:
                raise self._error(r)
            if produced:
                self._emit(write, produced)
            if r == C.RS_DONE:
                return True
            PyErr_CheckSignals()
            if self._bufs.avail_out:
                return False  # starved: librsync wants more input
            # Output was full.  Go on with the same window unless it has
            # shrunk below what a delta job may be called with.
            if (not self._bufs.eof_in and self._bufs.avail_in
                    and self._bufs.avail_in < self._min_window):
                return False

    cdef object _error(self, int code):
        return _make_error(code)

    cdef int _check_head(self) except -1:
        """Name the stream kind when the first four bytes are the wrong magic."""
        cdef size_t take
        cdef const unsigned char *p
        cdef unsigned int magic32
        if not self._head and self._in_bytes == 0 and self._bufs.avail_in >= 4:
            # The usual case, the whole magic in the first buffer: decide
            # without building Python objects.
            p = <const unsigned char *>self._bufs.next_in
            magic32 = (<unsigned int>p[0] << 24) | (<unsigned int>p[1] << 16) \
                | (<unsigned int>p[2] << 8) | <unsigned int>p[3]
            if (self._expects == 2 and magic32 == <unsigned int>C.RS_DELTA_MAGIC) or (
                    self._expects == 1 and _is_sig_magic(magic32)):
                self._expects = 0
                return 0
        # Signature and delta readers consume all they are given, so the
        # window starts at stream offset in_bytes.
        if self._in_bytes != len(self._head) or not self._bufs.avail_in:
            return 0
        take = min(<size_t>(4 - len(self._head)), self._bufs.avail_in)
        self._head += self._bufs.next_in[:take]
        if len(self._head) < 4:
            return 0
        magic = int.from_bytes(self._head, "big")
        if self._expects == 1 and magic not in _SIG_MAGICS:
            if magic == RS_DELTA_MAGIC:
                detail = "expected a signature but got a delta"
            else:
                detail = f"not a librsync signature (magic {magic:#010x})"
        elif self._expects == 2 and magic != RS_DELTA_MAGIC:
            if magic in _SIG_MAGICS:
                detail = "expected a delta but got a signature"
            else:
                detail = f"not a librsync delta (magic {magic:#010x})"
        else:
            return 0
        raise error_for_code(C.RS_BAD_MAGIC, detail)

    # -- streaming entry points (used by the public job classes) -------------

    # -- the one way into a job's work ---------------------------------------

    cdef int _work(self, object data, object reader, bint final, object write) except -1:
        """Run the job over ``data`` (a buffer) or ``reader`` (a binary file
        read to its end), with the busy flag held and the job marked failed
        if anything goes wrong.  Every entry point (update, finish, run)
        comes through here, so the rules live in one place."""
        cdef bint done
        self._enter()
        try:
            if self._state == ST_FINISHED:
                # The stream ended by itself earlier (a patch read END): keep
                # whatever trails it, as zlib does.
                self._unused += bytes(memoryview(data).cast("B"))
                self._finish_called = final
                return 0
            self._finish_called = final
            try:
                if reader is not None:
                    done = self._drive_file(reader, write)
                elif write is not None:
                    done = self._drive_buffer(data, write)
                else:
                    done = self._step(data, final)
                if done:
                    self._on_done()
                    self._finish_job(ST_FINISHED)
                elif final:
                    raise _make_error(C.RS_INTERNAL_ERROR,
                                      "job blocked after the end of its input")
            except BaseException:
                self._finish_job(ST_FAILED)
                raise
        finally:
            self._leave()
        return 0

    cdef bint _step(self, object data, bint final) except -1:
        """One update()/finish() call: pump ``data`` after what earlier calls
        left unconsumed, collecting output; keep what librsync leaves."""
        cdef Py_buffer view
        cdef bint have_view = False
        cdef bint done = False
        cdef size_t n
        cdef char *base
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        have_view = True
        try:
            if len(self._pending) or (not final and <size_t>view.len < self._min_window):
                # Join with the unconsumed tail (only delta jobs leave one).
                self._pending += (<char *>view.buf)[:view.len]
                PyBuffer_Release(&view)
                have_view = False
            if not have_view and not final and <size_t>len(self._pending) < self._min_window:
                return False
            if have_view:
                base = <char *>view.buf
                n = view.len
            else:
                base = <char *>self._pending
                n = len(self._pending)
            self._bufs.next_in = base
            self._bufs.avail_in = n
            self._bufs.eof_in = final
            done = self._pump(None)
            # Keep what librsync left for the next call.
            n = self._bufs.avail_in
            if done:
                self._unused = (self._bufs.next_in)[:n]
                n = 0
            if have_view:
                self._pending = bytearray((self._bufs.next_in)[:n]) if n else bytearray()
            elif n:
                del self._pending[:len(self._pending) - n]
            else:
                self._pending = bytearray()
            return done
        finally:
            self._bufs.next_in = NULL
            self._bufs.avail_in = 0
            if have_view:
                PyBuffer_Release(&view)

    cdef bytes _feed(self, object data, bint final):
        if data is None:
            data = b""
        if isinstance(data, (str, os.PathLike)) or not PyObject_CheckBuffer(data):
            raise TypeError(
                f"data must be a bytes-like object, not {type(data).__name__}")
        self._collected = []
        self._work(data, None, final, None)
        out = self._collected
        self._collected = None
        if not out:
            return b""
        if len(out) == 1:
            return out[0]
        return b"".join(out)

    def update(self, data):
        """Feed ``data`` (bytes-like) and return the output ready so far."""
        return self._feed(data, False)

    def finish(self, data=b""):
        """Feed the last ``data``, end the input, and return the rest of the
        output.  The job is freed afterwards; ``stats`` stays available."""
        return self._feed(data, True)

    def run(self, source, write):
        """Run the whole job: read ``source`` to its end and pass every output
        chunk to ``write`` (a callable taking a memoryview that is valid only
        during the call; ``None`` when the job produces no output, as when
        loading a signature).

        ``source`` is a bytes-like object (used in place, never copied) or a
        binary file object (read with ``readinto`` into one reused buffer;
        it need not be seekable).  Paths and other argument kinds are the
        one-shot functions' business."""
        if write is None:
            write = _discard
        if PyObject_CheckBuffer(source):
            self._work(source, None, True, write)
        else:
            self._work(None, source, True, write)

    # -- output sizing -------------------------------------------------------

    cdef size_t _expected_output(self, size_t input_len):
        """About how many bytes this job writes for ``input_len`` bytes of
        input; 0 when it cannot tell (then DEFAULT_BUFFER_SIZE is used)."""
        return 0

    cdef int _size_output_for(self, size_t expected) except -1:
        """Use an output buffer of about ``expected`` bytes (within limits)
        instead of DEFAULT_BUFFER_SIZE, before the first output.  Allocating
        1 MiB per call costs an mmap/munmap pair; small buffers come from the
        heap, which is what makes many small calls cheap."""
        if self._outp == NULL and expected:
            self._want_outsize = min(<size_t>DEFAULT_BUFFER_SIZE,
                                     max(<size_t>SMALL_OUTPUT_BUFFER, expected))
        return 0

    cdef bint _drive_buffer(self, object source, object write) except -1:
        cdef Py_buffer view
        cdef size_t total, pos, end, step
        PyObject_GetBuffer(source, &view, PyBUF_SIMPLE)
        try:
            self._size_output_for(self._expected_output(view.len))
            total = view.len
            pos = 0
            step = max(<size_t>DEFAULT_BUFFER_SIZE, 2 * self._min_window)
            while True:
                end = min(total, pos + step)
                self._bufs.next_in = <char *>view.buf + pos
                self._bufs.avail_in = end - pos
                self._bufs.eof_in = end == total
                if self._pump(write):
                    return True
                pos = self._bufs.next_in - <char *>view.buf
                if self._bufs.eof_in and self._bufs.avail_out:
                    raise _make_error(C.RS_INTERNAL_ERROR,
                                      "job blocked after the end of its input")
        finally:
            self._bufs.next_in = NULL
            self._bufs.avail_in = 0
            PyBuffer_Release(&view)

    cdef bint _drive_file(self, object f, object write) except -1:
        cdef size_t size = max(<size_t>DEFAULT_BUFFER_SIZE, 4 * self._min_window)
        cdef bytearray inbuf = PyByteArray_FromStringAndSize(NULL, size)
        cdef char *base = <char *>inbuf
        cdef size_t avail = 0
        cdef bint eof = False
        cdef Py_ssize_t got
        cdef object mv = memoryview(inbuf)
        readinto = getattr(f, "readinto", None)
        read = None if readinto is not None else f.read
        try:
            while True:
                # Top up when half empty (as rdiff does), reading until the
                # buffer is full or the input ends: short reads from pipes
                # must not hand a delta job a too-small window.
                if not eof and avail < size // 2:
                    if avail and self._bufs.next_in != base:
                        memmove(base, self._bufs.next_in, avail)
                    while avail < size:
                        got = _read_into(readinto, read, mv, avail, size)
                        if got == 0:
                            eof = True
                            break
                        avail += got
                    self._bufs.next_in = base
                self._bufs.avail_in = avail
                self._bufs.eof_in = eof
                if self._pump(write):
                    return True
                avail = self._bufs.avail_in
                if eof and self._bufs.avail_out:
                    raise _make_error(C.RS_INTERNAL_ERROR,
                                      "job blocked after the end of its input")
                if not eof and avail >= size // 2 and self._bufs.avail_out:
                    raise _make_error(C.RS_INTERNAL_ERROR,
                                      "job made no progress on a full input buffer")
        finally:
            self._bufs.next_in = NULL
            self._bufs.avail_in = 0
            mv.release()


def _discard(data):
    """The writer for jobs that produce no output (signature loading)."""


cdef Py_ssize_t _read_into(object readinto, object read, object mv,
                           size_t start, size_t end) except -1:
    """Read into mv[start:end]; return the byte count, 0 at end of input."""
    cdef Py_ssize_t n
    if readinto is not None:
        chunk = mv[start:end]
        try:
            got = readinto(chunk)
        finally:
            chunk.release()
        if got is None:
            raise BlockingIOError("input file is non-blocking and has no data ready")
        n = got
        if n < 0 or <size_t>n > end - start:
            raise OSError(f"readinto() returned {n}, outside 0..{end - start}")
        return n
    data = read(end - start)
    if isinstance(data, str):
        raise TypeError("input file must be opened in binary mode, not text mode")
    if data is None:
        raise BlockingIOError("input file is non-blocking and has no data ready")
    n = len(data)
    if <size_t>n > end - start:
        raise OSError(f"read({end - start}) returned {n} bytes")
    mv[start:start + n] = data
    return n


# ---------------------------------------------------------------------------
# Signatures
# ---------------------------------------------------------------------------

def check_signature_args(block_size, strong_len, magic):
    """Validate signature parameters in Python terms (TypeError/ValueError)
    before librsync sees them."""
    if not (type(block_size) is int and type(strong_len) is int and type(magic) is int):
        for name, value in (("block_size", block_size), ("strong_len", strong_len),
                            ("magic", magic)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if magic not in _SIG_MAGICS:
        raise ValueError(f"unknown signature magic {magic:#x}; use one of "
                         "RS_RK_BLAKE2_SIG_MAGIC, RS_BLAKE2_SIG_MAGIC, "
                         "RS_RK_MD4_SIG_MAGIC, RS_MD4_SIG_MAGIC")
    if block_size < 0 or block_size > MAX_BLOCK_LEN:
        raise ValueError(f"block_size must be 0 (automatic) or 1..{MAX_BLOCK_LEN}, "
                         f"not {block_size}")
    max_strong = _SIG_MAGICS[magic]
    if strong_len < -1 or strong_len > max_strong:
        raise ValueError(f"strong_len must be 0 (maximum), -1 (recommended minimum) "
                         f"or 1..{max_strong} for this hash, not {strong_len}")


def signature_args(file_size, block_size=0, strong_len=0,
                   magic=RS_RK_BLAKE2_SIG_MAGIC):
    """Resolve defaults exactly as ``rdiff signature`` does (``rs_sig_args``):
    returns ``(magic, block_len, strong_len)``.  ``file_size`` is -1 when the
    input's size is unknown."""
    cdef C.rs_magic_number m
    cdef size_t b
    cdef size_t s
    cdef C.rs_result r
    cdef long long size
    check_signature_args(block_size, strong_len, magic)
    if type(file_size) is not int and (not isinstance(file_size, int)
                                       or isinstance(file_size, bool)):
        raise TypeError(f"file_size must be an int, not {type(file_size).__name__}")
    size = file_size if file_size >= 0 else -1
    m = <C.rs_magic_number>(<int>magic)
    b = <size_t>(<Py_ssize_t>block_size)
    # (size_t)-1 is librsync's "recommended minimum", as rdiff's -S -1 passes.
    s = <size_t>(<Py_ssize_t>strong_len)
    _errors.lines = []
    r = C.rs_sig_args(<C.rs_long_t>size, &m, &b, &s)
    if r != C.RS_DONE:
        raise _make_error(r)
    return int(m), int(b), int(s)


# Not final: librsync.SignatureJob adds the facade's argument kinds in Python.
cdef class SignatureJob(_Job):
    """Incremental signature: feed the old file with :meth:`update`, get the
    signature bytes back; :meth:`finish` ends it.

    ``block_size``, ``strong_len`` and ``magic`` mean what they mean for
    :func:`librsync.signature`; ``file_size`` (the total input size, -1 if
    unknown) picks the same defaults rdiff would.  The chosen values are in
    ``magic``, ``block_len`` and ``strong_len``.  This is one librsync job
    in one thread; ``librsync.SignatureJob(threads=N)`` gives the
    multi-threaded engine instead.
    """
    cdef readonly int magic
    cdef readonly int block_len
    cdef readonly int strong_len

    def __init__(self, block_size=0, strong_len=0, magic=RS_RK_BLAKE2_SIG_MAGIC,
                 file_size=-1):
        if type(file_size) is not int and (not isinstance(file_size, int)
                                           or isinstance(file_size, bool)):
            raise TypeError(f"file_size must be an int, not {type(file_size).__name__}")
        if file_size < -1:
            raise ValueError(f"file_size must be >= 0, or -1 for unknown, not {file_size}")
        m, b, s = signature_args(file_size, block_size, strong_len, magic)
        self.magic, self.block_len, self.strong_len = m, b, s
        if _sig_engine < 0:
            self._job = lrs_wrap_rs_job(C.rs_sig_begin(<size_t>b, <size_t>s,
                                                       <C.rs_magic_number>m))
        else:
            self._job = lrs_sigjob_begin(_sig_engine, <size_t>b, <size_t>s,
                                         <C.rs_magic_number>m)
        if self._job is NULL:
            raise MemoryError()

    cdef size_t _expected_output(self, size_t input_len):
        # Exact: a header, then a weak and a strong sum per (partial) block.
        return SIG_HEADER_LEN + (input_len + self.block_len - 1) // self.block_len \
            * (4 + self.strong_len)

    def __repr__(self):
        return (f"<SignatureJob {MAGIC_NAMES.get(self.magic, hex(self.magic))} "
                f"block_len={self.block_len} strong_len={self.strong_len} "
                f"in={self._in_bytes} out={self._out_bytes} {_state_name(self._state)}>")


cdef str _state_name(JobState state):
    return ("running", "finished", "failed", "closed")[<int>state]


@cython.final
cdef class Signature:
    """A loaded signature with its hash table built, ready for many deltas.

    Create it with :func:`librsync.load_signature`.  Read-only once built, so
    one ``Signature`` may be used by any number of threads at once (the
    vendored librsync is compiled with ``HASHTABLE_NSTATS`` so that a delta
    search does not update counters inside it).

    It pickles as its signature bytes (:meth:`to_bytes`), loaded again on the
    other side, so it can be sent to worker processes or machines.  Two
    signatures are equal when their bytes are; being immutable, ``copy`` and
    ``deepcopy`` return the object itself.
    """
    cdef C.rs_signature_t *_sig
    cdef bint _ready
    cdef Py_hash_t _hash

    def __cinit__(self):
        self._sig = NULL
        self._ready = False
        self._hash = -1

    def __init__(self):
        raise TypeError("use librsync.load_signature() to create a Signature")

    def __dealloc__(self):
        if self._sig is not NULL:
            C.rs_free_sumset(self._sig)
            self._sig = NULL

    cdef C.rs_signature *_fields(self) except NULL:
        if self._sig is NULL or not self._ready:
            raise ValueError("signature is not loaded")
        return <C.rs_signature *>self._sig

    @property
    def magic(self):
        """The signature's magic number (which rolling sum and hash it uses)."""
        return self._fields().magic

    @property
    def block_len(self):
        """Bytes of the old file covered by each block."""
        return self._fields().block_len

    @property
    def strong_len(self):
        """Bytes of strong hash kept per block."""
        return self._fields().strong_sum_len

    @property
    def block_count(self):
        """Blocks in the signature (also ``len(signature)``)."""
        return self._fields().count

    def __len__(self):
        return self._fields().count

    def to_bytes(self):
        """The signature in librsync's format, as ``rdiff signature`` wrote
        it for the same file (the blocks in file order)."""
        cdef const C.rs_signature *fields = self._fields()
        cdef size_t n = lrs_signature_size(fields)
        if n > <size_t>PY_SSIZE_T_MAX:
            raise MemoryError("signature too large for one bytes object")
        cdef bytes out = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>n)
        cdef unsigned char *p = <unsigned char *><char *>out
        with nogil:
            lrs_signature_write(fields, p)
        return out

    def __repr__(self):
        if not self._ready:
            return "<Signature (not loaded)>"
        f = self._fields()
        return (f"<Signature {MAGIC_NAMES.get(f.magic, hex(f.magic))} "
                f"block_len={f.block_len} strong_len={f.strong_sum_len} "
                f"blocks={f.count}>")

    def __eq__(self, other):
        if not isinstance(other, Signature):
            return NotImplemented
        if self is other:
            return True
        a = <C.rs_signature *>self._fields()
        b = <C.rs_signature *>(<Signature>other)._fields()
        # The header fields first: unequal signatures rarely need their
        # bytes built to tell.
        if (a.magic, a.block_len, a.strong_sum_len, a.count) != \
                (b.magic, b.block_len, b.strong_sum_len, b.count):
            return False
        return self.to_bytes() == other.to_bytes()

    def __hash__(self):
        # Computed once: the signature cannot change.  A race between two
        # threads computing it stores the same value twice.
        if self._hash == -1:
            self._hash = hash(self.to_bytes())
        return self._hash

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (_load_signature_bytes, (self.to_bytes(),))


def _load_signature_bytes(data):
    """Unpickle a :class:`Signature` from its bytes.  Kept under this name:
    existing pickles refer to it."""
    job = LoadSignatureJob()
    job.finish(data)
    return job.signature


def _max_block_len_for(file_size):
    """The longest block length a signature of a file of ``file_size``
    bytes may have when the loader is told that size: 16 times the square
    root of the size (rdiff's recommended length is at most the root),
    never less than 2048 (rdiff's old default), never more than
    MAX_BLOCK_LEN."""
    if not isinstance(file_size, int) or isinstance(file_size, bool):
        raise TypeError(f"file_size must be an int, not {type(file_size).__name__}")
    if file_size < 0:
        raise ValueError(f"file_size must be >= 0, not {file_size}")
    return min(MAX_BLOCK_LEN, max(RS_DEFAULT_BLOCK_LEN, 16 * _isqrt(file_size)))


cdef object _isqrt(object n):
    import math
    return math.isqrt(n)


cdef long long _optional_limit(object value, str name) except -2:
    """A limit argument: -1 for None, else a non-negative int."""
    if value is None:
        return -1
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int or None")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, not {value}")
    return min(value, <object>0x7fffffffffffffff)


@cython.final
cdef class LoadSignatureJob(_Job):
    """Incremental signature loading: feed signature bytes with :meth:`update`;
    :meth:`finish` returns nothing and makes :attr:`signature` available.

    ``max_blocks`` (None: no limit) fails the load with
    :class:`LimitExceededError` as soon as the signature describes more blocks,
    a guard for signatures from untrusted peers.  ``max_block_len`` (None:
    :data:`MAX_BLOCK_LEN`) does the same for its block length, and
    ``file_size``, the size of the file the signature describes when the
    caller knows it, limits the block length to 16 times the square root of
    that size (at least 2048): rdiff's recommended length is at most the
    root, a longer block is never needed, and a longer block makes a
    search hash more per rolling-checksum hit.

    Whatever the limits, a header no signature writer produces is refused
    with :class:`CorruptDataError` before any block is read: a block length
    below 1 or above :data:`MAX_BLOCK_LEN`, or a strong sum length outside
    1 up to the digest length of the signature's hash (MD4: 16, BLAKE2: 32;
    an MD4 signature with a strong sum length up to 32 is a
    :class:`LibrsyncParamError`, as librsync reports it).
    """
    cdef Signature _signature
    cdef long long _max_blocks
    cdef long long _max_block_len
    cdef str _block_len_limit
    cdef bytes _sighead

    def __init__(self, max_blocks=None, *, max_block_len=None, file_size=None):
        cdef long long size
        self._max_blocks = _optional_limit(max_blocks, "max_blocks")
        self._max_block_len = _optional_limit(max_block_len, "max_block_len")
        self._block_len_limit = f"max_block_len={max_block_len}"
        size = _optional_limit(file_size, "file_size")
        if size >= 0 and (self._max_block_len < 0
                          or _max_block_len_for(size) < self._max_block_len):
            self._max_block_len = _max_block_len_for(size)
            self._block_len_limit = (f"{self._max_block_len}, the most accepted for "
                                     f"a file of {size} bytes")
        self._sighead = b""
        self._signature = Signature.__new__(Signature)
        self._expects = 1
        self._want_outsize = 4096  # loading a signature produces no output
        self._job = lrs_wrap_rs_job(C.rs_loadsig_begin(&self._signature._sig))
        if self._job is NULL:
            raise MemoryError()

    cdef int _check_limits(self) except -1:
        cdef C.rs_signature *fields = <C.rs_signature *>self._signature._sig
        if fields is NULL:
            return 0
        if self._max_blocks >= 0 and fields.count > self._max_blocks:
            raise LimitExceededError(
                f"signature has more than max_blocks={self._max_blocks} blocks")
        if fields.block_len > MAX_BLOCK_LEN:
            raise error_for_code(
                C.RS_CORRUPT,
                f"signature block length {fields.block_len} exceeds "
                f"MAX_BLOCK_LEN={MAX_BLOCK_LEN}")
        return 0

    cdef int _check_header(self) except -1:
        """Refuse a header no signature writer produces, from its first 12
        bytes, before librsync reads a block.  (librsync itself would take
        a strong sum length of 0 as "the hash's full length" and read the
        blocks with that length.)"""
        cdef size_t take
        cdef int block_len, strong_len
        if (len(self._sighead) >= SIG_HEADER_LEN or not self._bufs.avail_in
                or self._in_bytes != len(self._sighead)):
            return 0
        # Signature readers consume all they are given, so the window
        # starts at stream offset in_bytes.
        take = min(<size_t>(SIG_HEADER_LEN - len(self._sighead)), self._bufs.avail_in)
        self._sighead += self._bufs.next_in[:take]
        if len(self._sighead) < SIG_HEADER_LEN:
            return 0
        magic = int.from_bytes(self._sighead[:4], "big")
        if magic not in _SIG_MAGICS:
            return 0  # the magic check reports it
        block_len = int.from_bytes(self._sighead[4:8], "big", signed=True)
        strong_len = int.from_bytes(self._sighead[8:12], "big", signed=True)
        if block_len < 1:
            raise error_for_code(
                C.RS_CORRUPT, f"signature block length {block_len} is not positive")
        if block_len > MAX_BLOCK_LEN:
            raise error_for_code(
                C.RS_CORRUPT,
                f"signature block length {block_len} exceeds MAX_BLOCK_LEN={MAX_BLOCK_LEN}")
        if self._max_block_len >= 0 and block_len > self._max_block_len:
            raise LimitExceededError(
                f"signature block length {block_len} exceeds {self._block_len_limit}")
        digest = _SIG_MAGICS[magic]
        if strong_len < 1 or strong_len > digest:
            # librsync's code where it refuses this too (as rdiff exits
            # with it): a parameter error for a length that some hash has.
            raise error_for_code(
                C.RS_PARAM_ERROR if digest < strong_len <= C.RS_MAX_STRONG_SUM_LENGTH
                else C.RS_CORRUPT,
                f"signature strong sum length (strong_len) {strong_len} is outside "
                f"1..{digest}, the length of {'an MD4' if digest == 16 else 'a BLAKE2'} "
                f"digest")
        return 0

    cdef bint _pump(self, object write) except -1:
        cdef bint done
        self._check_header()
        # Count-limit checks between buffers keep memory bounded by
        # max_blocks plus one input buffer, not by the signature's size.
        done = _Job._pump(self, write)
        self._check_limits()
        return done

    cdef int _on_done(self) except -1:
        cdef C.rs_result r
        cdef C.rs_signature *fields = <C.rs_signature *>self._signature._sig
        cdef long long whole
        cdef long worst
        cdef unsigned int weak = 0
        self._check_limits()
        if fields is NULL or fields.block_len <= 0:
            raise error_for_code(
                C.RS_INPUT_ENDED,
                "signature is empty" if self._in_bytes == 0
                else "signature header is incomplete")
        # readsums.c treats end of input inside a block's 4-byte weak sum as
        # a clean end, so a truncated signature would load with a block
        # missing and deltas made from it would silently grow.  A whole
        # signature is exactly its header plus whole blocks.
        whole = SIG_HEADER_LEN + <long long>fields.count * (4 + fields.strong_sum_len)
        if self._in_bytes != whole:
            raise error_for_code(
                C.RS_INPUT_ENDED,
                f"signature ends inside block {fields.count}: "
                f"{self._in_bytes} bytes is not a header plus whole blocks")
        with nogil:
            worst = lrs_worst_weak_collision(fields, WEAK_COLLISION_LIMIT, &weak)
        if worst < 0:
            raise MemoryError("no memory to check the signature")
        if worst > WEAK_COLLISION_LIMIT:
            raise error_for_code(
                C.RS_CORRUPT,
                f"signature gives more than {MAX_WEAK_COLLISIONS} different "
                f"blocks the rolling checksum {weak:#010x} or checksums that "
                f"share its hash-table slot; an honest signature does not, "
                f"and one that does is slow to load and to search")
        with nogil:
            r = C.rs_build_hash_table(self._signature._sig)
        if r != C.RS_DONE:
            raise _make_error(r)
        self._signature._ready = True
        return 0

    @property
    def signature(self):
        """The loaded :class:`Signature` (after :meth:`finish`)."""
        if not self._signature._ready:
            raise ValueError("the signature is complete only after finish()")
        return self._signature

    def __repr__(self):
        return (f"<LoadSignatureJob in={self._in_bytes} "
                f"{_state_name(self._state)}>")


# ---------------------------------------------------------------------------
# Delta
# ---------------------------------------------------------------------------

# Not final: librsync.DeltaJob adds the facade's argument kinds in Python.
cdef class DeltaJob(_Job):
    """Incremental delta of a new file against a signature: feed the new
    file with :meth:`update`, get delta bytes back.

    ``signature`` is a loaded :class:`Signature`, shared, not copied: many
    DeltaJobs may use one Signature in any number of threads.
    (``librsync.DeltaJob`` also takes a signature in any input kind.)

    The search's work is bounded whatever the signature: strong sums
    computed and compared in vain (where a rolling checksum matched but the
    block did not) may cost at most about 32 bytes hashed per byte of new
    file, plus 1 MiB and four block lengths, and a rolling checksum whose
    strong sums failed 16 times running, at a cost of 4 MiB or more, is not
    checked again.  Honest
    signatures stay far below that; a forged one gets a valid delta with
    fewer matches (:attr:`skipped_checks`), in time linear in the input.
    See :ref:`search-budget`.
    """
    cdef readonly Signature signature
    cdef const lrs_budget *_budget
    cdef unsigned long long _false_checks, _skipped

    def __init__(self, Signature signature not None):
        cdef C.rs_signature *fields
        fields = signature._fields()
        self.signature = signature
        self._min_window = 2 * (<size_t>fields.block_len + MAX_DELTA_CMD)
        if _fast_delta and fields.count > 0:
            # Runs of matches are confirmed with the signature engine's
            # multi-buffer kernels (none for librsync's own job).
            self._job = lrs_deltajob_begin(signature._sig, _sig_engine)
        else:
            # librsync's job (with no blocks it writes the all-literal
            # delta), its lookups within the same budget.
            self._job = lrs_rsdelta_begin(signature._sig)
        if self._job is NULL:
            raise MemoryError()
        self._budget = lrs_delta_budget(self._job)

    cdef int _finish_job(self, JobState state) except -1:
        if self._budget is not NULL:
            self._false_checks = self._budget.false_checks
            self._skipped = self._budget.skipped
            self._budget = NULL
        return _Job._finish_job(self, state)

    @property
    def false_checks(self):
        """Strong sums computed so far that matched no block (librsync's
        "false matches": the rolling checksum matched, the block did not).
        Rare for an honest signature."""
        if self._budget is not NULL:
            return self._budget.false_checks
        return self._false_checks

    @property
    def skipped_checks(self):
        """Windows whose rolling checksum matched a block but whose strong
        sum was not checked, because the search's work budget was spent or
        that checksum had failed too often (see the class notes).  Always 0
        for an honest signature; otherwise the delta is still valid, only
        larger than librsync's would be."""
        if self._budget is not NULL:
            return self._budget.skipped
        return self._skipped

    cdef size_t _expected_output(self, size_t input_len):
        # A delta is rarely much larger than its input: literals plus a few
        # bytes of command per run.
        return input_len + input_len // 8 + 64

    def __repr__(self):
        return (f"<DeltaJob block_len={self.signature.block_len} "
                f"in={self._in_bytes} out={self._out_bytes} "
                f"{_state_name(self._state)}>")


# ---------------------------------------------------------------------------
# Patch
# ---------------------------------------------------------------------------

cdef enum BasisKind:
    BASIS_MEMORY = 1
    BASIS_FD = 2
    BASIS_PYFILE = 3


cdef struct Basis:
    BasisKind kind
    const char *data        # BASIS_MEMORY
    C.rs_long_t size        # BASIS_MEMORY
    int fd                  # BASIS_FD
    PyObject *owner         # the PatchJob (borrowed), for BASIS_PYFILE
    int os_errno            # pread failure
    bint past_end           # a COPY asked for bytes beyond the basis
    C.rs_long_t past_end_pos
    # BASIS_FD with an output file: COPYs go file to file (_directcopy.h).
    int out_fd              # -1: no
    int out_errno           # writing the output failed
    char **out_start        # the job's output buffer ...
    size_t *out_written     # ... and how much of it is already written
    long long direct_bytes  # copied file to file (for tests)


cdef C.rs_result _copy_cb(void *opaque, C.rs_long_t pos, size_t *len,
                          void **buf) noexcept nogil:
    cdef Basis *b = <Basis *>opaque
    cdef Py_ssize_t n
    cdef int r
    if b.kind == BASIS_MEMORY:
        if pos >= b.size:
            # Not RS_DONE with 0 bytes: librsync would call again forever.
            b.past_end = True
            b.past_end_pos = pos
            return C.RS_INPUT_ENDED
        if <C.rs_long_t>len[0] > b.size - pos:
            len[0] = <size_t>(b.size - pos)
        buf[0] = <void *>(b.data + pos)
        return C.RS_DONE
    if b.kind == BASIS_FD and b.out_fd >= 0:
        r = _copy_direct(b, pos, len, buf)
        if r >= 0:
            return <C.rs_result>r
        b.out_fd = -1  # not for these files: pread from now on
    if b.kind == BASIS_FD:
        # pread fails with EINVAL when offset + length passes the largest
        # file offset, and a hostile delta can put a COPY anywhere.  No file
        # reaches that far, so it is simply past the end.
        if pos < 0 or <unsigned long long>len[0] > <unsigned long long>(INT64_MAX - pos):
            len[0] = <size_t>(INT64_MAX - pos) if pos >= 0 else 0
        if len[0] == 0:
            b.past_end = True
            b.past_end_pos = pos
            return C.RS_INPUT_ENDED
        while True:
            n = lrs_pread(b.fd, buf[0], len[0], <long long>pos)
            if n >= 0 or errno != EINTR:
                break
        if n < 0 and errno == EINVAL:
            n = 0  # an offset beyond what this file system can address
        if n < 0:
            b.os_errno = errno
            return C.RS_IO_ERROR
        if n == 0:
            b.past_end = True
            b.past_end_pos = pos
            return C.RS_INPUT_ENDED
        len[0] = <size_t>n
        return C.RS_DONE
    return _copy_from_pyfile(b, pos, len, buf)


cdef int _copy_direct(Basis *b, C.rs_long_t pos, size_t *len, void **buf) noexcept nogil:
    """A COPY from the basis file straight to the output file: an rs_result,
    or -1 to do it with pread instead (rs_results are >= 0).  The output bytes the
    job produced before this COPY are written first, in order; the buffer
    region the job thinks it was given stays unwritten, and the driver is
    told to skip it."""
    cdef char *start = b.out_start[0] + b.out_written[0]
    cdef size_t pending = <char *>buf[0] - start
    cdef int err = 0
    cdef int r
    if pos < 0:
        return -1
    r = lrs_direct_copy(b.fd, pos, len, b.out_fd, start, pending, &err)
    if r == LRS_DC_WRITE_FAILED:
        b.out_errno = err
        return C.RS_IO_ERROR
    b.out_written[0] += pending
    if r == LRS_DC_COPIED:
        b.out_written[0] += len[0]
        b.direct_bytes += <long long>len[0]
        return C.RS_DONE
    if r == LRS_DC_PAST_END:
        b.past_end = True
        b.past_end_pos = pos
        return C.RS_INPUT_ENDED
    return -1


cdef C.rs_result _copy_from_pyfile(Basis *b, C.rs_long_t pos, size_t *len,
                                   void **buf) noexcept with gil:
    cdef PatchJob job = <PatchJob>b.owner
    cdef Py_ssize_t n
    try:
        return job._read_basis(pos, len, <char *>buf[0])
    except BaseException as exc:
        # Keep the exception (with its traceback) for the driver to re-raise
        # once rs_job_iter has returned.
        job._cb_error = exc
        return C.RS_IO_ERROR


# Not final: librsync.PatchJob adds the facade's argument kinds in Python.
cdef class PatchJob(_Job):
    """Incremental patch: feed a delta with :meth:`update`, get the new file's
    bytes back, copying unchanged parts from ``basis``.

    ``basis`` is the old file: a bytes-like object or mmap (read by pointer)
    or a seekable binary file object (read with ``seek`` + ``readinto``, or,
    when ``fd`` is the descriptor of the regular file behind it, with
    ``pread`` outside the GIL).  ``close_basis`` closes it when the job
    ends.  COPY offsets count from the start of the file, whatever its
    current position.  ``max_length`` (None: no limit) fails the patch with
    :class:`LimitExceededError` before more than that many bytes are output.
    (``librsync.PatchJob`` also takes a path, and decides ``fd`` itself.)
    """
    cdef Basis _basis
    cdef Py_buffer _basis_view
    cdef bint _have_view
    cdef object _basis_obj
    cdef object _owned_file
    cdef long long _basis_pos

    def __cinit__(self, *args, **kwargs):
        self._have_view = False
        self._basis_pos = -1

    def __init__(self, basis, max_length=None, *, int fd=-1, bint close_basis=False):
        if close_basis:
            self._owned_file = basis
        if max_length is not None:
            if not isinstance(max_length, int) or isinstance(max_length, bool):
                self._release_inputs()
                raise TypeError("max_length must be an int or None")
            if max_length < 0:
                self._release_inputs()
                raise ValueError(f"max_length must be >= 0, not {max_length}")
            self._max_out = max_length
        self._basis.owner = <PyObject *>self
        self._basis.out_fd = -1
        self._basis.direct_bytes = 0
        self._basis.out_start = &self._outp
        self._basis.out_written = &self._written
        try:
            if PyObject_CheckBuffer(basis):
                PyObject_GetBuffer(basis, &self._basis_view, PyBUF_SIMPLE)
                self._have_view = True
                self._basis.kind = BASIS_MEMORY
                self._basis.data = <const char *>self._basis_view.buf
                self._basis.size = self._basis_view.len
            elif fd >= 0 and LRS_HAVE_PREAD:
                self._basis_obj = basis
                self._basis.kind = BASIS_FD
                self._basis.fd = fd
            else:
                self._basis_obj = basis
                self._basis.kind = BASIS_PYFILE
        except BaseException:
            self._release_inputs()
            raise
        self._expects = 2
        self._job = lrs_wrap_rs_job(C.rs_patch_begin(_copy_cb, &self._basis))
        if self._job is NULL:
            raise MemoryError()

    cdef size_t _expected_output(self, size_t input_len):
        # At most the basis plus the delta's literals, for deltas that copy
        # each basis byte once (the usual case); unknown for file bases.
        if self._basis.kind == BASIS_MEMORY:
            return input_len + <size_t>self._basis.size
        if self._basis.kind == BASIS_FD:
            # One fstat beats a 1 MiB buffer for a small file's patch.
            try:
                return input_len + <size_t>os.fstat(self._basis.fd).st_size
            except (OSError, OverflowError, ValueError):
                return 0
        return 0

    cdef C.rs_result _read_basis(self, C.rs_long_t pos, size_t *len, char *buf) except? C.RS_IO_ERROR:
        f = self._basis_obj
        if pos != self._basis_pos:
            f.seek(pos)
        target = PyMemoryView_FromMemory(buf, len[0], PyBUF_WRITE)
        try:
            n = _read_into(getattr(f, "readinto", None),
                           None if hasattr(f, "readinto") else f.read,
                           target, 0, len[0])
        finally:
            target.release()
        if n == 0:
            self._basis_pos = -1
            self._basis.past_end = True
            self._basis.past_end_pos = pos
            return C.RS_INPUT_ENDED
        self._basis_pos = pos + n
        len[0] = <size_t>n
        return C.RS_DONE

    def _set_direct_output(self, int fd):
        """Let COPY commands go from the basis file straight to the output
        file ``fd`` (copy_file_range on Linux), when the basis is a file
        read by descriptor.  Only for an output that ``fd`` writes
        unbuffered, at its current offset, and that this job's ``write``
        writes to in the same way; the driver writes the rest around the
        copies, in order.  Elsewhere a no-op."""
        if self._state != ST_RUNNING or self._out_bytes:
            raise ValueError("set the direct output before the job has written")
        # Not with max_length: the driver checks the limit only after a job
        # step, by when a direct copy would already be in the file.
        if (LRS_HAVE_COPY_FILE_RANGE and self._basis.kind == BASIS_FD and fd >= 0
                and self._max_out < 0):
            self._basis.out_fd = fd

    @property
    def _direct_bytes(self):
        """Bytes the kernel copied from the basis file to the output file."""
        return self._basis.direct_bytes

    cdef object _error(self, int code):
        if self._basis.out_errno:
            _errors.lines = None
            return OSError(self._basis.out_errno, os.strerror(self._basis.out_errno))
        if self._basis.past_end:
            _errors.lines = None
            return error_for_code(
                C.RS_INPUT_ENDED,
                f"delta copies from offset {self._basis.past_end_pos}, "
                f"past the end of the basis")
        if self._basis.os_errno:
            _errors.lines = None
            err = OSError(self._basis.os_errno, os.strerror(self._basis.os_errno))
            exc = error_for_code(C.RS_IO_ERROR, f"reading the basis failed: {err}")
            exc.__cause__ = err
            return exc
        return _make_error(code)

    cdef int _release_inputs(self) except -1:
        if self._have_view:
            PyBuffer_Release(&self._basis_view)
            self._have_view = False
        self._basis.kind = <BasisKind>0
        self._basis_obj = None
        if self._owned_file is not None:
            f, self._owned_file = self._owned_file, None
            f.close()
        return 0

    def __dealloc__(self):
        if self._job is not NULL:
            lrs_job_free(self._job)
            self._job = NULL
        if self._have_view:
            PyBuffer_Release(&self._basis_view)
            self._have_view = False

    def __repr__(self):
        return (f"<PatchJob in={self._in_bytes} out={self._out_bytes} "
                f"{_state_name(self._state)}>")


include "_xxh3.pxi"
