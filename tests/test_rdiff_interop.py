"""Byte-for-byte interoperability with the rdiff tool (Debian's librsync 2.3.x).

Signatures must be identical to rdiff's for every option.  Delta bytes may
legitimately differ between librsync 2.3.2 (Debian's rdiff) and 2.3.4 (ours)
on mostly-literal inputs, so deltas are checked by applying them with the
other implementation.
"""

from __future__ import annotations

import subprocess

import pytest

import librsync

from conftest import make_data, mutate

HASHES = {"md4": "md4", "blake2": "blake2"}
ROLLSUMS = ["rollsum", "rabinkarp"]
MAGIC = {
    ("blake2", "rabinkarp"): librsync.RS_RK_BLAKE2_SIG_MAGIC,
    ("blake2", "rollsum"): librsync.RS_BLAKE2_SIG_MAGIC,
    ("md4", "rabinkarp"): librsync.RS_RK_MD4_SIG_MAGIC,
    ("md4", "rollsum"): librsync.RS_MD4_SIG_MAGIC,
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("interop")
    old = make_data(400_000, seed=101)
    new = mutate(old, 40, seed=102)
    paths = {}
    for name, data in {"old": old, "new": new, "small": b"tiny file",
                       "empty": b"", "unrelated": make_data(90_000, seed=103)}.items():
        paths[name] = d / name
        paths[name].write_bytes(data)
    return d, paths


@pytest.mark.parametrize("hash_name", ["md4", "blake2"])
@pytest.mark.parametrize("rollsum", ROLLSUMS)
@pytest.mark.parametrize("strong_len", [0, -1, 8])
@pytest.mark.parametrize("block_size", [0, 256, 1000, 2048])
def test_signature_identical_to_rdiff(files, run_rdiff, hash_name, rollsum, strong_len,
                                      block_size):
    d, paths = files
    for name in ("old", "small", "empty"):
        ref = d / f"{name}-{hash_name}-{rollsum}-{strong_len}-{block_size}.sig"
        run_rdiff("-f", "-H", hash_name, "-R", rollsum, "-S", str(strong_len),
                  "-b", str(block_size), "signature", str(paths[name]), str(ref))
        ours = librsync.signature(paths[name], block_size=block_size,
                                  strong_len=strong_len,
                                  magic=MAGIC[hash_name, rollsum]).read()
        assert ours == ref.read_bytes(), (name, hash_name, rollsum, strong_len, block_size)


def test_default_signature_identical_to_rdiff(files, run_rdiff):
    d, paths = files
    ref = d / "default.sig"
    run_rdiff("-f", "signature", str(paths["old"]), str(ref))
    assert librsync.signature(str(paths["old"])).read() == ref.read_bytes()


def test_signature_of_stdin_matches_rdiff_reading_a_pipe(files, rdiff):
    """rdiff reading a pipe does not know the size; neither do we."""
    d, paths = files
    data = paths["old"].read_bytes()
    ref = subprocess.run([rdiff, "signature"], input=data, capture_output=True,
                         check=True).stdout
    proc = subprocess.Popen(["cat", str(paths["old"])], stdout=subprocess.PIPE)
    try:
        ours = librsync.signature(proc.stdout).read()
    finally:
        proc.stdout.close()
        proc.wait()
    assert ours == ref


@pytest.mark.parametrize("pair", [("old", "new"), ("old", "unrelated"), ("empty", "new"),
                                  ("new", "empty"), ("small", "small")])
@pytest.mark.parametrize("hash_name", ["md4", "blake2"])
def test_rdiff_applies_our_delta(files, run_rdiff, pair, hash_name):
    d, paths = files
    basis, target = (paths[p] for p in pair)
    sig = librsync.signature(basis, magic=MAGIC[hash_name, "rabinkarp"])
    ours = d / f"ours-{pair[0]}-{pair[1]}-{hash_name}.delta"
    librsync.delta(target, sig, ours)
    out = d / f"rdiff-patched-{pair[0]}-{pair[1]}-{hash_name}"
    run_rdiff("-f", "patch", str(basis), str(ours), str(out))
    assert out.read_bytes() == target.read_bytes()


@pytest.mark.parametrize("pair", [("old", "new"), ("old", "unrelated"), ("empty", "new"),
                                  ("new", "empty"), ("small", "small")])
@pytest.mark.parametrize("rollsum", ROLLSUMS)
def test_we_apply_rdiff_delta(files, run_rdiff, pair, rollsum):
    d, paths = files
    basis, target = (paths[p] for p in pair)
    sig = d / f"r-{pair[0]}-{rollsum}.sig"
    delta = d / f"r-{pair[0]}-{pair[1]}-{rollsum}.delta"
    run_rdiff("-f", "-R", rollsum, "signature", str(basis), str(sig))
    run_rdiff("-f", "delta", str(sig), str(target), str(delta))
    assert librsync.patch(basis, delta).read() == target.read_bytes()
    # and our delta from rdiff's signature patches too
    assert librsync.patch(basis, librsync.delta(target, sig)).read() == target.read_bytes()


def test_rdiff_reads_our_signature_for_its_delta(files, run_rdiff):
    d, paths = files
    sig = d / "ours.sig"
    librsync.signature(paths["old"], sig, magic=librsync.RS_MD4_SIG_MAGIC, strong_len=8)
    delta = d / "rdiff-from-our-sig.delta"
    run_rdiff("-f", "delta", str(sig), str(paths["new"]), str(delta))
    assert librsync.patch(paths["old"], delta).read() == paths["new"].read_bytes()


def test_delta_bytes_match_rdiff_when_mostly_copies(files, run_rdiff):
    """With few literals, 2.3.2 and 2.3.4 produce the same delta bytes."""
    d, paths = files
    sig = d / "m.sig"
    run_rdiff("-f", "signature", str(paths["old"]), str(sig))
    ref = d / "m.delta"
    run_rdiff("-f", "delta", str(sig), str(paths["old"]), str(ref))
    assert librsync.delta(paths["old"], sig).read() == ref.read_bytes()
