"""librsync.sync (protocol 3): round trips, what crosses the wire, the
second request after a strong-sum collision, and hostile peers on either
side."""

from __future__ import annotations

import io
import os
import random
import socket
import threading
from pathlib import Path

import pytest

import librsync
from librsync import sync as S
from librsync import tree
from librsync.sync import _receiver, _wire as W

from test_tree import snapshot  # what a sync promises to copy, compared

T0 = 1_600_000_000 * 10**9


def put(path: Path, data: bytes, mode: int = 0o644, mtime: int = T0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chmod(path, mode)
    os.utime(path, ns=(mtime, mtime))


def make_tree(root: Path, seed: int = 0, files: int = 60) -> None:
    rnd = random.Random(seed)
    dirs = [root]
    root.mkdir(parents=True, exist_ok=True)
    for i in range(8):
        d = rnd.choice(dirs) / f"dir{i}"
        d.mkdir()
        dirs.append(d)
    (root / "empty-dir").mkdir()
    for i in range(files):
        put(rnd.choice(dirs) / f"f{i:03d}.bin", rnd.randbytes(rnd.choice([0, 1, 700, 40_000])),
            rnd.choice([0o644, 0o600, 0o755]), T0 + rnd.randrange(10**12))
    put(root / "big.bin", rnd.randbytes(3 << 20))
    os.symlink("big.bin", root / "link")
    os.symlink("/nowhere/at/all", root / "dir0" / "dangling")
    for d in dirs:
        os.utime(d, ns=(T0, T0))


def edit(root: Path, seed: int = 1) -> None:
    rnd = random.Random(seed)
    data = bytearray((root / "big.bin").read_bytes())
    for _ in range(5):
        pos = rnd.randrange(len(data))
        data[pos:pos + 100] = rnd.randbytes(100)
    put(root / "big.bin", bytes(data), mtime=T0 + 5)
    put(root / "new-file.txt", b"new\n")
    (root / "f000.bin").unlink(missing_ok=True)
    for p in sorted(root.rglob("f0*.bin"))[:3]:
        os.chmod(p, 0o640)


def test_a_copy_then_only_changes_then_nothing(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src)
    first = S.sync(src, dst)
    assert snapshot(dst) == snapshot(src)
    assert first.files_new == first.files > 0 and first.files_changed == 0
    edit(src)
    (dst / "extra").write_bytes(b"only here\n")
    second = S.sync(src, dst, delete=True)
    assert snapshot(dst) == snapshot(src)
    assert second.deleted == 1 and second.files_changed == 1 and second.files_new == 1
    assert second.matched_bytes > 2 << 20  # the big file mostly reused
    third = S.sync(src, dst)
    assert third.files_unchanged == third.files and third.literal_bytes == 0
    # Nothing changed: a few dozen bytes per file on the wire, no content read.
    assert third.bytes_received < 40 * (third.files + third.dirs + third.symlinks) + 200
    assert third.bytes_sent < 16 * (third.dirs + 1) + 64


def test_without_delete_extras_stay_and_dry_run_changes_nothing(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src)
    S.sync(src, dst)
    (dst / "extra").write_bytes(b"x")
    edit(src)
    before = snapshot(dst)
    dry = S.sync(src, dst, delete=True, dry_run=True)
    assert snapshot(dst) == before
    real = S.sync(src, dst, delete=True)
    for field in ("files_new", "files_changed", "files_unchanged", "deleted"):
        assert getattr(dry, field) == getattr(real, field), field
    S.sync(src, dst)
    assert not (dst / "extra").exists()
    (dst / "extra").write_bytes(b"x")
    S.sync(src, dst)
    assert (dst / "extra").exists()


def test_checksum_finds_a_change_that_size_and_mtime_hide(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    put(src / "a", b"aaaa")
    S.sync(src, dst)
    put(dst / "a", b"bbbb")  # same size, same mtime
    assert S.sync(src, dst).files_unchanged == 1
    assert (dst / "a").read_bytes() == b"bbbb"
    got = S.sync(src, dst, checksum=True)
    assert got.files_changed == 1 and (dst / "a").read_bytes() == b"aaaa"


def test_types_change_places(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    put(src / "x" / "inside", b"1")
    put(src / "y", b"file")
    os.symlink("y", src / "z")
    S.sync(src, dst)
    # Now each becomes another type.
    for p in (src / "x" / "inside", src / "y", src / "z"):
        p.unlink()
    (src / "x").rmdir()
    put(src / "x", b"now a file")
    os.symlink("x", src / "y")
    put(src / "z" / "now", b"a dir")
    with pytest.raises(librsync.CorruptDataError, match="delete=True"):
        S.sync(src, dst)  # a directory would go: not without delete
    S.sync(src, dst, delete=True)
    assert snapshot(dst) == snapshot(src)


def test_a_single_file(tmp_path):
    put(tmp_path / "file.bin", random.Random(2).randbytes(100_000))
    S.sync(tmp_path / "file.bin", tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == (tmp_path / "file.bin").read_bytes()
    (tmp_path / "into").mkdir()
    (tmp_path / "into" / "keep").write_bytes(b"k")
    S.sync(tmp_path / "file.bin", tmp_path / "into", delete=True)
    assert (tmp_path / "into" / "file.bin").read_bytes() == (tmp_path / "file.bin").read_bytes()
    assert (tmp_path / "into" / "keep").exists()  # delete never reaches beside a file


def test_a_collision_of_short_strong_sums_is_sent_again(tmp_path, monkeypatch):
    """With 1-byte strong sums of MD4 and the rollsum, a block of the new
    file is made to collide with the old one (same weak sum, same strong
    byte, other content): the delta then rebuilds the wrong bytes, the
    file's digest does not match, and the receiver asks again with full
    sums.  Never a corrupt file, never a failed sync."""
    old = bytearray(random.Random(3).randbytes(256 * 8))
    block = 3
    target = librsync.signature(bytes(old[256 * block:256 * (block + 1)]), block_size=256,
                                strong_len=1, magic=librsync.RS_MD4_SIG_MAGIC).read()[-1:]
    for i in range(2, 250):
        new = bytearray(old)
        base = 256 * block
        # +1/-1 at i, i+1 and -1/+1 at 0, 1 keep both rollsum halves.
        if not (0 < new[base + i] < 255 and 0 < new[base + i + 1] < 255
                and 0 < new[base] < 255 and 0 < new[base + 1] < 255):
            continue
        new[base + i] += 1
        new[base + i + 1] -= 1
        new[base] -= 1
        new[base + 1] += 1
        sig = librsync.signature(bytes(new[base:base + 256]), block_size=256, strong_len=1,
                                 magic=librsync.RS_MD4_SIG_MAGIC).read()
        if sig[-1:] == target and sig[-5:-1] == librsync.signature(
                bytes(old[base:base + 256]), block_size=256, strong_len=1,
                magic=librsync.RS_MD4_SIG_MAGIC).read()[-5:-1]:
            break
    else:
        pytest.fail("no colliding block found")
    put(tmp_path / "src" / "f", bytes(new), mtime=T0 + 1)
    put(tmp_path / "dst" / "f", bytes(old))
    monkeypatch.setattr(_receiver, "SIG_MAGIC", librsync.RS_MD4_SIG_MAGIC)
    monkeypatch.setattr(_receiver, "strong_len_for", lambda size, block: 1)
    monkeypatch.setattr(_receiver, "_block_len", lambda size: 256)
    got = S.sync(tmp_path / "src", tmp_path / "dst")
    assert got.files_redone == 1 and got.files_changed == 1
    assert (tmp_path / "dst" / "f").read_bytes() == bytes(new)


def test_over_a_socket(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src)
    a, b = socket.socketpair()
    results = {}

    def sender():
        with a, a.makefile("rb") as r, a.makefile("wb") as w:
            results["sent"] = S.send(src, r, w)

    t = threading.Thread(target=sender)
    t.start()
    with b, b.makefile("rb") as r, b.makefile("wb") as w:
        got = S.receive(dst, r, w)
    t.join()
    assert snapshot(dst) == snapshot(src)
    assert results["sent"].bytes_sent == got.bytes_received


def test_compression_when_both_sides_have_zstd(tmp_path):
    from librsync.sync import _compress

    # The test extra installs it (backports.zstd before Python 3.14).
    assert _compress.available(), "no zstd module: install the zstd extra"
    src, dst = tmp_path / "src", tmp_path / "dst"
    put(src / "text", b"all work and no play makes jack a dull boy\n" * 20_000)
    to_r, to_s = os.pipe(), os.pipe()
    out = {}

    def sender():
        with open(to_r[1], "wb") as w, open(to_s[0], "rb") as r:
            out["s"] = S.send(src, r, w, compress=True)

    t = threading.Thread(target=sender)
    t.start()
    with open(to_r[0], "rb") as r, open(to_s[1], "wb") as w:
        got = S.receive(dst, r, w)
    t.join()
    assert (dst / "text").read_bytes() == (src / "text").read_bytes()
    assert got.bytes_received < 20_000


# --- hostile senders and receivers ----------------------------------------------------

def _hello(features: int = 0) -> bytes:
    return _msg(W.HELLO, W.hello_payload(features))


def _msg(kind: int, payload: bytes = b"") -> bytes:
    head = bytearray((kind,))
    W.put_uvarint(head, len(payload))
    return bytes(head) + payload


def _listing(dir_id: int, entries, last: bool = True) -> bytes:
    enc = W.ListingEncoder(dir_id)
    parts = []
    for e in entries:
        part = enc.add(e)
        if part:
            parts.append(_msg(W.LIST, part))
    parts.append(_msg(W.LIST, enc.finish()))
    return b"".join(parts)


def _list_end(dirs: int, files: int) -> bytes:
    p = bytearray()
    for v in (dirs, files, 0o755):
        W.put_uvarint(p, v)
    W.put_svarint(p, T0)
    return _msg(W.LIST_END, bytes(p))


def _receive_from(dst, stream: bytes, **kw):
    return S.receive(dst, io.BytesIO(stream), io.BytesIO(), **kw)


@pytest.mark.parametrize("name", [b"..", b".", b"a/b", b"a\\b", b"a\0b", b""])
def test_a_sender_cannot_name_a_path_outside(tmp_path, name):
    dst = tmp_path / "dst"
    stream = _hello() + _listing(0, [W.Entry(W.KIND_FILE, name, 0o644, T0, 5)])
    with pytest.raises(librsync.CorruptDataError):
        _receive_from(dst, stream)
    assert sorted(os.listdir(tmp_path)) == ["dst"]


def test_a_sender_cannot_lead_through_a_symlink(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dst = tmp_path / "dst"
    dst.mkdir()
    os.symlink(outside, dst / "sub")
    # A listing for "sub" as a directory: the link is replaced by a real
    # directory (never entered), then its listing puts a file in it.
    stream = (_hello() + _listing(0, [W.Entry(W.KIND_DIR, b"sub", 0o755, T0)])
              + _listing(1, [W.Entry(W.KIND_FILE, b"x", 0o644, T0, 0)]) + _list_end(2, 1))
    w = io.BytesIO()
    with pytest.raises(librsync.LibrsyncError):
        S.receive(dst, io.BytesIO(stream), w)
    assert os.listdir(outside) == []


def test_a_sender_must_respect_the_names_order_and_bounds(tmp_path):
    for entries in ([W.Entry(W.KIND_FILE, b"b", 0o644, T0, 1),
                     W.Entry(W.KIND_FILE, b"a", 0o644, T0, 1)],
                    [W.Entry(W.KIND_LINK, b"l", 0o777, T0, target=b"x" * (W.MAX_TARGET + 1))]):
        with pytest.raises(librsync.CorruptDataError):
            _receive_from(tmp_path / "dst", _hello() + _listing(0, entries))


def test_a_sender_cannot_send_unrequested_data_or_lie_about_counts(tmp_path):
    dst = tmp_path / "dst"
    head = _hello() + _listing(0, [])
    fh = bytearray()
    W.put_uvarint(fh, 0)
    fh.append(W.WHOLE)
    with pytest.raises(librsync.CorruptDataError, match="not requested"):
        _receive_from(dst, head + _msg(W.FILE, bytes(fh)))
    with pytest.raises(librsync.CorruptDataError, match="counts"):
        _receive_from(dst, head + _list_end(5, 0))
    with pytest.raises(librsync.CorruptDataError, match="message of"):
        _receive_from(dst, head + bytes([W.CHUNK]) + b"\xff\xff\xff\x7f")


def test_a_sender_that_runs_ahead_of_its_window_is_refused(tmp_path):
    subdirs = [W.Entry(W.KIND_DIR, b"d%04d" % i, 0o755, T0) for i in range(200)]
    stream = _hello() + _listing(0, subdirs) + b"".join(
        _listing(i, []) for i in range(1, 201))
    with pytest.raises(librsync.CorruptDataError, match="ahead"):
        # A reader that never lets the generator catch up: the receiver
        # must refuse rather than queue the whole list.
        S.receive(tmp_path / "dst", io.BytesIO(stream), _Stalled())


class _Stalled(io.RawIOBase):
    """A writer that blocks the generator (the acknowledgements never leave)."""

    def __init__(self) -> None:
        super().__init__()
        self._gate = threading.Event()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        if bytes(b[:1]) == bytes([W.ACK]):
            self._gate.wait(30)
            raise BrokenPipeError("stalled")
        return len(b)


def test_a_receiver_cannot_ask_for_what_was_not_listed(tmp_path):
    src = tmp_path / "src"
    put(src / "a", b"data")
    req = bytearray()
    W.put_uvarint(req, 7)
    req.append(W.WHOLE)
    stream = _hello(W.FEAT_CHECKSUM) + _msg(W.REQUEST, bytes(req))
    with pytest.raises(librsync.CorruptDataError, match="not listed"):
        S.send(src, io.BytesIO(stream), io.BytesIO())


def test_a_receivers_signature_is_bounded(tmp_path):
    src = tmp_path / "src"
    put(src / "a", b"x" * 1000)
    req = bytearray()
    W.put_uvarint(req, 0)
    req.append(W.DELTA)
    W.put_uvarint(req, 10)  # an old file of 10 bytes...
    sig = librsync.signature(os.urandom(256 * 50), block_size=256).read()  # ...in 50 blocks
    out = io.BytesIO()
    reader = _AfterTheList(_hello(), _msg(W.REQUEST, bytes(req)) + _msg(W.SIG, sig)
                           + _msg(W.SIG_END), out)
    with pytest.raises(librsync.CorruptDataError, match="blocks"):
        S.send(src, reader, out)


class _AfterTheList(io.RawIOBase):
    """A receiver's stream: its hello, then, once the sender has sent the
    end of its file list to ``out``, the rest."""

    def __init__(self, hello: bytes, rest: bytes, out: io.BytesIO) -> None:
        super().__init__()
        self._data = io.BytesIO(hello + rest)
        self._hello = len(hello)
        self._out = out

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self._data.tell() >= self._hello:
            for _ in range(3000):
                if bytes([W.LIST_END]) in self._out.getvalue()[-64:]:
                    break
                threading.Event().wait(0.01)
        return self._data.readinto(b)


def test_over_asyncio_streams(tmp_path):
    import asyncio

    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, files=20)

    async def main():
        got = {}

        async def on_connect(reader, writer):
            got["recv"] = await S.receive_async(dst, reader, writer, delete=True)
            writer.close()

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            sent = await S.send_async(src, reader, writer)
            writer.close()
            for _ in range(500):
                if "recv" in got:
                    break
                await asyncio.sleep(0.01)
        return sent, got["recv"]

    sent, got = asyncio.run(main())
    assert snapshot(dst) == snapshot(src)
    assert got.files_new == sent.files


def test_the_tcp_example(tmp_path):
    """examples/sync_over_tcp.py, both roles, on loopback."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "sync_over_tcp", Path(__file__).resolve().parent.parent / "examples" / "sync_over_tcp.py")
    if spec is None or not os.path.exists(spec.origin or ""):
        pytest.skip("the examples are not beside the tests (an installed-package run)")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, files=10)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    got = {}
    t = threading.Thread(target=lambda: got.setdefault(
        "r", example.receive(str(dst), "127.0.0.1", port)))
    t.start()
    for _ in range(200):
        try:
            sent = example.send(str(src), "127.0.0.1", port)
            break
        except ConnectionRefusedError:
            threading.Event().wait(0.02)
    t.join()
    assert snapshot(dst) == snapshot(src) and got["r"].files_new == sent.files


@pytest.mark.parametrize("data, want", [
    (b"", "99aa06d3014798d86001c324468d497f"),
    (b"abc", "06b05ab6733a618578af5f94892f3950"),
    (bytes(range(256)) * 1000, "548512d98989de2d776474c39d20f9aa"),
])
def test_xxh3_128_matches_the_reference(data, want):
    """The vendored XXH3-128 gives xxHash's canonical digests (values from
    an independent binding), whole or fed in pieces, GIL released or not."""
    from librsync import _rsync

    h = _rsync.XXH3_128()
    h.update(data)
    assert h.digest().hex() == want
    h = _rsync.XXH3_128()
    view = memoryview(data)
    for i in range(0, len(data), 70_001):
        h.update(view[i:i + 70_001])
    assert h.digest().hex() == want


def test_every_other_message_a_sender_can_send_is_checked(tmp_path):
    dst = tmp_path / "dst"
    head = _hello() + _listing(0, [])
    skip = bytearray()
    W.put_uvarint(skip, 3)
    with pytest.raises(librsync.CorruptDataError, match="not requested"):
        _receive_from(dst, head + _msg(W.SKIP, bytes(skip) + b"gone"))
    with pytest.raises(librsync.CorruptDataError, match="before its file list"):
        _receive_from(dst, head + _msg(W.DONE, b"\0"))
    with pytest.raises(S.PeerError, match="the sender stopped: disk on fire"):
        _receive_from(dst, head + _msg(W.ERROR, b"disk on fire"))
    with pytest.raises(librsync.CorruptDataError, match="after the end of the file list"):
        _receive_from(dst, head + _list_end(1, 0) + _listing(0, []))


def test_every_other_message_a_receiver_can_send_is_checked(tmp_path):
    src = tmp_path / "src"
    put(src / "a", b"data")
    ack = bytearray()
    W.put_uvarint(ack, 9)
    with pytest.raises(librsync.CorruptDataError, match="acknowledgement of directory 9"):
        S.send(src, io.BytesIO(_hello() + _msg(W.ACK, bytes(ack))), io.BytesIO())
    with pytest.raises(S.PeerError, match="the receiver stopped: no room"):
        S.send(src, io.BytesIO(_hello() + _msg(W.ERROR, b"no room")), io.BytesIO())
    with pytest.raises(librsync.CorruptDataError, match="message from the receiver"):
        S.send(src, io.BytesIO(_hello() + _msg(W.CHUNK, b"x")), io.BytesIO())


def test_a_directory_swapped_for_a_symlink_is_not_entered_again(tmp_path):
    """The receiver reopens directories from their parents without following
    links: one replaced by a symlink between its listing and a file's data
    is refused, and nothing lands outside."""
    from librsync.sync._receiver import _DirCache, _DirInfo

    outside = tmp_path / "outside"
    outside.mkdir()
    dst = tmp_path / "dst"
    (dst / "sub").mkdir(parents=True)
    root = tree._Dir.root(str(dst), False, tree._DIR_FDS)
    try:
        dirs = {0: _DirInfo(-1, "", 0, 0, 0, 0, True), 1: _DirInfo(0, "sub", 0o755, 0, 1, 0, True)}
        (dst / "sub").rmdir()
        os.symlink(outside, dst / "sub")
        cache = _DirCache(dirs, root)
        with pytest.raises(tree.UnsafePathError, match="symlink"):
            cache.get(1)
        cache.close()
    finally:
        root.close()
    assert os.listdir(outside) == []
