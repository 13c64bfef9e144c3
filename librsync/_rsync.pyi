# Type stub for the compiled core, librsync/_rsync.pyx (a Cython extension,
# which mypy cannot read).  `scripts/check_typing.sh` runs mypy's stubtest to
# keep this file in step with the built module: every public name, argument
# name, default and keyword-only marker below is checked against it.
#
# Stubs are never executed, so they may use the newest syntax and names that
# exist only in typeshed (`_typeshed`, `typing_extensions`); the package has
# no runtime dependency because of them.

import os
from collections.abc import Callable
from typing import Any, ClassVar, Final, Protocol, type_check_only

from _typeshed import ReadableBuffer
from typing_extensions import Self, TypeAlias, disjoint_base, final

# --- argument kinds (shared with librsync/__init__.pyi) ----------------------
# A path names a file; `bytes` is always data, never a path.
_Path: TypeAlias = str | os.PathLike[str] | os.PathLike[bytes]

@type_check_only
class _SupportsRead(Protocol):
    def read(self, size: int, /) -> bytes: ...

@type_check_only
class _SupportsReadinto(Protocol):
    def readinto(self, buffer: memoryview, /) -> int | None: ...

# A binary file object open for reading: `readinto` is used when present,
# else `read`.  It need not be seekable.
_Reader: TypeAlias = _SupportsRead | _SupportsReadinto

@type_check_only
class _SupportsSeekRead(Protocol):
    def read(self, size: int, /) -> bytes: ...
    def seek(self, offset: int, /) -> object: ...

@type_check_only
class _SupportsSeekReadinto(Protocol):
    def readinto(self, buffer: memoryview, /) -> int | None: ...
    def seek(self, offset: int, /) -> object: ...

# Every input: a bytes-like object (bytes, bytearray, memoryview, mmap,
# array, ...), a binary reader, or a path.
_Input: TypeAlias = ReadableBuffer | _Reader | _Path
# A patch basis is read at any offset: bytes-like, a seekable reader, a path.
_Basis: TypeAlias = ReadableBuffer | _SupportsSeekRead | _SupportsSeekReadinto | _Path
# Output chunks are handed to writers as memoryviews (or bytes).
_WriteFunc: TypeAlias = Callable[[memoryview], object]

# --- constants ---------------------------------------------------------------

SIGNATURE_READ_ONLY: Final[bool]
MAX_WEAK_COLLISIONS: Final[int]
LIBRSYNC_VERSION: Final[str]

RS_DELTA_MAGIC: Final[int]
RS_MD4_SIG_MAGIC: Final[int]
RS_BLAKE2_SIG_MAGIC: Final[int]
RS_RK_MD4_SIG_MAGIC: Final[int]
RS_RK_BLAKE2_SIG_MAGIC: Final[int]

RS_MD4_SUM_LENGTH: Final[int]
RS_BLAKE2_SUM_LENGTH: Final[int]
RS_DEFAULT_BLOCK_LEN: Final[int]
RS_DEFAULT_MIN_STRONG_LEN: Final[int]

RESULT_CODES: Final[dict[str, int]]
MAGIC_NAMES: Final[dict[int, str]]
# Signature magic -> its strong sum's full length.
SIGNATURE_MAGICS: Final[dict[int, int]]
RS_MAX_STRONG_SUM_LENGTH: Final[int]

MAX_BLOCK_LEN: Final[int]
DEFAULT_BUFFER_SIZE: Final[int]

# --- logging -----------------------------------------------------------------

def debug(level: int = 7) -> None: ...
def supports_trace() -> bool: ...
def blake2b_implementations() -> list[str]: ...
def blake2b_implementation() -> str: ...
def _blake2b_digest(name: str, data: ReadableBuffer) -> bytes: ...
def _use_blake2b(name: str) -> None: ...
def _select_blake2b() -> None: ...
def signature_engines() -> list[str]: ...
def signature_engine() -> str: ...
def _use_signature_engine(name: str) -> None: ...
def _signature_engine_lanes(name: str) -> tuple[int, int]: ...
def _signature_engine_hash(name: str, md4: bool, messages: list[bytes]) -> list[bytes]: ...
def _select_signature_engine() -> None: ...

# --- statistics --------------------------------------------------------------

@final
class Stats:
    """What a job did: librsync's ``rs_stats_t`` plus byte counts and time."""

    _FIELDS: ClassVar[tuple[str, ...]]
    @property
    def op(self) -> str: ...
    @property
    def lit_cmds(self) -> int: ...
    @property
    def lit_bytes(self) -> int: ...
    @property
    def lit_cmdbytes(self) -> int: ...
    @property
    def copy_cmds(self) -> int: ...
    @property
    def copy_bytes(self) -> int: ...
    @property
    def copy_cmdbytes(self) -> int: ...
    @property
    def sig_cmds(self) -> int: ...
    @property
    def sig_bytes(self) -> int: ...
    @property
    def false_matches(self) -> int: ...
    @property
    def sig_blocks(self) -> int: ...
    @property
    def block_len(self) -> int: ...
    @property
    def in_bytes(self) -> int: ...
    @property
    def out_bytes(self) -> int: ...
    @property
    def elapsed(self) -> float: ...
    def _asdict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

def make_stats(
    op: str,
    *,
    lit_cmds: int = 0,
    lit_bytes: int = 0,
    lit_cmdbytes: int = 0,
    copy_cmds: int = 0,
    copy_bytes: int = 0,
    copy_cmdbytes: int = 0,
    sig_blocks: int = 0,
    block_len: int = 0,
    in_bytes: int = 0,
    out_bytes: int = 0,
    elapsed: float = 0.0,
) -> Stats: ...

# --- jobs --------------------------------------------------------------------

@disjoint_base
class _Job:
    """Common driver of the job classes (not for direct use)."""

    def close(self) -> None: ...
    def _set_output_size(self, size: int) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    @property
    def finished(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...
    @property
    def stats(self) -> Stats: ...
    @property
    def in_bytes(self) -> int: ...
    @property
    def out_bytes(self) -> int: ...
    def update(self, data: ReadableBuffer) -> bytes: ...
    def finish(self, data: ReadableBuffer = b"") -> bytes: ...
    def run(self, source: ReadableBuffer | _Reader, write: _WriteFunc | None) -> None: ...

def check_signature_args(block_size: int, strong_len: int, magic: int) -> None: ...
def signature_args(
    file_size: int, block_size: int = 0, strong_len: int = 0, magic: int = ...
) -> tuple[int, int, int]: ...

@disjoint_base
class SignatureJob(_Job):
    """Incremental signature: feed the old file, get signature bytes back."""

    def __init__(
        self,
        block_size: int = 0,
        strong_len: int = 0,
        magic: int = ...,
        file_size: int = -1,
    ) -> None: ...
    @property
    def magic(self) -> int: ...
    @property
    def block_len(self) -> int: ...
    @property
    def strong_len(self) -> int: ...

@final
class Signature:
    """A loaded signature with its hash table built (see load_signature)."""

    # No constructor: Signature() raises TypeError; use
    # librsync.load_signature() or LoadSignatureJob (see the stubtest
    # allowlist for why __init__ is not declared).
    @property
    def magic(self) -> int: ...
    @property
    def block_len(self) -> int: ...
    @property
    def strong_len(self) -> int: ...
    @property
    def block_count(self) -> int: ...
    def __len__(self) -> int: ...
    def to_bytes(self) -> bytes: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __reduce__(self) -> tuple[Callable[[bytes], Signature], tuple[bytes]]: ...

def _load_signature_bytes(data: ReadableBuffer) -> Signature: ...

@final
class LoadSignatureJob(_Job):
    """Incremental signature loading; ``signature`` after ``finish()``."""

    def __init__(self, max_blocks: int | None = None) -> None: ...
    @property
    def signature(self) -> Signature: ...

@disjoint_base
class DeltaJob(_Job):
    """Incremental delta of a new file against a loaded signature."""

    def __init__(self, signature: Signature) -> None: ...
    @property
    def signature(self) -> Signature: ...

@disjoint_base
class PatchJob(_Job):
    """Incremental patch: feed a delta, get the new file back."""

    def __init__(
        self,
        basis: ReadableBuffer | _SupportsSeekRead | _SupportsSeekReadinto,
        max_length: int | None = None,
        *,
        fd: int = -1,
        close_basis: bool = False,
    ) -> None: ...
