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

import errno
import io
import sys

import atheris

with atheris.instrument_imports():
    from _common import EXPECTED, MAX_OUT, Arena, pieces, split_points
    import librsync.tree as tree

ARENA = Arena("librsync-fuzz-tree-")
SRC, DST = ARENA.src, ARENA.dst

# What the file system may answer to a well-formed but impossible name.
FS_ERRNOS = {errno.ENAMETOOLONG, errno.EILSEQ}


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    cuts_seed = fdp.ConsumeBytes(2)
    stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    cuts = split_points(atheris.FuzzedDataProvider(cuts_seed * 8), len(stream))
    ARENA.fresh_dst()
    try:
        # Removals are allowed or not, as the receiving side chose.
        tree.tree_patch(DST, pieces(stream, cuts), max_file_size=MAX_OUT,
                        delete=bool(cuts_seed[:1]) and cuts_seed[0] & 1 == 1)
    except EXPECTED:
        pass
    except OSError as exc:
        if exc.errno not in FS_ERRNOS:
            raise
    ARENA.check_untouched()
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
