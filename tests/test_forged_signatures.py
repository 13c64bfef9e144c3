"""Forged signatures cannot make a delta search burn unbounded CPU
(librsync/_budget.h), nor load slowly (librsync/_guards.h); honest ones
give exactly librsync's deltas, with the bound never reached.

The attacks, each against the fast engine, the threaded delta and
librsync's own job (``LIBRSYNC_DELTA_ENGINE=librsync``):

(a) one block whose rolling checksum is an all-zero window's and whose
    strong sum is wrong: every position of a zero run is a rolling hit that
    hashes a whole block (unbounded: 908 s per MiB at 1 MiB blocks);
(b) a thousand blocks sharing that rolling checksum (under the load guard's
    1,024): each position also compares a thousand strong sums;
(c) a forged block for every window of data the peer knows: a different
    rolling checksum each time, so only a global budget stops it.

Each runs in a child process with a timeout that only catches a search
still going (unbounded, each takes minutes to hours); the bound itself is
asserted with the job's work counters, and the delta must patch back.
"""

from __future__ import annotations

import io
import json
import os
import random
import struct
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, strategies as st

import librsync
from librsync import _parallel, _rsync

from conftest import CHILD_CWD, HERE, UPSTREAM, child_env, make_data, mutate

RK = librsync.RS_RK_BLAKE2_SIG_MAGIC
MAGICS = [librsync.RS_RK_BLAKE2_SIG_MAGIC, librsync.RS_BLAKE2_SIG_MAGIC,
          librsync.RS_RK_MD4_SIG_MAGIC, librsync.RS_MD4_SIG_MAGIC]
BUDGET = _rsync._search_budget()
ENGINES = ["fast", "threads", "librsync"]
# Generous: each attack takes about a second bounded; unbounded, minutes.
TIMEOUT = 120


@pytest.fixture(scope="module")
def engines():
    before = librsync.delta_engine()
    yield
    _rsync._use_delta_engine(before)


# ---------------------------------------------------------------------------
# The attacks, in a child process
# ---------------------------------------------------------------------------

CHILD = r'''
import io, json, random, struct, sys
import librsync
from librsync import _parallel, _rsync

engine, attack = sys.argv[1], sys.argv[2]
_rsync._use_delta_engine("librsync" if engine == "librsync" else "fast")
RK = librsync.RS_RK_BLAKE2_SIG_MAGIC
MULT, ADJ = 0x08104225, 0x08104224
MASK = 0xFFFFFFFF


def header(block_len):
    return struct.pack(">III", RK, block_len, 16)


def rabinkarp(data):
    h = 1
    for c in data:
        h = (h * MULT + c) & MASK
    return h


def windows(data, block_len, first, count):
    """The RabinKarp sums of the windows at first .. first + count - 1."""
    h = rabinkarp(data[first:first + block_len])
    mult = pow(MULT, block_len, 1 << 32)
    out = [h]
    for p in range(first, first + count - 1):
        h = (h * MULT + data[p + block_len] - mult * (data[p] + ADJ)) & MASK
        out.append(h)
    return out


if attack == "zero_block":
    block_len = 1 << 20
    new = bytes(20 << 20)
    zero = struct.pack(">I", rabinkarp(bytes(block_len)))
    sig = header(block_len) + zero + b"\x55" * 16
elif attack == "one_checksum_many_blocks":
    block_len = 2048
    new = bytes(32 << 20)
    zero = struct.pack(">I", rabinkarp(bytes(block_len)))
    sig = header(block_len) + b"".join(zero + struct.pack(">4I", i, 7, i, 7)
                                       for i in range(1000))
elif attack == "every_window":
    block_len = 1 << 20
    first, count = 8 << 20, 1 << 16
    new = random.Random(5).randbytes(first + block_len + count)
    sig = header(block_len) + b"".join(struct.pack(">I", w) + b"\x55" * 16
                                       for w in windows(new, block_len, first, count))
else:
    raise SystemExit("unknown attack " + attack)
if attack == "every_window":
    # The forged checksums are librsync's for those windows.
    for k in (0, count - 1):
        window = new[first + k:first + k + block_len]
        real = _rsync.SignatureJob(block_len, 16, RK).finish(window)[12:16]
        assert sig[12 + 20 * k:16 + 20 * k] == real

loaded = librsync.load_signature(sig)
if engine == "threads":
    job = _parallel.ParallelDeltaJob(loaded, 2)
    out = io.BytesIO()
    job.run(new, out.write)
    delta = out.getvalue()
else:
    job = _rsync.DeltaJob(loaded)
    delta = job.finish(new)
patched = io.BytesIO()
librsync.patch(io.BytesIO(bytes(block_len)), io.BytesIO(delta), patched)
print(json.dumps({"false_checks": job.false_checks, "skipped_checks": job.skipped_checks,
                  "block_len": block_len, "new_len": len(new),
                  "patches_back": patched.getvalue() == new,
                  "segment": _parallel.delta_segment(block_len)}))
'''


def run_attack(engine: str, attack: str) -> dict:
    try:
        proc = subprocess.run([sys.executable, "-c", CHILD, engine, attack],
                              capture_output=True, text=True, timeout=TIMEOUT,
                              env=child_env(HERE), cwd=CHILD_CWD)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{attack} against {engine}: the search was still going after "
                    f"{TIMEOUT} s")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def jobs_of(engine: str, r: dict) -> int:
    """Delta jobs the search ran: one, or (threads) a job per segment and at
    most one seam re-scan per boundary, each with its own base allowance."""
    if engine != "threads":
        return 1
    segments = -(-r["new_len"] // r["segment"])
    return 2 * segments


def budget_units(engine: str, r: dict) -> int:
    """The most work the budget allows the whole search."""
    base = BUDGET["base"] + BUDGET["base_blocks"] * r["block_len"]
    return BUDGET["per_byte"] * r["new_len"] + base * jobs_of(engine, r)


def fails_before_drop(block_len: int) -> int:
    """Failed checks of one rolling checksum (each hashing a block) after
    which a job drops it."""
    return max(BUDGET["key_fails"], -(-BUDGET["key_work"] // block_len))


@pytest.mark.parametrize("engine", ENGINES)
def test_zero_run_against_a_zero_window_checksum(engine):
    """(a): 20 MiB of zeros, one 1 MiB block with the zero window's rolling
    checksum and a wrong strong sum (unbounded: about 5 hours)."""
    r = run_attack(engine, "zero_block")
    assert r["patches_back"]
    assert r["skipped_checks"] > 0
    # The checksum is dropped after a few failures in each job.
    assert 0 < r["false_checks"] <= fails_before_drop(r["block_len"]) * jobs_of(engine, r)
    assert r["false_checks"] * r["block_len"] <= budget_units(engine, r)


@pytest.mark.parametrize("engine", ENGINES)
def test_many_blocks_sharing_one_checksum(engine):
    """(b): 32 MiB of zeros, a thousand 2 KiB blocks sharing the zero
    window's rolling checksum (unbounded: about 4 minutes)."""
    r = run_attack(engine, "one_checksum_many_blocks")
    assert r["patches_back"]
    assert r["skipped_checks"] > 0
    # Each failure hashed a block and compared a thousand strong sums.
    cost = r["block_len"] + 1000 * BUDGET["compare"]
    assert 0 < r["false_checks"] * cost <= budget_units(engine, r)
    assert r["false_checks"] <= fails_before_drop(cost) * jobs_of(engine, r)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_forged_block_for_every_window(engine):
    """(c): random data the peer knows, a forged 1 MiB block for each of
    65,536 windows, every rolling checksum different (unbounded: 64 GiB
    hashed, minutes)."""
    r = run_attack(engine, "every_window")
    assert r["patches_back"]
    assert r["skipped_checks"] > 0
    # Each failed check hashed a whole block: the budget pays for them all.
    assert r["false_checks"] * r["block_len"] <= budget_units(engine, r)
    assert r["false_checks"] + r["skipped_checks"] >= (1 << 16) - 64


def test_a_dropped_checksum_leaves_the_others_matching(engines):
    """The forged zero-window checksum is dropped after its failures; a real
    block of the same signature still matches after 4 MiB of them."""
    block = 4096
    real = make_data(block, seed=21)
    zero_weak = _rsync.SignatureJob(block, 16, RK).finish(bytes(block))[12:16]
    honest = _rsync.SignatureJob(block, 16, RK).finish(real)
    sig = honest[:12] + zero_weak + b"\x55" * 16 + honest[12:]
    new = bytes(4 << 20) + real
    for engine in ("fast", "librsync"):
        _rsync._use_delta_engine(engine)
        job = _rsync.DeltaJob(librsync.load_signature(sig))
        delta = job.finish(new)
        assert BUDGET["key_fails"] <= job.false_checks <= fails_before_drop(block), engine
        assert job.skipped_checks > 0, engine
        assert job.stats.copy_bytes == block, engine
        out = io.BytesIO()
        librsync.patch(io.BytesIO(bytes(block) + real), io.BytesIO(delta), out)
        assert out.getvalue() == new


# ---------------------------------------------------------------------------
# Honest signatures: never the bound, so exactly librsync's deltas
#
# A lookup the budget allows is librsync's own rs_signature_find_match (or,
# where librsync's table has no entry of that key, the -1 it would return),
# so a search that skipped nothing wrote librsync's unbounded delta.  The
# tests check skipped_checks == 0, both engines byte for byte, and rdiff
# (the system's librsync) applying the result.  (rdiff's own deltas are not
# the reference: librsync 2.3.2 splits literal runs differently.)
# ---------------------------------------------------------------------------

def _rdiff_patch(rdiff: str, tmp_path, old: bytes, delta: bytes) -> bytes:
    (tmp_path / "old").write_bytes(old)
    (tmp_path / "delta").write_bytes(delta)
    (tmp_path / "out").unlink(missing_ok=True)
    subprocess.run([rdiff, "patch", str(tmp_path / "old"), str(tmp_path / "delta"),
                    str(tmp_path / "out")], check=True)
    return (tmp_path / "out").read_bytes()


def _ours(engine: str, sig: bytes, new: bytes) -> tuple[bytes, int, int]:
    loaded = librsync.load_signature(sig)
    if engine == "threads":
        job = _parallel.ParallelDeltaJob(loaded, 2)
        out = io.BytesIO()
        job.run(new, out.write)
        return out.getvalue(), job.false_checks, job.skipped_checks
    _rsync._use_delta_engine(engine)
    job = _rsync.DeltaJob(loaded)
    return job.finish(new), job.false_checks, job.skipped_checks


def _unbounded_delta(sig: bytes, new: bytes) -> tuple[bytes, int]:
    """The delta both engines write, checked to be librsync's: no lookup
    skipped.  Returns it and the false checks made."""
    fast, fast_false, fast_skipped = _ours("fast", sig, new)
    slow, slow_false, slow_skipped = _ours("librsync", sig, new)
    assert fast_skipped == slow_skipped == 0
    assert fast == slow
    assert fast_false == slow_false
    return fast, fast_false


def _inputs(directory: str) -> list[bytes]:
    out = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".input"):
            with open(os.path.join(directory, name), "rb") as f:
                out.append(f.read())
    return out


@pytest.mark.parametrize("magic", MAGICS, ids=hex)
def test_upstream_vectors_never_reach_the_bound(rdiff, tmp_path, engines, magic):
    """Upstream's change files as old files, all of them (and their
    signature vector's input, edited) as the new one."""
    changes = _inputs(os.path.join(UPSTREAM, "changes.input"))
    sig_input = _inputs(os.path.join(UPSTREAM, "signature.input"))[0]
    new = b"".join(changes) + mutate(sig_input, 20, seed=3)
    for old in changes + [sig_input]:
        for block in (1, 3, 16, 64, 2048):
            sig = _rsync.SignatureJob(block, 0, magic).finish(old)
            delta, _false = _unbounded_delta(sig, new)
            assert _rdiff_patch(rdiff, tmp_path, old, delta) == new


@pytest.mark.parametrize("magic", [librsync.RS_MD4_SIG_MAGIC, librsync.RS_BLAKE2_SIG_MAGIC],
                         ids=hex)
@pytest.mark.parametrize("block", [3, 4, 16])
def test_many_honest_false_checks_stay_under_the_bound(rdiff, tmp_path, engines, magic, block):
    """rollsum over tiny blocks collides all the time on random data (a
    third of the positions at 3 bytes): the work is real, and still far
    below the bound, so nothing is skipped."""
    rnd = random.Random(block)
    old, new = rnd.randbytes(200_000), rnd.randbytes(200_000)
    sig = _rsync.SignatureJob(block, 8, magic).finish(old)
    delta, false_checks = _unbounded_delta(sig, new)
    assert false_checks > 100
    threaded, _false, skipped = _ours("threads", sig, new)
    assert skipped == 0
    assert _rdiff_patch(rdiff, tmp_path, old, delta) == new
    assert _rdiff_patch(rdiff, tmp_path, old, threaded) == new


@given(seed=st.integers(0, 2**32 - 1),
       old_len=st.integers(0, 60_000),
       edits=st.integers(0, 30),
       block=st.sampled_from([1, 2, 7, 64, 256, 1000, 4096]),
       magic=st.sampled_from(MAGICS),
       shape=st.sampled_from(["edited", "zeros", "repeated", "unrelated"]))
def test_honest_cases_never_reach_the_bound(engines, seed, old_len, edits, block, magic,
                                            shape):
    rnd = random.Random(seed)
    if shape == "zeros":
        old = bytes(old_len // 2) + rnd.randbytes(old_len - old_len // 2)
        new = mutate(bytes(old_len) + old, edits, seed=seed)
    elif shape == "repeated":
        piece = rnd.randbytes(rnd.randint(1, 300))
        old = (piece * (old_len // len(piece) + 1))[:old_len]
        new = mutate(old, edits, seed=seed)
    elif shape == "unrelated":
        old, new = rnd.randbytes(old_len), rnd.randbytes(old_len)
    else:
        old = rnd.randbytes(old_len)
        new = mutate(old, edits, seed=seed)
    sig = _rsync.SignatureJob(block, 0, magic).finish(old)
    delta, _false = _unbounded_delta(sig, new)
    out = io.BytesIO()
    librsync.patch(io.BytesIO(old), io.BytesIO(delta), out)
    assert out.getvalue() == new


# ---------------------------------------------------------------------------
# What no honest signature has, refused at load
# ---------------------------------------------------------------------------

def _header(magic: int, block_len: int, strong_len: int) -> bytes:
    return struct.pack(">Iii", magic, block_len, strong_len)


@pytest.mark.parametrize("magic, strong_len", [
    (librsync.RS_RK_BLAKE2_SIG_MAGIC, 0), (librsync.RS_MD4_SIG_MAGIC, 0),
    (librsync.RS_MD4_SIG_MAGIC, 17), (librsync.RS_RK_MD4_SIG_MAGIC, 32),
    (librsync.RS_BLAKE2_SIG_MAGIC, 33), (librsync.RS_RK_BLAKE2_SIG_MAGIC, -1),
])
def test_strong_sums_of_no_length_or_longer_than_the_digest_are_refused(magic, strong_len):
    # A strong length of 0 used to load as the hash's full length, reading
    # these 72 bytes as two blocks of 32-byte sums.
    with pytest.raises(librsync.LibrsyncError, match="strong sum length") as info:
        librsync.load_signature(_header(magic, 2048, strong_len) + b"\x01" * 72)
    # MD4 with a length BLAKE2 has: librsync's (and rdiff's exit) code.
    md4_blake2_len = magic in (librsync.RS_MD4_SIG_MAGIC, librsync.RS_RK_MD4_SIG_MAGIC) \
        and 16 < strong_len <= 32
    assert info.value.code == (librsync.RS_PARAM_ERROR if md4_blake2_len
                               else librsync.RS_CORRUPT)
    assert "strong_len" in str(info.value)


@pytest.mark.parametrize("blocks", [0, 3])
def test_block_length_zero_is_refused(blocks):
    with pytest.raises(librsync.CorruptDataError, match="block length 0") as info:
        librsync.load_signature(_header(RK, 0, 8) + b"\x01" * 12 * blocks)
    assert info.value.code == librsync.RS_CORRUPT


def test_header_checked_when_it_arrives_a_byte_at_a_time():
    job = librsync.LoadSignatureJob()
    head = _header(RK, 2048, 0)
    with pytest.raises(librsync.CorruptDataError, match="strong sum length"):
        for i in range(len(head)):
            job.update(head[i:i + 1])


def test_max_block_len_and_file_size_limit_the_block_length():
    sig = librsync.signature(make_data(100_000, seed=8), block_size=4096).read()
    assert librsync.load_signature(sig, max_block_len=4096).block_len == 4096
    with pytest.raises(librsync.LimitExceededError, match="max_block_len=4095"):
        librsync.load_signature(sig, max_block_len=4095)
    # 16 x sqrt(100,000) = 5,056: enough for this block, not for 1 MiB.
    assert librsync.load_signature(sig, file_size=100_000).block_len == 4096
    big = _header(RK, 1 << 20, 8) + b"\x01" * 12
    with pytest.raises(librsync.LimitExceededError, match="file of 100000 bytes"):
        librsync.load_signature(big, file_size=100_000)
    assert len(librsync.load_signature(big, file_size=1 << 40)) == 1
    # Never below rdiff's old default 2048, so tiny files keep it.
    small = librsync.signature(b"tiny", block_size=2048).read()
    assert librsync.load_signature(small, file_size=4).block_len == 2048
    # rdiff's own choice always fits, whatever the size.
    for size in (0, 1, 300, 70_000, 10**9, 10**12):
        _m, chosen, _s = _rsync.signature_args(size)
        assert chosen <= _rsync._max_block_len_for(size)


def test_async_loader_takes_the_same_limits():
    import asyncio
    from librsync import aio
    sig = librsync.signature(make_data(10_000, seed=8), block_size=4096).read()
    with pytest.raises(librsync.LimitExceededError, match="max_block_len=4095"):
        asyncio.run(aio.load_signature(sig, max_block_len=4095))
    with pytest.raises(librsync.LimitExceededError, match="file of 0 bytes"):
        asyncio.run(aio.load_signature(_header(RK, 4096, 8), file_size=0))
    loaded = asyncio.run(aio.load_signature(sig, file_size=100_000))
    assert loaded.block_len == 4096


@pytest.mark.parametrize("kwargs, exc", [
    ({"max_block_len": -1}, ValueError), ({"max_block_len": "1"}, TypeError),
    ({"file_size": -1}, ValueError), ({"file_size": 1.5}, TypeError),
    ({"max_block_len": True}, TypeError),
])
def test_limit_misuse(kwargs, exc):
    with pytest.raises(exc):
        librsync.LoadSignatureJob(**kwargs)


def test_weak_sums_sharing_a_table_slot_are_refused_quickly():
    """Weak sums that differ only above the hash table's mask all start
    their probe at one slot: librsync's table build is quadratic in them
    (500,000 blocks: minutes; the guard counted equal sums only).  Refused
    now, like equal ones."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import struct, librsync
        n = 500_000
        bits = (1 + n * 10 // 7 - 1).bit_length()
        body = b"".join(struct.pack(">II", ((i + 1) << bits | 0x1234) & 0xFFFFFFFF, i)
                        for i in range(n))
        sig = struct.pack(">III", librsync.RS_RK_BLAKE2_SIG_MAGIC, 1024, 4) + body
        try:
            librsync.load_signature(sig)
            print("loaded")
        except librsync.CorruptDataError as e:
            print("refused", e.code, e)
    """)], capture_output=True, text=True, timeout=TIMEOUT, env=child_env(HERE),
        cwd=CHILD_CWD)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"refused {librsync.RS_CORRUPT}"), proc.stdout
    assert "hash-table slot" in proc.stdout


def test_honest_signatures_of_many_blocks_load():
    """Random weak sums spread over the table: a few per slot."""
    old = make_data(1 << 20, seed=9)
    for magic in MAGICS:
        sig = librsync.signature(old, block_size=4, strong_len=4, magic=magic).read()
        assert len(librsync.load_signature(sig)) == (1 << 20) // 4
