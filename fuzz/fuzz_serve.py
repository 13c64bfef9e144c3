#!/usr/bin/env python3
"""Fuzz target: what a remote ``librsync serve`` says to the local side.

The input is the serve side's stdout as the local side of a pull reads it:
a greeting line, then (for a ``file`` greeting) a framed librsync delta,
which is applied to a fixed basis as ``_receive_file`` does, then the
closing line with its JSON statistics.  A ``tree`` greeting's stream is
``fuzz_tree.py``'s business; here only the trailer after it is parsed.
Besides crashes, hangs and exceptions other than the documented ones
(``CliError`` for a bad greeting or trailer, and the library's), a finding
is: more output than ``max_length``, or a trailer whose statistics are
not counts.
Run with fuzz/run.sh.
"""

import io
import sys

import atheris

with atheris.instrument_imports():
    from _common import BASIS, EXPECTED, MAX_OUT
    import librsync
    from librsync import _cli_remote
    from librsync._cli_io import CliError


def TestOneInput(data: bytes) -> None:
    stdout = io.BytesIO(data)
    try:
        kind = _cli_remote.parse_greeting(stdout.readline(200), "peer")
    except CliError:
        return
    if kind == "file":
        reader = _cli_remote._FrameReader(stdout, "delta stream")
        out = io.BytesIO()
        try:
            librsync.patch(BASIS, reader, out, max_length=MAX_OUT)
            reader.finish()
        except EXPECTED:
            return
        if out.tell() > MAX_OUT:
            raise AssertionError(f"{out.tell()} bytes of output past max_length")
    line = stdout.readline(_cli_remote._MAX_TRAILER)
    if not line.startswith(b"LRSYNC-DONE "):
        return
    try:
        stats = _cli_remote.parse_trailer(line, "peer")
    except CliError:
        return
    for value in vars(stats).values():
        if isinstance(value, bool):
            continue
        if not isinstance(value, int) or value < 0:
            raise AssertionError(f"a trailer gave {value!r} as a count")


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
