#!/usr/bin/env python3
"""Fuzz target: untrusted *deltas* (patch, PatchJob).

The input is a delta applied to a fixed basis twice: in one call, and
streamed through a PatchJob in fuzzer-chosen pieces.  Both must agree --
the same output, or the same kind of error.  Run with fuzz/run.sh.
"""

import sys

import atheris

with atheris.instrument_imports():
    from _common import BASIS, EXPECTED, MAX_OUT, librsync, pieces, split_points


def one_shot(delta: bytes):
    try:
        return librsync.patch(BASIS, delta, max_length=MAX_OUT).read()
    except EXPECTED as exc:
        return type(exc)


def streamed(delta: bytes, cuts) -> object:
    out = []
    try:
        with librsync.PatchJob(BASIS, max_length=MAX_OUT) as job:
            for piece in pieces(delta, cuts):
                out.append(job.update(piece))
            out.append(job.finish())
    except EXPECTED as exc:
        return type(exc)
    return b"".join(out)


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    cuts_seed = fdp.ConsumeBytes(2)
    delta = fdp.ConsumeBytes(fdp.remaining_bytes())
    cut_fdp = atheris.FuzzedDataProvider(cuts_seed * 8)
    a = one_shot(delta)
    b = streamed(delta, split_points(cut_fdp, len(delta)))
    if isinstance(a, bytes) != isinstance(b, bytes) or (isinstance(a, bytes) and a != b):
        raise AssertionError(f"one-shot and streamed patch disagree: {a!r:.200} vs {b!r:.200}")
    if isinstance(a, bytes) and len(a) > MAX_OUT:
        raise AssertionError(f"output of {len(a)} bytes passed max_length={MAX_OUT}")


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
