#!/usr/bin/env python3
"""Benchmark this package against Debian's ``rdiff`` and PyPI's ``python-rsync``.

One command, deterministic (seeded) data, interleaved rounds, best-of-N::

    python bench/run.py                 # full run: 256 MiB cases, 1 GiB RSS
    python bench/run.py --quick         # smoke run: small sizes, 2 rounds
    python bench/run.py --size 64 --rounds 5 --cases edits,unrelated
    python bench/run.py --size 64 --rounds 2 --rss-size 256   # quick, all cases

The command that reproduces a run (with the environment variables that
change what is measured) is printed first and in the report.

Cases (``--cases``, all by default):

  edits      (a) SIZE MiB of random data, new file = old + EDITS scattered edits
  unrelated  (b) SIZE MiB of new data unrelated to the basis (delta worst case)
  magics     (a') signature of (a)'s old file with each of the four signature
                 magics (rdiff -H blake2|md4 -R rabinkarp|rollsum), 1 and 2 threads
  small      (c) SMALL_COUNT inputs of 4 KiB each: per-call overhead, each step
                 and the whole triple (signature, delta, patch of one input)
  threads    (d) N independent jobs in N threads (rdiff: N processes)
  rss        (e) peak RSS of each step on an RSS_SIZE MiB input, each step in
                 a fresh subprocess (ru_maxrss of that child, rdiff included)

Implementations (``--impls``):

  rdiff        ``rdiff`` as a subprocess on files (the reference: ratio 1.00)
  ours-file    this package on the same files: paths in, an open file out
               (no fsync, like rdiff)
  ours-path    patch only: paths in and out, as ``librsync.patch(old, delta,
               out)`` and the CLI do: written atomically and fsync'ed.  Its
               ratio is against rdiff-fsync.
  rdiff-fsync  patch only: rdiff, then an fsync of its output (inside the
               timed step): the reference for ours-path
  ours-bytes   this package in memory: bytes in, io.BytesIO out
  pyrsync      python-rsync 0.1.1 (import name ``pyrsync``) on open files
  ours-2t      as ours-file with threads=2 for signature and delta (one file
               over two cores; patch has no threads option)
  ours-lrsjob  as ours-file with librsync's own signature and delta jobs
               (LIBRSYNC_SIGNATURE_ENGINE=librsync LIBRSYNC_DELTA_ENGINE=librsync
               for its calls only): the same driver without our engines, so
               the engines' gain is measured in the same run
  ours-none    (case c only, always) bytes in, the default None output (a
               SpooledTemporaryFile), read back: the plain ``signature(data)``

Every output is checked: signatures byte-identical to rdiff's, deltas equal to
rdiff's or (if not) patching to the new file, patches equal to the new file.
Benchmarks are not tests: nothing here asserts on a timing.

The ``librsync`` imported is the installed one, or the one found through
PYTHONPATH (e.g. an experimental build); its path is printed.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import platform
import random
import shlex
import shutil
import subprocess
import sys
import threading
import time

from _machine import cpu_name, sh

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MiB = 1 << 20
SMALL_LEN = 4096
DEFAULT_IMPLS = ("rdiff", "ours-file", "ours-bytes", "ours-2t", "pyrsync",
                 "ours-path", "rdiff-fsync", "ours-lrsjob")
ALL_CASES = ("edits", "unrelated", "magics", "small", "threads", "rss")
ALL_OPS = ("signature", "delta", "patch")
SMALL_OPS = ALL_OPS + ("triple",)
#: Implementations whose ratio is taken against another reference than rdiff.
REFERENCE = {"ours-path": "rdiff-fsync"}
#: Not in case (d): ours-2t's threads are within one job, (d) is about
#: independent jobs; the durable patch pair is about the fsync, not threads.
NOT_IN_D = ("ours-2t", "ours-path", "rdiff-fsync", "ours-lrsjob")


def import_librsync():
    try:
        import librsync
    except ImportError:
        # Not installed: use the in-place build of this checkout.
        sys.path.insert(0, REPO)
        import librsync
    return librsync


def import_pyrsync():
    import pyrsync
    return pyrsync


# ---------------------------------------------------------------------------
# Data (deterministic)
# ---------------------------------------------------------------------------

def random_bytes(rng: random.Random, n: int) -> bytes:
    chunks = []
    while n > 0:
        k = min(n, 4 * MiB)
        chunks.append(rng.randbytes(k))
        n -= k
    return b"".join(chunks)


def apply_edits(old: bytes, count: int, seed: int) -> bytes:
    """``count`` scattered edits: replace, insert or delete 1..64 bytes."""
    rng = random.Random(seed)
    positions = sorted(rng.randrange(len(old)) for _ in range(count))
    out, prev = [], 0
    for pos in positions:
        if pos < prev:
            continue
        out.append(old[prev:pos])
        kind = rng.randrange(3)
        n = rng.randint(1, 64)
        if kind == 0:  # replace
            out.append(rng.randbytes(n))
            prev = min(len(old), pos + n)
        elif kind == 1:  # insert
            out.append(rng.randbytes(n))
            prev = pos
        else:  # delete
            prev = min(len(old), pos + n)
    out.append(old[prev:])
    return b"".join(out)


def write_atomic(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def make_data(datadir: str, size: int, edits: int, seed: int, unrelated: bool):
    """Create (or reuse) old / new-with-edits / new-unrelated files."""
    os.makedirs(datadir, exist_ok=True)
    tag = f"{size}-s{seed}"
    paths = {
        "old": os.path.join(datadir, f"old-{tag}.bin"),
        "edits": os.path.join(datadir, f"new-edits{edits}-{tag}.bin"),
    }
    if unrelated:
        paths["unrelated"] = os.path.join(datadir, f"new-unrelated-{tag}.bin")
    if all(os.path.exists(p) for p in paths.values()):
        return paths
    t = time.perf_counter()
    old = random_bytes(random.Random(seed), size)
    write_atomic(paths["old"], old)
    write_atomic(paths["edits"], apply_edits(old, edits, seed + 1))
    del old
    if unrelated:
        write_atomic(paths["unrelated"], random_bytes(random.Random(seed + 2), size))
    print(f"  generated {size / MiB:.0f} MiB data set in {time.perf_counter() - t:.1f}s",
          flush=True)
    return paths


def files_equal(a: str, b: str) -> bool:
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x = fa.read(8 * MiB)
            if x != fb.read(8 * MiB):
                return False
            if not x:
                return True


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


# ---------------------------------------------------------------------------
# Implementations.  Each step takes paths and writes its output to a path
# (ours-bytes: takes bytes, returns bytes; the harness checks the result).
# ---------------------------------------------------------------------------

#: rdiff's -H / -R options for each signature magic (case a').
RDIFF_MAGIC_ARGS = {
    "RS_RK_BLAKE2_SIG_MAGIC": ("-H", "blake2", "-R", "rabinkarp"),
    "RS_BLAKE2_SIG_MAGIC": ("-H", "blake2", "-R", "rollsum"),
    "RS_RK_MD4_SIG_MAGIC": ("-H", "md4", "-R", "rabinkarp"),
    "RS_MD4_SIG_MAGIC": ("-H", "md4", "-R", "rollsum"),
}


def fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Rdiff:
    name = "rdiff"
    in_memory = False
    ops = ALL_OPS

    def __init__(self, exe: str):
        self.exe = exe

    def _run(self, *args):
        subprocess.run([self.exe, "--force", *args], check=True,
                       stdin=subprocess.DEVNULL)

    def signature(self, old, sig, magic=None):
        if magic is None:
            self._run("signature", old, sig)
        else:
            self._run(*RDIFF_MAGIC_ARGS[magic], "signature", old, sig)

    def delta(self, new, sig, dlt):
        self._run("delta", sig, new, dlt)

    def patch(self, old, dlt, out):
        self._run("patch", old, dlt, out)

    def argv(self, op, *paths):
        if op == "signature":
            return [self.exe, "--force", "signature", paths[0], paths[1]]
        if op == "delta":
            return [self.exe, "--force", "delta", paths[1], paths[0], paths[2]]
        return [self.exe, "--force", "patch", paths[0], paths[1], paths[2]]


class RdiffFsync(Rdiff):
    """rdiff's patch made as durable as ours-path's: its output fsync'ed
    (from this process, after rdiff exits: fsync flushes the file's dirty
    pages whoever wrote them).  The reference for ours-path."""
    name = "rdiff-fsync"
    ops = ("patch",)

    def patch(self, old, dlt, out):
        super().patch(old, dlt, out)
        fsync_path(out)


class OursFile:
    """Paths in, an open (unbuffered) file out: no fsync, as rdiff."""
    name = "ours-file"
    in_memory = False
    ops = ALL_OPS
    threads = 1

    def __init__(self):
        self.m = import_librsync()

    def signature(self, old, sig, magic=None):
        kw = {} if magic is None else {"magic": getattr(self.m, magic)}
        if self.threads > 1:
            kw["threads"] = self.threads
        with open(sig, "wb", buffering=0) as o:
            self.m.signature(old, o, **kw)

    def delta(self, new, sig, dlt):
        with open(dlt, "wb", buffering=0) as o:
            self.m.delta(new, sig, o)

    def patch(self, old, dlt, out):
        with open(out, "wb", buffering=0) as o:
            self.m.patch(old, dlt, o)


class OursThreads(OursFile):
    """As ours-file, with ``threads=2`` for signature and delta (issue 5.4:
    one file's work split over both cores).  Patch has no threads option, so
    its row is the single-threaded patch again."""
    name = "ours-2t"
    threads = 2

    def delta(self, new, sig, dlt):
        with open(dlt, "wb", buffering=0) as o:
            self.m.delta(new, sig, o, threads=self.threads)


class OursLibrsyncJobs(OursFile):
    """As ours-file, but with librsync's own signature and delta jobs (the
    engines this package replaced them with switched off for each call)."""
    name = "ours-lrsjob"
    ops = ("signature", "delta")

    def _with_librsync_jobs(self, fn, *args):
        r = self.m._rsync
        before = (self.m.signature_engine(), self.m.delta_engine())
        r._use_signature_engine("librsync")
        r._use_delta_engine("librsync")
        try:
            return fn(*args)
        finally:
            r._use_signature_engine(before[0])
            r._use_delta_engine(before[1])

    def signature(self, old, sig, magic=None):
        self._with_librsync_jobs(super().signature, old, sig, magic)

    def delta(self, new, sig, dlt):
        self._with_librsync_jobs(super().delta, new, sig, dlt)


class OursPath(OursFile):
    """Paths in and out: the output is written atomically and fsync'ed, as
    by ``librsync.patch(old, delta, out)`` and ``python -m librsync patch``.
    In cases (a) and (b) it runs the patch only (its ratio is against
    rdiff-fsync): signatures and deltas to a path pay the same fsync, on
    outputs too small for it to matter, except (b)'s delta."""
    name = "ours-path"
    ops = ("patch",)

    def signature(self, old, sig, magic=None):
        self.m.signature(old, sig)

    def delta(self, new, sig, dlt):
        self.m.delta(new, sig, dlt)

    def patch(self, old, dlt, out):
        self.m.patch(old, dlt, out)


class OursBytes:
    """bytes in, io.BytesIO out."""
    name = "ours-bytes"
    in_memory = True
    ops = ALL_OPS

    def __init__(self):
        self.m = import_librsync()

    def signature(self, old, magic=None):
        kw = {} if magic is None else {"magic": getattr(self.m, magic)}
        return self.m.signature(old, io.BytesIO(), **kw).getvalue()

    def delta(self, new, sig):
        return self.m.delta(new, sig, io.BytesIO()).getvalue()

    def patch(self, old, dlt):
        return self.m.patch(old, dlt, io.BytesIO()).getvalue()


class PyRsync:
    """python-rsync 0.1.1 on open files (its API takes file objects only)."""
    name = "pyrsync"
    in_memory = False
    ops = ALL_OPS

    def __init__(self):
        self.m = import_pyrsync()

    def sig_file(self, fin, fout, size, magic=None):
        if magic is None:
            magic, block_len, strong_len = self.m.get_signature_args(size)
        else:
            # rdiff's defaults for that magic (python-rsync's helper knows
            # only its default magic).
            magic, block_len, strong_len = import_librsync()._rsync.signature_args(
                size, 0, 0, getattr(import_librsync(), magic))
        self.m.signature(fin, fout, strong_len, magic, block_len)

    def signature(self, old, sig, magic=None):
        with open(old, "rb") as i, open(sig, "wb") as o:
            self.sig_file(i, o, os.path.getsize(old), magic)

    def delta(self, new, sig, dlt):
        with open(new, "rb") as i, open(sig, "rb") as s, open(dlt, "wb") as o:
            self.m.delta(i, s, o)

    def patch(self, old, dlt, out):
        with open(old, "rb") as b, open(dlt, "rb") as d, open(out, "wb") as o:
            self.m.patch(b, d, o)


def make_impls(names, rdiff_exe):
    impls = []
    for n in names:
        if n == "rdiff":
            impls.append(Rdiff(rdiff_exe))
        elif n == "rdiff-fsync":
            impls.append(RdiffFsync(rdiff_exe))
        elif n == "ours-file":
            impls.append(OursFile())
        elif n == "ours-path":
            impls.append(OursPath())
        elif n == "ours-2t":
            impls.append(OursThreads())
        elif n == "ours-lrsjob":
            impls.append(OursLibrsyncJobs())
        elif n == "ours-bytes":
            impls.append(OursBytes())
        elif n == "pyrsync":
            impls.append(PyRsync())
        else:
            raise SystemExit(f"unknown implementation {n!r}")
    return impls


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------

class Results:
    def __init__(self):
        self.times = {}   # (case, op, impl) -> [seconds per round]
        self.nbytes = {}  # (case, op) -> bytes processed per call
        self.notes = []
        self.extra = {}

    def add(self, case, op, impl, seconds, nbytes):
        self.times.setdefault((case, op, impl), []).append(seconds)
        self.nbytes[(case, op)] = nbytes

    def best(self, case, op, impl):
        t = self.times.get((case, op, impl))
        return min(t) if t else None


def fmt_rate(nbytes, seconds):
    return f"{nbytes / MiB / seconds:8.1f}" if seconds else "       -"


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def throughput_table(res: Results, case: str, impls, title: str, ops=ALL_OPS,
                     label="step") -> str:
    """Best and median time per implementation; the ratios are the
    reference's time over this one's (> 1: faster than the reference), of
    the bests and of the medians."""
    lines = [f"### {title}", "",
             f"| {label} | implementation | best s | MiB/s | vs ref, best | vs ref, median "
             "| median s | ref |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for op in ops:
        for impl in impls:
            t = res.best(case, op, impl)
            if t is None:
                continue
            refname = REFERENCE.get(impl, "rdiff")
            ref = res.best(case, op, refname)
            med = median(res.times[(case, op, impl)])
            ref_med = median(res.times[(case, op, refname)]) if ref else None
            n = res.nbytes[(case, op)]
            ratio = f"{ref / t:.2f}x" if ref else "-"
            ratio_m = f"{ref_med / med:.2f}x" if ref else "-"
            lines.append(f"| {op} | {impl} | {t:.3f} | {fmt_rate(n, t).strip()} | "
                         f"{ratio} | {ratio_m} | {med:.3f} | {refname} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Cases (a) and (b): big files
# ---------------------------------------------------------------------------

def settle():
    """Before a timed step: write back dirty pages left by earlier steps (so
    no step pays for another's writeback) and collect garbage."""
    os.sync()
    gc.collect()


def timed(fn, *args):
    settle()
    t = time.perf_counter()
    r = fn(*args)
    return time.perf_counter() - t, r


def bench_big(args, res: Results, impls, paths, case: str, workdir: str):
    """Signature of old, delta of new against rdiff's signature, patch of old
    with rdiff's delta: every implementation does the same work."""
    old, new = paths["old"], paths[case]
    size_old, size_new = os.path.getsize(old), os.path.getsize(new)
    rd = next(i for i in impls if i.name == "rdiff")
    ref_sig = os.path.join(workdir, f"ref-{case}.sig")
    ref_dlt = os.path.join(workdir, f"ref-{case}.delta")
    rd.signature(old, ref_sig)
    rd.delta(new, ref_sig, ref_dlt)
    mem = {}
    if any(i.in_memory for i in impls):
        mem = {"old": read(old), "new": read(new), "sig": read(ref_sig),
               "dlt": read(ref_dlt)}
    ref_sig_bytes = read(ref_sig)
    ref_dlt_bytes = read(ref_dlt)
    res.extra[f"{case}.delta_size"] = len(ref_dlt_bytes)
    res.extra[f"{case}.sig_size"] = len(ref_sig_bytes)

    def check_sig(impl, got):
        if got != ref_sig_bytes:
            raise SystemExit(f"{impl}: {case} signature differs from rdiff's")

    def check_delta(impl, got):
        if got == ref_dlt_bytes:
            return
        # A different but valid delta would still be correct: patch it.
        out = OursBytes().patch(mem.get("old") or read(old), got)
        if out != (mem.get("new") or read(new)):
            raise SystemExit(f"{impl}: {case} delta does not patch to the new file")
        grew = (len(got) - len(ref_dlt_bytes)) / len(ref_dlt_bytes) * 100
        note = (f"{impl}: {case} delta differs from rdiff's but patches correctly "
                f"({len(got):,} bytes vs {len(ref_dlt_bytes):,}: {grew:+.3f} %)")
        if note not in res.notes:
            res.notes.append(note)

    for rnd in range(args.rounds):
        order = impls[rnd % len(impls):] + impls[:rnd % len(impls)]
        for op in ALL_OPS:
            for impl in order:
                if op not in impl.ops:
                    continue
                name = impl.name
                out = os.path.join(workdir, f"{case}.{op}.{name}")
                if impl.in_memory:
                    if op == "signature":
                        t, got = timed(impl.signature, mem["old"])
                        check_sig(name, got)
                    elif op == "delta":
                        t, got = timed(impl.delta, mem["new"], mem["sig"])
                        check_delta(name, got)
                    else:
                        t, got = timed(impl.patch, mem["old"], mem["dlt"])
                        if got != mem["new"]:
                            raise SystemExit(f"{name}: {case} patch output is wrong")
                    del got
                else:
                    if op == "signature":
                        t, _ = timed(impl.signature, old, out)
                        check_sig(name, read(out))
                    elif op == "delta":
                        t, _ = timed(impl.delta, new, ref_sig, out)
                        check_delta(name, read(out))
                    else:
                        t, _ = timed(impl.patch, old, ref_dlt, out)
                        if not files_equal(out, new):
                            raise SystemExit(f"{name}: {case} patch output is wrong")
                    os.unlink(out)
                nbytes = size_old if op == "signature" else size_new
                res.add(case, op, name, t, nbytes)
                print(f"  round {rnd + 1} {case:9s} {op:9s} {name:10s} {t:7.3f}s "
                      f"{nbytes / MiB / t:8.1f} MiB/s", flush=True)
    mem.clear()


# ---------------------------------------------------------------------------
# Case (a'): signature with each magic
# ---------------------------------------------------------------------------

def bench_magics(args, res: Results, impls, paths, workdir: str):
    """Signature of (a)'s old file with each magic, against rdiff with the
    matching -H/-R options; every output byte-identical to rdiff's."""
    old = paths["old"]
    size = os.path.getsize(old)
    impls = [i for i in impls if "signature" in i.ops and i.name not in ("ours-path",)]
    rd = next(i for i in impls if i.name == "rdiff")
    mem = read(old) if any(i.in_memory for i in impls) else None
    refs = {}
    for magic in RDIFF_MAGIC_ARGS:
        ref = os.path.join(workdir, f"magic-{magic}.sig")
        rd.signature(old, ref, magic)
        refs[magic] = read(ref)
        os.unlink(ref)
    for rnd in range(args.rounds):
        order = impls[rnd % len(impls):] + impls[:rnd % len(impls)]
        for magic in RDIFF_MAGIC_ARGS:
            for impl in order:
                out = os.path.join(workdir, f"magic.{impl.name}")
                if impl.in_memory:
                    t, got = timed(impl.signature, mem, magic)
                else:
                    t, _ = timed(impl.signature, old, out, magic)
                    got = read(out)
                    os.unlink(out)
                if got != refs[magic]:
                    raise SystemExit(f"{impl.name}: {magic} signature differs from rdiff's")
                res.add("magics", magic, impl.name, t, size)
                print(f"  round {rnd + 1} {magic:22s} {impl.name:10s} {t:7.3f}s "
                      f"{size / MiB / t:8.1f} MiB/s", flush=True)
    res.extra["magics.impls"] = [i.name for i in impls]


# ---------------------------------------------------------------------------
# Case (c): many small inputs
# ---------------------------------------------------------------------------

def bench_small(args, res: Results, impls, workdir: str):
    librsync = import_librsync()
    count = args.small_count
    rng = random.Random(args.seed + 10)
    olds, news = [], []
    for _ in range(count):
        o = rng.randbytes(SMALL_LEN)
        pos = rng.randrange(SMALL_LEN - 16)
        news.append(o[:pos] + rng.randbytes(16) + o[pos + 16:])
        olds.append(o)
    # Reference outputs (untimed) from this package, checked against rdiff's
    # on the inputs rdiff runs.
    sigs = [librsync.signature(o, io.BytesIO()).getvalue() for o in olds]
    dlts = [librsync.delta(n, s, io.BytesIO()).getvalue() for n, s in zip(news, sigs)]
    k = min(count, args.rdiff_small_calls)
    sdir = os.path.join(workdir, "small")
    os.makedirs(sdir, exist_ok=True)
    p = lambda kind, i: os.path.join(sdir, f"{kind}{i}")  # noqa: E731
    for i in range(k):
        write_atomic(p("old", i), olds[i])
        write_atomic(p("new", i), news[i])
        write_atomic(p("sig", i), sigs[i])
        write_atomic(p("dlt", i), dlts[i])
    rd = Rdiff(args.rdiff)
    for i in range(min(k, 50)):
        rd.signature(p("old", i), p("out", i))
        if read(p("out", i)) != sigs[i]:
            raise SystemExit("small inputs: this package's signature differs from rdiff's")
        rd.delta(p("new", i), p("sig", i), p("out", i))
        if read(p("out", i)) != dlts[i]:
            res.notes.append("small inputs: delta differs from rdiff's (checked by patching)")
        os.unlink(p("out", i))
    res.extra["small.rdiff_calls"] = k

    lib = import_librsync()
    pyr = None

    def run(name, op):
        nonlocal pyr
        outs = []
        if name == "rdiff":
            t = time.perf_counter()
            for i in range(k):
                if op == "signature":
                    rd.signature(p("old", i), p("out", i))
                elif op == "delta":
                    rd.delta(p("new", i), p("sig", i), p("out", i))
                else:
                    rd.patch(p("old", i), p("dlt", i), p("out", i))
            t = time.perf_counter() - t
            # Check the last output only (reading files back is not timed).
            last = read(p("out", k - 1))
            want = {"signature": sigs, "delta": dlts, "patch": news}[op][k - 1]
            if op != "delta" and last != want:
                raise SystemExit(f"rdiff small {op} output is wrong")
            return t, k
        sig_, dlt_, pat_ = lib.signature, lib.delta, lib.patch
        BIO = io.BytesIO
        if name == "ours-none":
            # What a user writes first: bytes in, the default output (a
            # SpooledTemporaryFile), read back.
            t = time.perf_counter()
            if op == "signature":
                for o in olds:
                    outs.append(sig_(o).read())
            elif op == "delta":
                for n, s in zip(news, sigs):
                    outs.append(dlt_(n, s).read())
            elif op == "patch":
                for o, d in zip(olds, dlts):
                    outs.append(pat_(o, d).read())
            else:
                for o, n in zip(olds, news):
                    outs.append(pat_(o, dlt_(n, sig_(o).read()).read()).read())
            t = time.perf_counter() - t
        elif name == "ours-bytes":
            t = time.perf_counter()
            if op == "signature":
                for o in olds:
                    outs.append(sig_(o, BIO()).getvalue())
            elif op == "delta":
                for n, s in zip(news, sigs):
                    outs.append(dlt_(n, s, BIO()).getvalue())
            elif op == "patch":
                for o, d in zip(olds, dlts):
                    outs.append(pat_(o, d, BIO()).getvalue())
            else:
                for o, n in zip(olds, news):
                    outs.append(pat_(o, dlt_(n, sig_(o, BIO()).getvalue(), BIO()).getvalue(),
                                     BIO()).getvalue())
            t = time.perf_counter() - t
        elif name == "ours-file":
            # File objects (BytesIO) in and out, as python-rsync needs.
            t = time.perf_counter()
            if op == "signature":
                for o in olds:
                    outs.append(sig_(BIO(o), BIO()).getvalue())
            elif op == "delta":
                for n, s in zip(news, sigs):
                    outs.append(dlt_(BIO(n), BIO(s), BIO()).getvalue())
            elif op == "patch":
                for o, d in zip(olds, dlts):
                    outs.append(pat_(BIO(o), BIO(d), BIO()).getvalue())
            else:
                for o, n in zip(olds, news):
                    s = sig_(BIO(o), BIO()).getvalue()
                    d = dlt_(BIO(n), BIO(s), BIO()).getvalue()
                    outs.append(pat_(BIO(o), BIO(d), BIO()).getvalue())
            t = time.perf_counter() - t
        elif name == "pyrsync":
            if pyr is None:
                pyr = import_pyrsync()
            t = time.perf_counter()
            if op == "signature":
                for o in olds:
                    out = BIO()
                    m, b, s = pyr.get_signature_args(len(o))
                    pyr.signature(BIO(o), out, s, m, b)
                    outs.append(out.getvalue())
            elif op == "delta":
                for n, s in zip(news, sigs):
                    out = BIO()
                    pyr.delta(BIO(n), BIO(s), out)
                    outs.append(out.getvalue())
            elif op == "patch":
                for o, d in zip(olds, dlts):
                    out = BIO()
                    pyr.patch(BIO(o), BIO(d), out)
                    outs.append(out.getvalue())
            else:
                for o, n in zip(olds, news):
                    so = BIO()
                    m, b, s = pyr.get_signature_args(len(o))
                    pyr.signature(BIO(o), so, s, m, b)
                    do = BIO()
                    pyr.delta(BIO(n), BIO(so.getvalue()), do)
                    out = BIO()
                    pyr.patch(BIO(o), BIO(do.getvalue()), out)
                    outs.append(out.getvalue())
            t = time.perf_counter() - t
        else:
            return None
        if op == "signature" and outs != sigs:
            raise SystemExit(f"{name}: small signatures differ from rdiff's")
        if op in ("patch", "triple") and outs != news:
            raise SystemExit(f"{name}: small {op} outputs are wrong")
        if op == "delta" and outs != dlts:
            for o, n, d in zip(olds, news, outs):
                if lib.patch(o, d, io.BytesIO()).getvalue() != n:
                    raise SystemExit(f"{name}: small delta does not patch correctly")
        return t, count

    names = [i.name for i in impls]
    if any(n.startswith("ours") for n in names):
        names.append("ours-none")
    for rnd in range(args.rounds):
        order = names[rnd % len(names):] + names[:rnd % len(names)]
        for op in SMALL_OPS:
            for name in order:
                if op == "triple" and name == "rdiff":
                    continue  # the sum of its three steps, in the table
                settle()
                r = run(name, op)
                if r is None:
                    continue
                t, calls = r
                per_call = t / calls
                res.add("small", op, name, per_call, SMALL_LEN)
                print(f"  round {rnd + 1} small     {op:9s} {name:10s} "
                      f"{per_call * 1e6:8.1f} us/call ({calls} calls)", flush=True)
    res.extra["small.names"] = names
    shutil.rmtree(sdir, ignore_errors=True)


def small_table(res: Results, impls) -> str:
    k = res.extra.get("small.rdiff_calls")
    impls = res.extra.get("small.names", impls)
    lines = ["### (c) many 4 KiB inputs: time per call, and per triple", "",
             "| step | implementation | best us | median us | calls/s | vs pyrsync, best "
             "| vs pyrsync, median | vs rdiff |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for op in SMALL_OPS:
        ref = res.best("small", op, "rdiff")
        if op == "triple":
            parts = [res.best("small", o, "rdiff") for o in ALL_OPS]
            ref = sum(parts) if all(parts) else None
        pyr = res.times.get(("small", op, "pyrsync"))
        for impl in impls:
            runs = res.times.get(("small", op, impl))
            if not runs and not (impl == "rdiff" and op == "triple" and ref):
                continue
            if runs:
                t, med = min(runs), median(runs)
            else:
                t, med = ref, None  # rdiff's triple: its three bests added
            vp = f"{min(pyr) / t:.2f}x" if pyr else "-"
            vpm = f"{median(pyr) / med:.2f}x" if pyr and med else "-"
            ratio = f"{ref / t:.1f}x" if ref else "-"
            m = f"{med * 1e6:.1f}" if med else "-"
            lines.append(f"| {op} | {impl} | {t * 1e6:.1f} | {m} | {1 / t:,.0f} | {vp} | "
                         f"{vpm} | {ratio} |")
    lines.append("")
    lines.append(f"rdiff runs as one process per call (on the first {k} inputs; its "
                 "triple is the sum of its three bests); Python implementations run "
                 "all inputs in memory: ours-none bytes in, the default output (a "
                 "SpooledTemporaryFile) read back; ours-bytes bytes in, io.BytesIO out; "
                 "ours-file and pyrsync io.BytesIO in and out.  A triple is the "
                 "signature, delta and patch of one input, each fed the previous "
                 "step's output.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Case (d): thread scaling
# ---------------------------------------------------------------------------

def bench_threads(args, res: Results, impls, paths, workdir: str):
    old, new = paths["old"], paths["edits"]
    size = os.path.getsize(old)
    rd = Rdiff(args.rdiff)
    ref_sig = os.path.join(workdir, "thr.sig")
    ref_dlt = os.path.join(workdir, "thr.delta")
    rd.signature(old, ref_sig)
    rd.delta(new, ref_sig, ref_dlt)
    ref_sig_bytes = read(ref_sig)
    mem = None
    if any(i.in_memory for i in impls):
        mem = {"old": read(old), "new": read(new), "sig": ref_sig_bytes,
               "dlt": read(ref_dlt)}

    def job(impl, op, t_idx):
        out = os.path.join(workdir, f"thr.{op}.{impl.name}.{t_idx}")
        if impl.in_memory:
            if op == "signature":
                return impl.signature(mem["old"])
            if op == "delta":
                return impl.delta(mem["new"], mem["sig"])
            return impl.patch(mem["old"], mem["dlt"])
        if op == "signature":
            impl.signature(old, out)
        elif op == "delta":
            impl.delta(new, ref_sig, out)
        else:
            impl.patch(old, ref_dlt, out)
        return out

    def check(impl, op, got):
        data = got if impl.in_memory else read(got)
        if not impl.in_memory:
            os.unlink(got)
        if op == "signature" and data != ref_sig_bytes:
            raise SystemExit(f"{impl.name}: threaded signature differs from rdiff's")
        if op == "patch" and data != (mem["new"] if mem else read(new)):
            raise SystemExit(f"{impl.name}: threaded patch output is wrong")

    def run(impl, op, n):
        if impl.name == "rdiff":
            outs = [os.path.join(workdir, f"thr.{op}.rdiff.{i}") for i in range(n)]
            argvs = [rd.argv(op, *( (old, outs[i]) if op == "signature" else
                                    (new, ref_sig, outs[i]) if op == "delta" else
                                    (old, ref_dlt, outs[i])))
                     for i in range(n)]
            settle()
            t = time.perf_counter()
            procs = [subprocess.Popen(a, stdin=subprocess.DEVNULL) for a in argvs]
            for pr in procs:
                if pr.wait() != 0:
                    raise SystemExit("rdiff failed")
            t = time.perf_counter() - t
            for o in outs:
                check(impl, op, o)
            return t
        results = [None] * n
        errors = []
        barrier = threading.Barrier(n + 1)

        def worker(i):
            barrier.wait()
            try:
                results[i] = job(impl, op, i)
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for th in threads:
            th.start()
        settle()
        t = time.perf_counter()
        barrier.wait()
        for th in threads:
            th.join()
        t = time.perf_counter() - t
        if errors:
            raise errors[0]
        for r in results:
            check(impl, op, r)
        return t

    counts = args.threads
    for rnd in range(args.rounds):
        order = impls[rnd % len(impls):] + impls[:rnd % len(impls)]
        for op in ALL_OPS:
            for impl in order:
                if op not in impl.ops:
                    continue
                for n in counts:
                    t = run(impl, op, n)
                    nbytes = size if op == "signature" else os.path.getsize(new)
                    res.add(f"threads{n}", op, impl.name, t, nbytes * n)
                    print(f"  round {rnd + 1} threads={n} {op:9s} {impl.name:10s} "
                          f"{t:7.3f}s {nbytes * n / MiB / t:8.1f} MiB/s total", flush=True)


def threads_table(res: Results, impls, counts) -> str:
    head = " | ".join(f"{n} job{'s' if n > 1 else ''} MiB/s" for n in counts)
    lines = ["### (d) thread scaling: N independent jobs at once (rdiff: N processes)", "",
             f"| step | implementation | {head} | scaling {counts[-1]}/{counts[0]} |",
             "|---|---|" + "---:|" * (len(counts) + 1)]
    for op in ("signature", "delta", "patch"):
        for impl in impls:
            rates = []
            for n in counts:
                t = res.best(f"threads{n}", op, impl)
                rates.append(res.nbytes[(f"threads{n}", op)] / MiB / t if t else None)
            if rates[0] is None:
                continue
            cells = " | ".join(f"{r:.1f}" if r else "-" for r in rates)
            scale = f"{rates[-1] / rates[0]:.2f}" if rates[-1] and rates[0] else "-"
            lines.append(f"| {op} | {impl} | {cells} | {scale} |")
    lines.append("")
    lines.append("MiB/s is the total over all jobs; scaling is total throughput "
                 f"with {counts[-1]} jobs over {counts[0]} (2.00 is perfect on 2 idle cores).")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Case (e): peak RSS, each step in a fresh subprocess
# ---------------------------------------------------------------------------

def child_main(argv):
    """``run.py --child IMPL OP PATH...``: run one step, then exit."""
    impl, op, *paths = argv
    if impl == "baseline-ours":
        import_librsync()
        return
    if impl == "baseline-pyrsync":
        import_pyrsync()
        return
    obj = {"ours-file": OursFile, "ours-path": OursPath, "ours-2t": OursThreads,
           "ours-lrsjob": OursLibrsyncJobs, "pyrsync": PyRsync}[impl]()
    getattr(obj, op)(*paths)


_LAUNCHER = r"""
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
print(ru.ru_maxrss, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_child_rss(argv):
    """Run argv; return (wall seconds, peak RSS in KiB) of that process alone.

    The child must be forked by a *small* process: Linux starts a child's
    peak-RSS mark at its parent's RSS at fork time (and Python's vfork makes
    it the parent's peak), so spawning it straight from this harness, which
    holds the test data, would report the harness's size.  GNU time (Debian
    package ``time``) forks from about 1 MiB; without it a minimal Python
    launcher is used (about 8 MiB; the ``floor`` row shows which)."""
    import tempfile
    if os.path.exists("/usr/bin/time"):
        with tempfile.NamedTemporaryFile("r") as tf:
            t = time.perf_counter()
            proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tf.name, *argv],
                                  stdin=subprocess.DEVNULL)
            t = time.perf_counter() - t
            kib = int(tf.read().split()[-1])
    else:
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, *argv],
                              stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        t = time.perf_counter() - t
        kib = int(proc.stderr.split()[-1])
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({proc.returncode}): {argv}")
    return t, kib


def bench_rss(args, res: Results, impls, workdir: str):
    size = args.rss_size * MiB
    paths = make_data(args.datadir, size, args.edits, args.seed + 100, unrelated=False)
    old, new = paths["old"], paths["edits"]
    rd = Rdiff(args.rdiff)
    ref_sig = os.path.join(workdir, "rss.sig")
    ref_dlt = os.path.join(workdir, "rss.delta")
    rd.signature(old, ref_sig)
    rd.delta(new, ref_sig, ref_dlt)
    ref_sig_bytes = read(ref_sig)
    res.extra["rss.size"] = size
    res.extra["rss.sig_size"] = len(ref_sig_bytes)
    me = [sys.executable, os.path.abspath(__file__), "--child"]
    rows = {("floor", "true"): run_child_rss(["true"])}
    for base in ("baseline-ours", "baseline-pyrsync"):
        if (base == "baseline-ours" and any(i.name.startswith("ours") for i in impls)) or \
           (base == "baseline-pyrsync" and any(i.name == "pyrsync" for i in impls)):
            rows[("import", base.split("-")[1])] = run_child_rss(me + [base, "none"])
    for op in ALL_OPS:
        for impl in impls:
            if impl.in_memory or impl.name == "rdiff-fsync" or op not in impl.ops:
                continue  # in memory: holds the whole input by definition
            out = os.path.join(workdir, f"rss.{op}.{impl.name}")
            ps = {"signature": (old, out), "delta": (new, ref_sig, out),
                  "patch": (old, ref_dlt, out)}[op]
            argv = rd.argv(op, *ps) if impl.name == "rdiff" else me + [impl.name, op, *ps]
            rows[(op, impl.name)] = run_child_rss(argv)
            if op == "signature" and read(out) != ref_sig_bytes:
                raise SystemExit(f"{impl.name}: 1 GiB signature differs from rdiff's")
            if op == "patch" and not files_equal(out, new):
                raise SystemExit(f"{impl.name}: 1 GiB patch output is wrong")
            os.unlink(out)
            t, kib = rows[(op, impl.name)]
            print(f"  rss {op:9s} {impl.name:10s} {kib / 1024:8.1f} MiB peak  ({t:.2f}s)",
                  flush=True)
    res.extra["rss.rows"] = {f"{k[0]}/{k[1]}": v for k, v in rows.items()}
    return rows


def rss_table(res: Results) -> str:
    rows = res.extra.get("rss.rows", {})
    size = res.extra.get("rss.size", 0)
    lines = [f"### (e) peak RSS, {size / MiB:.0f} MiB input, each step in a fresh process", "",
             "| step | implementation | peak RSS MiB | wall s |", "|---|---|---:|---:|"]
    for key, (t, kib) in rows.items():
        op, impl = key.split("/")
        lines.append(f"| {op} | {impl} | {kib / 1024:.1f} | {t:.2f} |")
    lines.append("")
    lines.append("`floor`: what the measurement itself adds (`true` measured the "
                 "same way).  `import`: a Python child that only imports the module "
                 "(the interpreter's share of every Python row).  Signature size: "
                 f"{res.extra.get('rss.sig_size', 0) / MiB:.2f} MiB.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Machine description
# ---------------------------------------------------------------------------

def machine(args):
    lscpu = sh("lscpu")
    keep = ("Architecture", "Model name", "CPU(s)", "Thread(s) per core",
            "Core(s) per socket", "Hypervisor vendor", "L1d cache", "L2 cache",
            "L3 cache", "CPU max MHz")
    cpu = [l for l in lscpu.splitlines() if l.split(":")[0].strip() in keep]
    flags = [l for l in lscpu.splitlines() if l.startswith("Flags")]
    simd = ""
    if flags:
        have = set(flags[0].split(":", 1)[1].split())
        simd = " ".join(f for f in ("sse4_1", "avx", "avx2", "avx512f", "sha_ni")
                        if f in have)
    lib = import_librsync()
    try:
        import importlib.metadata as md
        pyrsync_v = md.version("python-rsync")
    except Exception:
        pyrsync_v = "not installed"
    return {
        "cpu": [" ".join(l.split()) for l in cpu] + [f"SIMD flags: {simd}"],
        "memory": sh("free -g | awk '/Mem:/ {print $2 \" GiB\"}'"),
        "kernel": platform.release(),
        "os": sh(". /etc/os-release 2>/dev/null && echo $PRETTY_NAME"),
        "python": sys.version.split()[0],
        "gcc": sh("gcc --version | head -1"),
        "rdiff": sh(f"{args.rdiff} --version | head -1"),
        "rdiff_blake2": sh(f"ldd {shutil.which(args.rdiff) or args.rdiff} | grep -o 'libb2[^ ]*' "
                           "| head -1") or "(no libb2: reference BLAKE2)",
        "librsync_module": f"{lib.__file__} (librsync {lib.LIBRSYNC_VERSION}, "
                           f"package {lib.__version__})",
        "python_rsync": pyrsync_v,
        # Timed at import (librsync/_blake2.h); recorded because it decides
        # most of the signature's speed.
        "librsync_engines": engines(lib),
        "cpu_name": cpu_name(),
        "librsync_blake2b": (f"{lib.blake2b_implementation()} (of "
                             f"{', '.join(lib._rsync.blake2b_implementations())})"
                             if hasattr(lib, "blake2b_implementation") else "ref (bundled)"),
    }


def engines(lib) -> str:
    """The engines this build chose, from whichever of the selection
    functions it has (newer builds add them; none is required)."""
    parts = []
    for fn in ("signature_engine", "delta_engine", "patch_engine",
               "blake2b_implementation"):
        f = getattr(lib, fn, None)
        if not callable(f):
            continue
        try:
            parts.append(f"{fn}() = {f()!r}")
        except Exception as e:  # description only
            parts.append(f"{fn}() failed: {e}")
    return "; ".join(parts) or "(no engine-selection functions)"


def reproduce_command() -> str:
    """This run's command line with the environment variables that change
    what is measured (which build is imported, forced engines)."""
    env = [f"{k}={shlex.quote(v)}" for k, v in sorted(os.environ.items())
           if k == "PYTHONPATH" or k.startswith("LIBRSYNC_")]
    here = os.path.relpath(os.path.abspath(__file__), os.getcwd())
    return " ".join(env + ["python", shlex.quote(here)] + [shlex.quote(a) for a in sys.argv[1:]])


def load_now():
    return sh("uptime").split("load average:")[-1].strip()


def report(args, res: Results, impls, mach, t_total, load_before, load_after) -> str:
    names = [i.name for i in impls]
    cmd = reproduce_command()
    out = ["## Machine", "", f"CPU: **{mach['cpu_name']}**", ""]
    for line in mach["cpu"]:
        out.append(f"- {line}")
    for k in ("memory", "os", "kernel", "python", "gcc", "rdiff", "rdiff_blake2",
              "librsync_module", "librsync_blake2b", "librsync_engines", "python_rsync"):
        out.append(f"- {k}: {mach[k]}")
    out += ["", "## Command", "", "```", cmd.strip(), "```", "",
            f"Rounds: {args.rounds} (interleaved; best of {args.rounds} reported). "
            f"Seed {args.seed}. Total {t_total:.0f}s. Load average before: {load_before}; "
            f"after: {load_after}.", "", "## Results", ""]
    size = args.size * MiB
    if "edits" in args.cases:
        out += [throughput_table(res, "edits", names,
                                 f"(a) {size / MiB:.0f} MiB, {args.edits} scattered edits "
                                 f"(delta {res.extra.get('edits.delta_size', 0) / 1024:.0f} KiB)"),
                ""]
    if "unrelated" in args.cases:
        out += [throughput_table(res, "unrelated", names,
                                 f"(b) {size / MiB:.0f} MiB unrelated to the basis "
                                 "(delta worst case)"), ""]
    if "edits" in args.cases or "unrelated" in args.cases:
        out += ["ours-file writes to an open file with no fsync, as rdiff does; "
                "ours-path (patch only) writes to the path as `librsync.patch(old, "
                "delta, out)` and the CLI do: a temporary file, fsync'ed, renamed "
                "over the path; its reference is rdiff-fsync (rdiff, then an fsync of "
                "its output).  See bench/PROFILE.md for what the fsync costs.", ""]
    if "magics" in args.cases:
        out += [throughput_table(res, "magics", res.extra.get("magics.impls", names),
                                 f"(a') signature of (a)'s {size / MiB:.0f} MiB old file "
                                 "with each magic (rdiff -H/-R), 1 and 2 threads "
                                 "(ours-2t)", ops=tuple(RDIFF_MAGIC_ARGS), label="magic"),
                ""]
    if "small" in args.cases:
        out += [small_table(res, names), ""]
    if "threads" in args.cases:
        out += [threads_table(res, [n for n in names if n not in NOT_IN_D], args.threads), ""]
    if "rss" in args.cases:
        out += [rss_table(res), ""]
    if res.notes:
        out += ["Checks:", ""] + [f"- {n}" for n in res.notes] + [""]
    out.append("All outputs checked: signatures byte-identical to rdiff's, patches "
               "equal to the new file, deltas equal to rdiff's or patching correctly.")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------

def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 8 MiB cases, 500 small inputs, 32 MiB RSS, 2 rounds")
    ap.add_argument("--size", type=int, default=256, help="MiB for cases a, b, d (256)")
    ap.add_argument("--rss-size", type=int, default=1024, help="MiB for case e (1024)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    ap.add_argument("--edits", type=int, default=200, help="scattered edits (200)")
    ap.add_argument("--small-count", type=int, default=10000, help="4 KiB inputs (10000)")
    ap.add_argument("--rdiff-small-calls", type=int, default=1000,
                    help="of those, how many rdiff runs (one process each; 1000)")
    ap.add_argument("--threads", default="1,2", help="thread counts (1,2)")
    ap.add_argument("--cases", default=",".join(ALL_CASES),
                    help=f"comma-separated subset of {','.join(ALL_CASES)}")
    ap.add_argument("--impls", default=",".join(DEFAULT_IMPLS),
                    help="comma-separated; rdiff is always included "
                         f"(default {','.join(DEFAULT_IMPLS)}; also ours-path)")
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--rdiff", default="rdiff", help="rdiff executable")
    ap.add_argument("--datadir", default=os.path.join(HERE, "data"))
    ap.add_argument("--markdown", metavar="FILE", help="also write the report here")
    ap.add_argument("--json", metavar="FILE", help="also write raw timings here")
    args = ap.parse_args()
    if args.quick:
        args.size, args.rss_size, args.rounds = 8, 32, 2
        args.small_count, args.rdiff_small_calls = 500, 100
    args.cases = [c for c in args.cases.split(",") if c]
    for c in args.cases:
        if c not in ALL_CASES:
            ap.error(f"unknown case {c!r}")
    args.threads = [int(n) for n in args.threads.split(",")]
    names = [n for n in args.impls.split(",") if n]
    if "rdiff" not in names:
        names.insert(0, "rdiff")
    if not shutil.which(args.rdiff):
        raise SystemExit("rdiff not found: apt-get install -y rdiff (or --rdiff PATH)")
    impls = make_impls(names, args.rdiff)

    mach = machine(args)
    print(f"command: {reproduce_command()}")
    print(f"CPU: {mach['cpu_name']}")
    print(f"librsync module: {mach['librsync_module']}")
    print(f"librsync engines: {mach['librsync_engines']}")
    print(f"rdiff: {mach['rdiff']} [{mach['rdiff_blake2']}]; python-rsync {mach['python_rsync']}")
    load_before = load_now()
    print(f"load average: {load_before}", flush=True)
    t0 = time.perf_counter()
    workdir = os.path.join(args.datadir, "work")
    os.makedirs(workdir, exist_ok=True)
    res = Results()
    size = args.size * MiB
    paths = None
    if {"edits", "unrelated", "magics", "threads"} & set(args.cases):
        paths = make_data(args.datadir, size, args.edits, args.seed,
                          unrelated="unrelated" in args.cases)
    for case in ("edits", "unrelated"):
        if case in args.cases:
            print(f"== ({'a' if case == 'edits' else 'b'}) {case}", flush=True)
            bench_big(args, res, impls, paths, case, workdir)
    if "magics" in args.cases:
        print("== (a') signature per magic", flush=True)
        bench_magics(args, res, impls, paths, workdir)
    if "small" in args.cases:
        print("== (c) small inputs", flush=True)
        bench_small(args, res, impls, workdir)
    if "threads" in args.cases:
        print("== (d) threads", flush=True)
        # ours-2t's threads are within one job; (d) is about independent jobs.
        bench_threads(args, res, [i for i in impls if i.name not in NOT_IN_D], paths, workdir)
    if "rss" in args.cases:
        print("== (e) peak RSS", flush=True)
        bench_rss(args, res, impls, workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    t_total = time.perf_counter() - t0
    text = report(args, res, impls, mach, t_total, load_before, load_now())
    print()
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"times": {"|".join(k): v for k, v in res.times.items()},
                       "nbytes": {"|".join(k): v for k, v in res.nbytes.items()},
                       "extra": res.extra, "notes": res.notes, "machine": mach,
                       "argv": sys.argv}, f, indent=1)


if __name__ == "__main__":
    main()
