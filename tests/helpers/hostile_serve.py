"""A hostile other side for ``librsync sync``: ``hostile_serve.py SCENARIO
serve --protocol N ... --sender=PATH`` stands in for ``librsync serve``
(the tests give it as ``--remote-cmd``) and speaks protocol 3 the way an
attacker who controls the remote machine would.

Scenarios (all as the sender of a pull):

``file-pwn``
    says it sends a single file, records the request it gets (the byte of
    its kind) in the file named by ``$HOSTILE_LOG``, and sends ``pwned``;
``bad-name``
    a file list with an entry named ``a/b``;
``bad-msg``
    a message of a type that does not exist, after the hellos;
``delete``
    a file list without the destination's ``keep.txt``, as if to make the
    receiver remove it;
``copy-bomb``
    lists ``small.bin`` (content in ``$HOSTILE_OLD``) as 200 copies of
    itself and answers the receiver's delta request with a few bytes of
    COPY commands per copy;
``bad-trailer``
    the real sender of PATH, then a trailer whose statistics have the wrong
    JSON types;
``stderr-flood``
    300 MiB on stderr without a newline, then exit 1.
"""

from __future__ import annotations

import os
import sys

import librsync
from librsync import _rsync, sync
from librsync.sync import _wire as W

T0 = 1_600_000_000 * 10**9


def msg(kind: int, payload: bytes = b"") -> bytes:
    head = bytearray((kind,))
    W.put_uvarint(head, len(payload))
    return bytes(head) + payload


def uv(*values: int) -> bytes:
    out = bytearray()
    for v in values:
        W.put_uvarint(out, v)
    return bytes(out)


def listing(entries) -> bytes:
    enc = W.ListingEncoder(0)
    out = b""
    for e in entries:
        part = enc.add(e)
        if part:
            out += msg(W.LIST, part)
    out += msg(W.LIST, enc.finish())
    end = bytearray(uv(1, sum(e.kind == W.KIND_FILE for e in entries), 0o755))
    W.put_svarint(end, T0)
    return out + msg(W.LIST_END, bytes(end))


def file_data(kind: int, data: bytes, content: bytes) -> bytes:
    h = _rsync.XXH3_128()
    h.update(content)
    digest = h.digest()
    chunks = b"".join(msg(W.CHUNK, data[i:i + (1 << 20)])
                      for i in range(0, len(data), 1 << 20))
    return (msg(W.FILE, uv(0) + bytes([kind])) + chunks
            + msg(W.END_FILE, uv(len(content)) + digest + b"\0"))


def main() -> int:
    scenario = sys.argv[1]
    path = next((a.split("=", 1)[1] for a in sys.argv if a.startswith(("--sender=",
                                                                      "--receiver="))), "")
    out = sys.stdout.buffer
    inp = sys.stdin.buffer
    if scenario == "stderr-flood":
        piece = b"x" * (1 << 20)
        for _ in range(300):
            sys.stderr.buffer.write(piece)
        sys.stderr.buffer.flush()
        return 1
    kind = "file" if scenario == "file-pwn" else "tree"
    out.write(f"LRSYNC-SERVE 3 hostile {kind}\n".encode())
    out.flush()
    if scenario == "bad-trailer":
        sync.send(path, inp, out)
        out.write(b'LRSYNC-DONE {"files": "many", "deleted": [1]}\n')
        out.flush()
        return 0
    r = W.MessageReader(inp, "receiver's stream")
    try:
        out.write(msg(W.HELLO, W.hello_payload(W.FEAT_SINGLE if kind == "file" else 0)))
        out.flush()
        W.read_hello(r)
        if scenario == "file-pwn":
            out.write(listing([W.Entry(W.KIND_FILE, b"src", 0o644, T0, 6)]))
            out.flush()
            rkind, payload = r.next()
            with open(os.environ["HOSTILE_LOG"], "wb") as log:
                log.write(payload[1:2])
            out.write(file_data(W.WHOLE, b"pwned\n", b"pwned\n"))
        elif scenario == "bad-name":
            out.write(listing([W.Entry(W.KIND_FILE, b"a/b", 0o644, T0, 5)]))
        elif scenario == "bad-msg":
            out.write(msg(ord("X"), b"?"))
        elif scenario == "delete":
            out.write(listing([]))
        elif scenario == "copy-bomb":
            with open(os.environ["HOSTILE_OLD"], "rb") as f:
                old = f.read()
            new = old * 200
            out.write(listing([W.Entry(W.KIND_FILE, b"small.bin", 0o644, T0, len(new))]))
            out.flush()
            r.next()  # the request
            while r.next()[0] != W.SIG_END:
                pass
            delta = librsync.delta(new, librsync.signature(old)).read()
            out.write(file_data(W.DELTA, delta, new))
        else:
            sys.stderr.write(f"hostile_serve: no scenario {scenario!r}\n")
            return 2
        out.flush()
        # Until the receiver ends (or refuses), then our end and a trailer.
        while True:
            rkind, _ = r.next()
            if rkind in (W.DONE, W.ERROR):
                break
        out.write(msg(W.DONE, uv(1, 0, 0, 0)))
        out.write(b'LRSYNC-DONE {"files": 1}\n')
        out.flush()
    except (BrokenPipeError, librsync.LibrsyncError):
        pass  # the local side refused the stream and hung up, as it should
    return 0


if __name__ == "__main__":
    sys.exit(main())
