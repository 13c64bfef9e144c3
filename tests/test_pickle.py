"""Pickling and copying: every public object that holds data survives a
round trip to an equal object, so it can cross to worker processes (a
process pool, Dask) and back; objects that hold C state refuse clearly."""

from __future__ import annotations

import concurrent.futures
import copy
import multiprocessing
import pickle
import pickletools

import pytest
from hypothesis import given, settings, strategies as st

import librsync
from librsync import _rsync, exceptions

from conftest import make_data, mutate

SIG_MAGICS = [
    librsync.RS_RK_BLAKE2_SIG_MAGIC,
    librsync.RS_BLAKE2_SIG_MAGIC,
    librsync.RS_RK_MD4_SIG_MAGIC,
    librsync.RS_MD4_SIG_MAGIC,
]
PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)


def _sig_bytes(data: bytes, **kw) -> bytes:
    return librsync.signature(data, **kw).read()


# --- Signature -------------------------------------------------------------------------


@pytest.mark.parametrize("magic", SIG_MAGICS)
@pytest.mark.parametrize("block_size,strong_len", [(0, 0), (256, 8), (1000, -1), (4096, 0)])
@pytest.mark.parametrize("size", [0, 1, 999, 1000, 1001, 100_003])
def test_to_bytes_gives_back_the_signature_it_was_loaded_from(magic, block_size, strong_len, size):
    raw = _sig_bytes(make_data(size, seed=size), magic=magic, block_size=block_size,
                     strong_len=strong_len)
    sig = librsync.load_signature(raw)
    assert sig.to_bytes() == raw
    assert sig.block_count == len(sig) == (len(raw) - 12) // (4 + sig.strong_len)


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=5000), block=st.integers(1, 700),
       strong=st.integers(-1, 32), magic=st.sampled_from(SIG_MAGICS))
def test_to_bytes_round_trip_any_shape(data, block, strong, magic):
    if strong > 16 and magic in (librsync.RS_MD4_SIG_MAGIC, librsync.RS_RK_MD4_SIG_MAGIC):
        strong = 16
    raw = _sig_bytes(data, magic=magic, block_size=block, strong_len=strong)
    assert librsync.load_signature(raw).to_bytes() == raw


def test_to_bytes_equals_rdiff_signature(tmp_path, run_rdiff):
    # Also for repeated blocks: the hash table keeps one of each, the
    # signature all of them, in file order.
    old = make_data(50_000, seed=3) + b"\0" * 20_000 + make_data(50_000, seed=3)
    (tmp_path / "old").write_bytes(old)
    run_rdiff("signature", "-b", "512", "-S", "12", str(tmp_path / "old"), str(tmp_path / "sig"))
    raw = (tmp_path / "sig").read_bytes()
    assert librsync.load_signature(str(tmp_path / "sig")).to_bytes() == raw


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("magic", SIG_MAGICS)
def test_signature_pickles_to_an_equal_signature(protocol, magic):
    old = make_data(300_000, seed=1)
    sig = librsync.load_signature(_sig_bytes(old, magic=magic))
    again = pickle.loads(pickle.dumps(sig, protocol))
    assert again == sig and again is not sig
    assert hash(again) == hash(sig)
    assert (again.magic, again.block_len, again.strong_len, again.block_count) == \
        (sig.magic, sig.block_len, sig.strong_len, sig.block_count)
    new = mutate(old, edits=10, seed=2)
    assert librsync.delta(new, again).read() == librsync.delta(new, sig).read()


def test_a_pickled_signature_is_its_bytes_not_its_hash_table():
    sig = librsync.load_signature(_sig_bytes(make_data(1_000_000)))
    blob = pickle.dumps(sig, pickle.HIGHEST_PROTOCOL)
    assert len(sig.to_bytes()) < len(blob) < len(sig.to_bytes()) + 200
    # Loaded again by a named module function, not by a pickled class body.
    assert "_load_signature_bytes" in {str(arg) for _, arg, _ in pickletools.genops(blob)}


def test_signature_equality_is_by_content():
    a = make_data(10_000, seed=1)
    sig = librsync.load_signature(_sig_bytes(a))
    assert sig == librsync.load_signature(_sig_bytes(a))
    assert sig != librsync.load_signature(_sig_bytes(mutate(a, 1, seed=9)))
    assert sig != librsync.load_signature(_sig_bytes(a, block_size=512))
    assert sig != librsync.load_signature(_sig_bytes(a, strong_len=8))
    assert sig != sig.to_bytes()  # not equal to its bytes: different types
    assert len({sig, librsync.load_signature(_sig_bytes(a))}) == 1


def test_copy_and_deepcopy_of_an_immutable_signature():
    sig = librsync.load_signature(_sig_bytes(make_data(10_000)))
    assert copy.copy(sig) is sig
    assert copy.deepcopy(sig) is sig
    assert copy.deepcopy({"s": [sig]})["s"][0] is sig


@pytest.mark.parametrize("name", ["magic", "block_len", "strong_len", "block_count"])
def test_format_attributes_are_read_only(name):
    sig = librsync.load_signature(_sig_bytes(b"abc" * 1000))
    with pytest.raises(AttributeError):
        setattr(sig, name, 1)
    with pytest.raises(AttributeError):
        delattr(sig, name)


def test_unloaded_signature_refuses_to_pickle():
    blank = _rsync.Signature.__new__(_rsync.Signature)
    with pytest.raises(ValueError, match="not loaded"):
        pickle.dumps(blank)
    with pytest.raises(ValueError, match="not loaded"):
        blank.to_bytes()


def test_tampered_pickle_gives_a_librsync_error_not_a_crash():
    sig = librsync.load_signature(_sig_bytes(make_data(10_000)))
    raw = sig.to_bytes()
    blob = pickle.dumps(sig, 0)
    for bad, error in [(raw[:-3], librsync.InputEndedError),
                       (b"\0\0\0\0" + raw[4:], librsync.BadMagicError),
                       (b"", librsync.InputEndedError)]:
        tampered = blob.replace(repr(raw).encode()[2:-1], repr(bad).encode()[2:-1])
        if tampered == blob:  # the encoding did not match; build it directly
            with pytest.raises(error):
                _rsync._load_signature_bytes(bad)
        else:
            with pytest.raises(error):
                pickle.loads(tampered)


def _delta_in_worker(sig: librsync.Signature, new: bytes) -> tuple[bytes, tuple]:
    return (librsync.delta(new, sig).read(),
            (sig.magic, sig.block_len, sig.strong_len, sig.block_count))


def test_signature_crosses_to_a_spawned_process():
    # "spawn": a fresh interpreter that shares nothing with this one, as a
    # worker on another machine would.
    old = make_data(200_000, seed=4)
    new = mutate(old, edits=5, seed=5)
    sig = librsync.load_signature(_sig_bytes(old, magic=librsync.RS_RK_MD4_SIG_MAGIC))
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        d, fmt = pool.submit(_delta_in_worker, sig, new).result(timeout=120)
    assert fmt == (sig.magic, sig.block_len, sig.strong_len, sig.block_count)
    assert d == librsync.delta(new, sig).read()
    assert librsync.patch(old, d).read() == new


# --- Stats -----------------------------------------------------------------------------


def _stats_of_each_kind() -> list[librsync.Stats]:
    got: list[librsync.Stats] = []
    old = make_data(100_000, seed=6)
    new = mutate(old, edits=4, seed=7)
    s = librsync.signature(old, stats=got.append)
    d = librsync.delta(new, s, stats=got.append)
    librsync.patch(old, d, stats=got.append)
    librsync.signature(old, threads=2, stats=got.append)
    return got


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_stats_pickle_and_copy_to_equal_objects(protocol):
    every = _stats_of_each_kind()
    assert {s.op for s in every} >= {"signature", "delta", "patch"}
    for stats in every:
        again = pickle.loads(pickle.dumps(stats, protocol))
        assert type(again) is librsync.Stats
        assert again == stats and again._asdict() == stats._asdict()
        assert copy.copy(stats) == stats == copy.deepcopy(stats)
    # Equality compares every field, so the round trip above is not vacuous.
    assert every[0] != every[1]


# --- exceptions ------------------------------------------------------------------------


def _every_exception() -> list[librsync.LibrsyncError]:
    found = []
    for name in exceptions.__all__:
        cls = getattr(exceptions, name)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            if cls is exceptions.LimitExceededError:
                found += [cls("too big"), cls("too big", exceptions.RS_MEM_ERROR), cls()]
            else:
                found += [cls(exceptions.RS_CORRUPT, "bad command 0x99"),
                          cls(exceptions.RS_INPUT_ENDED), cls(999, "unknown")]
    for code in (exceptions.RS_IO_ERROR, exceptions.RS_INPUT_ENDED, exceptions.RS_BAD_MAGIC,
                 exceptions.RS_CORRUPT, exceptions.RS_MEM_ERROR, exceptions.RS_PARAM_ERROR):
        found.append(exceptions.error_for_code(code, "detail"))
    return found


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_exception_pickles_to_an_equal_exception(protocol):
    every = _every_exception()
    assert {type(e) for e in every} == {getattr(exceptions, n) for n in exceptions.__all__
                                        if isinstance(getattr(exceptions, n), type)}
    for err in every:
        again = pickle.loads(pickle.dumps(err, protocol))
        assert type(again) is type(err)
        assert (again.code, again.message, str(again), again.args) == \
            (err.code, err.message, str(err), err.args)
        for cp in (copy.copy(err), copy.deepcopy(err)):
            assert (type(cp), cp.code, cp.message, str(cp)) == \
                (type(err), err.code, err.message, str(err))


def test_a_real_failure_pickles_with_its_detail():
    with pytest.raises(librsync.LibrsyncError) as info:
        librsync.patch(b"old", b"rs\x026\x99")
    again = pickle.loads(pickle.dumps(info.value))
    assert (type(again), again.code, str(again)) == (type(info.value), info.value.code,
                                                     str(info.value))


# --- what holds C state refuses --------------------------------------------------------


def _jobs():
    sig = librsync.load_signature(_sig_bytes(b"x" * 5000))
    return [librsync.SignatureJob(), librsync.SignatureJob(threads=2), librsync.DeltaJob(sig),
            librsync.PatchJob(b"basis"), librsync.LoadSignatureJob()]


@pytest.mark.parametrize("index", range(5))
def test_jobs_refuse_to_pickle(index):
    job = _jobs()[index]
    with job:
        with pytest.raises(TypeError):
            pickle.dumps(job)


# --- the submodules' data objects ------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_tree_and_dask_results_pickle_to_equal_objects(protocol, tmp_path):
    import librsync.dask
    import librsync.tree

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a").write_bytes(make_data(10_000))
    tree_stats = librsync.tree.sync_tree(tmp_path / "src", tmp_path / "dst")
    assert tree_stats.files_new == 1
    stats = _stats_of_each_kind()
    sync_stats = librsync.dask.SyncStats(stats[0], stats[1], stats[2])
    for obj in (tree_stats, sync_stats):
        again = pickle.loads(pickle.dumps(obj, protocol))
        assert type(again) is type(obj) and again == obj
        assert copy.deepcopy(obj) == obj
    err = librsync.tree.UnsafePathError("name escapes the destination: '..'")
    again = pickle.loads(pickle.dumps(err, protocol))
    assert (type(again), again.code, again.message, str(again)) == \
        (type(err), err.code, err.message, str(err))
