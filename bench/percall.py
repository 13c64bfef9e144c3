#!/usr/bin/env python3
"""Per-call cost of the 4 KiB triple (signature, delta, patch of one input,
each step fed the previous one's output), every way of calling it, beside
python-rsync.  See bench/PROFILE.md section 5.

    python bench/percall.py                  # wall clock, interleaved, us per triple
    python bench/percall.py --callgrind      # instructions per triple (valgrind)

Modes: ``none`` (bytes in, default outputs, read back and dropped, as
``signature(data).read()``), ``close`` (the same, each result closed),
``bio`` (io.BytesIO outputs), ``driver`` (the ``_rsync`` jobs alone: the
floor under the facade), ``pyrsync`` (python-rsync 0.1.1, BytesIO in and
out).  ``--modes kinds`` gives one row per input kind instead, each step
passed what the previous one returned: ``bytes`` (the ``none`` mode),
``in-bio`` (every input and output a BytesIO), ``in-spooled`` (the default
spooled outputs passed on), ``in-file`` (the old and new files open from
disk, the basis too), ``all-file`` (also the signature, delta and output in
real files, emptied for each triple), beside ``pyrsync``.  Instruction
counts come from two runs (200 and 1,200 triples) whose
difference, less the same difference for a run that only builds the
inputs, is divided by 1,000: start-up and imports cancel out.  Set
LIBRSYNC_BLAKE2B (e.g. ``avx``) to compare builds: the BLAKE2b build is
chosen by CPU features (before 2026-12-08 it was timed at import and could
differ between processes, most of all under valgrind).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import subprocess
import sys
import tempfile
import time

MODES = ("driver", "none", "close", "bio", "pyrsync")
#: One row per input kind: what the signature and delta steps are given is
#: what the previous step returned (or, for bytes, its bytes).
KINDS = ("bytes", "in-bio", "in-spooled", "in-file", "all-file", "pyrsync")


def inputs(n):
    rng = random.Random(1)
    olds = [rng.randbytes(4096) for _ in range(n)]
    news = [o[:100] + rng.randbytes(16) + o[116:] for o in olds]
    return olds, news


def loop(mode, olds, news):
    """One pass of ``mode`` over the inputs; returns the patched outputs."""
    BIO = io.BytesIO
    out = []
    if mode == "pyrsync":
        import pyrsync
        for o, n in zip(olds, news):
            so = BIO()
            a, b, c = pyrsync.get_signature_args(len(o))
            pyrsync.signature(BIO(o), so, c, a, b)
            do = BIO()
            pyrsync.delta(BIO(n), BIO(so.getvalue()), do)
            po = BIO()
            pyrsync.patch(BIO(o), BIO(do.getvalue()), po)
            out.append(po.getvalue())
        return out
    import librsync
    S, D, P = librsync.signature, librsync.delta, librsync.patch
    if mode == "none":
        for o, n in zip(olds, news):
            out.append(P(o, D(n, S(o).read()).read()).read())
    elif mode == "close":
        for o, n in zip(olds, news):
            with S(o) as f:
                s = f.read()
            with D(n, s) as f:
                d = f.read()
            with P(o, d) as f:
                out.append(f.read())
    elif mode == "bio":
        for o, n in zip(olds, news):
            out.append(P(o, D(n, S(o, BIO()).getvalue(), BIO()).getvalue(), BIO()).getvalue())
    elif mode == "driver":
        from librsync import _rsync
        M = librsync.RS_RK_BLAKE2_SIG_MAGIC
        for o, n in zip(olds, news):
            b = BIO()
            _rsync.SignatureJob(0, 0, M, len(o)).run(o, b.write)
            j = _rsync.LoadSignatureJob()
            j.run(b.getvalue(), None)
            d = BIO()
            _rsync.DeltaJob(j.signature).run(n, d.write)
            p = BIO()
            _rsync.PatchJob(o).run(d.getvalue(), p.write)
            out.append(p.getvalue())
    elif mode == "bytes":
        for o, n in zip(olds, news):
            out.append(P(o, D(n, S(o).read()).read()).read())
    elif mode == "in-bio":
        # Every input a BytesIO; sig and delta passed on as returned.
        for o, n in zip(olds, news):
            s = S(BIO(o), BIO())
            d = D(BIO(n), s, BIO())
            out.append(P(BIO(o), d, BIO()).getvalue())
    elif mode == "in-spooled":
        # The seed API's own style: default (spooled) outputs passed on.
        for o, n in zip(olds, news):
            with S(o) as s, D(n, s) as d, P(o, d) as p:
                out.append(p.read())
    elif mode == "in-file":
        # Real files in: the old and new files open from disk (the basis
        # too); the signature and delta passed on as returned.
        fo, fn = _real_files(olds, news)[:2]
        for i in range(len(olds)):
            fo[i].seek(0)
            fn[i].seek(0)
            with S(fo[i]) as s, D(fn[i], s) as d, P(fo[i], d) as p:
                out.append(p.read())
    elif mode == "all-file":
        # Real files throughout: the signature, delta and output written to
        # real (temporary) files and passed on.  Includes this loop's own
        # seek + truncate of the three reused files (a caller's cost too:
        # a real file must be made or emptied for each output).
        fo, fn, fs, fd, fp = _real_files(olds, news)
        for i in range(len(olds)):
            fo[i].seek(0)
            fn[i].seek(0)
            for f in (fs, fd, fp):
                f.seek(0)
                f.truncate()
            D(fn[i], S(fo[i], fs), fd)
            out.append(P(fo[i], fd, fp).read())
    elif mode != "base":
        raise SystemExit(f"unknown mode {mode!r}")
    return out


_OPEN: dict = {}


def _real_files(olds, news):
    """On-disk copies of every old and new input, opened once (outside the
    timed loop when ``wall`` prepares them), and three temporary files for
    the signature, delta and output."""
    key = id(olds)
    if key not in _OPEN:
        d = tempfile.mkdtemp(prefix="percall-")
        fo, fn = [], []
        for i, (o, n) in enumerate(zip(olds, news)):
            for data, name, lst in ((o, "o", fo), (n, "n", fn)):
                path = os.path.join(d, f"{name}{i}")
                with open(path, "wb") as f:
                    f.write(data)
                lst.append(open(path, "rb"))
                os.unlink(path)  # the open file stays readable
        os.rmdir(d)
        _OPEN[key] = (fo, fn, tempfile.TemporaryFile(), tempfile.TemporaryFile(),
                      tempfile.TemporaryFile())
    return _OPEN[key]


def callgrind(modes, small=200, large=1200):
    py = os.path.realpath(sys.executable)  # not a pyenv shim: valgrind would trace the shell
    # The real interpreter does not know a virtualenv's site-packages: pass
    # this process's path on, so the child imports the same librsync.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))

    def ir(mode, n):
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run(["valgrind", "--tool=callgrind",
                                f"--callgrind-out-file={d}/cg.out", py,
                                os.path.abspath(__file__), "--child", mode, str(n)],
                               capture_output=True, text=True, env=env)
        m = re.search(r"Collected : (\d+)", r.stderr)
        if r.returncode or not m:
            raise SystemExit(f"valgrind failed for {mode}: {r.stderr[-500:]}")
        return int(m.group(1))

    per_input = (ir("base", large) - ir("base", small)) / (large - small)
    rows = {}
    for mode in modes:
        rows[mode] = (ir(mode, large) - ir(mode, small)) / (large - small) - per_input
    ref = rows.get("pyrsync")
    print("| mode | instructions per triple | vs pyrsync |")
    print("|---|---:|---:|")
    for mode, v in rows.items():
        print(f"| {mode} | {v / 1000:.1f}k | {v / ref:.2f}x |" if ref else
              f"| {mode} | {v / 1000:.1f}k | - |")


def wall(modes, count, rounds):
    olds, news = inputs(count)
    if "in-file" in modes or "all-file" in modes:
        _real_files(olds, news)  # opened before the clock starts
    times = {m: [] for m in modes}
    for r in range(rounds):
        for mode in (modes if r % 2 else modes[::-1]):
            t = time.perf_counter()
            got = loop(mode, olds, news)
            times[mode].append((time.perf_counter() - t) / count * 1e6)
            if got != news:
                raise SystemExit(f"{mode}: wrong patch output")
    ref = times.get("pyrsync")
    print("| mode | best us/triple | median us/triple | vs pyrsync, best | vs pyrsync, median |")
    print("|---|---:|---:|---:|---:|")
    for mode, ts in times.items():
        ts.sort()
        b, m = ts[0], ts[len(ts) // 2]
        vs = (f"{min(ref) / b:.2f}x | {sorted(ref)[len(ref) // 2] / m:.2f}x" if ref
              else "- | -")
        print(f"| {mode} | {b:.1f} | {m:.1f} | {vs} |")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        mode, n = sys.argv[2], int(sys.argv[3])
        olds, news = inputs(n)
        if mode in ("in-file", "all-file"):
            _real_files(olds, news)
        loop(mode, olds, news)
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--modes", default=",".join(MODES),
                    help=f"comma-separated; 'kinds' for {','.join(KINDS)}")
    ap.add_argument("--count", type=int, default=3000, help="triples per round (3000)")
    ap.add_argument("--rounds", type=int, default=9, help="interleaved rounds (9)")
    ap.add_argument("--callgrind", action="store_true",
                    help="count instructions under valgrind instead of timing")
    args = ap.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    if modes == ["kinds"]:
        modes = list(KINDS)
    import librsync
    print("command: " + " ".join(
        [f"{k}={v}" for k, v in sorted(os.environ.items())
         if k == "PYTHONPATH" or k.startswith("LIBRSYNC_")]
        + ["python", os.path.relpath(__file__)] + sys.argv[1:]))
    print(f"librsync from {os.path.dirname(librsync.__file__)}, BLAKE2b "
          f"{librsync.blake2b_implementation()}")
    if args.callgrind:
        callgrind(modes)
    else:
        wall(modes, args.count, args.rounds)


if __name__ == "__main__":
    main()
