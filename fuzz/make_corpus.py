#!/usr/bin/env python3
"""Write the seed corpus under fuzz/corpus/ from real signatures and deltas.

Deterministic: rerunning it rewrites the same files.  Each target's input
starts with two bytes the target uses to choose where a stream is cut for
the streaming job; the rest is the signature or delta itself.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import shutil
import struct
import tempfile

from _common import BASIS, HERE, MAGICS, TREE_MTIME, librsync, make_tree_arena

import librsync.tree as tree

CORPUS = os.path.join(HERE, "corpus")


def write(target: str, data: bytes) -> None:
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def edited(data: bytes, seed: int) -> bytes:
    rnd = random.Random(seed)
    out = bytearray(data)
    for _ in range(rnd.randrange(1, 6)):
        pos = rnd.randrange(len(out) + 1)
        kind = rnd.randrange(3)
        if kind == 0:
            out[pos:pos] = rnd.randbytes(rnd.randrange(1, 200))
        elif kind == 1:
            del out[pos:pos + rnd.randrange(1, 200)]
        else:
            out[pos:pos + 50] = rnd.randbytes(50)
    return bytes(out)


def main() -> None:
    shutil.rmtree(CORPUS, ignore_errors=True)
    dm = struct.pack(">I", librsync.RS_DELTA_MAGIC)
    for i, magic in enumerate(MAGICS):
        for block_size, strong_len in ((256, 8), (1024, -1), (0, 0), (64, 4)):
            sig = librsync.signature(BASIS, None, block_size, strong_len, magic).read()
            write("loadsig", bytes([i, block_size & 0xFF]) + sig[:4096])
            new = edited(BASIS, seed=i * 10 + block_size)
            d = librsync.delta(new, sig).read()
            write("patch", bytes([i, 7]) + d[:4096])
    # Hand-made deltas: every command width, END only, past-the-end copies.
    def copy(op, pos, n, pw, lw):
        return bytes([op]) + pos.to_bytes(pw, "big") + n.to_bytes(lw, "big")
    widths = [1, 2, 4, 8]
    body = b"\x05hello"
    op = 0x45
    for pw in widths:
        for lw in widths:
            body += copy(op, 100, 20, pw, lw)
            op += 1
    body += b"\x41\x03abc" + b"\x42\x00\x02xy" + b"\x43\x00\x00\x00\x01z" + b"\x44" + (1).to_bytes(8, "big") + b"w"
    write("patch", b"\x00\x00" + dm + body + b"\x00")
    write("patch", b"\x00\x00" + dm + b"\x00")
    write("patch", b"\x01\x02" + dm + copy(0x54, len(BASIS) - 5, 10, 8, 8) + b"\x00")
    # The delta target takes structured bytes; a few random seeds of sizes.
    rnd = random.Random(99)
    for n in (0, 64, 700, 3000, 9000):
        write("delta", rnd.randbytes(n))
    # The tree target: real delta streams against the template tree it
    # patches (a first sync, an update with and without deletions, no
    # change at all), and a signature stream, which it also feeds to
    # tree_delta.
    with tempfile.TemporaryDirectory() as base:
        dst, src, _ = make_tree_arena(base)
        empty = os.path.join(base, "empty")
        sig = io.BytesIO()
        tree.tree_signature(dst, sig)
        write("tree", b"\x00\x00" + sig.getvalue())
        for i, (source, options) in enumerate([(src, {}), (src, {"delete": True}),
                                               (src, {"checksum": True}), (dst, {}),
                                               (empty, {"delete": True})]):
            os.makedirs(empty, exist_ok=True)
            os.chmod(empty, 0o755)
            os.utime(empty, ns=(TREE_MTIME, TREE_MTIME))
            delta = io.BytesIO()
            against = sig
            if options.get("checksum"):  # tree format 2: digests only when asked for
                against = io.BytesIO()
                tree.tree_signature(dst, against, checksum=True)
            tree.tree_delta(source, against.getvalue(), delta, **options)
            write("tree", bytes([i, 5]) + delta.getvalue())
    # The sync target: real protocol 3 streams, recorded from a sync of
    # the arena's source into a copy of its template (a first sync and an
    # update), each side's stream as the other sees it; and the serve
    # greeting and trailer around them.
    from librsync import _cli_remote as remote
    from librsync import sync
    with tempfile.TemporaryDirectory() as base:
        dst, src, _ = make_tree_arena(base)
        for target_dir in (os.path.join(base, "fresh"), dst):
            to_recv, to_send = _Tee(), _Tee()
            import threading
            r1, w1 = os.pipe()
            r2, w2 = os.pipe()
            t = threading.Thread(target=lambda: sync.send(
                src, to_send.wrap(open(r2, "rb")), open(w1, "wb", buffering=0)))
            t.start()
            sync.receive(target_dir, to_recv.wrap(open(r1, "rb")), open(w2, "wb", buffering=0),
                         delete=True)
            t.join()
            write("sync", b"\x02" + to_recv.data)
            write("sync", b"\x01" + to_send.data)
    done = f'{remote.TRAILER} {{"files": 1, "literal_bytes": 7, "dry_run": false}}\n'.encode()
    write("sync", f"{remote.GREETING} {remote.PROTOCOL} 1.0 tree\n".encode() + done)


class _Tee:
    """Records what a reader reads."""

    def __init__(self) -> None:
        self.data = b""

    def wrap(self, raw):
        tee = self

        class Reader:
            def read(self, n=-1):
                got = raw.read(n)
                tee.data += got
                return got

        return Reader()

if __name__ == "__main__":
    main()
