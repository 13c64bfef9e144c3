"""A hostile other side for ``librsync sync``: ``hostile_serve.py SCENARIO
serve --protocol N ... --sender=PATH`` stands in for ``librsync serve``
(the tests give it as ``--remote-cmd``) and speaks the serve protocol the
way an attacker who controls the remote machine would.

Scenarios (all as the sender of a pull unless said otherwise):

``file-pwn``
    says it sends a single file, records the signature it is sent in the
    file named by ``$HOSTILE_LOG``, and answers with a delta that makes
    ``pwned``;
``bad-name``
    a tree delta stream with an entry named ``a/b``;
``bad-crc``
    a tree delta stream with one record's checksum wrong;
``delete``
    a tree delta stream that removes ``keep.txt`` (an ``X`` record with
    nothing in its place), sent whether or not ``--delete`` was asked for;
``copy-bomb``
    a tree delta stream whose ``P`` record turns the destination's
    ``small.bin`` (content in ``$HOSTILE_OLD``) into 200 copies of itself
    with a few bytes of COPY commands per copy;
``bad-trailer``
    the real tree delta of PATH, then a trailer whose statistics have the
    wrong JSON types;
``stderr-flood``
    300 MiB on stderr without a newline, then exit 1.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import sys

import librsync
from librsync import tree

FRAME = struct.Struct(">I")
T0 = 1_600_000_000 * 10**9


def greet(kind: str = "tree") -> None:
    sys.stdout.buffer.write(f"LRSYNC-SERVE 2 hostile {kind}\n".encode())
    sys.stdout.buffer.flush()


def trailer(text: str = '{"files": 1}') -> None:
    try:
        sys.stdout.buffer.write(f"LRSYNC-DONE {text}\n".encode())
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        pass  # the local side refused the stream and hung up, as it should


def read_frames(inp) -> bytes:
    data = b""
    while True:
        (n,) = FRAME.unpack(inp.read(FRAME.size))
        if n == 0:
            return data
        data += inp.read(n)


def write_frames(out, data: bytes) -> None:
    for i in range(0, len(data), 1 << 20):
        part = data[i:i + (1 << 20)]
        out.write(FRAME.pack(len(part)) + part)
    out.write(FRAME.pack(0))
    out.flush()


def entry(kind: str, name: bytes, mode: int = 0o644, tail: bytes = b"") -> tuple:
    return (ord(kind), tree._ENTRY.pack(mode, T0, len(name)) + name + tail)


def delta_stream(records) -> bytes:
    out = io.BytesIO()
    w = tree._Writer(out, "hostile")
    w.record(tree._H, b"D\0")
    w.entry(tree._D, b"", 0o755, T0)
    for kind, body in records:
        w.record(kind, body)
    w.record(tree._Q)
    w.close()
    return out.getvalue()


def file_records(kind: str, name: bytes, data: bytes, content: bytes) -> list:
    """An N or P record with ``data`` as its C records, announcing and
    checking ``content``."""
    digest = hashlib.blake2b(content, digest_size=32).digest()
    chunks = [(tree._C, data[i:i + (1 << 20)]) for i in range(0, len(data), 1 << 20)]
    return [entry(kind, name, tail=tree._U64.pack(len(content))), *chunks,
            (tree._E, tree._FILE_END.pack(len(content), digest))]


def main() -> int:
    scenario = sys.argv[1]
    path = next((a.split("=", 1)[1] for a in sys.argv if a.startswith(("--sender=",
                                                                      "--receiver="))), "")
    out = sys.stdout.buffer
    if scenario == "stderr-flood":
        piece = b"x" * (1 << 20)
        for _ in range(300):
            sys.stderr.buffer.write(piece)
        sys.stderr.buffer.flush()
        return 1
    if scenario == "file-pwn":
        greet("file")
        sig = read_frames(sys.stdin.buffer)
        with open(os.environ["HOSTILE_LOG"], "wb") as log:
            log.write(sig)
        write_frames(out, librsync.delta(b"pwned\n", librsync.load_signature(sig)).read())
        trailer()
        return 0
    if scenario == "bad-trailer":
        greet()
        tree.tree_delta(path, sys.stdin.buffer, out)
        trailer('{"files": "many", "deleted": [1]}')
        return 0
    greet()
    if scenario == "bad-name":
        stream = delta_stream(file_records("N", b"a/b", b"pwned", b"pwned"))
    elif scenario == "bad-crc":
        good = bytearray(delta_stream(file_records("N", b"f", b"data", b"data")))
        good[-20] ^= 1  # inside the last records, before the end record
        stream = bytes(good)
    elif scenario == "delete":
        stream = delta_stream([(ord("X"), tree._ENTRY.pack(0, 0, 8) + b"keep.txt")])
    elif scenario == "copy-bomb":
        with open(os.environ["HOSTILE_OLD"], "rb") as f:
            old = f.read()
        new = old * 200
        delta = librsync.delta(new, librsync.signature(old)).read()
        stream = delta_stream(file_records("P", b"small.bin", delta, new))
    else:
        sys.stderr.write(f"hostile_serve: no scenario {scenario!r}\n")
        return 2
    try:
        out.write(stream)
        out.flush()
    except BrokenPipeError:
        return 0
    trailer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
