#!/usr/bin/env python3
"""Many files at once: librsync.dask on a local cluster against a process
pool and a plain loop.

    python bench/dask_bench.py                 # 64 files x 4 MiB, 3 rounds
    python bench/dask_bench.py --quick         # smoke run: 8 files x 1 MiB
    python bench/dask_bench.py --files 128 --size 2 --edits 40 --rounds 5
    PYTHONPATH=/path/to/build python bench/dask_bench.py   # an in-place build

Each file is synced as rsync would: signature of the old copy, delta of the
new file against it, patch of the old copy into an output path (written
atomically: temporary file, fsync, rename).  The same files, the same
outputs, four engines:

  loop     one process, one file after another, with the public one-shot
           functions (``signature``, ``load_signature``, ``delta``, ``patch``)
  pool     that same per-file function in a concurrent.futures
           ProcessPoolExecutor(WORKERS)
  dask     ``librsync.dask.sync_files`` on a distributed.LocalCluster of
           WORKERS single-threaded worker processes on loopback (two tasks
           per file: signature, then delta streamed into patch)
  dask-notrim
           the same on a cluster whose workers do not get
           distributed's default MALLOC_TRIM_THRESHOLD_=65536 (its nanny's
           ``pre-spawn-environ``, there to hand freed memory back to the OS).
           With it glibc gives the buffers each librsync job allocates
           (1 MiB each) back to the OS when the job ends, and the next job
           faults fresh pages in (the report counts the workers' page
           faults); this row measures what that costs

Each run gets a fresh pool or cluster, started (and warmed up with a first
task) before the timing starts; start-up times are reported apart.  Rounds
interleave the engines in a rotating order.  Reported: best and median of
the rounds, and each engine's speed relative to the loop (loop time /
engine time: 2.00x is twice as fast), and for the clusters the page faults
and CPU time of the workers and of this process during the runs.  Every
output is compared with its new file after each run.  Benchmarks are not
tests: nothing here asserts on a timing.

Data is generated from a seed into bench/data/ (git-ignored) and reused;
outputs go to bench/.work/dask/.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import filecmp
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import time

from _machine import cpu_name, sh

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MiB = 1 << 20

import librsync  # noqa: E402  (installed, or found through PYTHONPATH)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--files", type=int, default=64)
    p.add_argument("--size", type=float, default=4.0, help="MiB per old file")
    p.add_argument("--edits", type=int, default=20, help="scattered edits per new file")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seed", type=int, default=20241301)
    p.add_argument("--quick", action="store_true", help="8 files x 1 MiB, 2 rounds")
    p.add_argument("--markdown", metavar="FILE", help="also write the report here")
    args = p.parse_args(argv)
    if args.quick:
        args.files, args.size, args.rounds = 8, 1.0, 2
    return args


# --- data ------------------------------------------------------------------------

def edited(old: bytes, count: int, rng: random.Random) -> bytes:
    """``count`` scattered edits of 1-64 bytes: replace, insert or delete."""
    out, prev = [], 0
    for pos in sorted(rng.randrange(len(old)) for _ in range(count)):
        if pos < prev:
            continue
        out.append(old[prev:pos])
        n = rng.randint(1, 64)
        kind = rng.randrange(3)
        if kind != 2:  # replace or insert
            out.append(rng.randbytes(n))
        prev = pos if kind == 1 else min(len(old), pos + n)
    out.append(old[prev:])
    return b"".join(out)


def make_files(args):
    """(olds, news): args.files pairs of paths, created unless present."""
    size = int(args.size * MiB)
    root = os.path.join(HERE, "data", f"dask-{args.files}x{size}-e{args.edits}-s{args.seed}")
    olds = [os.path.join(root, "old", f"{i:04d}") for i in range(args.files)]
    news = [os.path.join(root, "new", f"{i:04d}") for i in range(args.files)]
    done = os.path.join(root, "complete")
    if not os.path.exists(done):
        t = time.perf_counter()
        for d in ("old", "new"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        for i, (old_path, new_path) in enumerate(zip(olds, news)):
            rng = random.Random(args.seed * 1000 + i)
            old = rng.randbytes(size)
            with open(old_path, "wb") as f:
                f.write(old)
            with open(new_path, "wb") as f:
                f.write(edited(old, args.edits, rng))
        open(done, "w").close()
        print(f"generated {2 * args.files * size / MiB:.0f} MiB in {root} "
              f"({time.perf_counter() - t:.1f}s)", flush=True)
    return olds, news


# --- the engines -----------------------------------------------------------------

def sync_one(old: str, new: str, out: str) -> int:
    """One file, the plain way: what the loop and each pool process run."""
    sig = librsync.load_signature(librsync.signature(old))
    with librsync.delta(new, sig) as d:
        librsync.patch(old, d, out)
    return os.path.getsize(out)


class Loop:
    name = "loop"

    def __init__(self, workers):
        self.label = "plain loop (1 process)"

    def run(self, olds, news, outs):
        for old, new, out in zip(olds, news, outs):
            sync_one(old, new, out)

    def close(self):
        pass


class Pool:
    name = "pool"

    def __init__(self, workers):
        self.label = f"ProcessPoolExecutor({workers})"
        self.pool = concurrent.futures.ProcessPoolExecutor(workers)
        # Start every process now, not in the timed run.
        list(self.pool.map(time.sleep, [0.2] * workers))

    def run(self, olds, news, outs):
        list(self.pool.map(sync_one, olds, news, outs))

    def close(self):
        self.pool.shutdown()


class Dask:
    """A LocalCluster (its scheduler in this process, as a Client's would
    be on a laptop; the workers in their own)."""

    name = "dask"
    config: dict = {}

    def __init__(self, workers):
        import dask
        import distributed
        import librsync.dask

        self.sync_files = librsync.dask.sync_files
        self.label = f"librsync.dask, LocalCluster({workers} workers x 1 thread)"
        with dask.config.set(self.config):
            self.cluster = distributed.LocalCluster(
                n_workers=workers, processes=True, threads_per_worker=1, host="127.0.0.1",
                dashboard_address=None, silence_logs=50)
        # The nannies put their pre-spawn variables into this process's
        # environment, where the next cluster or pool would inherit them.
        os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
        self.client = distributed.Client(self.cluster)
        self.client.wait_for_workers(workers)
        where = set(self.client.run(lambda: librsync.__file__).values())
        if where != {librsync.__file__}:
            raise SystemExit(f"workers import {where}, not {librsync.__file__}")
        trims = set(self.client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_")).values())
        if trims != {self.trim}:
            raise SystemExit(f"{self.name}: workers have MALLOC_TRIM_THRESHOLD_ {trims}")
        # Every worker imports librsync.dask now, not in the timed run.
        self.client.run(lambda: __import__("librsync.dask"))
        self.client.gather(librsync.dask.signatures(self.client, [b"warm-up"] * workers))

    trim = "65536"

    def run(self, olds, news, outs):
        self.client.gather(self.sync_files(self.client, olds, news, outs))

    def probe(self):
        """(minor page faults per worker, CPU s per worker, CPU s of this
        process: the scheduler and the client), to subtract across a run."""
        workers = self.client.run(_usage)
        return ([w[0] for w in workers.values()], [w[1] for w in workers.values()],
                _usage()[1])

    def close(self):
        self.client.close()
        self.cluster.close()


def _usage():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_minflt, r.ru_utime + r.ru_stime


class DaskNoTrim(Dask):
    name = "dask-notrim"
    config = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
    trim = None

    def __init__(self, workers):
        super().__init__(workers)
        self.label += ", MALLOC_TRIM_THRESHOLD_ unset"


# --- measuring ------------------------------------------------------------------

def fresh_outputs(name, count):
    d = os.path.join(HERE, ".work", "dask", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return [os.path.join(d, f"{i:04d}") for i in range(count)]


def check(outs, news, engine):
    for out, new in zip(outs, news):
        if not filecmp.cmp(out, new, shallow=False):
            raise SystemExit(f"{engine}: {out} differs from {new}")


def versions():
    import importlib.metadata as md
    out = {}
    for dist in ("dask", "distributed"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def command():
    prefix = f"PYTHONPATH={os.environ['PYTHONPATH']} " if os.environ.get("PYTHONPATH") else ""
    return f"{prefix}python bench/dask_bench.py {' '.join(sys.argv[1:])}".strip()


def main():
    args = parse_args()
    cmd = command()  # before PYTHONPATH changes below
    olds, news = make_files(args)
    total = sum(os.path.getsize(p) for p in news)
    # Worker processes are new interpreters: they must import this librsync,
    # not another one installed elsewhere.
    parent = os.path.dirname(os.path.dirname(os.path.abspath(librsync.__file__)))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (parent, os.environ.get("PYTHONPATH")) if p)
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    load_before = sh("uptime").split("load average:")[-1].strip()
    kinds = [Loop, Pool, Dask, DaskNoTrim]
    times = {k.name: [] for k in kinds}
    startup = {k.name: [] for k in kinds}
    usage = {k.name: [] for k in kinds}
    labels = {}
    for r in range(args.rounds):
        # Rotate the order so no engine always runs first or last.  Each run
        # gets a fresh pool or cluster, so that no idle one (heartbeats,
        # profiling threads) takes CPU from the one being timed.
        for kind in kinds[r % len(kinds):] + kinds[:r % len(kinds)]:
            t = time.perf_counter()
            engine = kind(args.workers)
            startup[kind.name].append(time.perf_counter() - t)
            labels[kind.name] = engine.label
            probe = getattr(engine, "probe", None)
            try:
                outs = fresh_outputs(kind.name, len(olds))
                os.sync()  # no run pays for another's writeback
                before = probe() if probe else None
                t = time.perf_counter()
                engine.run(olds, news, outs)
                times[kind.name].append(time.perf_counter() - t)
                if probe:
                    after = probe()
                    usage[kind.name].append((
                        [a - b for a, b in zip(after[0], before[0])],
                        [a - b for a, b in zip(after[1], before[1])],
                        after[2] - before[2]))
            finally:
                engine.close()
            check(outs, news, engine.label)
            print(f"round {r + 1}: {kind.name:11s} {times[kind.name][-1]:.3f}s", flush=True)
    load_after = sh("uptime").split("load average:")[-1].strip()

    best = {n: min(t) for n, t in times.items()}
    med = {n: statistics.median(t) for n, t in times.items()}
    v = versions()
    lines = [
        f"{args.files} files x {args.size:g} MiB, {args.edits} scattered edits each "
        f"({total / MiB:.0f} MiB of new data); each file: signature of the old copy, "
        f"delta of the new file, patch to an output path (atomic, fsync'ed).",
        "",
        f"- CPU: {cpu_name()}, {os.cpu_count()} CPUs ({platform.machine()}); "
        f"load average before {load_before}, after {load_after}",
        f"- python {platform.python_version()}, dask {v['dask']}, distributed "
        f"{v['distributed']}, librsync {librsync.LIBRSYNC_VERSION} "
        f"(package {librsync.__version__}) from {os.path.dirname(librsync.__file__)}",
        f"- {args.rounds} rounds, engines interleaved, each run on a fresh pool or "
        "cluster; median start-up (not timed): "
        + ", ".join(f"{n} {statistics.median(t):.2f}s" for n, t in startup.items()
                    if n != "loop"),
        "",
        "Command:",
        "",
        "```",
        cmd,
        "```",
        "",
        "| engine | best s | median s | MiB/s (best) | vs loop, best | vs loop, median |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for n in times:
        lines.append(f"| {labels[n]} | {best[n]:.3f} | {med[n]:.3f} | "
                     f"{total / MiB / best[n]:.0f} | "
                     f"{best['loop'] / best[n]:.2f}x | {med['loop'] / med[n]:.2f}x |")
    lines.append("")
    for n, runs in usage.items():
        if runs:
            faults = statistics.median(f for run in runs for f in run[0])
            cpu = statistics.median(c for run in runs for c in run[1])
            parent = statistics.median(run[2] for run in runs)
            lines.append(f"- {n}, medians per run: {faults:,.0f} minor page faults and "
                         f"{cpu:.2f} s CPU per worker; {parent:.2f} s CPU in this process "
                         "(scheduler and client)")
    lines += ["", "All rounds: " + "; ".join(
        f"{n} " + ", ".join(f"{t:.3f}" for t in ts) for n, ts in times.items()) + " (s)."]
    report = "\n".join(lines) + "\n"
    print()
    print(report)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(report)


if __name__ == "__main__":
    main()
