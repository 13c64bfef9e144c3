#!/usr/bin/env python3
"""Create and abandon every kind of job many times (default 10,000 each).

Run under AddressSanitizer/LeakSanitizer (scripts/sanitize.sh) or valgrind:
any librsync job state, buffer or basis reference not freed when a job is
closed, fails, or is simply dropped mid-stream shows up as a leak (or as a
use-after-free if it is freed twice).  Also checks, without a sanitizer,
that the process's peak memory does not grow with the number of cycles.

Usage: abandon_cycles.py [CYCLES]
"""

from __future__ import annotations

import gc
import io
import os
import random
import resource
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import librsync  # noqa: E402

CYCLES = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000

OLD = random.Random(1).randbytes(40_000)
NEW = OLD[:15_000] + b"new stuff" + OLD[16_000:]
SIG = librsync.signature(OLD, block_size=512).read()
DELTA = librsync.delta(NEW, SIG).read()
LOADED = librsync.load_signature(SIG)


def jobs():
    """(name, factory, input) for every job kind and basis kind."""
    return [
        ("SignatureJob", lambda: librsync.SignatureJob(block_size=512), OLD),
        ("DeltaJob(loaded)", lambda: librsync.DeltaJob(LOADED), NEW),
        ("DeltaJob(bytes)", lambda: librsync.DeltaJob(SIG), NEW),
        ("PatchJob(bytes)", lambda: librsync.PatchJob(OLD), DELTA),
        ("PatchJob(bytesio)", lambda: librsync.PatchJob(io.BytesIO(OLD)), DELTA),
        ("PatchJob(memoryview)", lambda: librsync.PatchJob(memoryview(OLD)), DELTA),
        ("LoadSignatureJob", lambda: librsync.LoadSignatureJob(), SIG),
    ]


def abandon(factory, data, how: int) -> None:
    job = factory()
    half = len(data) // 2
    if how == 0:            # never fed, dropped
        pass
    elif how == 1:          # fed half, dropped without close()
        job.update(data[:half])
    elif how == 2:          # fed half, closed
        job.update(data[:half])
        job.close()
    elif how == 3:          # context manager left by an exception mid-stream
        try:
            with job:
                job.update(data[:half])
                raise KeyError("abandon")
        except KeyError:
            pass
    elif how == 4:          # failed on bad input, then dropped
        try:
            job.update(b"JUNK" * 4 if not isinstance(job, librsync.SignatureJob) else data)
            job.finish(b"\xff" * 64 if not isinstance(job, librsync.SignatureJob) else b"")
        except librsync.LibrsyncError:
            pass
    else:                   # completed normally, never closed
        job.update(data)
        job.finish()
        job.stats


def file_functions(i: int) -> None:
    """The one-shot functions failing half-way (truncated inputs)."""
    try:
        librsync.patch(OLD, DELTA[: len(DELTA) // 2 + i % 7])
    except librsync.InputEndedError:
        pass
    try:
        librsync.load_signature(SIG[: 100 + i % 11])
    except librsync.LibrsyncError:
        pass


def main() -> int:
    for name, factory, data in jobs():
        for i in range(CYCLES):
            abandon(factory, data, i % 6)
        gc.collect()
        print(f"{name}: {CYCLES} cycles, peak RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB", flush=True)
    for i in range(CYCLES):
        file_functions(i)
    gc.collect()
    print(f"one-shot failures: {CYCLES} cycles", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
