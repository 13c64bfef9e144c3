#!/usr/bin/env python3
"""Patch from files, side by side: rdiff against this package called every
way a user calls it, in one process tree, variants alternating, best of N.

Written to find out why bench/run.py's patch row (ours-file: an open file
out, no fsync) and a user's side-by-side measurement disagreed; see
bench/PROFILE.md ("Patch from files: why two harnesses disagreed")::

    python bench/patch_side.py                   # 256 MiB, 200 edits, 5 rounds
    python bench/patch_side.py --size 64 --rounds 3

Every variant except ``inproc`` runs in a child process of this one;
``s`` is the time of the patch call alone (Python children time it
themselves, excluding interpreter start-up and imports; rdiff and the CLI
are timed by this process, start-up included, which is a few ms for rdiff
and about 0.2 s for the CLI, shown on the ``startup`` rows).

Variants:

  rdiff           rdiff --force patch OLD DELTA OUT, OUT absent
  rdiff-exist     the same with OUT present (a previous output: O_TRUNC)
  rdiff+sync      rdiff, then `sync OUT` (fsync): what an fsync'ed output costs it
  api-path        librsync.patch(OLD, DELTA, OUT): atomic, fsync'ed (the documented path output)
  api-file        librsync.patch(OLD, DELTA, f), f = open(OUT, "wb", buffering=0), no fsync
                  (what bench/run.py's ours-file does)
  api-file-fsync  api-file, then os.fsync(f): the path output's cost without the rename
  api-file-exist  api-file with OUT present
  cli             python -m librsync -f patch OLD DELTA OUT (path output: atomic, fsync'ed)
  inproc          api-file in this (large) process, as bench/run.py runs it
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _machine import cpu_name  # noqa: E402
from run import MiB, files_equal, make_data  # noqa: E402

CHILD = r"""
import os, sys, time
import librsync
old, dlt, out, mode = sys.argv[1:5]
t = time.perf_counter()
if mode == "path":
    librsync.patch(old, dlt, out)
else:
    with open(out, "wb", buffering=0) as f:
        librsync.patch(old, dlt, f)
        if mode == "file-fsync":
            os.fsync(f.fileno())
print(time.perf_counter() - t)
"""

VARIANTS = ("rdiff", "rdiff-exist", "rdiff+sync", "api-path", "api-file",
            "api-file-fsync", "api-file-exist", "cli", "inproc")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=256, help="MiB (256)")
    ap.add_argument("--edits", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--datadir", default=os.path.join(HERE, "data"))
    args = ap.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    paths = make_data(args.datadir, args.size * MiB, args.edits, args.seed, unrelated=False)
    old, new = paths["old"], paths["edits"]
    work = os.path.join(args.datadir, "patch_side")
    os.makedirs(work, exist_ok=True)
    sig, dlt, out = (os.path.join(work, n) for n in ("old.sig", "edits.delta", "out"))
    subprocess.run(["rdiff", "--force", "signature", old, sig], check=True)
    subprocess.run(["rdiff", "--force", "delta", sig, new, dlt], check=True)
    env = dict(os.environ)
    py = sys.executable
    import librsync
    print(f"CPU: {cpu_name()}; librsync from {os.path.dirname(librsync.__file__)}; "
          f"{args.size} MiB, {args.edits} edits, delta {os.path.getsize(dlt):,} bytes")
    print("command: python bench/patch_side.py " + " ".join(sys.argv[1:]))

    def startup(argv):
        best = None
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
            t = time.perf_counter() - t
            best = t if best is None else min(best, t)
        return best

    st_rdiff = startup(["rdiff", "--version"])
    st_cli = startup([py, "-m", "librsync", "--version"])

    def prepare(exist: bool):
        if os.path.exists(out):
            os.unlink(out)
        if exist:
            shutil.copyfile(new, out)
        # Every variant starts with no dirty pages (as run.py's settle()).
        os.sync()

    def run(v: str) -> float:
        prepare(v.endswith("-exist"))
        if v.startswith("rdiff"):
            t = time.perf_counter()
            subprocess.run(["rdiff", "--force", "patch", old, dlt, out], check=True)
            if v == "rdiff+sync":
                subprocess.run(["sync", out], check=True)
            return time.perf_counter() - t
        if v == "cli":
            t = time.perf_counter()
            subprocess.run([py, "-m", "librsync", "-f", "-q", "patch", old, dlt, out],
                           check=True)
            return time.perf_counter() - t
        if v == "inproc":
            t = time.perf_counter()
            with open(out, "wb", buffering=0) as f:
                librsync.patch(old, dlt, f)
            return time.perf_counter() - t
        mode = {"api-path": "path", "api-file-fsync": "file-fsync"}.get(v, "file")
        r = subprocess.run([py, "-c", CHILD, old, dlt, out, mode], check=True,
                           capture_output=True, text=True, env=env)
        return float(r.stdout.split()[-1])

    times: dict[str, list[float]] = {v: [] for v in variants}
    for rnd in range(args.rounds):
        k = rnd % len(variants)
        for v in variants[k:] + variants[:k]:
            t = run(v)
            if not files_equal(out, new):
                raise SystemExit(f"{v}: patch output is wrong")
            times[v].append(t)
            print(f"  round {rnd + 1} {v:15s} {t:7.3f}s", flush=True)
    os.unlink(out)

    ref = times.get("rdiff")
    rb = min(ref) if ref else None
    rm = sorted(ref)[len(ref) // 2] if ref else None
    print()
    print(f"| variant | best s | median s | vs rdiff best | vs rdiff median |")
    print("|---|---:|---:|---:|---:|")
    for v in variants:
        ts = sorted(times[v])
        b, m = ts[0], ts[len(ts) // 2]
        print(f"| {v} | {b:.3f} | {m:.3f} | {rb / b:.2f}x | {rm / m:.2f}x |"
              if rb else f"| {v} | {b:.3f} | {m:.3f} | - | - |")
    print(f"| startup: rdiff --version | {st_rdiff:.3f} | | | |")
    print(f"| startup: python -m librsync --version | {st_cli:.3f} | | | |")
    print()
    print("all rounds:", "; ".join(f"{v} " + ", ".join(f"{t:.3f}" for t in times[v])
                                   for v in variants))


if __name__ == "__main__":
    main()
