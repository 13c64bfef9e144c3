"""zstd for ``compress=True`` (``-z``), when it is installed.

The standard library has it from Python 3.14 (``compression.zstd``); for
older Pythons ``backports.zstd`` is the same API (the ``zstd`` extra).  We
take no other binding: one API, the one that will stay.  Without either, a
side says so in its hello and the sync runs uncompressed.
"""

from __future__ import annotations

from typing import Any

from ._wire import corrupt

_zstd: Any
try:
    from compression import zstd as _zstd  # type: ignore[import-not-found,no-redef]
except ImportError:
    try:
        from backports import zstd as _zstd  # type: ignore[import-not-found,no-redef]
    except ImportError:
        _zstd = None

#: Level 3 (zstd's default): about rsync -z's level 6 in size, several
#: times faster.
LEVEL = 3


def available() -> bool:
    return _zstd is not None


class Compressor:
    """One file's data as one zstd frame, cut into chunks as it comes."""

    def __init__(self) -> None:
        self._c = _zstd.ZstdCompressor(level=LEVEL)

    def compress(self, data: Any) -> bytes:
        return self._c.compress(data)

    def flush(self) -> bytes:
        return self._c.flush()


class Decompressor:
    """The inverse; ``decompress`` produces at most ``limit`` bytes per call
    (call again with b"" while ``needs_input`` is False), so a small
    hostile frame cannot expand to gigabytes in one go."""

    def __init__(self) -> None:
        self._d = _zstd.ZstdDecompressor()

    def decompress(self, data: bytes, limit: int) -> bytes:
        if self._d.eof:
            if data:
                raise corrupt("data after the end of a compressed file")
            return b""
        try:
            return self._d.decompress(data, max_length=limit)
        except _zstd.ZstdError as e:
            raise corrupt(f"bad compressed data: {e}") from None

    @property
    def needs_input(self) -> bool:
        return self._d.eof or self._d.needs_input

    @property
    def eof(self) -> bool:
        return self._d.eof
