# Type stub for librsync/_iter.py, the chunk iterators that ``librsync``
# re-exports (librsync/__init__.pyi star-imports this file).  As in
# _api.pyi, no __all__: the public names bound here are the runtime
# _iter.__all__ (tests/test_typing.py checks it), and the helpers that
# librsync.aio shares are private names, which a star import leaves out.

from collections.abc import Generator, Iterator
from typing import Final

from _typeshed import ReadableBuffer

from ._api import _Input
from ._rsync import Signature, _Reader

_CHUNK_SIZE: Final[int]

def _check_chunk_size(chunk_size: object) -> int: ...
def _split(data: bytes, size: int) -> Iterator[bytes]: ...
def _pieces(source: memoryview | _Reader, size: int) -> Generator[ReadableBuffer, None, None]: ...

# Generators, not just iterators: close() stops one early and frees its job
# and files.
def iter_signature(
    f: _Input,
    *,
    block_size: int = 0,
    strong_len: int = 0,
    magic: int = ...,
    chunk_size: int = ...,
) -> Generator[bytes, None, None]: ...
def iter_delta(
    f: _Input, sig: Signature | _Input, *, chunk_size: int = ...
) -> Generator[bytes, None, None]: ...
