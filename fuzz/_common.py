"""Shared pieces of the atheris fuzz targets (see README.md).

A *finding* is a crash, a hang (libFuzzer's -timeout), memory past
-rss_limit_mb, or an exception other than the documented ones: LibrsyncError
(and subclasses), ValueError and TypeError are the library's answers to bad
input and end the run of one input quietly.
"""

from __future__ import annotations

import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# Fuzz the tree this file lives in when it has an in-place build; otherwise
# the installed package (CI installs it and does not build in place).
_BUILT = any(name.startswith("_rsync.") and name.endswith((".so", ".pyd"))
             for name in os.listdir(os.path.join(ROOT, "librsync")))
if _BUILT and ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import librsync  # noqa: E402

EXPECTED = (librsync.LibrsyncError, ValueError, TypeError)

#: A fixed basis for patch targets: 16 KiB of deterministic bytes, so COPY
#: commands from the corpus (made against it) copy real data.
BASIS = random.Random(1234).randbytes(16384)

#: Output cap for patches: deltas can ask for any length; the fuzzer is
#: after crashes, not after writing gigabytes.
MAX_OUT = 1 << 20

MAGICS = [librsync.RS_RK_BLAKE2_SIG_MAGIC, librsync.RS_BLAKE2_SIG_MAGIC,
          librsync.RS_RK_MD4_SIG_MAGIC, librsync.RS_MD4_SIG_MAGIC]


def split_points(fdp, n: int, most: int = 8) -> list[int]:
    """A few cut points in range(n), chosen by the fuzzer."""
    cuts = sorted(fdp.ConsumeIntInRange(0, n) for _ in range(fdp.ConsumeIntInRange(0, most)))
    return cuts


def pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    out, prev = [], 0
    for c in cuts + [len(data)]:
        out.append(data[prev:c])
        prev = c
    return out
