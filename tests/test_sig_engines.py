"""The signature engines (librsync/_sigjob.h, librsync/_simd/): every engine
the CPU runs writes exactly the bytes of librsync's own job and of rdiff,
whatever the magic, block length, strong length, input length and the way
input and output are cut into pieces; and each multi-buffer kernel agrees
with the portable hash on every lane."""

from __future__ import annotations

import hashlib
import os
import random

import pytest
from hypothesis import given, strategies as st

import librsync
from librsync import _rsync

from conftest import engine_in_child, make_data, run_job

ENGINES = librsync.signature_engines()
# The engines of this package (librsync's own job is the reference).
OURS = [e for e in ENGINES if e != "librsync"]
MAGICS = [librsync.RS_RK_BLAKE2_SIG_MAGIC, librsync.RS_BLAKE2_SIG_MAGIC,
          librsync.RS_RK_MD4_SIG_MAGIC, librsync.RS_MD4_SIG_MAGIC]
MD4 = (librsync.RS_MD4_SIG_MAGIC, librsync.RS_RK_MD4_SIG_MAGIC)
LANES = {"portable": 1, "sse2": (2, 8), "avx2": (4, 16), "avx512": (8, 16), "neon": (2, 8)}


@pytest.fixture(scope="module")
def engine_switch():
    """Restores the process's engine after this module's tests switched it
    (module-scoped: hypothesis tests run many examples per fixture)."""
    before = librsync.signature_engine()
    yield _rsync._use_signature_engine
    _rsync._use_signature_engine(before)


def _sig(engine: str, data: bytes, block: int, strong: int, magic: int,
         chunks: list[int] | None = None, out_size: int = 0) -> bytes:
    _rsync._use_signature_engine(engine)
    return run_job(_rsync.SignatureJob(block, strong, magic), data, chunks, out_size)


def _strong(magic: int, strong: int) -> int:
    return min(strong, 16) if magic in MD4 else strong


def test_engines_listed_and_one_selected():
    assert ENGINES[:2] == ["librsync", "portable"]
    assert librsync.signature_engine() in ENGINES
    assert set(ENGINES) <= {"librsync", *LANES}
    # Selected by default: the widest kernels (the last listed).
    if "LIBRSYNC_SIGNATURE_ENGINE" not in os.environ:
        out = engine_in_child("signature_engine").stdout.strip()
        assert out == ENGINES[-1]


@pytest.mark.parametrize("engine", ENGINES)
def test_environment_variable_forces_an_engine(engine):
    out = engine_in_child("signature_engine", LIBRSYNC_SIGNATURE_ENGINE=engine).stdout
    assert out.strip() == engine


def test_unknown_engine_in_environment_warns_and_falls_back():
    proc = engine_in_child("signature_engine", LIBRSYNC_SIGNATURE_ENGINE="no-such-engine")
    assert "LIBRSYNC_SIGNATURE_ENGINE ignored" in proc.stderr
    assert "no-such-engine" in proc.stderr
    assert proc.stdout.strip() == ENGINES[-1]


def test_use_engine_refuses_unknown_names(engine_switch):
    with pytest.raises(ValueError, match="no signature engine named"):
        engine_switch("mmx")
    with pytest.raises(TypeError):
        engine_switch(None)


@pytest.mark.parametrize("engine", OURS)
@pytest.mark.parametrize("magic", MAGICS)
@pytest.mark.parametrize("length", [0, 1, 255, 256, 257, 4095, 4096, 4097,
                                    16 * 256 - 1, 16 * 256, 16 * 256 + 1, 100_003])
def test_same_bytes_as_librsyncs_job(engine_switch, engine, magic, length):
    data = make_data(length, seed=length)
    for block, strong in ((256, 0), (256, 8), (1, 4), (7, 3)):
        if block == 1 and length > 5000:
            continue  # a record per byte: covered by the shorter lengths
        want = _sig("librsync", data, block, _strong(magic, strong), magic)
        assert _sig(engine, data, block, _strong(magic, strong), magic) == want


@given(data=st.binary(max_size=20_000), block=st.integers(1, 3000),
       strong=st.integers(-1, 32), magic=st.sampled_from(MAGICS),
       engine=st.sampled_from(OURS), seed=st.integers(0, 2**32),
       out_size=st.sampled_from([0, 1, 5, 13, 37, 4096]))
def test_any_shape_and_any_cutting(engine_switch, data, block, strong, magic, engine,
                                   seed, out_size):
    strong = _strong(magic, strong)
    if strong == -1:
        strong = 0  # -1 needs the file size; resolved by signature_args below
    want = _sig("librsync", data, block, strong, magic)
    rnd = random.Random(seed)
    chunks = []
    left = len(data)
    while left > 0 and len(chunks) < 40:
        n = min(left, rnd.choice([1, 2, block - 1 or 1, block, block + 1,
                                  rnd.randrange(1, 3 * block + 2)]))
        chunks.append(n)
        left -= n
    assert _sig(engine, data, block, strong, magic) == want
    assert _sig(engine, data, block, strong, magic, chunks, out_size) == want


@pytest.mark.parametrize("engine", OURS)
def test_stats_count_blocks_and_bytes(engine_switch, engine):
    engine_switch(engine)
    data = make_data(10_000, seed=2)
    job = _rsync.SignatureJob(1024, 8, librsync.RS_RK_BLAKE2_SIG_MAGIC)
    out = job.finish(data)
    stats = job.stats
    assert stats.op == "signature"
    assert stats.sig_blocks == 10 and stats.block_len == 1024
    assert stats.in_bytes == 10_000 and stats.out_bytes == len(out) == 12 + 10 * 12


@pytest.mark.parametrize("engine", OURS)
@pytest.mark.parametrize("threads", [1, 3])
def test_facade_and_threads_give_rdiffs_bytes(tmp_path, run_rdiff, engine_switch,
                                              engine, threads):
    engine_switch(engine)
    # Long enough for several 8 MiB segments of the threaded engine, with a
    # tail that is not a whole block.
    old = make_data(17 * 1024 * 1024 + 1001, seed=9)
    path = tmp_path / "old"
    path.write_bytes(old)
    for magic, hash_, roll, strong in (
            (librsync.RS_RK_BLAKE2_SIG_MAGIC, "blake2", "rabinkarp", 0),
            (librsync.RS_MD4_SIG_MAGIC, "md4", "rollsum", 8)):
        sig = tmp_path / f"sig-{magic:x}"
        run_rdiff("signature", "-H", hash_, "-R", roll, "-S", str(strong), str(path), str(sig))
        want = sig.read_bytes()
        got = librsync.signature(str(path), magic=magic, strong_len=strong,
                                 threads=threads).read()
        assert got == want


@given(length=st.integers(0, 5000), seed=st.integers(0, 2**32))
def test_every_kernel_lane_agrees_with_the_portable_hash(length, seed):
    rnd = random.Random(seed)
    for engine in OURS:
        for md4, lanes in ((False, _lanes(engine, False)), (True, _lanes(engine, True))):
            # Distinct content per lane, so a lane mix-up cannot hide.
            messages = [rnd.randbytes(length) for _ in range(lanes)]
            got = _rsync._signature_engine_hash(engine, md4, messages)
            want = [_rsync._signature_engine_hash("portable", md4, [m])[0]
                    for m in messages]
            assert got == want, (engine, md4, length)


def _lanes(engine: str, md4: bool) -> int:
    return _rsync._signature_engine_lanes(engine)[md4]


@pytest.mark.parametrize("engine", OURS)
def test_lane_counts(engine):
    lanes = LANES[engine]
    assert _rsync._signature_engine_lanes(engine) == (
        (lanes, lanes) if isinstance(lanes, int) else lanes)


@pytest.mark.parametrize("engine", OURS)
def test_kernels_at_block_boundaries_and_large(engine):
    # Every length around BLAKE2b's 128-byte and MD4's 64-byte blocks (MD4
    # needs a second padding block from 56 bytes on), and a 1 MiB message.
    rnd = random.Random(5)
    for md4 in (False, True):
        lanes = _lanes(engine, md4)
        for length in [*range(0, 300), 1 << 20]:
            messages = [rnd.randbytes(length) for _ in range(lanes)]
            got = _rsync._signature_engine_hash(engine, md4, messages)
            for m, digest in zip(messages, got):
                if md4:
                    want = _rsync._signature_engine_hash("portable", True, [m])[0]
                else:
                    want = hashlib.blake2b(m, digest_size=32).digest()
                assert digest == want, (engine, md4, length)


def test_portable_md4_is_rfc1320():
    vectors = {b"": "31d6cfe0d16ae931b73c59d7e0c089c0",
               b"abc": "a448017aaf21d8525fc10ae87aa6729d",
               b"message digest": "d9130a8164549fe818874806e1c7014b",
               b"1234567890" * 8: "e33b4ddc9c38f2199c3e7b164fcc0536"}
    for message, hexdigest in vectors.items():
        assert _rsync._signature_engine_hash("portable", True, [message])[0].hex() == hexdigest


def test_kernel_hook_refuses_bad_arguments():
    with pytest.raises(ValueError, match="equal length"):
        _rsync._signature_engine_hash("portable", False, ["text"])
    with pytest.raises(ValueError):
        _rsync._signature_engine_hash("portable", False, [])
    with pytest.raises(ValueError, match="does not hash 2"):
        _rsync._signature_engine_hash("portable", False, [b"a", b"b"])
    with pytest.raises(ValueError, match="no kernel"):
        _rsync._signature_engine_hash("librsync", False, [b"a"])


def test_a_running_job_keeps_its_engine(engine_switch):
    data = make_data(50_000, seed=4)
    want = _sig("librsync", data, 512, 0, librsync.RS_RK_BLAKE2_SIG_MAGIC)
    for first, then in ((OURS[-1], "librsync"), ("librsync", OURS[-1])):
        engine_switch(first)
        job = _rsync.SignatureJob(512, 0, librsync.RS_RK_BLAKE2_SIG_MAGIC)
        head = job.update(data[:20_000])
        engine_switch(then)
        assert head + job.finish(data[20_000:]) == want


@pytest.mark.parametrize("engine", OURS)
@pytest.mark.parametrize("magic", MAGICS)
def test_large_blocks_of_high_bytes(engine_switch, engine, magic):
    # The vector weak sums keep 32- and 64-bit partial sums: all-0xff blocks
    # of up to librsync's largest block length exercise their widest values.
    data = b"\xff" * (2 * librsync.MAX_BLOCK_LEN + 33)
    for block in (librsync.MAX_BLOCK_LEN, 65_537, 1 << 20):
        want = _sig("librsync", data, block, 8, magic)
        assert _sig(engine, data, block, 8, magic) == want
