#!/usr/bin/env python3
"""Sync a directory tree over a plain TCP socket with librsync.sync.

On the machine that receives (here: 127.0.0.1, port 8873)::

    python examples/sync_over_tcp.py receive MIRROR_DIR --port 8873

On the machine that has the tree::

    python examples/sync_over_tcp.py send SOURCE_DIR --host 127.0.0.1 --port 8873

The receiver accepts one connection, brings MIRROR_DIR up to date (deleting
what the source no longer has) and exits.  A plain socket has neither
authentication nor encryption: use it on a trusted network, or put TLS
(``ssl.wrap_socket``) or ssh around it.  Both roles treat the other as
untrusted all the same (see librsync.sync).
"""

from __future__ import annotations

import argparse
import socket

from librsync import sync


def receive(mirror: str, host: str, port: int) -> sync.SyncStats:
    with socket.create_server((host, port)) as server:
        conn, _ = server.accept()
        with conn, conn.makefile("rb") as r, conn.makefile("wb") as w:
            return sync.receive(mirror, r, w, delete=True)


def send(source: str, host: str, port: int) -> sync.SyncStats:
    with socket.create_connection((host, port)) as conn:
        with conn.makefile("rb") as r, conn.makefile("wb") as w:
            return sync.send(source, r, w)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("role", choices=["send", "receive"])
    p.add_argument("tree")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8873)
    a = p.parse_args()
    stats = (send if a.role == "send" else receive)(a.tree, a.host, a.port)
    print(stats)


if __name__ == "__main__":
    main()
