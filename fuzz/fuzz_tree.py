#!/usr/bin/env python3
"""Fuzz target: untrusted tree streams (librsync.tree).

The input is a tree *delta stream*, applied with ``tree_patch`` to a fresh
copy of a small destination tree that holds links leading out of it, beside
an ``outside`` directory; it is fed in fuzzer-chosen pieces.  An input whose
header says it is a *signature stream* is also given to ``tree_delta``
against a fixed source tree.  Besides crashes, hangs and exceptions other
than the documented ones, a finding is: anything outside the destination
changed, or a temporary file left in it.  Run with fuzz/run.sh.
"""

import atexit
import errno
import io
import os
import shutil
import sys
import tempfile

import atheris

with atheris.instrument_imports():
    from _common import (EXPECTED, MAX_OUT, SCRATCH, make_tree_arena, pieces, split_points,
                         tree_snapshot)
    import librsync.tree as tree

# libFuzzer ends the process without running atexit handlers; run.sh passes
# a scratch directory it removes itself.
BASE = tempfile.mkdtemp(prefix="librsync-fuzz-tree-", dir=os.environ.get("FUZZ_SCRATCH")
                        or SCRATCH)
atexit.register(shutil.rmtree, BASE, True)
TEMPLATE, SRC, OUTSIDE = make_tree_arena(BASE)
DST = os.path.join(BASE, "dst")
OUTSIDE_BEFORE = tree_snapshot(OUTSIDE)

# What the file system may answer to a well-formed but impossible name.
FS_ERRNOS = {errno.ENAMETOOLONG, errno.EILSEQ}


def check_untouched() -> None:
    if tree_snapshot(OUTSIDE) != OUTSIDE_BEFORE:
        raise AssertionError("a stream changed something outside the destination")
    if sorted(os.listdir(BASE)) != ["dst", "outside", "src", "template"]:
        raise AssertionError(f"a stream created {os.listdir(BASE)} beside the destination")
    for dirpath, dirnames, filenames in os.walk(DST):
        for name in dirnames + filenames:
            if name.startswith(".lrsync-tree."):
                raise AssertionError(f"temporary file left: {os.path.join(dirpath, name)}")


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    cuts_seed = fdp.ConsumeBytes(2)
    stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    cuts = split_points(atheris.FuzzedDataProvider(cuts_seed * 8), len(stream))
    shutil.rmtree(DST, ignore_errors=True)
    shutil.copytree(TEMPLATE, DST, symlinks=True)
    try:
        # Removals are allowed or not, as the receiving side chose.
        tree.tree_patch(DST, pieces(stream, cuts), max_file_size=MAX_OUT,
                        delete=bool(cuts_seed[:1]) and cuts_seed[0] & 1 == 1)
    except EXPECTED:
        pass
    except OSError as exc:
        if exc.errno not in FS_ERRNOS:
            raise
    check_untouched()
    if stream[len(tree.MAGIC) + 5:len(tree.MAGIC) + 6] == b"S":
        out = io.BytesIO()
        try:
            tree.tree_delta(SRC, pieces(stream, cuts), out, delete=True)
        except EXPECTED:
            pass
        if out.tell() > 1 << 20:
            raise AssertionError(f"a delta stream of {out.tell()} bytes for a tiny tree")


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
