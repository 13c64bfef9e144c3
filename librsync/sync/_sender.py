"""The sender: walks the source and sends its file list, a directory at a
time, while it answers the receiver's requests with deltas or whole files.

Two threads: the walker (lists directories, at most WINDOW of them ahead of
the receiver's acknowledgements, so memory is bounded by that many
listings, not by the tree) and the caller's, which serves requests.  Both
write whole messages to the one output stream.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import threading
from typing import Any, Dict, List, Optional, Tuple

from .. import _api, _parallel, _rsync
from .. import exceptions as librsync_errors
from .. import tree as _tree
from . import _compress, _wire as W
from ._stats import SyncStats

#: Directories listed ahead of the receiver's acknowledgements.
WINDOW = 64
#: Files at least this big get their delta computed in ``threads`` threads.
_BIG_FILE = 8 << 20
#: The largest signature block length a request may ask for (librsync's
#: recommended length reaches it for a 4 TiB file).
MAX_BLOCK_LEN = 1 << 21
#: The most blocks a request's signature may hold.
MAX_SIG_BLOCKS = 1 << 22


class _File:
    __slots__ = ("dir_id", "name", "size", "mtime", "path")

    def __init__(self, dir_id: int, name: bytes, size: int, mtime: int) -> None:
        self.dir_id = dir_id
        self.name = name
        self.size = size
        self.mtime = mtime
        # Its directory's path, once a delta of it was sent: the receiver
        # may ask for it again (a strong-sum collision) after it has
        # acknowledged the directory, so such a file is kept.
        self.path: Optional[bytes] = None


def _digest_file(path: bytes, size: int) -> bytes:
    h = _rsync.XXH3_128()
    try:
        with open(path, "rb", buffering=0) as f:
            buf = bytearray(1 << 20)
            view = memoryview(buf)
            left = size
            while left > 0:
                n = f.readinto(view[:min(left, len(buf))])
                if not n:
                    break
                h.update(view[:n])
                left -= n
    except OSError:
        pass  # unreadable or gone: the digest will not match, the file is requested
    return h.digest()


class Sender:
    """One sync's sending side (see :func:`librsync.sync.send`)."""

    def __init__(self, src: str, reader: Any, writer: Any, *, compress: bool = False,
                 threads: int = 1) -> None:
        self._src = os.fsencode(src)
        self._r = W.MessageReader(reader, "receiver's stream")
        self._w = W.MessageWriter(writer)
        self._threads = _parallel.check_threads(threads)
        self._compress_wanted = bool(compress)
        self.stats = SyncStats()
        self._files: Dict[int, _File] = {}
        self._dir_files: Dict[int, List[int]] = {}
        self._dirs: Dict[int, bytes] = {}  # listed, not yet acknowledged: their paths
        self._cond = threading.Condition()
        self._acked = 0
        self._listed = 0
        self._stop = False
        self._walk_error: Optional[BaseException] = None
        st = os.stat(self._src)
        self._single = not stat.S_ISDIR(st.st_mode)
        if self._single and not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{src!r} is neither a directory nor a regular file")

    # -- the protocol ---------------------------------------------------------------

    def run(self) -> SyncStats:
        features = (W.FEAT_ZSTD if _compress.available() else 0) \
            | (W.FEAT_COMPRESS if self._compress_wanted else 0) \
            | (W.FEAT_SINGLE if self._single else 0)
        self._w.send(W.HELLO, W.hello_payload(features), flush=True)
        peer = W.read_hello(self._r)
        self._checksum = bool(peer.features & W.FEAT_CHECKSUM)
        self._zstd = bool((features | peer.features) & W.FEAT_COMPRESS
                          and features & peer.features & W.FEAT_ZSTD)
        walker = threading.Thread(target=self._walk_safely, name="sync sender walk",
                                  daemon=True)
        walker.start()
        try:
            self._serve()
        except BaseException as e:
            if not isinstance(e, (W.PeerError, librsync_errors.InputEndedError)) \
                    and self._walk_error is None:
                with contextlib.suppress(Exception):
                    self._w.send(W.ERROR, W.error_payload(e), flush=True)
            raise
        finally:
            with self._cond:
                self._stop = True
                self._cond.notify_all()
            walker.join()
        if self._walk_error is not None:
            raise self._walk_error
        payload = bytearray()
        for value in (self.stats.files, self.stats.file_bytes, self.stats.literal_bytes,
                      self.stats.matched_bytes):
            W.put_uvarint(payload, value)
        self._w.send(W.DONE, payload, flush=True)
        self.stats.bytes_sent = self._w.nbytes
        self.stats.bytes_received = self._r.nbytes
        return self.stats

    # -- the walker ---------------------------------------------------------------

    def _walk_safely(self) -> None:
        try:
            self._walk()
        except BaseException as e:  # reported by run(), and told to the receiver
            self._walk_error = e
            with self._cond:
                self._stop = True
            with contextlib.suppress(Exception):
                self._w.send(W.ERROR, W.error_payload(e), flush=True)

    def _walk(self) -> None:
        next_dir, next_file = 1, 0
        if self._single:
            parent, name = os.path.split(self._src)
            st = os.stat(self._src)
            enc = W.ListingEncoder(0)
            self._add_dir(0, parent or b".")
            next_file = self._add_file(enc, 0, parent or b".", name, st, next_file)
            self._w.send(W.LIST, enc.finish())
            self._listed = 1
            self._send_list_end(1, next_file, st)
            return
        stack: List[Tuple[int, bytes]] = [(0, self._src)]
        while stack:
            dir_id, path = stack.pop()
            with self._cond:
                while self._listed - self._acked >= WINDOW and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
            self._add_dir(dir_id, path)
            enc = W.ListingEncoder(dir_id)
            subdirs = []
            for name, st in self._listdir(path):
                if stat.S_ISDIR(st.st_mode):
                    part = enc.add(W.Entry(W.KIND_DIR, name, stat.S_IMODE(st.st_mode) & 0o777,
                                           st.st_mtime_ns))
                    subdirs.append((next_dir, os.path.join(path, name)))
                    next_dir += 1
                elif stat.S_ISLNK(st.st_mode):
                    try:
                        target = os.readlink(os.path.join(path, name))
                    except OSError:
                        continue  # gone since listed
                    if not 0 < len(target) <= W.MAX_TARGET:
                        continue
                    part = enc.add(W.Entry(W.KIND_LINK, name, stat.S_IMODE(st.st_mode) & 0o777,
                                           st.st_mtime_ns, target=target))
                else:
                    part = None
                    next_file = self._add_file(enc, dir_id, path, name, st, next_file)
                if part is not None:
                    self._w.send(W.LIST, part)
            self._w.send(W.LIST, enc.finish(), flush=True)
            with self._cond:
                self._listed += 1
            stack.extend(reversed(subdirs))
        self._send_list_end(next_dir, next_file, os.stat(self._src))

    def _send_list_end(self, dirs: int, files: int, root: os.stat_result) -> None:
        """The end of the file list: its counts, and the root's own mode and
        mtime (applied last, as rsync does for ``src/``)."""
        payload = bytearray()
        W.put_uvarint(payload, dirs)
        W.put_uvarint(payload, files)
        W.put_uvarint(payload, stat.S_IMODE(root.st_mode) & 0o777)
        W.put_svarint(payload, root.st_mtime_ns)
        self._w.send(W.LIST_END, payload, flush=True)

    def _add_dir(self, dir_id: int, path: bytes) -> None:
        with self._cond:
            self._dirs[dir_id] = path
            self._dir_files[dir_id] = []

    def _add_file(self, enc: W.ListingEncoder, dir_id: int, path: bytes, name: bytes,
                  st: os.stat_result, file_id: int) -> int:
        """Add a file entry (and send the listing part it completes, if any);
        the next file id."""
        digest = _digest_file(os.path.join(path, name), st.st_size) if self._checksum else b""
        part = enc.add(W.Entry(W.KIND_FILE, name, stat.S_IMODE(st.st_mode) & 0o777,
                               st.st_mtime_ns, st.st_size, digest=digest))
        with self._cond:
            self._files[file_id] = _File(dir_id, name, st.st_size, st.st_mtime_ns)
            self._dir_files[dir_id].append(file_id)
        self.stats.files += 1
        self.stats.file_bytes += st.st_size
        if part is not None:
            self._w.send(W.LIST, part)
        return file_id + 1

    @staticmethod
    def _listdir(path: bytes) -> List[Tuple[bytes, os.stat_result]]:
        found = []
        with os.scandir(path) as it:
            for e in it:
                if _tree._TEMP_RE.match(os.fsdecode(e.name)):
                    continue
                try:
                    st = e.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)
                        or stat.S_ISLNK(st.st_mode)):
                    continue
                if len(e.name) > W.MAX_NAME or e.name in (b".", b".."):
                    continue
                found.append((e.name, st))
        found.sort(key=lambda t: t[0])
        return found

    # -- requests ---------------------------------------------------------------------

    def _serve(self) -> None:
        r = self._r
        while True:
            kind, payload = r.next()
            if kind == W.REQUEST:
                self._answer(W.Cursor(payload, "request"))
            elif kind == W.ACK:
                c = W.Cursor(payload, "acknowledgement")
                dir_id = c.uvarint()
                c.done()
                with self._cond:
                    if self._dirs.pop(dir_id, None) is None:
                        raise W.corrupt(f"an acknowledgement of directory {dir_id}, which "
                                        "is not waiting for one")
                    for file_id in self._dir_files.pop(dir_id, ()):
                        f = self._files.get(file_id)
                        if f is not None and f.path is None:
                            del self._files[file_id]
                    self._acked += 1
                    self._cond.notify_all()
            elif kind == W.DONE:
                return
            elif kind == W.ERROR:
                raise W.peer_error("receiver", payload)
            else:
                raise W.corrupt(f"a {chr(kind)!r} message from the receiver")

    def _answer(self, c: W.Cursor) -> None:
        file_id = c.uvarint()
        kind = c.byte()
        with self._cond:
            f = self._files.get(file_id)
            path = (f.path or self._dirs.get(f.dir_id)) if f is not None else None
        if f is None or path is None:
            raise W.corrupt(f"a request for file {file_id}, which was not listed or whose "
                            "directory was acknowledged")
        sig = None
        if kind in (W.DELTA, W.DELTA_AGAIN):
            old_size = c.bounded((1 << 63) - 1, "an old file size")
            c.done()
            sig = self._read_signature(old_size)
            f.path = path
        elif kind == W.WHOLE:
            c.done()
        else:
            raise W.corrupt(f"a request of unknown kind {kind}")
        full = os.path.join(path, f.name)
        opened = _tree._open_regular(os.fsdecode(full))
        if opened is None:
            payload = bytearray()
            W.put_uvarint(payload, file_id)
            payload += b"vanished"
            self._w.send(W.SKIP, payload, flush=True)
            return
        fobj, _st = opened
        with fobj:
            self._send_file(file_id, kind, fobj, f, sig)

    def _read_signature(self, old_size: int) -> _api.Signature:
        job = _api.LoadSignatureJob(max_blocks=MAX_SIG_BLOCKS, file_size=old_size)
        try:
            while True:
                kind, payload = self._r.next()
                if kind == W.SIG:
                    job.update(payload)
                elif kind == W.SIG_END:
                    job.finish()
                    sig = job.signature
                    break
                else:
                    raise W.corrupt(f"a {chr(kind)!r} message inside a signature")
        finally:
            job.close()
        blocks = -(-old_size // sig.block_len) if sig.block_len else 0
        if sig.block_len > MAX_BLOCK_LEN or sig.block_count != blocks:
            raise W.corrupt(f"a signature of {sig.block_count} blocks of {sig.block_len} "
                            f"bytes for an old file of {old_size} bytes")
        return sig

    def _send_file(self, file_id: int, kind: int, f: io.FileIO, entry: _File,
                   sig: Optional[_api.Signature]) -> None:
        w = self._w
        head = bytearray()
        W.put_uvarint(head, file_id)
        head.append(W.WHOLE if sig is None else W.DELTA)
        w.send(W.FILE, head)
        comp = _compress.Compressor() if self._zstd else None
        out = bytearray()

        def emit(data: Any) -> None:
            nonlocal out
            if comp is not None:
                data = comp.compress(data)
                if not data:
                    return
            out += data
            if len(out) >= W.CHUNK_SIZE:
                w.send(W.CHUNK, out)
                out = bytearray()

        source = _tree._Source(f, entry.size, entry.size, digest=False)
        digest = _rsync.XXH3_128()
        reader = _Hashing(source, digest)
        if sig is None:
            W.pump(reader, emit)
            self.stats.literal_bytes += reader.size
        else:
            job: Any = (_parallel.ParallelDeltaJob(sig, self._threads)
                        if self._threads > 1 and entry.size >= _BIG_FILE else _api.DeltaJob(sig))
            with job:
                job.run(reader, emit)
                done = job.stats
            self.stats.literal_bytes += done.lit_bytes
            self.stats.matched_bytes += done.copy_bytes
        if comp is not None:
            out += comp.flush()
        if out:
            w.send(W.CHUNK, out)
        st = os.fstat(f.fileno())
        changed = (st.st_size != entry.size or st.st_mtime_ns != entry.mtime
                   or reader.size != entry.size)
        end = bytearray()
        W.put_uvarint(end, reader.size)
        end += digest.digest()
        end.append(W.CHANGED if changed else 0)
        w.send(W.END_FILE, end, flush=True)


class _Hashing:
    """A reader that hashes what passes through it."""

    def __init__(self, raw: Any, h: Any) -> None:
        self._raw = raw
        self._h = h
        self.size = 0

    def readinto(self, buf: Any) -> int:
        n = self._raw.readinto(buf)
        if n:
            self._h.update(memoryview(buf)[:n])
            self.size += n
        return n


__all__ = ["Sender"]
