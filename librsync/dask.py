"""Signatures, deltas and patches of many files on a ``dask.distributed``
cluster.

Not imported by ``import librsync``; needs the ``dask`` extra
(``pip install 'librsync[dask]'``)::

    from distributed import Client
    import librsync.dask

    client = Client("tcp://scheduler:8786")
    futures = librsync.dask.sync_files(client, olds, news, outs)
    for out, future in zip(outs, futures):
        try:
            stats = future.result()          # a SyncStats
        except librsync.LibrsyncError as e:  # names the file; e.code as usual
            print(e)

Every function takes lists with one item per file (``olds[i]``, ``news[i]``
and ``outs[i]`` go together), submits each file's work as tasks of its own
and returns at once with a list of ``distributed.Future``, one per file, in
the order given.  A failure belongs
to its file alone: that file's future raises, the others complete normally.
A :class:`~librsync.LibrsyncError` raised by a file keeps its class and
``code`` and its message starts with what was being done to which file
(``"stream corrupt: patch of 'a.bin' with delta 'a.delta': ..."``).

Files given as paths are opened by the workers, so every worker must see
them under the same names: a shared filesystem (NFS, a cluster file system,
or a single machine).  Workers stream them (memory does not grow with the
file's size) and write path outputs atomically, as the one-shot functions
do.  ``bytes`` may be given instead of a path; they travel with the task.
Any input may also be a ``Future`` of such a value (for example from
``client.scatter`` or a previous call here), which stays on the cluster.

Dask orders tasks by the futures they take, not by the files they touch:
when one call writes paths that another reads (deltas to files, then
patches from them), wait for the first call's futures
(``distributed.wait``) before making the second.

Loaded :class:`~librsync.Signature` objects cross between processes by
pickle (as their signature bytes, loaded again on arrival), so
:func:`signatures` can hand them to :func:`deltas` on another worker or back
to the caller.

Tasks are impure (``pure=False``): a file may change between two calls, so
dask must not reuse an earlier result for the same path.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
from typing import Any, Callable, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Union, overload

try:
    from distributed import Client, Future
except ImportError as _exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "librsync.dask needs dask.distributed: pip install 'librsync[dask]'") from _exc

from librsync import (
    RS_RK_BLAKE2_SIG_MAGIC,
    DeltaJob,
    LibrsyncError,
    Signature,
    SignatureJob,
    Stats,
    delta,
    load_signature,
    patch,
    signature,
)

__all__ = ["signatures", "deltas", "patches", "sync_files", "SyncStats"]

_Path = Union[str, "os.PathLike[str]"]
# What a task receives: dask has resolved the futures by then.
_File = Union[_Path, bytes, bytearray]
_Sig = Union[Signature, _File]
# A file: its path (read by a worker), its data, or a future of its data.
_FileInput = Union[_File, "Future[bytes]"]
# A signature: loaded (pickled to the worker), a future of a loaded one, or
# a signature file's path or data (loaded on the worker).
_SignatureInput = Union[_Sig, "Future[Signature]"]


class SyncStats(NamedTuple):
    """What :func:`sync_files` did to one file: the :class:`~librsync.Stats`
    of each step.  ``delta.lit_bytes`` is what would have crossed a network
    between the two copies; ``patch.out_bytes`` is the new file's size."""

    signature: Stats
    delta: Stats
    patch: Stats


# --- the client side -------------------------------------------------------------

def signatures(client: Client, files: Iterable[_FileInput], *, block_size: int = 0,
               strong_len: int = 0, magic: int = RS_RK_BLAKE2_SIG_MAGIC,
               ) -> List[Future[Signature]]:
    """Compute and load the signature of each of ``files`` on the cluster.

    Each future gives a loaded :class:`~librsync.Signature`, held by the
    worker that made it until it is needed: pass the futures to
    :func:`deltas`, or call ``.result()`` to have it pickled to you (store it
    with ``sig.to_bytes()``).  ``block_size``, ``strong_len`` and ``magic``
    mean what they mean for :func:`librsync.signature`, whose defaults (rdiff's)
    they share; they are checked here, before anything is submitted.
    """
    _check_signature_options(block_size, strong_len, magic)
    items = list(files)
    return client.map(_signature_task, items, _labels("signature of", items),
                      key="librsync-signature", pure=False,
                      block_size=block_size, strong_len=strong_len, magic=magic)


@overload
def deltas(client: Client, files: Iterable[_FileInput], sigs: Iterable[_SignatureInput],
           outs: None = None, *, max_blocks: Optional[int] = None) -> List[Future[bytes]]: ...
@overload
def deltas(client: Client, files: Iterable[_FileInput], sigs: Iterable[_SignatureInput],
           outs: Iterable[_Path], *, max_blocks: Optional[int] = None) -> List[Future[Stats]]: ...
def deltas(client: Client, files: Iterable[_FileInput], sigs: Iterable[_SignatureInput],
           outs: Optional[Iterable[_Path]] = None, *, max_blocks: Optional[int] = None,
           ) -> Union[List[Future[bytes]], List[Future[Stats]]]:
    """Compute the delta of each of ``files`` (the new files) against the
    signature in the same place of ``sigs``.

    With ``outs`` (paths), each delta is written to its path atomically and
    its future gives the delta's :class:`~librsync.Stats`.  Without, each
    future gives the delta as ``bytes``, held in a worker's memory (a delta
    can be as large as its new file: use ``outs`` for large files, or
    :func:`sync_files`, which never holds one).  ``max_blocks`` limits the
    signatures loaded from paths or bytes, as in
    :func:`librsync.load_signature`.
    """
    new_files, sig_items = _same_length(files=files, sigs=sigs)
    labels = [f"delta of {_label(f, i, 'file')} against {_label(s, i, 'signature')}"
              for i, (f, s) in enumerate(zip(new_files, sig_items))]
    return _map_two_inputs(client, "librsync-delta", _delta_bytes_task, _delta_file_task,
                           "files", new_files, sig_items, outs, labels, max_blocks=max_blocks)


@overload
def patches(client: Client, bases: Iterable[_FileInput], deltas: Iterable[_FileInput],
            outs: None = None, *, max_length: Optional[int] = None) -> List[Future[bytes]]: ...
@overload
def patches(client: Client, bases: Iterable[_FileInput], deltas: Iterable[_FileInput],
            outs: Iterable[_Path], *, max_length: Optional[int] = None) -> List[Future[Stats]]: ...
def patches(client: Client, bases: Iterable[_FileInput], deltas: Iterable[_FileInput],
            outs: Optional[Iterable[_Path]] = None, *, max_length: Optional[int] = None,
            ) -> Union[List[Future[bytes]], List[Future[Stats]]]:
    """Apply each of ``deltas`` to the basis (old file) in the same place of
    ``bases``.

    With ``outs`` (paths), each new file is written to its path atomically
    (an out may be its own basis: it is replaced once complete) and its
    future gives the patch's :class:`~librsync.Stats`.  Without, each future
    gives the new file as ``bytes`` (for small files).  ``max_length``
    refuses deltas that would produce more than that many bytes, as in
    :func:`librsync.patch`.
    """
    basis_items, delta_items = _same_length(bases=bases, deltas=deltas)
    labels = [f"patch of {_label(b, i, 'basis')} with {_label(d, i, 'delta')}"
              for i, (b, d) in enumerate(zip(basis_items, delta_items))]
    return _map_two_inputs(client, "librsync-patch", _patch_bytes_task, _patch_file_task,
                           "bases", basis_items, delta_items, outs, labels, max_length=max_length)


def sync_files(client: Client, olds: Iterable[_FileInput], news: Iterable[_FileInput],
               outs: Iterable[_Path], *, block_size: int = 0, strong_len: int = 0,
               magic: int = RS_RK_BLAKE2_SIG_MAGIC) -> List[Future[SyncStats]]:
    """Rebuild each of ``news`` at the path in the same place of ``outs``
    from the old file in the same place of ``olds``, as rsync would.

    Two tasks per file: the signature of the old file, then, wherever dask
    runs it (the signature is pickled to that worker if it is another one),
    the delta of the new file against it, streamed straight into the patch of
    the old file, so that no worker holds a whole file or delta.  Each
    output is written atomically; an out may be its old file (an in-place
    update: it is replaced once complete).  Each future gives the file's
    :class:`SyncStats`.  Signature options are those of :func:`signatures`.

    An old file must not change between its signature and its patch.
    """
    _check_signature_options(block_size, strong_len, magic)
    old_items, new_items = _same_length(olds=olds, news=news)
    _, out_paths = _same_length(olds=old_items, outs=outs)
    signed = client.map(_sync_signature_task, old_items, _labels("signature of", old_items),
                        key="librsync-sync-signature", pure=False,
                        block_size=block_size, strong_len=strong_len, magic=magic)
    labels = [f"sync of {_label(o, i, 'old file')} to {_label(n, i, 'new file')} "
              f"into {_label(p, i, 'out')}"
              for i, (o, n, p) in enumerate(zip(old_items, new_items, out_paths))]
    return client.map(_sync_task, signed, old_items, new_items, out_paths, labels,
                      key="librsync-sync", pure=False)


def _check_signature_options(block_size: int, strong_len: int, magic: int) -> None:
    # The job's constructor is what rejects bad options (ValueError): better
    # once here than once per file on the workers.
    SignatureJob(block_size, strong_len, magic).close()


def _map_two_inputs(client: Client, key: str, bytes_task: Callable[..., Any],
                    file_task: Callable[..., Any], first_name: str, first: List[Any],
                    second: List[Any], outs: Optional[Iterable[_Path]], labels: List[str],
                    **options: Any) -> List[Future[Any]]:
    """One task per file for deltas() and patches(): the result comes back
    as bytes, or is written to the matching path of ``outs`` (``first_name``
    names ``first`` in a length mismatch's message)."""
    if outs is None:
        return client.map(bytes_task, first, second, labels, key=key, pure=False, **options)
    _, out_paths = _same_length(**{first_name: first, "outs": outs})
    return client.map(file_task, first, second, out_paths, labels, key=key, pure=False,
                      **options)


def _same_length(**named: Iterable[Any]) -> List[List[Any]]:
    lists = {name: list(items) for name, items in named.items()}
    lengths = {name: len(items) for name, items in lists.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError("one item per file in each list: "
                         + ", ".join(f"{len_} {name}" for name, len_ in lengths.items()))
    return list(lists.values())


def _label(obj: object, index: int, kind: str) -> str:
    """How an error names an input: its path, or its place in the list."""
    if isinstance(obj, (str, os.PathLike)):
        return repr(os.fspath(obj))
    return f"{kind} #{index} ({type(obj).__name__})"


def _labels(what: str, items: Sequence[object]) -> List[str]:
    return [f"{what} {_label(item, i, 'file')}" for i, item in enumerate(items)]


# --- the worker side ---------------------------------------------------------------

@contextlib.contextmanager
def _naming(label: str) -> Iterator[None]:
    """Put ``label`` in front of the message of a LibrsyncError raised inside.

    In the message because that is what survives the pickling to the caller
    (LibrsyncError pickles as its code and message); a copy keeps the class,
    so ``except CorruptDataError`` still works.
    """
    try:
        yield
    except LibrsyncError as err:
        named = _copy_error(err)
        LibrsyncError.__init__(named, err.code, f"{label}: {err.message}")
        raise named from err


def _copy_error(err: LibrsyncError) -> LibrsyncError:
    # Through the class's own pickling (copy uses it), which every
    # LibrsyncError supports whatever its constructor's arguments.
    return copy.copy(err)


def _load(sig: _Sig, max_blocks: Optional[int]) -> Signature:
    if isinstance(sig, Signature):
        return sig
    return load_signature(sig, max_blocks=max_blocks)


def _signature_task(f: _File, label: str, *, block_size: int, strong_len: int,
                    magic: int) -> Signature:
    with _naming(label):
        return load_signature(signature(f, None, block_size, strong_len, magic))


def _delta_bytes_task(f: _File, sig: _Sig, label: str, *,
                      max_blocks: Optional[int]) -> bytes:
    with _naming(label):
        return delta(f, _load(sig, max_blocks), io.BytesIO()).getvalue()


def _delta_file_task(f: _File, sig: _Sig, out: _Path, label: str, *,
                     max_blocks: Optional[int]) -> Stats:
    seen: List[Stats] = []
    with _naming(label):
        delta(f, _load(sig, max_blocks), out, stats=seen.append)
    return seen[0]


def _patch_bytes_task(basis: _File, d: _File, label: str, *,
                      max_length: Optional[int]) -> bytes:
    with _naming(label):
        return patch(basis, d, io.BytesIO(), max_length=max_length).getvalue()


def _patch_file_task(basis: _File, d: _File, out: _Path, label: str, *,
                     max_length: Optional[int]) -> Stats:
    seen: List[Stats] = []
    with _naming(label):
        patch(basis, d, out, max_length=max_length, stats=seen.append)
    return seen[0]


def _sync_signature_task(old: _File, label: str, *, block_size: int, strong_len: int,
                         magic: int) -> tuple[Signature, Stats]:
    seen: List[Stats] = []
    with _naming(label):
        spool = signature(old, None, block_size, strong_len, magic,
                          stats=seen.append)
        with spool:
            return load_signature(spool), seen[0]


def _sync_task(signed: tuple[Signature, Stats], old: _File, new: _File, out: _Path,
               label: str) -> SyncStats:
    sig, sig_stats = signed
    seen: List[Stats] = []
    with _naming(label), _DeltaReader(new, sig) as reader:
        patch(old, reader, out, stats=seen.append)
        return SyncStats(sig_stats, reader.stats, seen[0])


#: Bytes of the new file per DeltaJob.update() in sync_files.
_DELTA_INPUT = 256 * 1024


class _DeltaReader:
    """A binary reader whose content is the delta of ``new`` against ``sig``,
    computed as it is read: the patch pulls the delta through in buffer-sized
    pieces, so it is never whole, in memory or on disk."""

    def __init__(self, new: _File, sig: Signature) -> None:
        self._job = DeltaJob(sig)
        self._new: Union[io.FileIO, io.BytesIO]
        if isinstance(new, (str, os.PathLike)):
            self._new = io.FileIO(new, "rb")
        else:
            self._new = io.BytesIO(new)
        # Smaller than the patch's reads: each update() briefly holds its
        # output twice (pieces, then joined), so this bounds the peak.
        self._buffer = bytearray(_DELTA_INPUT)
        self._pending = memoryview(b"")
        self._ended = False

    @property
    def stats(self) -> Stats:
        return self._job.stats

    def readinto(self, buffer: memoryview) -> int:
        while not self._pending and not self._ended:
            self._pending = memoryview(b"")  # free the used output first
            n = self._new.readinto(self._buffer)
            if n:
                self._pending = memoryview(self._job.update(memoryview(self._buffer)[:n]))
            else:
                self._pending = memoryview(self._job.finish())
                self._ended = True
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def __enter__(self) -> _DeltaReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._job.close()
        self._new.close()
