#!/usr/bin/env python3
"""``librsync sync`` (protocol 3) against ``rsync`` on the tree kinds of
issue 21, locally and through a counting pipe, in the same interleaved
rounds; reported as ratios (rsync's time / ours: > 1 is faster than rsync),
bytes on the wire and peak RSS.

    python bench/sync3_bench.py                   # every kind, default sizes
    python bench/sync3_bench.py --kinds unchanged,bigfile --rounds 3
    python bench/sync3_bench.py --scale 0.25      # a quicker, smaller run

Kinds (sizes at --scale 1; the issue's were 1 GiB trees, scaled down here so
that a run fits a shared 2-core machine: the ratios, not the sizes, are the
result):

  unchanged   1,000 files, 256 MiB in all, nothing changed
  edited      the same, 10 files edited, 5 added, 5 deleted
  bigfile     one 512 MiB file, 200 scattered edits
  manysmall   20,000 files of 2 KiB in 200 directories, 1% rewritten
  initial     300 MiB in 100 files into an empty destination

Implementations, each timed as a whole command (process start included):

  librsync        ``python -m librsync sync -q --delete SRC/ DST``
  rsync           ``rsync -a --delete --no-whole-file SRC/ DST/`` (its delta algorithm)
  librsync-pipe   the same through ``bench/pipe_rsh.py`` as --rsh
  rsync-pipe      ``rsync -a --delete -e bench/pipe_rsh.py SRC/ localhost:DST/``

Every run's destination is compared with the source.  Benchmarks are not
tests: nothing here asserts on a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time

from _machine import cpu_name
from sync_bench import same_tree

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MiB = 1 << 20
RSH = f"{sys.executable} {os.path.join(HERE, 'pipe_rsh.py')}"
KINDS = ["unchanged", "edited", "bigfile", "manysmall", "initial"]
T_OLD = 1_700_000_000
# Run a command, print its children's peak RSS (KiB) on the last line.
PROBE = ("import resource, subprocess, sys; "
         "rc = subprocess.run(sys.argv[1:]).returncode; "
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(rc)")


def _write(path: str, data: bytes, mtime: float = T_OLD) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (mtime, mtime))


def _files(root: str, count: int, total: int, rnd: random.Random, dirs: int) -> None:
    each = max(1, total // count)
    for i in range(count):
        _write(os.path.join(root, f"d{i % dirs:03d}", f"f{i:05d}.bin"), rnd.randbytes(each))


def _edit(path: str, rnd: random.Random, edits: int = 5) -> None:
    with open(path, "r+b") as f:
        size = os.fstat(f.fileno()).st_size
        for _ in range(edits):
            f.seek(rnd.randrange(max(1, size - 100)))
            f.write(rnd.randbytes(rnd.randrange(1, 100)))
    later = T_OLD + 1000
    os.utime(path, (later, later))


def make_kind(kind: str, old: str, src: str, scale: float) -> None:
    """``old`` (the destination's state before each run) and ``src``."""
    rnd = random.Random(kind)
    os.makedirs(old)
    if kind in ("unchanged", "edited"):
        _files(old, 1000, int(256 * MiB * scale), rnd, 20)
    elif kind == "bigfile":
        with open(os.path.join(old, "big.bin"), "wb") as f:
            for _ in range(max(1, int(512 * scale))):
                f.write(rnd.randbytes(MiB))
        os.utime(os.path.join(old, "big.bin"), (T_OLD, T_OLD))
    elif kind == "manysmall":
        _files(old, int(20_000 * scale) or 1, int(20_000 * scale) * 2048, rnd, 200)
    subprocess.run(["cp", "-a", old, src], check=True)
    if kind == "initial":
        _files(src, 100, int(300 * MiB * scale), rnd, 10)
        shutil.rmtree(old)
        os.makedirs(old)
    elif kind == "edited":
        names = sorted(os.path.join(d, n) for d, _, ns in os.walk(src) for n in ns)
        for path in rnd.sample(names, 15):
            if path in names[:5]:
                continue
            _edit(path, rnd)
        for path in names[:5]:
            os.unlink(path)
        for i in range(5):
            _write(os.path.join(src, "d000", f"new{i}.bin"), rnd.randbytes(64 << 10),
                   T_OLD + 2000)
    elif kind == "bigfile":
        _edit(os.path.join(src, "big.bin"), rnd, 200)
    elif kind == "manysmall":
        names = sorted(os.path.join(d, n) for d, _, ns in os.walk(src) for n in ns)
        for path in rnd.sample(names, max(1, len(names) // 100)):
            _write(path, rnd.randbytes(2048), T_OLD + 1000)
    for d, _, _ in os.walk(src):
        os.utime(d, (T_OLD, T_OLD))


def commands(src: str, dst: str) -> dict[str, list[str]]:
    lib = [sys.executable, "-m", "librsync", "sync", "-q", "--delete"]
    return {
        "librsync": lib + [src + "/", dst],
        "rsync": ["rsync", "-a", "--delete", "--no-whole-file", src + "/", dst + "/"],
        "librsync-pipe": lib + ["--rsh", RSH, "--remote-cmd", f"{sys.executable} -m librsync",
                                src + "/", "localhost:" + dst],
        "rsync-pipe": ["rsync", "-a", "--delete", "-e", RSH, src + "/",
                       "localhost:" + dst + "/"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--workdir", default=os.path.join(HERE, "data", "sync3"))
    args = ap.parse_args()
    impls = ["librsync", "rsync", "librsync-pipe", "rsync-pipe"]
    rows = []
    for kind in args.kinds.split(","):
        work = os.path.join(args.workdir, f"{kind}-{args.scale:g}")
        old, src, dst = (os.path.join(work, n) for n in ("old", "src", "dst"))
        if not os.path.isdir(src):
            shutil.rmtree(work, ignore_errors=True)
            make_kind(kind, old, src, args.scale)
        times: dict[str, list[float]] = {i: [] for i in impls}
        wire: dict[str, int] = {}
        rss: dict[str, int] = {}
        log = os.path.join(work, "pipe.log")
        for rnd in range(args.rounds):
            for impl in impls:
                shutil.rmtree(dst, ignore_errors=True)
                subprocess.run(["cp", "-a", old, dst], check=True)
                if os.path.exists(log):
                    os.unlink(log)
                cmd = [sys.executable, "-c", PROBE, *commands(src, dst)[impl]]
                t = time.perf_counter()
                done = subprocess.run(cmd, env={**os.environ, "PIPE_RSH_LOG": log},
                                      capture_output=True, text=True, cwd=REPO)
                elapsed = time.perf_counter() - t
                if done.returncode != 0:
                    raise SystemExit(f"{kind} {impl} failed ({done.returncode}): "
                                     f"{done.stderr.strip()}")
                problem = same_tree(src, dst)
                if problem:
                    raise SystemExit(f"{kind} {impl}: destination differs: {problem}")
                times[impl].append(elapsed)
                rss[impl] = max(rss.get(impl, 0), int(done.stdout.split()[-1]))
                if os.path.exists(log):
                    with open(log) as f:
                        wire[impl] = sum(sum(json.loads(line).values()) for line in f)
                print(f"  {kind:10s} round {rnd + 1} {impl:14s} {elapsed:7.3f} s", flush=True)
        rows.append((kind, times, wire, rss))
    load = os.getloadavg()[0]
    print(f"\nCommand: `python bench/sync3_bench.py --kinds {args.kinds} --rounds "
          f"{args.rounds} --scale {args.scale:g}`; CPU: {cpu_name()}; rsync: "
          + subprocess.run(["rsync", "--version"], capture_output=True, text=True)
          .stdout.splitlines()[0].strip() + f"; load average at the end {load:.2f}.")
    print("Ratio: rsync's best time / ours (> 1: librsync is faster). Wire: bytes through "
          "the pipe, both ways. RSS: peak of the command's processes (KiB, both sides for "
          "the pipe).\n")
    print("| kind | local: librsync s | rsync s | ratio | pipe: librsync s | rsync s | ratio "
          "| wire librsync | wire rsync | wire ratio | RSS librsync | RSS rsync |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind, times, wire, rss in rows:
        b = {i: min(v) for i, v in times.items()}
        wl, wr = wire.get("librsync-pipe", 0), wire.get("rsync-pipe", 0)
        print(f"| {kind} | {b['librsync']:.3f} | {b['rsync']:.3f} | "
              f"{b['rsync'] / b['librsync']:.2f}x | {b['librsync-pipe']:.3f} | "
              f"{b['rsync-pipe']:.3f} | {b['rsync-pipe'] / b['librsync-pipe']:.2f}x | "
              f"{wl:,} | {wr:,} | {wl / wr if wr else 0:.2f} | "
              f"{max(rss['librsync'], rss['librsync-pipe']):,} | "
              f"{max(rss['rsync'], rss['rsync-pipe']):,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
