#!/usr/bin/env python3
"""The delta engines side by side in one process: librsync's own delta job
against this package's fast engine (librsync/_deltajob.h), on the same
signature and data, CPU time of ``delta()`` in memory, interleaved rounds.
bench/PROFILE.md section 6 quotes it; the comparison with rdiff is
bench/run.py's cases (a) and (b).

    python bench/delta_engines.py                  # 64 MiB, 5 rounds
    python bench/delta_engines.py --size 256 --rounds 3

Every delta of the fast engine is checked to be byte-identical to
librsync's job's.  Not a test: nothing asserts on a timing.
"""

from __future__ import annotations

import argparse
import io
import random
import time

import librsync
from librsync import _rsync

MiB = 1 << 20


def data(size: int, seed: int) -> tuple[bytes, bytes, bytes]:
    rnd = random.Random(seed)
    old = rnd.randbytes(size)
    unrelated = rnd.randbytes(size)
    edited = bytearray(old)
    for _ in range(200):
        i = rnd.randrange(size)
        edited[i:i + 100] = rnd.randbytes(100)
    return old, unrelated, bytes(edited)


def cpu_seconds(new: bytes, sig) -> tuple[float, bytes]:
    t = time.process_time()
    out = librsync.delta(new, sig, io.BytesIO()).getvalue()
    return time.process_time() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=64, help="MiB (64)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    old, unrelated, edited = data(args.size * MiB, args.seed)
    print(f"librsync {librsync.__file__}; signature engine "
          f"{librsync.signature_engine()}, BLAKE2b {librsync.blake2b_implementation()}")
    print(f"| {args.size} MiB | librsync's job | fast engine | ratio |")
    print("|---|---:|---:|---:|")
    for fmt, magic in (("RabinKarp (default format)", librsync.RS_RK_BLAKE2_SIG_MAGIC),
                       ("rollsum", librsync.RS_BLAKE2_SIG_MAGIC)):
        sig = librsync.load_signature(librsync.signature(old, io.BytesIO(), magic=magic)
                                      .getvalue())
        for case, new in (("unrelated", unrelated), ("200 edits", edited)):
            best = {"librsync": float("inf"), "fast": float("inf")}
            outs = {}
            for _ in range(args.rounds):
                for engine in best:
                    _rsync._use_delta_engine(engine)
                    t, outs[engine] = cpu_seconds(new, sig)
                    best[engine] = min(best[engine], t)
            _rsync._use_delta_engine("fast")
            if outs["fast"] != outs["librsync"]:
                raise SystemExit(f"{case}, {fmt}: the engines' deltas differ")
            rate = {e: len(new) / t / MiB for e, t in best.items()}
            print(f"| {case}, {fmt} | {rate['librsync']:.0f} MiB/s | {rate['fast']:.0f} MiB/s "
                  f"| {rate['fast'] / rate['librsync']:.2f}x |")


if __name__ == "__main__":
    main()
