# Type stub for librsync/__init__.py.  The module is plain Python, but its
# one-shot functions return what they were given as output (None -> a
# SpooledTemporaryFile, a file object -> that object, a path -> that path),
# which only overloads can express; keeping them here leaves the runtime
# module free of typing machinery.  `scripts/check_typing.sh` runs mypy's
# stubtest, which fails when this file and the runtime module disagree
# (a name added to __all__, an argument renamed or made keyword-only, ...).

import os
from collections.abc import Callable
from tempfile import SpooledTemporaryFile
from typing import Final, TypeVar, overload

from _typeshed import ReadableBuffer, SupportsWrite
from typing_extensions import TypeAlias

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
    DeltaJob as DeltaJob,
    LoadSignatureJob as LoadSignatureJob,
    PatchJob as PatchJob,
    Signature as Signature,
    SignatureJob as SignatureJob,
    Stats as Stats,
    _Basis,
    _Path,
    _Reader,
    debug as debug,
    load_signature as load_signature,
    supports_trace as supports_trace,
    blake2b_implementation as blake2b_implementation,
)
from ._version import __version__ as __version__
from .exceptions import (
    RS_BAD_MAGIC as RS_BAD_MAGIC,
    RS_BLOCKED as RS_BLOCKED,
    RS_CORRUPT as RS_CORRUPT,
    RS_DONE as RS_DONE,
    RS_INPUT_ENDED as RS_INPUT_ENDED,
    RS_INTERNAL_ERROR as RS_INTERNAL_ERROR,
    RS_IO_ERROR as RS_IO_ERROR,
    RS_MEM_ERROR as RS_MEM_ERROR,
    RS_PARAM_ERROR as RS_PARAM_ERROR,
    RS_RUNNING as RS_RUNNING,
    RS_SYNTAX_ERROR as RS_SYNTAX_ERROR,
    RS_UNIMPLEMENTED as RS_UNIMPLEMENTED,
    BadMagicError as BadMagicError,
    CorruptDataError as CorruptDataError,
    InputEndedError as InputEndedError,
    LibrsyncError as LibrsyncError,
    LibrsyncMemoryError as LibrsyncMemoryError,
    LibrsyncParamError as LibrsyncParamError,
    LimitExceededError as LimitExceededError,
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

RS_JOB_BLOCKSIZE: Final[int]
RS_DEFAULT_STRONG_LEN: Final[int]

# What every input argument accepts: a bytes-like object (bytes, bytearray,
# memoryview, mmap, array, ...), a binary file object open for reading
# (`readinto` or `read`), or a path (`str` / `os.PathLike`; `bytes` is data).
Input: TypeAlias = ReadableBuffer | _Reader | _Path
# The `stats=` callback of the one-shot functions.
StatsCallback: TypeAlias = Callable[[Stats], None]

# An output file object: it is passed memoryviews and bytes.
_W = TypeVar("_W", bound=SupportsWrite[ReadableBuffer])
# An output path: written atomically and returned as given.
_P = TypeVar("_P", bound=_Path)
# `None` as output: a SpooledTemporaryFile rewound to 0.
_Spool: TypeAlias = SpooledTemporaryFile[bytes]

@overload
def signature(
    f: Input,
    s: None = None,
    block_size: int = 0,
    strong_len: int = 0,
    magic: int = ...,
    *,
    threads: int = 1,
    stats: StatsCallback | None = None,
) -> _Spool: ...
@overload
def signature(
    f: Input,
    s: _W,
    block_size: int = 0,
    strong_len: int = 0,
    magic: int = ...,
    *,
    threads: int = 1,
    stats: StatsCallback | None = None,
) -> _W: ...
@overload
def signature(
    f: Input,
    s: _P,
    block_size: int = 0,
    strong_len: int = 0,
    magic: int = ...,
    *,
    threads: int = 1,
    stats: StatsCallback | None = None,
) -> _P: ...
@overload
def delta(
    f: Input,
    s: Signature | Input,
    d: None = None,
    *,
    threads: int = 1,
    stats: StatsCallback | None = None,
) -> _Spool: ...
@overload
def delta(
    f: Input,
    s: Signature | Input,
    d: _W,
    *,
    threads: int = 1,
    stats: StatsCallback | None = None,
) -> _W: ...
@overload
def delta(
    f: Input,
    s: Signature | Input,
    d: _P,
    *,
    threads: int = 1,
    stats: StatsCallback | None = None,
) -> _P: ...
@overload
def patch(
    f: _Basis,
    d: Input,
    o: None = None,
    *,
    max_length: int | None = None,
    stats: StatsCallback | None = None,
) -> _Spool: ...
@overload
def patch(
    f: _Basis,
    d: Input,
    o: _W,
    *,
    max_length: int | None = None,
    stats: StatsCallback | None = None,
) -> _W: ...
@overload
def patch(
    f: _Basis,
    d: Input,
    o: _P,
    *,
    max_length: int | None = None,
    stats: StatsCallback | None = None,
) -> _P: ...
