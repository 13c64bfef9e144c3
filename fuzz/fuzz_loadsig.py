#!/usr/bin/env python3
"""Fuzz target: untrusted *signatures* (load_signature, LoadSignatureJob,
DeltaJob).

The input is loaded as a signature in one call and streamed in pieces; both
must agree.  A signature that loads is then used for a delta of a fixed new
file, which must also patch back to that file when the signature is genuine
for BASIS (the corpus seeds are).  Run with fuzz/run.sh.
"""

import sys

import atheris

with atheris.instrument_imports():
    from _common import BASIS, EXPECTED, librsync, librsyncs_delta, pieces, split_points

NEW = BASIS[:5000] + b"inserted" + BASIS[5000:12000] + BASIS[13000:]
#: Bounds what a hostile signature may make the loader allocate.
MAX_BLOCKS = 1 << 16


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    cuts_seed = fdp.ConsumeBytes(2)
    sig_bytes = fdp.ConsumeBytes(fdp.remaining_bytes())
    try:
        sig = librsync.load_signature(sig_bytes, max_blocks=MAX_BLOCKS)
    except EXPECTED as exc:
        sig = type(exc)
    cut_fdp = atheris.FuzzedDataProvider(cuts_seed * 8)
    try:
        with librsync.LoadSignatureJob(max_blocks=MAX_BLOCKS) as job:
            for piece in pieces(sig_bytes, split_points(cut_fdp, len(sig_bytes))):
                job.update(piece)
            job.finish()
            sig2 = job.signature
    except EXPECTED as exc:
        sig2 = type(exc)
    if isinstance(sig, type) != isinstance(sig2, type):
        raise AssertionError(f"one-shot and streamed load disagree: {sig!r} vs {sig2!r}")
    if isinstance(sig, type):
        return
    if (len(sig), sig.block_len, sig.strong_len) != (len(sig2), sig2.block_len, sig2.strong_len):
        raise AssertionError(f"loads disagree: {sig!r} vs {sig2!r}")
    try:
        d = librsync.delta(NEW, sig).read()
    except EXPECTED:
        return
    # A hostile signature too: the delta engine decides as librsync's job.
    if d != librsyncs_delta(NEW, sig):
        raise AssertionError("the delta engine's bytes differ from librsync's job's")
    # Patching against BASIS must never crash; it reproduces NEW only when
    # the signature really describes BASIS, which a mutated one may not.
    try:
        librsync.patch(BASIS, d, max_length=len(NEW)).read()
    except EXPECTED:
        pass


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
