#!/usr/bin/env python3
"""A stand-in for ``ssh`` that runs "the remote side" on this machine and
counts the bytes that cross the pipe in each direction.

    pipe_rsh.py [-l USER] HOST COMMAND...

Like ssh it ignores nothing but the host (and a ``-l`` user), joins the rest
into one shell command, and runs it with ``sh -c``.  Every byte between the
caller and that command goes through this process, so the counts are the
bytes a real network link would carry (without ssh's own framing and
compression).  They are appended as one JSON line to the file named by
``PIPE_RSH_LOG`` when it is set.  rsync (``-e``) and ``librsync sync``
(``--rsh``) are measured through the same relay, so its cost is shared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading


def _pump(src, dst, counter: list, index: int) -> None:
    try:
        while True:
            data = os.read(src, 1 << 16)
            if not data:
                break
            counter[index] += len(data)
            view = memoryview(data)
            while view:
                n = os.write(dst, view)
                view = view[n:]
    except OSError:
        pass
    finally:
        try:
            os.close(dst)
        except OSError:
            pass


def main(argv: list[str]) -> int:
    args = argv[1:]
    while args and args[0].startswith("-"):
        # ssh options that take a value; the others are flags.
        args = args[2:] if args[0] in ("-l", "-p", "-i", "-o", "-e") else args[1:]
    if len(args) < 2:
        print("usage: pipe_rsh.py [-l USER] HOST COMMAND...", file=sys.stderr)
        return 255
    command = " ".join(args[1:])
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    child = subprocess.Popen(["sh", "-c", command], stdin=to_child_r, stdout=from_child_w)
    os.close(to_child_r)
    os.close(from_child_w)
    counts = [0, 0]  # to the remote side, from it
    up = threading.Thread(target=_pump, args=(0, to_child_w, counts, 0))
    down = threading.Thread(target=_pump, args=(from_child_r, 1, counts, 1))
    up.daemon = True  # the caller may never close its end
    up.start()
    down.start()
    down.join()
    status = child.wait()
    log = os.environ.get("PIPE_RSH_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps({"sent": counts[0], "received": counts[1]}) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
