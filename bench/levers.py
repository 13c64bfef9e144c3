#!/usr/bin/env python3
"""Compare builds of this package against each other (for bench/PROFILE.md).

    python bench/levers.py --size 64 --rounds 5 NAME=DIR [NAME=DIR ...]

Each DIR is a source tree built in place (``python3 setup.py build_ext
--inplace``), e.g. a private copy with -O3 or another buffer size.  For every
round, every build runs once, in turn, in a fresh process with
``PYTHONPATH=DIR``: signature, delta (edits and unrelated data) and patch on
the seeded files of ``run.py``, plus a per-call loop over 4 KiB inputs.  The
report gives each step's best time and its ratio to the first build
(>1 = faster than the first).  Outputs are checked against rdiff's.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (data generation and helpers)

STEPS = ("sig-bytes", "sig-file", "delta-file", "delta-unrel", "patch-file",
         "patch-bytes", "small-sig", "small-delta", "small-patch")


def child(paths: dict, refs: dict, small: int) -> dict:
    import librsync
    out = {}

    def t(name, fn, check=None):
        best = None
        for _ in range(2):
            s = time.perf_counter()
            r = fn()
            e = time.perf_counter() - s
            best = e if best is None else min(best, e)
        if check is not None and not check(r):
            raise SystemExit(f"{name}: wrong output")
        out[name] = best

    old_b = run.read(paths["old"])
    sig_b = run.read(refs["sig"])
    new_b = run.read(paths["edits"])
    dlt_b = run.read(refs["delta"])
    tmp = refs["sig"] + ".out"

    def to_file(fn, *a):
        with open(tmp, "wb", buffering=0) as o:
            fn(*a, o)
        return tmp

    t("sig-bytes", lambda: librsync.signature(old_b, io.BytesIO()).getvalue(),
      lambda r: r == sig_b)
    t("sig-file", lambda: to_file(librsync.signature, paths["old"]),
      lambda r: run.read(r) == sig_b)
    t("delta-file", lambda: to_file(librsync.delta, paths["edits"], refs["sig"]),
      lambda r: librsync.patch(old_b, run.read(r), io.BytesIO()).getvalue() == new_b)
    t("delta-unrel", lambda: to_file(librsync.delta, paths["unrelated"], refs["sig"]))
    t("patch-file", lambda: to_file(librsync.patch, paths["old"], refs["delta"]),
      lambda r: run.files_equal(r, paths["edits"]))
    t("patch-bytes", lambda: librsync.patch(old_b, dlt_b, io.BytesIO()).getvalue(),
      lambda r: r == new_b)
    os.unlink(tmp)
    import random
    rng = random.Random(5)
    olds = [rng.randbytes(4096) for _ in range(small)]
    news = [o[:100] + b"x" * 16 + o[116:] for o in olds]
    sigs = [librsync.signature(o, io.BytesIO()).getvalue() for o in olds]
    dlts = [librsync.delta(n, s, io.BytesIO()).getvalue() for n, s in zip(news, sigs)]
    BIO = io.BytesIO
    t("small-sig", lambda: [librsync.signature(o, BIO()) for o in olds])
    t("small-delta", lambda: [librsync.delta(n, s, BIO()) for n, s in zip(news, sigs)])
    t("small-patch", lambda: [librsync.patch(o, d, BIO()).getvalue() for o, d in zip(olds, dlts)],
      lambda r: r == news)
    for k in ("small-sig", "small-delta", "small-patch"):
        out[k] /= small
    return out


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        cfg = json.loads(sys.argv[2])
        print(json.dumps(child(cfg["paths"], cfg["refs"], cfg["small"])))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("builds", nargs="+", metavar="NAME=DIR")
    ap.add_argument("--size", type=int, default=64, help="MiB (64)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--small", type=int, default=2000, help="4 KiB inputs (2000)")
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--datadir", default=os.path.join(HERE, "data"))
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    builds = [b.split("=", 1) for b in args.builds]
    paths = run.make_data(args.datadir, args.size * run.MiB, 200, args.seed, True)
    work = os.path.join(args.datadir, "levers")
    os.makedirs(work, exist_ok=True)
    refs = {"sig": os.path.join(work, "ref.sig"), "delta": os.path.join(work, "ref.delta")}
    subprocess.run(["rdiff", "-f", "signature", paths["old"], refs["sig"]], check=True)
    subprocess.run(["rdiff", "-f", "delta", refs["sig"], paths["edits"], refs["delta"]],
                   check=True)
    cfg = json.dumps({"paths": paths, "refs": refs, "small": args.small})
    times = {name: {} for name, _ in builds}
    for rnd in range(args.rounds):
        order = builds[rnd % len(builds):] + builds[:rnd % len(builds)]
        for name, d in order:
            env = dict(os.environ, PYTHONPATH=os.path.abspath(d))
            r = subprocess.run([sys.executable, __file__, "--child", cfg], env=env,
                               capture_output=True, text=True)
            if r.returncode:
                raise SystemExit(f"{name}: {r.stderr}")
            for k, v in json.loads(r.stdout).items():
                times[name].setdefault(k, []).append(v)
            print(f"  round {rnd + 1} {name} done", flush=True)
    base = builds[0][0]
    size = args.size * run.MiB
    print(f"\nBest of {args.rounds}; {args.size} MiB files; small = one 4 KiB call. "
          f"Ratio = {base} time / build time (>1 faster).  Load: {run.load_now()}\n")
    head = "| step | " + " | ".join(n for n, _ in builds) + " |"
    print(head)
    print("|---|" + "---:|" * len(builds))
    for step in STEPS:
        cells = []
        b0 = min(times[base][step])
        for name, _ in builds:
            b = min(times[name][step])
            if step.startswith("small"):
                val = f"{b * 1e6:.1f} us"
            else:
                val = f"{size / run.MiB / b:.0f} MiB/s"
            cells.append(val if name == base else f"{val} ({b0 / b:.2f}x)")
        print(f"| {step} | " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(times, f, indent=1)


if __name__ == "__main__":
    main()
