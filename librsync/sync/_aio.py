"""The roles over asyncio streams: each runs in a worker thread, as the
package's other asyncio functions do, reading and writing the
``StreamReader``/``StreamWriter`` through the event loop."""

from __future__ import annotations

import asyncio
import io
import os
from typing import Any, Optional

from ._receiver import Receiver
from ._sender import Sender
from ._stats import SyncStats

_CHUNK = 64 * 1024


class _LoopReader(io.RawIOBase):
    """A blocking raw reader (for a worker thread) of an asyncio
    StreamReader: each read is one call into the loop."""

    def __init__(self, reader: asyncio.StreamReader, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._reader = reader
        self._loop = loop

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        view = memoryview(buf).cast("B")
        data = asyncio.run_coroutine_threadsafe(self._reader.read(len(view)),
                                                self._loop).result()
        view[:len(data)] = data
        return len(data)


class _LoopWriter:
    """A blocking writer (for a worker thread) of an asyncio StreamWriter,
    buffered so that a call into the loop carries up to 64 KiB, and
    drained there (so a slow peer slows the role, never grows a buffer)."""

    def __init__(self, writer: asyncio.StreamWriter, loop: asyncio.AbstractEventLoop) -> None:
        self._writer = writer
        self._loop = loop
        self._buf = bytearray()

    def write(self, data: Any) -> int:
        n = len(memoryview(data).cast("B"))
        self._buf += data
        if len(self._buf) >= _CHUNK:
            self.flush()
        return n

    def flush(self) -> None:
        if self._buf:
            data, self._buf = bytes(self._buf), bytearray()
            asyncio.run_coroutine_threadsafe(self._send(data), self._loop).result()

    async def _send(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()


async def send_async(src: str | os.PathLike[str], reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter, *, compress: bool = False,
                     threads: int = 1) -> SyncStats:
    """:func:`librsync.sync.send` over asyncio streams (the role runs in a
    worker thread; the loop stays free).  ``writer`` is drained, not
    closed."""
    loop = asyncio.get_running_loop()
    raw_in = io.BufferedReader(_LoopReader(reader, loop), _CHUNK)
    out = _LoopWriter(writer, loop)
    role = Sender(os.fspath(src), raw_in, out, compress=compress, threads=threads)
    return await asyncio.to_thread(role.run)


async def receive_async(dst: str | os.PathLike[str], reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter, *, delete: bool = False,
                        checksum: bool = False, dry_run: bool = False,
                        compress: bool = False, fsync: bool = False,
                        max_file_size: Optional[int] = None) -> SyncStats:
    """:func:`librsync.sync.receive` over asyncio streams (the role runs in
    a worker thread; the loop stays free).  ``writer`` is drained, not
    closed."""
    loop = asyncio.get_running_loop()
    raw_in = io.BufferedReader(_LoopReader(reader, loop), _CHUNK)
    out = _LoopWriter(writer, loop)
    role = Receiver(os.fspath(dst), raw_in, out, delete=delete, checksum=checksum,
                    dry_run=dry_run, compress=compress, fsync=fsync,
                    max_file_size=max_file_size)
    return await asyncio.to_thread(role.run)
