#!/usr/bin/env python3
"""Start-up cost of ``import librsync`` over a bare interpreter's start.

    python bench/import_time.py PYTHON [LIBRSYNC_DIR ...]

PYTHON is the interpreter to start (a virtualenv without system
site-packages gives a bare start); each LIBRSYNC_DIR is put on PYTHONPATH
in turn.  25 runs of ``PYTHON -c pass`` and of ``PYTHON -c "import
librsync"`` each, min and median wall clock.  For what is imported, use
``PYTHON -X importtime -c "import librsync"``.
"""
import subprocess, sys, time, os
py = sys.argv[1]; paths = sys.argv[2:]
def t(cmd, env):
    best = []
    for _ in range(25):
        s = time.perf_counter(); subprocess.run(cmd, env=env, check=True); best.append(time.perf_counter() - s)
    best.sort(); return best[0]*1e3, best[len(best)//2]*1e3
env = dict(os.environ); env.pop("PYTHONPATH", None)
b = t([py, "-c", "pass"], env)
print(f"bare: min {b[0]:.1f} ms, median {b[1]:.1f} ms")
for p in paths:
    e = dict(env, PYTHONPATH=p)
    r = t([py, "-c", "import librsync"], e)
    print(f"{p}: min {r[0]:.1f} ms (+{r[0]-b[0]:.1f}), median {r[1]:.1f} ms (+{r[1]-b[1]:.1f})")
