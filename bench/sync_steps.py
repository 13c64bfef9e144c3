#!/usr/bin/env python3
"""The three tree steps of ``librsync sync`` one at a time, in one process,
on bench/sync_bench.py's tree (run it first): ``tree_signature`` of a fresh
copy of the ``old`` tree, ``tree_delta`` of ``src`` against it,
``tree_patch`` of the copy, each timed on its own (best of ``--rounds``).

    python bench/sync_steps.py [--checkout DIR] [--rounds 3] [--threads N]

``--checkout DIR`` imports librsync from another checkout (built in place),
to compare two versions step by step.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("--checkout", default=os.path.dirname(HERE))
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--tree", default=os.path.join(HERE, "data", "sync", "f300-b200-e200"))
args = ap.parse_args()
sys.path.insert(0, os.path.abspath(args.checkout))
from librsync import tree  # noqa: E402

kw = {"threads": args.threads} if args.threads != 1 else {}
old, src = os.path.join(args.tree, "old"), os.path.join(args.tree, "src")
dst = os.path.join(args.tree, "steps-dst")
best = {"signature": 1e9, "delta": 1e9, "patch": 1e9}
for _ in range(args.rounds):
    shutil.rmtree(dst, ignore_errors=True)
    subprocess.run(["cp", "-a", old, dst], check=True)
    sig = io.BytesIO()
    t = time.perf_counter()
    tree.tree_signature(dst, sig, **kw)
    best["signature"] = min(best["signature"], time.perf_counter() - t)
    delta = io.BytesIO()
    t = time.perf_counter()
    tree.tree_delta(src, sig.getvalue(), delta, **kw)
    best["delta"] = min(best["delta"], time.perf_counter() - t)
    t = time.perf_counter()
    tree.tree_patch(dst, delta.getvalue())
    best["patch"] = min(best["patch"], time.perf_counter() - t)
shutil.rmtree(dst, ignore_errors=True)
print(f"{tree.__file__} (format {tree.FORMAT_VERSION}): " + ", ".join(
    f"{k} {v:.3f} s" for k, v in best.items())
      + f"; signature stream {len(sig.getvalue()):,} bytes, delta stream {len(delta.getvalue()):,}")
