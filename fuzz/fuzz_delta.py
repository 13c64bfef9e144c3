#!/usr/bin/env python3
"""Fuzz target: the whole pipeline on fuzzer-chosen data and parameters.

The input chooses an old file, a new file (the old one edited), signature
parameters and how the new file is cut for a streaming DeltaJob.  Whatever
they are, patch(old, delta(new, signature(old))) must give back new, and the
one-shot and streamed deltas must be identical, and identical to what
librsync's own delta job writes.  Run with fuzz/run.sh.
"""

import sys

import atheris

with atheris.instrument_imports():
    from _common import MAGICS, librsync, librsyncs_delta, pieces, split_points


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    magic = MAGICS[fdp.ConsumeIntInRange(0, len(MAGICS) - 1)]
    block_size = fdp.ConsumeIntInRange(0, 4096)
    strong_max = 32 if magic in (librsync.RS_BLAKE2_SIG_MAGIC,
                                 librsync.RS_RK_BLAKE2_SIG_MAGIC) else 16
    strong_len = fdp.ConsumeIntInRange(-1, strong_max)
    old = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 1 << 15))
    edit_at = fdp.ConsumeIntInRange(0, len(old))
    cut_len = fdp.ConsumeIntInRange(0, 512)
    insert = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 512))
    new = old[:edit_at] + insert + old[edit_at + cut_len:]
    new = new * fdp.ConsumeIntInRange(1, 3)
    cuts = split_points(fdp, len(new))
    # Every parameter drawn above is valid: any exception here is a finding.
    sig = librsync.signature(old, None, block_size, strong_len, magic).read()
    d = librsync.delta(new, sig).read()
    with librsync.DeltaJob(sig) as job:
        d2 = b"".join(job.update(p) for p in pieces(new, cuts)) + job.finish()
    if d != d2:
        raise AssertionError("one-shot and streamed deltas differ")
    if d != librsyncs_delta(new, sig):
        raise AssertionError("the delta engine's bytes differ from librsync's job's")
    out = librsync.patch(old, d).read()
    if out != new:
        raise AssertionError(f"round trip failed: {len(out)} bytes instead of {len(new)}")


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
