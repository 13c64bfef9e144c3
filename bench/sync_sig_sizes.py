#!/usr/bin/env python3
"""Where a tree signature stream's bytes go: the librsync signature sizes
of the destination files of bench/sync_bench.py's tree (its ``old`` tree),
the big file apart, at the block and strong-sum sizes tree_signature uses
(rdiff's defaults for each file's size).

    python bench/sync_sig_sizes.py [bench/data/sync/f300-b200-e200/old]
"""

from __future__ import annotations

import os
import sys

# This checkout's librsync (built in place), as sync_bench.py's commands use.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import librsync  # noqa: E402

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "data", "sync", "f300-b200-e200", "old")
small = big = files = 0
for d, _, names in os.walk(root):
    for n in names:
        p = os.path.join(d, n)
        if os.path.islink(p):
            continue
        size = os.path.getsize(p)
        job = librsync.SignatureJob(0, 0, librsync.RS_RK_BLAKE2_SIG_MAGIC, size)
        block, strong = job.block_len, job.strong_len
        job.close()
        sig = 12 + -(-size // block) * (4 + strong)  # header, then weak + strong per block
        if n == "big.bin":
            big = sig
            print(f"big.bin: {size} bytes, block {block}, strong sum {strong} bytes: "
                  f"signature {sig} bytes")
        else:
            small += sig
            files += 1
print(f"{files} other files: signatures {small} bytes in all")
