"""The receiver: its generator compares the sender's file list with the
destination and asks only for what differs; its patcher applies what comes
back, checks each file's digest and renames it into place.

Two threads.  The caller's reads the sender's stream: it decodes the file
list (handing each complete directory to the generator) and patches files
as their data arrives.  The generator's compares, signs the old files of
changed ones and writes the requests; it is the only writer of the stream
to the sender, so a request for a file again (after a digest mismatch) goes
through it too, and it ends the stream once nothing is pending.  The reader
never waits for the generator, so neither side can block the other with
full pipes.

Every name in the list is one path component; every directory is opened
relative to its parent's descriptor without following links (through the
same helpers ``librsync.tree`` uses), so nothing a sender lists can lead
outside the destination.
"""

from __future__ import annotations

import errno
import logging
import os
import queue
import stat
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from .. import _api, _rsync
from .. import tree as _tree
from ..exceptions import InputEndedError, LimitExceededError
from . import _compress, _wire as W
from ._stats import SyncStats

_CACHE = 32  # directory descriptors each thread keeps open
_STOP_WAIT = 5.0  # seconds to wait for the generator after a failure


class _Stopped(Exception):
    """The reader failed: the generator stops where it is."""
#: How far (in directories) a sender may list ahead of our acknowledgements:
#: its window (the sender's WINDOW, 64) and some slack.  Beyond it, the
#: sender is not waiting for us, and the listings it sends would pile up.
_WINDOW_SLACK = 64 + 8
_FINISH, _CHECK, _REDO = object(), object(), object()
#: The signatures' format: RabinKarp weak sums (fewer false matches than
#: the rollsum on structured data) and BLAKE2b strong sums.
SIG_MAGIC = _api.RS_RK_BLAKE2_SIG_MAGIC


class _ShortSumsAreMeant(logging.Filter):
    """librsync warns when a signature's strong sums are shorter than it
    recommends for a file without a second chance; ours have one (the
    digest check and the second request), so the generator's warnings of
    that kind are noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.threadName == _GENERATOR
                    and record.getMessage().startswith("(rs_sig_args) strong_len="))


_GENERATOR = "sync generator"
logging.getLogger("librsync").addFilter(_ShortSumsAreMeant())


def strong_len_for(size: int, block_len: int) -> int:
    """Strong-sum bytes for a file of ``size`` in blocks of ``block_len``:
    enough that a false match anywhere in the file is unlikely (about 10
    bits of margin over 2*log2(size) - log2(block_len), less the 32 bits of
    the weak sum), at least 2.  Shorter than librsync's own choice because a
    collision here costs only a second request: every file's digest is
    checked, and a mismatch asks for it again with full-length sums."""
    bits = 10 + 2 * max(size, 1).bit_length() - max(block_len, 1).bit_length()
    return min(max((bits + 1 - 32 + 7) // 8, 2), 32)


class _DirInfo:
    __slots__ = ("parent", "name", "mode", "mtime", "depth", "path_len", "exists")

    def __init__(self, parent: int, name: str, mode: int, mtime: int, depth: int,
                 path_len: int, exists: bool) -> None:
        self.parent = parent
        self.name = name
        self.mode = mode
        self.mtime = mtime
        self.depth = depth
        self.path_len = path_len
        self.exists = exists


class _DirCache:
    """Open destination directories by id, a few at a time, each reopened
    from its parent without following links when it is needed again."""

    def __init__(self, dirs: Dict[int, _DirInfo], root: _tree._Dir) -> None:
        self._dirs = dirs
        self._root = root
        self._open: Dict[int, _tree._Dir] = {}

    def get(self, dir_id: int) -> _tree._Dir:
        if dir_id == 0:
            return self._root
        d = self._open.pop(dir_id, None)
        if d is None:
            info = self._dirs[dir_id]
            parent = self.get(info.parent)
            d = self._enter(parent, info)
            if len(self._open) >= _CACHE:
                oldest = next(iter(self._open))
                self._open.pop(oldest).close()
        self._open[dir_id] = d  # most recent last
        return d

    @staticmethod
    def _enter(parent: _tree._Dir, info: _DirInfo) -> _tree._Dir:
        path = os.path.join(parent.path, info.name)
        rel = parent._shown(info.name)
        if not info.exists or not parent.exists:
            return _tree._Dir(None, path, rel, True, exists=False)
        if parent.fd is None:
            st = os.lstat(path)
            if _tree._is_link(st) or not stat.S_ISDIR(st.st_mode):
                raise _tree.UnsafePathError(f"{rel!r} turned into a symlink or file")
            return _tree._Dir(None, path, rel, parent.dry_run)
        try:
            fd = os.open(info.name, os.O_RDONLY | _tree._O_DIRECTORY | _tree._O_NOFOLLOW
                         | _tree._O_CLOEXEC, dir_fd=parent.fd)
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.ENOTDIR):
                raise _tree.UnsafePathError(f"{rel!r} turned into a symlink or file in the "
                                            "destination while it was synced") from None
            raise
        return _tree._Dir(fd, path, rel, parent.dry_run)

    def close(self) -> None:
        for d in self._open.values():
            d.close()
        self._open.clear()


class _Pending:
    __slots__ = ("dir_id", "name", "entry", "kind", "old_size")

    def __init__(self, dir_id: int, name: str, entry: W.Entry, kind: int,
                 old_size: int) -> None:
        self.dir_id = dir_id
        self.name = name
        self.entry = entry
        self.kind = kind
        self.old_size = old_size


class Receiver:
    """One sync's receiving side (see :func:`librsync.sync.receive`)."""

    def __init__(self, dst: str, reader: Any, writer: Any, *, delete: bool = False,
                 checksum: bool = False, dry_run: bool = False, compress: bool = False,
                 fsync: bool = False, max_file_size: Optional[int] = None) -> None:
        if max_file_size is not None and (not isinstance(max_file_size, int)
                                          or max_file_size < 0):
            raise ValueError(f"max_file_size must be None or an int >= 0, not "
                             f"{max_file_size!r}")
        self._dst = os.fspath(dst)
        self._r = W.MessageReader(reader, "sender's stream")
        self._w = W.MessageWriter(writer)
        self._delete = bool(delete)
        self._checksum = bool(checksum)
        self._dry_run = bool(dry_run)
        self._compress = bool(compress)
        self._fsync = bool(fsync)
        self._max_file_size = max_file_size
        self.stats = SyncStats(dry_run=self._dry_run)
        self._dirs: Dict[int, _DirInfo] = {}
        self._pending: Dict[int, _Pending] = {}
        self._lock = threading.Lock()
        self._queue: "queue.Queue[Any]" = queue.Queue()
        self._gen_error: Optional[BaseException] = None
        self._acks = 0
        self._rename: Optional[str] = None
        self._stopping = False

    # -- setting up ----------------------------------------------------------------------

    def _root(self, single: bool) -> _tree._Dir:
        dst = self._dst
        if single:
            if os.path.isdir(dst):
                return _tree._Dir.existing(dst, self._dry_run)
            parent, name = os.path.split(dst)
            if not name:
                raise IsADirectoryError(21, "is a directory, and the source is a file", dst)
            self._rename = name
            return _tree._Dir.existing(parent or os.curdir, self._dry_run)
        return _tree._Dir.root(dst, self._dry_run, _tree._DIR_FDS)

    def run(self) -> SyncStats:
        features = (W.FEAT_ZSTD if _compress.available() else 0) \
            | (W.FEAT_COMPRESS if self._compress else 0) \
            | (W.FEAT_CHECKSUM if self._checksum else 0)
        self._w.send(W.HELLO, W.hello_payload(features), flush=True)
        peer = W.read_hello(self._r)
        self._zstd = bool((features | peer.features) & W.FEAT_COMPRESS
                          and features & peer.features & W.FEAT_ZSTD)
        self._single = bool(peer.features & W.FEAT_SINGLE)
        root = self._root(self._single)
        root_len = len(os.fsencode(os.path.abspath(root.path)))
        self._dirs[0] = _DirInfo(-1, "", 0, 0, 0, root_len, root.exists)
        self._gcache = _DirCache(self._dirs, root)
        self._rcache = _DirCache(self._dirs, root)
        gen = threading.Thread(target=self._generate_safely, name=_GENERATOR, daemon=True)
        gen.start()
        ok = False
        try:
            self._read()
            ok = True
        except BaseException as e:
            if not isinstance(e, (W.PeerError, InputEndedError)) and self._gen_error is None:
                try:
                    self._w.send(W.ERROR, W.error_payload(e), flush=True)
                except Exception:
                    pass
            raise
        finally:
            if ok:
                gen.join()
            else:
                # The generator stops at its next entry; it is waited for
                # (so that it leaves nothing half-made behind us) unless it
                # is blocked writing to a peer that no longer reads, which
                # the caller's closing the streams ends.
                self._stopping = True
                self._queue.put(_FINISH)
                gen.join(_STOP_WAIT)
            self._rcache.close()
        if self._gen_error is not None:
            raise self._gen_error
        self._gcache.close()
        self._finish_dirs(root)
        root.close()
        self.stats.bytes_sent = self._w.nbytes
        self.stats.bytes_received = self._r.nbytes
        return self.stats

    # -- the reader ----------------------------------------------------------------------

    def _read(self) -> None:
        r = self._r
        self._decoders: Dict[int, W.ListingDecoder] = {}
        self._announced_dirs, self._files_seen, self._listed = 1, 0, 0
        self._completed: set[int] = set()
        self._depths: Dict[int, int] = {0: 0}  # the generator fills self._dirs, later
        self._list_done = False
        while True:
            try:
                kind, payload = r.next()
            except BaseException:
                if self._gen_error is not None:
                    raise self._gen_error from None
                raise
            if kind in (W.LIST, W.LIST_END):
                self._list_message(kind, payload)
            elif kind == W.FILE:
                self._receive_file(W.Cursor(payload, "file header"))
            elif kind == W.SKIP:
                c = W.Cursor(payload, "skip")
                file_id = c.uvarint()
                reason = c.rest().decode("utf-8", "replace")[:200]
                p = self._take(file_id)
                self.stats.skipped.append((self._shown(p), reason or "not sent"))
                self._queue.put(_CHECK)
            elif kind == W.ERROR:
                raise W.peer_error("sender", payload)
            elif kind == W.DONE:
                if not self._list_done:
                    raise W.corrupt("the sender ended before its file list")
                c = W.Cursor(payload, "end")
                self.stats.files = c.uvarint()
                return
            else:
                raise W.corrupt(f"a {chr(kind)!r} message from the sender")

    def _list_message(self, kind: int, payload: bytes) -> None:
        """A part of the file list: decoded, given ids, handed to the
        generator.  It may come between the messages of a file's data (the
        sender walks while it sends)."""
        if self._list_done:
            raise W.corrupt("a listing after the end of the file list")
        if kind == W.LIST_END:
            c = W.Cursor(payload, "end of the file list")
            dirs_said, files_said = c.uvarint(), c.uvarint()
            root = self._dirs[0]
            root.mode = c.bounded(0o7777, "a mode") & 0o777
            root.mtime = c.svarint()
            c.done()
            if self._decoders or (dirs_said, files_said) != (
                    self._announced_dirs, self._files_seen) \
                    or self._listed != self._announced_dirs:
                raise W.corrupt("the file list ended before all its directories were "
                                "listed, or its counts are wrong")
            self._list_done = True
            self._queue.put(None)
            return
        c = W.Cursor(payload, "listing")
        dir_id = c.uvarint()
        last = c.byte()
        if dir_id >= self._announced_dirs or dir_id in self._completed:
            raise W.corrupt(f"a listing of directory {dir_id}, which was not "
                            "announced or was listed already")
        if self._listed - self._acks > _WINDOW_SLACK:
            raise W.corrupt("the sender lists directories far ahead of the "
                            "acknowledgements")
        dec = self._decoders.get(dir_id)
        if dec is None:
            dec = self._decoders[dir_id] = W.ListingDecoder(dir_id, self._checksum)
        entries = dec.decode(c)
        c.done()
        with_ids = []
        for e in entries:
            if e.kind == W.KIND_DIR:
                ident = self._announced_dirs
                self._announced_dirs += 1
                self._depths[ident] = self._depths[dir_id] + 1
                if self._depths[ident] > W.MAX_DEPTH:
                    raise _tree.LimitExceededError(
                        f"the file list nests more than {W.MAX_DEPTH} directories")
            elif e.kind == W.KIND_FILE:
                ident = self._files_seen
                self._files_seen += 1
            else:
                ident = -1
            with_ids.append((e, ident))
        self._queue.put((dir_id, with_ids, bool(last)))
        if last:
            del self._decoders[dir_id]
            self._completed.add(dir_id)
            self._listed += 1

    def _take(self, file_id: int) -> _Pending:
        with self._lock:
            p = self._pending.pop(file_id, None)
        if p is None:
            raise W.corrupt(f"data for file {file_id}, which was not requested")
        return p

    def _shown(self, p: _Pending) -> str:
        rel = self._gcache_rel(p.dir_id)
        return (rel + "/" if rel else "") + p.name

    def _gcache_rel(self, dir_id: int) -> str:
        parts = []
        while dir_id > 0:
            info = self._dirs[dir_id]
            parts.append(info.name)
            dir_id = info.parent
        return "/".join(reversed(parts))

    def _receive_file(self, c: W.Cursor) -> None:
        file_id = c.uvarint()
        kind = c.byte()
        c.done()
        with self._lock:
            p = self._pending.get(file_id)
        if p is None or (kind == W.WHOLE) != (p.kind == W.WHOLE):
            raise W.corrupt(f"data for file {file_id}, which was not requested so")
        d = self._rcache.get(p.dir_id)
        what = self._shown(p)
        entry = p.entry
        data = _DataReader(self._r, _compress.Decompressor() if self._zstd else None, what,
                           self._list_message)
        basis = d.open_basis(p.name) if kind != W.WHOLE else None
        temp = None
        digest = _rsync.XXH3_128()
        written = 0
        limit = entry.size
        per_byte = _block_len(p.old_size)
        expansion = _tree._EXPANSION_OLD * p.old_size + _tree._EXPANSION_SLACK
        try:
            temp = d.temp()
            fd = temp.fd

            def write(view: Any) -> None:
                nonlocal written
                n = len(view)
                if written + n > limit:
                    raise W.corrupt(f"{what!r}: more data than the {limit} bytes listed")
                if basis is not None and written + n > expansion + data.nread * per_byte:
                    raise LimitExceededError(
                        f"{what!r}: the delta makes more than {written + n} bytes of a "
                        f"{p.old_size}-byte old file from {data.nread} bytes of delta "
                        "(the bound is four times the old file plus one signature block "
                        "per byte of delta, plus 1 MiB); a hostile stream?")
                digest.update(view)
                done = 0
                while done < n:
                    done += os.write(fd, view[done:])
                written += n

            if basis is None:
                W.pump(data, write)
            else:
                with _api.PatchJob(basis, max_length=limit) as job:
                    job.run(data, write)
                    done_stats = job.stats
                basis.close()
                basis = None
            size, want, flags = data.finish()
            self._take(file_id)
            if flags & W.CHANGED:
                self.stats.skipped.append((what, "changed while it was read"))
            elif size != written or want != digest.digest():
                if kind == W.DELTA:
                    # A strong-sum collision (or a lie): ask again with
                    # full-length sums, as rsync's second phase does.
                    p.kind = W.DELTA_AGAIN
                    with self._lock:
                        self._pending[file_id] = p
                    self._queue.put((_REDO, file_id))
                    self.stats.files_redone += 1
                    return
                raise W.corrupt(f"{what!r}: the file received does not match its digest "
                                f"({written} bytes, the sender says {size}); it was not "
                                "replaced")
            else:
                d.commit(temp, p.name, entry.mode, entry.mtime, durable=self._fsync)
                temp = None
                if kind == W.WHOLE:
                    self.stats.files_new += 1
                    self.stats.literal_bytes += written
                else:
                    self.stats.files_changed += 1
                    self.stats.literal_bytes += done_stats.lit_bytes
                    self.stats.matched_bytes += done_stats.copy_bytes
                self.stats.file_bytes += written
        finally:
            if temp is not None:
                d.discard(temp)
            if basis is not None:
                basis.close()
        self._queue.put(_CHECK)

    # -- the generator -------------------------------------------------------------------

    def _generate_safely(self) -> None:
        try:
            self._generate()
        except BaseException as e:
            self._gen_error = e
            # The sender then stops and ends its stream, which ends the
            # reader's wait (closing ours would not do: another process, an
            # rsh, may hold the same pipe).
            try:
                self._w.send(W.ERROR, W.error_payload(e), flush=True)
            except Exception:
                pass

    def _generate(self) -> None:
        list_done = False
        current: Dict[int, Dict[str, os.stat_result]] = {}
        while True:
            item = self._queue.get()
            if item is _FINISH:
                return
            if item is None:
                list_done = True
            elif item is _CHECK:
                pass
            elif isinstance(item, tuple) and item[0] is _REDO:
                self._request_again(item[1])
            else:
                dir_id, entries, last = item
                local = current.get(dir_id)
                if local is None:
                    local = current[dir_id] = self._local_listing(dir_id)
                self._compare(dir_id, entries, local)
                if last:
                    del current[dir_id]
                    self._extras(dir_id, local)
                    ack = bytearray()
                    W.put_uvarint(ack, dir_id)
                    self._acks += 1  # before the sender can see it
                    self._w.send(W.ACK, ack, flush=True)
            if list_done:
                with self._lock:
                    empty = not self._pending
                if empty:
                    self._w.send(W.DONE, b"", flush=True)
                    return

    def _local_listing(self, dir_id: int) -> Dict[str, os.stat_result]:
        d = self._gcache.get(dir_id)
        if not d.exists:
            return {}
        out = {}
        with os.scandir(d.fd if d.fd is not None else d.path) as it:
            for e in it:
                if _tree._TEMP_RE.match(e.name):
                    continue
                try:
                    out[e.name] = e.stat(follow_symlinks=False)
                except FileNotFoundError:
                    pass
        return out

    def _compare(self, dir_id: int, entries: List[Tuple[W.Entry, int]],
                 local: Dict[str, os.stat_result]) -> None:
        d = self._gcache.get(dir_id)
        info = self._dirs[dir_id]
        stats = self.stats
        dry = self._dry_run
        for e, ident in entries:
            if self._stopping:
                raise _Stopped()
            name = os.fsdecode(e.name)
            if self._single:
                if dir_id != 0 or e.kind != W.KIND_FILE or len(entries) != 1:
                    raise W.corrupt("a single file's listing holds more than that file")
                if self._rename is not None:
                    name = self._rename
            if os.name == "nt":
                problem = _tree._windows_name_problem(name)
                if problem:
                    raise _tree.UnsafePathError(f"{name!r}: {problem}")
            path_len = info.path_len + 1 + len(e.name)
            if path_len > W.MAX_PATH:
                raise LimitExceededError(f"{d._shown(name)!r}: a path of {path_len} bytes "
                                         f"in the destination (the limit is {W.MAX_PATH})")
            st = local.pop(name, None)
            is_dir = st is not None and stat.S_ISDIR(st.st_mode) and not _tree._is_link(st)
            if e.kind == W.KIND_DIR:
                exists = is_dir
                if not is_dir:
                    if st is not None:
                        stats.deleted += d.remove(name)
                    if not dry:
                        os.mkdir(d._p(name), 0o700, dir_fd=d.fd)
                        exists = True
                self._dirs[ident] = _DirInfo(dir_id, name, e.mode, e.mtime, info.depth + 1,
                                             path_len, exists)
                stats.dirs += 1
            elif e.kind == W.KIND_LINK:
                if is_dir:
                    self._make_room(d, name)
                d.symlink(name, os.fsdecode(e.target), e.mtime)
                stats.symlinks += 1
            else:
                self._compare_file(d, dir_id, name, e, ident, st, is_dir)

    def _make_room(self, d: _tree._Dir, name: str) -> None:
        """A directory where the source has a file or link: removed only
        with ``delete``, as it may hold what the source does not."""
        if not self._delete:
            raise _tree._corrupt(f"{d._shown(name)!r} is a directory in the destination "
                                 "and not in the source; sync with delete=True (--delete) "
                                 "to replace it")
        self.stats.deleted += d.remove(name)

    def _compare_file(self, d: _tree._Dir, dir_id: int, name: str, e: W.Entry, ident: int,
                      st: Optional[os.stat_result], is_dir: bool) -> None:
        stats = self.stats
        regular = st is not None and stat.S_ISREG(st.st_mode)
        if self._single and regular and st is not None:
            # One file onto one file keeps the destination's permission
            # bits, as a local file sync does.
            e = e._replace(mode=stat.S_IMODE(st.st_mode) & 0o777)
        if regular and st is not None and st.st_size == e.size and (
                self._same_digest(d, name, e) if self._checksum else st.st_mtime_ns == e.mtime):
            stats.files_unchanged += 1
            stats.file_bytes += e.size
            if not self._dry_run and (stat.S_IMODE(st.st_mode) != e.mode
                                      or st.st_mtime_ns != e.mtime):
                d.touch(name, e)
            return
        if self._max_file_size is not None and e.size > self._max_file_size:
            raise LimitExceededError(f"{d._shown(name)!r}: the sender lists {e.size} bytes, "
                                     f"more than max_file_size={self._max_file_size}")
        if is_dir:
            self._make_room(d, name)
            regular = False
        if self._dry_run:
            if regular:
                stats.files_changed += 1
            else:
                stats.files_new += 1
            stats.file_bytes += e.size
            return
        p = _Pending(dir_id, name, e, W.DELTA if regular else W.WHOLE,
                     st.st_size if regular and st is not None else 0)
        self._request(ident, p, d)

    def _same_digest(self, d: _tree._Dir, name: str, e: W.Entry) -> bool:
        try:
            f = d.open_basis(name)
        except (OSError, _tree.CorruptDataError):
            return False
        h = _rsync.XXH3_128()
        with f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                h.update(chunk)
        return h.digest() == e.digest

    def _request(self, file_id: int, p: _Pending, d: Optional[_tree._Dir] = None) -> None:
        with self._lock:
            self._pending[file_id] = p
        head = bytearray()
        W.put_uvarint(head, file_id)
        head.append(p.kind)
        if p.kind == W.WHOLE:
            self._w.send(W.REQUEST, head)
            return
        if d is None:
            d = self._gcache.get(p.dir_id)
        W.put_uvarint(head, p.old_size)
        basis = d.open_basis(p.name)
        with basis:
            size = os.fstat(basis.fileno()).st_size
            if size != p.old_size:  # changed since it was listed: ask for it whole
                p.kind = W.WHOLE
                p.old_size = 0
                head = bytearray()
                W.put_uvarint(head, file_id)
                head.append(W.WHOLE)
                self._w.send(W.REQUEST, head)
                return
            self._w.send(W.REQUEST, head)
            block = _block_len(size)
            # 0: the longest the format has, for the second request.
            strong = 0 if p.kind == W.DELTA_AGAIN else strong_len_for(size, block)
            out = bytearray()

            def emit(data: Any) -> None:
                nonlocal out
                out += data
                if len(out) >= W.CHUNK_SIZE:
                    self._w.send(W.SIG, out)
                    out = bytearray()

            with _api.SignatureJob(block, strong, SIG_MAGIC, size) as job:
                job.run(basis, emit)
            if out:
                self._w.send(W.SIG, out)
            self._w.send(W.SIG_END, b"", flush=True)

    def _request_again(self, file_id: int) -> None:
        with self._lock:
            p = self._pending.get(file_id)
        if p is not None:
            self._request(file_id, p)

    def _extras(self, dir_id: int, local: Dict[str, os.stat_result]) -> None:
        """What the destination has in this directory and the source has
        not: removed with ``delete``, kept otherwise."""
        if not self._delete or not local or self._single:
            return
        d = self._gcache.get(dir_id)
        for name in sorted(local):
            self.stats.deleted += d.remove(name)

    # -- the end -------------------------------------------------------------------------

    def _finish_dirs(self, root: _tree._Dir) -> None:
        """Directories' modes and mtimes, deepest first, once their contents
        are complete."""
        if self._dry_run:
            return
        cache = _DirCache(self._dirs, root)
        try:
            order = sorted((i for i in self._dirs if i != 0 or not self._single),
                           key=lambda i: -self._dirs[i].depth)
            for dir_id in order:
                info = self._dirs[dir_id]
                d = cache.get(dir_id)
                target: Any = d.fd if d.fd is not None else d.path
                os.chmod(target, info.mode)
                os.utime(target, ns=(time.time_ns(), info.mtime))
        finally:
            cache.close()


#: librsync's recommended block length for a file of a given size (the
#: one rule, tree's).
_block_len = _tree._signature_block_len


class _DataReader:
    """One file's data, from its ``C`` messages up to its ``E``: a binary
    reader for the patch job (decompressed, when the sync is)."""

    def __init__(self, r: W.MessageReader, decomp: Optional[_compress.Decompressor],
                 what: str, on_list: Any) -> None:
        self._r = r
        self._on_list = on_list
        self._d = decomp
        self._what = what
        self._buf = b""
        self._pos = 0
        self._end: Optional[bytes] = None
        self.nread = 0  # bytes of data messages read (the delta's size on the wire)

    def readinto(self, buf: Any) -> int:
        view = memoryview(buf)
        want = len(view)
        while True:
            if self._pos < len(self._buf):
                n = min(want, len(self._buf) - self._pos)
                view[:n] = self._buf[self._pos:self._pos + n]
                self._pos += n
                return n
            if self._d is not None and not self._d.needs_input:
                self._buf, self._pos = self._d.decompress(b"", max(want, 1 << 16)), 0
                if self._buf:
                    continue
            if self._end is not None:
                return 0
            kind, payload = self._r.next()
            if kind == W.CHUNK:
                self.nread += len(payload)
                if self._d is not None:
                    self._buf = self._d.decompress(payload, max(want, 1 << 16))
                else:
                    self._buf = payload
                self._pos = 0
            elif kind in (W.LIST, W.LIST_END):
                self._on_list(kind, payload)
            elif kind == W.ERROR:
                raise W.peer_error("sender", payload)
            elif kind == W.END_FILE:
                self._end = payload
                if self._d is not None and not self._d.eof and self.nread:
                    raise W.corrupt(f"{self._what!r}: the compressed data ends early")
            else:
                raise W.corrupt(f"{self._what!r}: a {chr(kind)!r} message inside its data")

    def finish(self) -> Tuple[int, bytes, int]:
        """(size, digest, flags) of the E message, once no data is left."""
        scratch = bytearray(1 << 16)
        while self.readinto(scratch):
            raise W.corrupt(f"{self._what!r}: data after the end of its delta")
        assert self._end is not None
        c = W.Cursor(self._end, "end of a file")
        size = c.uvarint()
        digest = c.take(W.DIGEST_SIZE)
        flags = c.byte()
        c.done()
        return size, digest, flags
