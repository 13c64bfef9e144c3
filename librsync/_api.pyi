# Type stub for librsync/_api.py, the public functions and job classes that
# ``librsync`` re-exports (librsync/__init__.pyi star-imports this file).  The
# module is plain Python, but its one-shot functions return what they were
# given as output (None -> a SpooledTemporaryFile, a file object -> that
# object, a path -> that path), which only overloads can express; keeping them
# here leaves the runtime module free of typing machinery.
# No __all__: the runtime _api.__all__ is the one list.  In a stub, what a
# star import takes is every public name bound here (definitions and
# ``import x as x``); tests/test_typing.py checks that set equals the runtime
# list, which is what a literal copy would have had to be kept equal to.
# `scripts/check_typing.sh` runs mypy's stubtest, which fails when this file
# and the runtime module disagree (a name added to __all__, an argument
# renamed or made keyword-only, ...).

import abc
import os
from collections.abc import Callable, Iterable
from tempfile import SpooledTemporaryFile
from typing import ClassVar, Final, TypeVar, overload

from _typeshed import ReadableBuffer, SupportsWrite
from typing_extensions import Self, TypeAlias

from . import _rsync

from ._files import MAX_SPOOL as MAX_SPOOL
from ._rsync import (
    DEFAULT_BUFFER_SIZE as DEFAULT_BUFFER_SIZE,
    LIBRSYNC_VERSION as LIBRSYNC_VERSION,
    MAX_BLOCK_LEN as MAX_BLOCK_LEN,
    MAX_WEAK_COLLISIONS as MAX_WEAK_COLLISIONS,
    RS_BLAKE2_SIG_MAGIC as RS_BLAKE2_SIG_MAGIC,
    RS_BLAKE2_SUM_LENGTH as RS_BLAKE2_SUM_LENGTH,
    RS_DEFAULT_BLOCK_LEN as RS_DEFAULT_BLOCK_LEN,
    RS_DEFAULT_MIN_STRONG_LEN as RS_DEFAULT_MIN_STRONG_LEN,
    RS_DELTA_MAGIC as RS_DELTA_MAGIC,
    RS_MD4_SIG_MAGIC as RS_MD4_SIG_MAGIC,
    RS_MD4_SUM_LENGTH as RS_MD4_SUM_LENGTH,
    RS_RK_BLAKE2_SIG_MAGIC as RS_RK_BLAKE2_SIG_MAGIC,
    RS_RK_MD4_SIG_MAGIC as RS_RK_MD4_SIG_MAGIC,
    LoadSignatureJob as LoadSignatureJob,
    Signature as Signature,
    Stats as Stats,
    _Basis,
    _Path,
    _Reader,
    debug as debug,
    supports_trace as supports_trace,
    blake2b_implementation as blake2b_implementation,
    signature_engine as signature_engine,
    signature_engines as signature_engines,
    delta_engine as delta_engine,
    delta_engines as delta_engines,
)

RS_JOB_BLOCKSIZE: Final[int]
RS_DEFAULT_STRONG_LEN: Final[int]

# What every input argument accepts: a bytes-like object (bytes, bytearray,
# memoryview, mmap, array, ...), a binary file object open for reading
# (`readinto` or `read`), a path (`str` / `os.PathLike`; `bytes` is data), or
# an iterable of bytes-like chunks (`bytes` itself iterates as ints, so it is
# not one).
_Input: TypeAlias = ReadableBuffer | _Reader | _Path | Iterable[ReadableBuffer]
# The `stats=` callback of the one-shot functions.
_StatsCallback: TypeAlias = Callable[[Stats], None]

# An output file object: it is passed memoryviews and bytes.
_W = TypeVar("_W", bound=SupportsWrite[ReadableBuffer])
# An output path: written atomically and returned as given.
_P = TypeVar("_P", bound=_Path)
# `None` as output: a SpooledTemporaryFile rewound to 0.
_Spool: TypeAlias = SpooledTemporaryFile[bytes]

@overload
def signature(
    f: _Input,
    s: None = None,
    block_size: int = 0,
    strong_len: int = 0,
    magic: int = ...,
    *,
    threads: int = 1,
    stats: _StatsCallback | None = None,
) -> _Spool: ...
@overload
def signature(
    f: _Input,
    s: _W,
    block_size: int = 0,
    strong_len: int = 0,
    magic: int = ...,
    *,
    threads: int = 1,
    stats: _StatsCallback | None = None,
) -> _W: ...
@overload
def signature(
    f: _Input,
    s: _P,
    block_size: int = 0,
    strong_len: int = 0,
    magic: int = ...,
    *,
    threads: int = 1,
    stats: _StatsCallback | None = None,
) -> _P: ...
@overload
def delta(
    f: _Input,
    s: Signature | _Input,
    d: None = None,
    *,
    threads: int = 1,
    stats: _StatsCallback | None = None,
) -> _Spool: ...
@overload
def delta(
    f: _Input,
    s: Signature | _Input,
    d: _W,
    *,
    threads: int = 1,
    stats: _StatsCallback | None = None,
) -> _W: ...
@overload
def delta(
    f: _Input,
    s: Signature | _Input,
    d: _P,
    *,
    threads: int = 1,
    stats: _StatsCallback | None = None,
) -> _P: ...
@overload
def patch(
    f: _Basis,
    d: _Input,
    o: None = None,
    *,
    max_length: int | None = None,
    stats: _StatsCallback | None = None,
) -> _Spool: ...
@overload
def patch(
    f: _Basis,
    d: _Input,
    o: _W,
    *,
    max_length: int | None = None,
    stats: _StatsCallback | None = None,
) -> _W: ...
@overload
def patch(
    f: _Basis,
    d: _Input,
    o: _P,
    *,
    max_length: int | None = None,
    stats: _StatsCallback | None = None,
) -> _P: ...

def load_signature(
    s: _Input,
    *,
    max_blocks: int | None = None,
    max_block_len: int | None = None,
    file_size: int | None = None,
) -> Signature: ...

class SignatureJob(_rsync.SignatureJob, metaclass=abc.ABCMeta):
    """Incremental signature: feed the old file, get signature bytes back."""

    threads: ClassVar[int]
    # threads=N returns the multi-threaded engine, a virtual subclass.
    def __new__(
        cls,
        block_size: int = 0,
        strong_len: int = 0,
        magic: int = ...,
        file_size: int = -1,
        *,
        threads: int = 1,
    ) -> Self: ...
    def __init__(
        self,
        block_size: int = 0,
        strong_len: int = 0,
        magic: int = ...,
        file_size: int = -1,
        *,
        threads: int = 1,
    ) -> None: ...

class DeltaJob(_rsync.DeltaJob):
    """Incremental delta of a new file against a signature."""

    def __init__(self, signature: Signature | _Input) -> None: ...

class PatchJob(_rsync.PatchJob):
    """Incremental patch: feed a delta, get the new file back."""

    def __init__(self, basis: _Basis, max_length: int | None = None) -> None: ...
