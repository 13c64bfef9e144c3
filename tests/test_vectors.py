"""Upstream librsync's own test vectors (tests/data/upstream), byte for byte,
fed whole and in chunks of the sizes upstream's tests use."""

from __future__ import annotations

import glob
import os
import re

import pytest

import librsync

from conftest import UPSTREAM

CHUNKS = [1, 2, 3, 7, 15, 100, 10000, 200000]
MAGIC = {
    ("blake2", "rabinkarp"): librsync.RS_RK_BLAKE2_SIG_MAGIC,
    ("blake2", "rollsum"): librsync.RS_BLAKE2_SIG_MAGIC,
    ("md4", "rabinkarp"): librsync.RS_RK_MD4_SIG_MAGIC,
    ("md4", "rollsum"): librsync.RS_MD4_SIG_MAGIC,
}

SIG_CASES = []
for sig_path in sorted(glob.glob(os.path.join(UPSTREAM, "signature.input", "*.sig"))):
    m = re.match(r"(\d+)-R(\w+)-H(\w+)-S(-?\d+)\.sig$", os.path.basename(sig_path))
    assert m, sig_path
    SIG_CASES.append((m.group(1), m.group(2), m.group(3), int(m.group(4)), sig_path))


def test_vectors_are_present():
    assert len(SIG_CASES) == 12
    assert len(glob.glob(os.path.join(UPSTREAM, "delta.input", "*.delta"))) == 3


def feed(job, data: bytes, chunk: int) -> bytes:
    out = [job.update(data[i:i + chunk]) for i in range(0, len(data), chunk)]
    out.append(job.finish())
    return b"".join(out)


@pytest.mark.parametrize("num, rollsum, hash_name, strong_len, sig_path", SIG_CASES,
                         ids=[os.path.basename(c[-1]) for c in SIG_CASES])
def test_upstream_signature_vectors(num, rollsum, hash_name, strong_len, sig_path):
    with open(os.path.join(UPSTREAM, "signature.input", f"{num}.input"), "rb") as f:
        data = f.read()
    with open(sig_path, "rb") as f:
        expected = f.read()
    magic = MAGIC[hash_name, rollsum]
    assert librsync.signature(data, strong_len=strong_len, magic=magic).read() == expected
    for chunk in CHUNKS:
        job = librsync.SignatureJob(strong_len=strong_len, magic=magic, file_size=len(data))
        assert feed(job, data, chunk) == expected, chunk


@pytest.mark.parametrize("num", ["01", "02", "03"])
def test_upstream_delta_vectors(num):
    base = os.path.join(UPSTREAM, "delta.input", num)
    with open(base + ".delta", "rb") as f:
        delta = f.read()
    with open(base + ".expect", "rb") as f:
        expected = f.read()
    assert librsync.patch(b"", delta).read() == expected
    for chunk in CHUNKS:
        assert feed(librsync.PatchJob(b""), delta, chunk) == expected


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(UPSTREAM, "changes.input", "*"))),
                         ids=os.path.basename)
def test_upstream_changes_round_trip(path):
    """Every pair of upstream's change files round-trips (its changes.test)."""
    if path.endswith(".md"):
        return
    with open(path, "rb") as f:
        old = f.read()
    for other in sorted(glob.glob(os.path.join(UPSTREAM, "changes.input", "*.input"))):
        with open(other, "rb") as f:
            new = f.read()
        for block_size in (0, 16, 64, 2048):
            sig = librsync.signature(old, block_size=block_size)
            d = librsync.delta(new, sig)
            assert librsync.patch(old, d).read() == new
