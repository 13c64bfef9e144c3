#!/usr/bin/env python3
"""Fuzz target: what the other side of a sync sends (protocol 3, and the
serve greeting and trailer around it).

The first byte chooses the role under attack:

- even: the input is a *sender's* stream; ``librsync.sync.receive`` applies
  it to a fresh copy of a small destination tree holding symlinks that lead
  out of it, beside an ``outside`` directory;
- odd: the input is a *receiver's* stream (requests, signatures); the
  sender answers it from a fixed source tree.

Inputs that start with the serve greeting are also parsed as the local side
of ``librsync sync`` does (greeting line, then the trailer line at the end).
Besides crashes, hangs and exceptions other than the documented ones
(``LibrsyncError``, ``ValueError``, ``TypeError``; ``CliError`` for a bad
greeting or trailer), a finding is: anything outside the destination
changed, a temporary file left in it, or a sender's answer far larger than
its tiny source tree.  Run with fuzz/run.sh.
"""

import errno
import io
import sys

import atheris

with atheris.instrument_imports():
    from _common import EXPECTED, MAX_OUT, Arena
    from librsync import _cli_remote, sync
    from librsync._cli_io import CliError

ARENA = Arena("librsync-fuzz-sync-")
FS_ERRNOS = {errno.ENAMETOOLONG, errno.EILSEQ}


def TestOneInput(data: bytes) -> None:
    if data.startswith(b"LRSYNC-"):
        stream = io.BytesIO(data)
        try:
            _cli_remote.parse_greeting(stream.readline(200), "peer")
            _cli_remote.parse_trailer(data.rsplit(b"\n", 2)[-2] + b"\n", "peer")
        except (CliError, IndexError):
            pass
        return
    if not data:
        return
    stream = io.BytesIO(data[1:])
    if data[0] % 2 == 0:
        dst = ARENA.fresh_dst()
        try:
            sync.receive(dst, stream, io.BytesIO(), delete=bool(data[0] & 2),
                         max_file_size=MAX_OUT)
        except EXPECTED:
            pass
        except OSError as exc:
            if exc.errno not in FS_ERRNOS:
                raise
        ARENA.check_untouched()
    else:
        out = io.BytesIO()
        try:
            sync.send(ARENA.src, stream, out)
        except EXPECTED:
            pass
        if out.tell() > 1 << 20:
            raise AssertionError(f"{out.tell()} bytes sent for a tiny tree")


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
