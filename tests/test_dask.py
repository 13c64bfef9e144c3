"""librsync.dask on a real dask.distributed cluster: two worker processes on
loopback, shared by the tests of this module (starting one costs seconds).

The workers are new interpreters; PYTHONPATH (conftest.child_env) makes them
import the librsync this process imported, and the ``client`` fixture checks
that they did."""

from __future__ import annotations

import filecmp
import os
import pickle
import random
import shutil
import subprocess
import sys

import pytest

import librsync
from conftest import CHILD_CWD, child_env, make_data, mutate

MiB = 1 << 20


# --- the cluster and the files ------------------------------------------------------

@pytest.fixture(scope="module")
def client(distributed):
    # PYTHONPATH is read by each worker interpreter when it starts, which is
    # now.  The nannies also leave their pre-spawn variables (e.g.
    # MALLOC_TRIM_THRESHOLD_) in this process's environment, where the other
    # tests' subprocesses would inherit them: all of it is put back.
    saved = dict(os.environ)
    os.environ["PYTHONPATH"] = child_env()["PYTHONPATH"]
    try:
        cluster = distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
            dashboard_address=None)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    with cluster, distributed.Client(cluster) as client:
        where = client.run(lambda: (librsync.__file__, os.getpid()))
        assert len(where) == 2
        assert {path for path, _ in where.values()} == {librsync.__file__}
        assert os.getpid() not in {pid for _, pid in where.values()}
        yield client


@pytest.fixture(scope="module")
def lrd(distributed):
    import librsync.dask
    return librsync.dask


def _file_set():
    """40 (name, old, new) of mixed sizes and kinds of change, a few of MiBs."""
    rng = random.Random(2024)
    sizes = [0, 1, 7, 255, 256, 257, 1000, 4096, 10_000, 65_536, 100_003, 300_000,
             1 * MiB, 2 * MiB + 17, 3 * MiB, 4 * MiB - 1]
    kinds = ["edits", "same", "new-empty", "old-empty", "unrelated", "append",
             "truncate", "edits"]
    out = []
    for i in range(40):
        size = sizes[i % len(sizes)]
        kind = kinds[i % len(kinds)]
        old = make_data(size, seed=i)
        if kind == "edits":
            new = mutate(old, 1 + size // 50_000, seed=100 + i) if old else b"x"
        elif kind == "same":
            new = old
        elif kind == "new-empty":
            new = b""
        elif kind == "old-empty":
            old, new = b"", old
        elif kind == "unrelated":
            new = make_data(size + rng.randrange(100), seed=1000 + i)
        elif kind == "append":
            new = old + make_data(rng.randrange(1, 5000), seed=2000 + i)
        else:
            new = old[: size // 2]
        out.append((f"f{i:02d}-{kind}-{size}", old, new))
    assert any(len(new) >= 3 * MiB for _, _, new in out)
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The file set on disk: ``root/old/NAME`` and ``root/new/NAME``."""
    root = tmp_path_factory.mktemp("dask-files")
    (root / "old").mkdir()
    (root / "new").mkdir()
    entries = _file_set()
    for name, old, new in entries:
        (root / "old" / name).write_bytes(old)
        (root / "new" / name).write_bytes(new)
    return root, entries


def _paths(root, sub, entries):
    return [str(root / sub / name) for name, _, _ in entries]


def _fresh_dir(tmp_path, name):
    d = tmp_path / name
    d.mkdir()
    return d


# --- sync_files ----------------------------------------------------------------------

def test_sync_files_rebuilds_every_new_file(client, lrd, files, tmp_path):
    root, entries = files
    outs = [str(tmp_path / name) for name, _, _ in entries]
    futures = lrd.sync_files(client, _paths(root, "old", entries),
                             _paths(root, "new", entries), outs)
    assert len(futures) == len(entries)
    results = client.gather(futures)
    for (name, old, new), out, st in zip(entries, outs, results):
        with open(out, "rb") as f:
            assert f.read() == new, name
        assert isinstance(st, lrd.SyncStats)
        assert (st.signature.op, st.delta.op, st.patch.op) == ("signature", "delta", "patch")
        assert st.signature.in_bytes == len(old), name
        assert st.delta.in_bytes == len(new) == st.patch.out_bytes, name
        assert st.delta.out_bytes == st.patch.in_bytes, name
        if "-edits-" in name and len(new) >= MiB:
            # Really an rsync: most of the new file came from the old one.
            assert st.delta.copy_bytes > 0.95 * len(new), (name, st.delta)
    # Nothing but the outputs was written (no temporary files left behind).
    assert sorted(os.listdir(tmp_path)) == sorted(name for name, _, _ in entries)


def test_sync_files_in_place_and_from_data(client, lrd, files, tmp_path):
    root, entries = files
    mirror = _fresh_dir(tmp_path, "mirror")
    olds = []
    for name, _, _ in entries:
        shutil.copyfile(root / "old" / name, mirror / name)
        olds.append(str(mirror / name))
    # Every out is its own old file.  The new files travel as data: the
    # small ones in the tasks, the others scattered to the workers first.
    news = [new if len(new) < 100_000 else client.scatter(new) for _, _, new in entries]
    assert any(isinstance(n, bytes) for n in news) and any(
        not isinstance(n, bytes) for n in news)
    mode = 0o640
    os.chmod(olds[1], mode)
    client.gather(lrd.sync_files(client, olds, news, olds, block_size=512, strong_len=8))
    for (name, _, new), path in zip(entries, olds):
        with open(path, "rb") as f:
            assert f.read() == new, name
    assert os.stat(olds[1]).st_mode & 0o777 == mode
    assert sorted(os.listdir(mirror)) == sorted(name for name, _, _ in entries)


def test_sync_files_errors_belong_to_their_file(client, lrd, files, tmp_path):
    root, entries = files
    entries = entries[10:16]
    olds = _paths(root, "old", entries)
    olds[2] = str(tmp_path / "missing")
    outs = [str(tmp_path / f"out{i}") for i in range(len(entries))]
    futures = lrd.sync_files(client, olds, _paths(root, "new", entries), outs)
    with pytest.raises(FileNotFoundError) as info:
        futures[2].result()
    assert info.value.filename == olds[2]
    for i, ((name, _, new), fut) in enumerate(zip(entries, futures)):
        if i != 2:
            fut.result()
            with open(outs[i], "rb") as f:
                assert f.read() == new, name
    assert not os.path.exists(outs[2])


# --- signatures, deltas, patches -------------------------------------------------------

def test_signatures_come_back_by_pickle_equal_to_local_ones(client, lrd, files):
    root, entries = files
    olds = _paths(root, "old", entries)
    futures = lrd.signatures(client, olds, block_size=1024, strong_len=12)
    for (name, old, _), sig in zip(entries, client.gather(futures)):
        raw = librsync.signature(old, block_size=1024, strong_len=12).read()
        assert isinstance(sig, librsync.Signature)
        assert sig == librsync.load_signature(raw), name
        assert sig.to_bytes() == raw, name
        assert (sig.block_len, sig.strong_len) == (1024, 12)


def test_a_signature_crosses_to_another_worker(client, lrd, files, distributed):
    # The delta is computed in a process that did not load the signature:
    # it arrived there by pickle.
    root, entries = files
    name, old, new = next(e for e in entries if "-edits-" in e[0] and len(e[1]) >= MiB)
    [fut] = lrd.signatures(client, [str(root / "old" / name)])
    distributed.wait([fut])
    [holder] = client.who_has([fut])[fut.key]
    [other] = [w for w in client.scheduler_info()["workers"] if w != holder]

    def delta_here(sig, new):
        return os.getpid(), librsync.delta(new, sig).read()

    pid, d = client.submit(delta_here, fut, new, workers=[other], allow_other_workers=False,
                           pure=False).result()
    pids = client.run(os.getpid)
    assert pid == pids[other] != pids[holder]
    assert librsync.patch(old, d).read() == new
    assert d == librsync.delta(new, librsync.signature(old)).read()


def test_deltas_then_patches_in_memory(client, lrd, files):
    # Signature futures stay on the cluster, deltas come back as bytes
    # futures, which the patches take as they are.
    root, entries = files
    olds, news = _paths(root, "old", entries), _paths(root, "new", entries)
    delta_futures = lrd.deltas(client, news, lrd.signatures(client, olds))
    new_futures = lrd.patches(client, olds, delta_futures)
    for (name, old, new), d, got in zip(entries, client.gather(delta_futures),
                                         client.gather(new_futures)):
        assert got == new, name
        assert librsync.patch(old, d).read() == new, name


def test_deltas_and_patches_to_paths(client, lrd, files, tmp_path):
    # Loaded signatures sent from here (pickled into the tasks), deltas and
    # new files written by the workers.
    root, entries = files
    olds, news = _paths(root, "old", entries), _paths(root, "new", entries)
    sigs = [librsync.load_signature(librsync.signature(p)) for p in olds]
    ddir, odir = _fresh_dir(tmp_path, "deltas"), _fresh_dir(tmp_path, "out")
    delta_paths = [str(ddir / n) for n, _, _ in entries]
    outs = [str(odir / n) for n, _, _ in entries]
    dstats = client.gather(lrd.deltas(client, news, sigs, delta_paths))
    pstats = client.gather(lrd.patches(client, olds, delta_paths, outs))
    for (name, _, new), dp, out, ds, ps in zip(entries, delta_paths, outs, dstats, pstats):
        assert (ds.op, ps.op) == ("delta", "patch")
        assert ds.out_bytes == os.path.getsize(dp) == ps.in_bytes, name
        with open(out, "rb") as f:
            assert f.read() == new, name


def test_signature_files_and_bytes_are_loaded_on_the_workers(client, lrd, files, tmp_path):
    root, entries = files
    entries = entries[:8]
    news = [new for _, _, new in entries]
    sig_bytes = [librsync.signature(old).read() for _, old, _ in entries]
    sig_paths = []
    for (name, _, _), raw in zip(entries, sig_bytes):
        (tmp_path / name).write_bytes(raw)
        sig_paths.append(str(tmp_path / name))
    for sigs in (sig_paths, sig_bytes):
        got = client.gather(lrd.deltas(client, news, sigs))
        for (name, old, new), d in zip(entries, got):
            assert librsync.patch(old, d).read() == new, name


# --- corrupt input: the file's own LibrsyncError, named ---------------------------------

def test_a_corrupt_signature_fails_only_its_file(client, lrd, files, tmp_path):
    root, entries = files
    entries = entries[8:16]
    news = _paths(root, "new", entries)
    sig_paths = []
    for name, old, _ in entries:
        (tmp_path / name).write_bytes(librsync.signature(old).read())
        sig_paths.append(str(tmp_path / name))
    # One is a delta (wrong magic), one is cut short.
    bad_magic, truncated = 2, 5
    with open(sig_paths[bad_magic], "wb") as f:
        f.write(librsync.delta(b"abc", librsync.signature(b"")).read())
    raw = open(sig_paths[truncated], "rb").read()
    with open(sig_paths[truncated], "wb") as f:
        f.write(raw[: len(raw) - 3])

    futures = lrd.deltas(client, news, sig_paths)
    with pytest.raises(librsync.BadMagicError) as info:
        futures[bad_magic].result()
    assert info.value.code == librsync.RS_BAD_MAGIC
    assert repr(sig_paths[bad_magic]) in str(info.value)
    assert repr(news[bad_magic]) in str(info.value)
    with pytest.raises(librsync.InputEndedError) as info:
        futures[truncated].result()
    assert info.value.code == librsync.RS_INPUT_ENDED
    assert repr(sig_paths[truncated]) in info.value.message
    # The error still pickles to an equal-looking one (the name included).
    again = pickle.loads(pickle.dumps(info.value))
    assert (type(again), again.code, str(again)) == \
        (type(info.value), info.value.code, str(info.value))
    for i, ((name, old, new), fut) in enumerate(zip(entries, futures)):
        if i not in (bad_magic, truncated):
            assert librsync.patch(old, fut.result()).read() == new, name


def test_a_corrupt_delta_fails_only_its_file(client, lrd, files, tmp_path):
    root, entries = files
    entries = [e for e in entries if e[1] and e[2]][:8]
    olds = _paths(root, "old", entries)
    deltas = [librsync.delta(new, librsync.signature(old)).read() for _, old, new in entries]
    corrupt, truncated, limited = 1, 4, 6
    deltas[corrupt] = deltas[corrupt][:4] + b"\xff" + deltas[corrupt][5:]
    deltas[truncated] = deltas[truncated][:-1]
    delta_paths = []
    for (name, _, _), d in zip(entries, deltas):
        (tmp_path / name).write_bytes(d)
        delta_paths.append(str(tmp_path / name))
    outs = [str(tmp_path / f"{name}.out") for name, _, _ in entries]

    futures = lrd.patches(client, olds, delta_paths, outs)
    with pytest.raises(librsync.CorruptDataError) as info:
        futures[corrupt].result()
    assert info.value.code == librsync.RS_CORRUPT
    assert repr(delta_paths[corrupt]) in str(info.value)
    assert repr(olds[corrupt]) in str(info.value)
    with pytest.raises(librsync.LibrsyncError) as info:
        futures[truncated].result()
    assert info.value.code == librsync.RS_INPUT_ENDED
    assert repr(delta_paths[truncated]) in str(info.value)
    for i, ((name, _, new), fut) in enumerate(zip(entries, futures)):
        if i in (corrupt, truncated):
            assert not os.path.exists(outs[i])  # no half-written output
        else:
            assert fut.result().out_bytes == len(new)
            with open(outs[i], "rb") as f:
                assert f.read() == new, name

    # Deltas as bytes: named by their place in the list.  max_length too.
    futures = lrd.patches(client, olds, deltas, max_length=len(entries[limited][2]) - 1)
    with pytest.raises(librsync.CorruptDataError) as info:
        futures[corrupt].result()
    assert f"delta #{corrupt} (bytes)" in str(info.value)
    with pytest.raises(librsync.LimitExceededError) as info:
        futures[limited].result()
    assert repr(olds[limited]) in str(info.value)


# --- workers stream -------------------------------------------------------------------

def test_workers_stream_big_files_given_as_paths(client, lrd, tmp_path):
    # Unrelated data: the delta is as large as the new file.  Python-heap
    # allocations on the workers while they work on it, measured by
    # tracemalloc, stay far below the file's size.
    size = 32 * MiB
    old, new, out = tmp_path / "old", tmp_path / "new", tmp_path / "out"
    # Written and compared in pieces: this process's peak RSS is what child
    # processes of later tests start from (test_largefile measures them).
    for path, seed in ((old, 7), (new, 8)):
        with open(path, "wb") as f:
            for i in range(size // MiB):
                f.write(make_data(MiB, seed=seed * 1000 + i))

    def start():
        import tracemalloc
        tracemalloc.start()

    def peak():
        import tracemalloc
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    def peak_during(submit):
        client.run(start)
        try:
            [result] = client.gather(submit())
        finally:
            peaks = client.run(peak)
        assert max(peaks.values()) < size // 4, peaks
        return result

    st = peak_during(lambda: lrd.sync_files(client, [str(old)], [str(new)], [str(out)]))
    assert st.delta.lit_bytes > size * 0.99  # really all literal
    assert filecmp.cmp(out, new, shallow=False)
    out.unlink()

    delta = tmp_path / "delta"
    sig = lrd.signatures(client, [str(old)])
    peak_during(lambda: lrd.deltas(client, [str(new)], sig, [str(delta)]))
    assert delta.stat().st_size > size
    peak_during(lambda: lrd.patches(client, [str(old)], [str(delta)], [str(out)]))
    assert filecmp.cmp(out, new, shallow=False)


# --- the API's edges ----------------------------------------------------------------------

def test_lists_of_different_lengths_are_refused_before_submitting(client, lrd):
    with pytest.raises(ValueError, match="2 files, 1 sigs"):
        lrd.deltas(client, ["a", "b"], ["s"])
    with pytest.raises(ValueError, match="1 olds, 2 outs"):
        lrd.sync_files(client, ["a"], ["b"], ["c", "d"])
    with pytest.raises(ValueError, match="2 bases, 1 outs"):
        lrd.patches(client, ["a", "b"], ["c", "d"], ["e"])
    with pytest.raises(ValueError, match="block_size"):
        lrd.signatures(client, ["a"], block_size=-1)
    with pytest.raises(ValueError, match="magic"):
        lrd.sync_files(client, ["a"], ["b"], ["c"], magic=1234)


def test_results_keep_the_input_order_and_empty_lists_work(client, lrd):
    assert lrd.signatures(client, []) == []
    assert lrd.sync_files(client, [], [], []) == []
    data = [make_data(n, seed=n) for n in (5000, 0, 70_000, 1)]
    sigs = client.gather(lrd.signatures(client, data))
    assert [s.to_bytes() for s in sigs] == [librsync.signature(d).read() for d in data]


def test_module_surface(lrd):
    assert lrd.__all__ == ["signatures", "deltas", "patches", "sync_files", "SyncStats"]
    for name in lrd.__all__:
        assert getattr(lrd, name).__doc__, name
    stats = []
    librsync.signature(b"abc", stats=stats.append)
    st = lrd.SyncStats(stats[0], stats[0], stats[0])
    assert pickle.loads(pickle.dumps(st)) == st


def test_typed_example_runs(distributed):
    # The program scripts/check_typing.sh type-checks must also be right.
    example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "typing",
                           "dask_example.py")
    proc = subprocess.run([sys.executable, example], cwd=CHILD_CWD, env=child_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok ")
