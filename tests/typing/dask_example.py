"""A typed program using librsync.dask, for ``mypy --strict``.

scripts/check_typing.sh type-checks it against the installed package, and
tests/test_dask.py runs it (on a one-worker loopback cluster of its own), so
it is both well-typed and correct.  ``assert_type`` pins what the overloads promise:
bytes futures without ``outs``, Stats futures with them.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile
from typing import TYPE_CHECKING

from distributed import Client, Future, LocalCluster, wait

import librsync
import librsync.dask
from librsync import Signature, Stats
from librsync.dask import SyncStats

if TYPE_CHECKING:
    from typing_extensions import assert_type
else:  # typing.assert_type is 3.11+; at run time it only returns its argument

    def assert_type(value, _type):
        return value


def backup(client: Client, folder: pathlib.Path) -> int:
    olds = [folder / f"old{i}" for i in range(3)]
    news = [folder / f"new{i}" for i in range(3)]
    for i, (old, new) in enumerate(zip(olds, news)):
        old.write_bytes(bytes(range(256)) * (100 * i + 1))
        new.write_bytes(bytes(range(256)) * (100 * i + 1) + b"more")

    sigs = librsync.dask.signatures(client, olds, block_size=512)
    assert_type(sigs, "list[Future[Signature]]")
    in_memory = librsync.dask.deltas(client, news, sigs)
    assert_type(in_memory, "list[Future[bytes]]")
    rebuilt = librsync.dask.patches(client, olds, in_memory)
    assert_type(rebuilt, "list[Future[bytes]]")
    assert client.gather(rebuilt) == [new.read_bytes() for new in news]

    delta_paths = [str(folder / f"d{i}") for i in range(3)]
    written = librsync.dask.deltas(client, news, sigs, delta_paths, max_blocks=10_000)
    assert_type(written, "list[Future[Stats]]")
    # Dask orders tasks by the futures they take, and knows nothing of files:
    # the deltas must be written before patches() is asked to read them.
    wait(written)
    patched = librsync.dask.patches(client, olds, delta_paths, olds, max_length=1 << 20)
    assert_type(patched, "list[Future[Stats]]")
    done: list[Stats] = client.gather(patched)

    synced = librsync.dask.sync_files(client, olds, news, [folder / f"out{i}" for i in range(3)])
    assert_type(synced, "list[Future[SyncStats]]")
    for future in synced:
        st = future.result()
        assert_type(st, SyncStats)
        assert st.patch.out_bytes == st.delta.in_bytes
    loaded: Signature = sigs[0].result()
    return len(done) + loaded.block_count


def _misuse(client: Client) -> None:
    # Each must stay a type error.
    librsync.dask.signatures(client, [1, 2])  # type: ignore[list-item]
    librsync.dask.deltas(client, ["new"], ["sig"], [b"out"])  # type: ignore[list-item]
    librsync.dask.sync_files(client, ["old"], ["new"])  # type: ignore[call-arg]
    future: Future[bytes] = librsync.dask.signatures(client, ["old"])[0]  # type: ignore[assignment]
    del future


def main() -> int:
    # One worker process, on loopback only.
    with LocalCluster(n_workers=1, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster, \
            Client(cluster) as client, tempfile.TemporaryDirectory() as tmp:
        print("ok", backup(client, pathlib.Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
