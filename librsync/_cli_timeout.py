"""``sync --timeout SECONDS``: our ends of the pipes to the rsh child, with
every wait for the other side bounded.

rsync's rule: if no data moves for that long, the sync stops with status
30.  Here each read from the remote waits at most that long for data, and
each write at most that long for room in the pipe, so a remote (or a
network) that goes silent is noticed however the streams are being read:
by the tree steps, the single-file mode, the greeting or the trailer.
Time spent computing on this side is not counted, only time spent waiting
for the other.  Data keeps flowing byte for byte as without a timeout; the
readers and writers here only add a ``poll`` before a call that would block.
"""

from __future__ import annotations

import errno
import io
import os
import select
from typing import Any, Optional

#: rsync's status for "timeout in data send/receive".
EXIT_TIMEOUT = 30


class IOTimeout(OSError):
    """Nothing came from (or could be written to) the remote side for the
    ``--timeout`` given."""

    def __init__(self, seconds: float, doing: str) -> None:
        super().__init__(errno.ETIMEDOUT, f"no data {doing} for {seconds:g} seconds")
        self.seconds = seconds


class Watch:
    """Shared by the two ends of one remote: whether either timed out (the
    failure may surface elsewhere first, e.g. as a truncated stream once
    the remote is killed)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.timed_out: Optional[IOTimeout] = None

    def wait(self, fd: int, event: int, doing: str) -> None:
        poller = select.poll()
        poller.register(fd, event)
        if not poller.poll(self.seconds * 1000.0):
            self.timed_out = IOTimeout(self.seconds, doing)
            raise self.timed_out


def supported() -> bool:
    """Whether pipes can be polled here (not on Windows)."""
    return hasattr(select, "poll") and os.name == "posix"


class TimedReader(io.RawIOBase):
    """Reads the child's stdout, waiting at most ``watch.seconds`` for data."""

    def __init__(self, f: Any, watch: Watch, host: str) -> None:
        super().__init__()
        self._f = f
        self._fd: int = f.fileno()
        self._watch = watch
        self._doing = f"from {host}"

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def readinto(self, buffer: Any) -> int:
        # POLLIN also reports a closed pipe (POLLHUP): then the read gives EOF.
        self._watch.wait(self._fd, select.POLLIN, self._doing)
        return os.readv(self._fd, [buffer])

    def close(self) -> None:
        if not self.closed:
            try:
                self._f.close()
            finally:
                super().close()


class TimedWriter(io.RawIOBase):
    """Writes the child's stdin, all of each write, waiting at most
    ``watch.seconds`` each time the pipe is full."""

    def __init__(self, f: Any, watch: Watch, host: str) -> None:
        super().__init__()
        self._f = f
        self._fd: int = f.fileno()
        self._watch = watch
        self._doing = f"taken by {host}"
        # Non-blocking, so that a write into a nearly full pipe returns what
        # fitted instead of blocking for the rest.
        os.set_blocking(self._fd, False)

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            try:
                done += os.write(self._fd, view[done:])
            except BlockingIOError:
                self._watch.wait(self._fd, select.POLLOUT, self._doing)
        return done

    def close(self) -> None:
        if not self.closed:
            try:
                self._f.close()
            finally:
                super().close()
