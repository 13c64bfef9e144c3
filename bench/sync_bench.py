#!/usr/bin/env python3
"""``librsync sync`` against ``rsync`` on the same directory tree, locally
and through a pipe, reported as ratios (rsync's time / ours: > 1 is faster
than rsync) with the bytes that crossed the pipe.

    python bench/sync_bench.py                  # 300 files + a 200 MiB file
    python bench/sync_bench.py --quick          # a few seconds
    python bench/sync_bench.py --big 64 --files 1000 --rounds 5 --markdown out.md

The tree: ``--files`` small files (0-64 KiB, random bytes) in nested
directories, an empty file, a symlink, and one ``--big`` MiB file.  The
destination starts as a copy of the tree (``cp -a``, not timed); then the
source is edited (``--edits`` scattered edits in the big file, 5% of the
small files rewritten, a few new ones) and each tool brings the destination
up to date.  Every run's destination is compared with the source (contents,
modes, mtimes of files).

Implementations, each timed as a whole command (process start included):

  librsync        ``python -m librsync sync -q SRC DST``
  rsync           ``rsync -a SRC/ DST/`` (local rsync copies changed files
                  whole: its default for local paths)
  rsync-delta     ``rsync -a --no-whole-file SRC/ DST/`` (its delta algorithm)
  librsync-pipe   ``python -m librsync sync -q --rsh "python bench/pipe_rsh.py" SRC localhost:DST``
  rsync-pipe      ``rsync -a -e "python bench/pipe_rsh.py" SRC/ localhost:DST/``

``--baseline DIR`` adds ``librsync@base`` and ``librsync-pipe@base``: the
same commands run in DIR (another checkout with its extension built, e.g.
the main branch), so that both versions are measured in the same
interleaved rounds.  ``--threads N`` adds ``-j N`` to the librsync commands.

``bench/pipe_rsh.py`` stands in for ssh: it runs the other side here and
counts the bytes each way, so the pipe cases show what a network would
carry.  Benchmarks are not tests: nothing here asserts on a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

from _machine import cpu_name

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MiB = 1 << 20
RSH = f"{sys.executable} {os.path.join(HERE, 'pipe_rsh.py')}"


def make_tree(root: str, files: int, big_mib: int, seed: int) -> None:
    rnd = random.Random(seed)
    os.makedirs(root)
    dirs = [root]
    for i in range(max(1, files // 20)):
        d = os.path.join(rnd.choice(dirs), f"dir{i:03d}")
        os.makedirs(d)
        dirs.append(d)
    for i in range(files):
        with open(os.path.join(rnd.choice(dirs), f"file{i:04d}.bin"), "wb") as f:
            f.write(rnd.randbytes(rnd.randrange(0, 64 * 1024)))
    open(os.path.join(root, "empty"), "wb").close()
    os.makedirs(os.path.join(root, "empty-dir"))
    os.symlink("empty", os.path.join(root, "link"))
    with open(os.path.join(root, "big.bin"), "wb") as f:
        for _ in range(big_mib):
            f.write(rnd.randbytes(MiB))


def edit_tree(root: str, edits: int, seed: int) -> None:
    rnd = random.Random(seed)
    big = os.path.join(root, "big.bin")
    size = os.path.getsize(big)
    with open(big, "r+b") as f:
        for _ in range(edits):
            f.seek(rnd.randrange(max(1, size - 100)))
            f.write(rnd.randbytes(rnd.randrange(1, 100)))
    small = sorted(os.path.join(d, n) for d, _, ns in os.walk(root) for n in ns
                   if n.startswith("file"))
    edited = rnd.sample(small, max(1, len(small) // 20))
    for path in edited:
        with open(path, "wb") as f:
            f.write(rnd.randbytes(rnd.randrange(0, 64 * 1024)))
    for i in range(5):
        with open(os.path.join(root, f"new{i}.bin"), "wb") as f:
            f.write(rnd.randbytes(4096))
    # Edited files get a later mtime than the destination's copies, as real
    # edits would: both tools skip files whose size and mtime are unchanged,
    # and the tree was made a moment ago, within mtime resolution.
    later = time.time() + 10
    for path in [big, *edited]:
        os.utime(path, (later, later))


def same_tree(a: str, b: str) -> str | None:
    """None if b mirrors a (files' bytes, modes, mtimes; links; dirs)."""
    for d, dns, fns in os.walk(a):
        rel = os.path.relpath(d, a)
        for n in dns + fns:
            pa, pb = os.path.join(d, n), os.path.join(b, rel, n)
            sa, sb = os.lstat(pa), (os.lstat(pb) if os.path.lexists(pb) else None)
            if sb is None:
                return f"missing {pb}"
            if os.path.islink(pa):
                if os.readlink(pa) != os.readlink(pb):
                    return f"link differs: {pb}"
            elif os.path.isfile(pa):
                if (sa.st_mode, sa.st_size) != (sb.st_mode, sb.st_size) or \
                        int(sa.st_mtime) != int(sb.st_mtime):
                    return f"metadata differs: {pb}"
                with open(pa, "rb") as fa, open(pb, "rb") as fb:
                    if fa.read() != fb.read():
                        return f"content differs: {pb}"
    return None


def commands(src: str, dst: str, threads: int = 1) -> dict[str, list[str]]:
    # `python -m librsync` imports the checkout of the working directory
    # (this one, or --baseline's), on both sides of the pipe.
    lib = [sys.executable, "-m", "librsync", "sync", "-q"]
    if threads != 1:
        lib += ["-j", str(threads)]
    pipe = lib + ["--rsh", RSH, "--remote-cmd", f"{sys.executable} -m librsync",
                  src, "localhost:" + dst]
    return {
        "librsync": lib + [src, dst],
        "rsync": ["rsync", "-a", src + "/", dst + "/"],
        "rsync-delta": ["rsync", "-a", "--no-whole-file", src + "/", dst + "/"],
        "librsync-pipe": pipe,
        "rsync-pipe": ["rsync", "-a", "-e", RSH, src + "/", "localhost:" + dst + "/"],
        "librsync@base": lib + [src, dst],
        "librsync-pipe@base": pipe,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--big", type=int, default=200, help="MiB of the big file (200)")
    ap.add_argument("--edits", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--impls", default="librsync,rsync,rsync-delta,librsync-pipe,rsync-pipe")
    ap.add_argument("--quick", action="store_true", help="--files 50 --big 8 --rounds 1")
    ap.add_argument("--workdir", default=os.path.join(HERE, "data", "sync"))
    ap.add_argument("--markdown", metavar="FILE")
    ap.add_argument("--baseline", metavar="DIR",
                    help="also run the librsync commands in this checkout")
    ap.add_argument("--threads", type=int, default=1, help="-j N for librsync (1)")
    args = ap.parse_args()
    if args.quick:
        args.files, args.big, args.rounds = 50, 8, 1
    if shutil.which("rsync") is None:
        raise SystemExit("rsync is not installed (apt-get install rsync)")
    impls = args.impls.split(",")
    if args.baseline:
        impls += [i + "@base" for i in ("librsync", "librsync-pipe") if i in impls]

    work = os.path.join(args.workdir, f"f{args.files}-b{args.big}-e{args.edits}")
    old, src, dst = (os.path.join(work, n) for n in ("old", "src", "dst"))
    if not os.path.isdir(src):
        shutil.rmtree(work, ignore_errors=True)
        make_tree(old, args.files, args.big, seed=1)
        subprocess.run(["cp", "-a", old, src], check=True)
        edit_tree(src, args.edits, seed=2)
    tree_bytes = sum(os.path.getsize(os.path.join(d, n))
                     for d, _, ns in os.walk(src) for n in ns
                     if not os.path.islink(os.path.join(d, n)))

    times: dict[str, list[float]] = {i: [] for i in impls}
    wire: dict[str, int] = {}
    log = os.path.join(work, "pipe.log")
    for rnd in range(args.rounds):
        for impl in impls:
            shutil.rmtree(dst, ignore_errors=True)
            subprocess.run(["cp", "-a", old, dst], check=True)
            if os.path.exists(log):
                os.unlink(log)
            cmd = commands(src, dst, args.threads)[impl]
            cwd = args.baseline if impl.endswith("@base") else REPO
            t = time.perf_counter()
            done = subprocess.run(cmd, env={**os.environ, "PIPE_RSH_LOG": log},
                                  capture_output=True, text=True, cwd=cwd)
            elapsed = time.perf_counter() - t
            if done.returncode != 0:
                raise SystemExit(f"{impl} failed ({done.returncode}): {done.stderr.strip()}")
            problem = same_tree(src, dst)
            if problem:
                raise SystemExit(f"{impl}: destination differs from source: {problem}")
            times[impl].append(elapsed)
            if os.path.exists(log):
                with open(log) as f:
                    wire[impl] = sum(sum(json.loads(line).values()) for line in f)
            print(f"  round {rnd + 1} {impl:18s} {elapsed:7.3f} s", flush=True)

    def row(impl: str, ref: str) -> str:
        best, med = min(times[impl]), statistics.median(times[impl])
        ratio = (f"{min(times[ref]) / best:.2f}x / {statistics.median(times[ref]) / med:.2f}x"
                 if ref in times and impl != ref else "-")
        w = f"{wire[impl]:,}" if impl in wire else "-"
        return f"| {impl} | {best:.3f} | {med:.3f} | {ratio} | {w} |"

    command = "python bench/sync_bench.py " + " ".join(sys.argv[1:])
    lines = [
        f"Command: `{command.strip()}`; CPU: {cpu_name()} ({os.cpu_count()} cores); "
        f"rsync: {subprocess.run(['rsync', '--version'], capture_output=True, text=True).stdout.splitlines()[0]}.",
        f"Tree: {args.files} small files + a {args.big} MiB file "
        f"({tree_bytes / MiB:.1f} MiB in all), {args.edits} edits in the big file, "
        f"5% of the small files rewritten, 5 new; best of {args.rounds} and median, seconds.",
        "Ratio: the rsync case's time / this row's (best / median; > 1: librsync is faster). "
        "Wire: bytes through the pipe, both ways.",
        "",
        "| implementation | best s | median s | vs rsync | wire bytes |",
        "|---|---:|---:|---:|---:|",
    ]
    refs = {"librsync": "rsync", "rsync": "rsync", "rsync-delta": "rsync",
            "librsync-pipe": "rsync-pipe", "rsync-pipe": "rsync-pipe",
            "librsync@base": "rsync", "librsync-pipe@base": "rsync-pipe"}
    for impl in impls:
        lines.append(row(impl, refs[impl]))
    if "librsync" in times and "rsync-delta" in times:
        lines.append("")
        lines.append(f"librsync vs rsync --no-whole-file (both using deltas): "
                     f"{min(times['rsync-delta']) / min(times['librsync']):.2f}x best, "
                     f"{statistics.median(times['rsync-delta']) / statistics.median(times['librsync']):.2f}x median.")
    report = "\n".join(lines)
    print()
    print(report)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
