"""The ``librsync`` command line against rdiff's.

Every test runs the real command (``python -m librsync``, which is what the
``librsync`` console script calls) in a subprocess, with the same files given
to Debian's rdiff where rdiff has the feature.  Signatures and patched files
must be byte-identical to rdiff's; deltas may differ between librsync 2.3.2
(rdiff) and 2.3.4 (ours) in how literals are split, so they are checked by
applying them with both tools.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import librsync
from librsync import _cli_io, cli

from conftest import CHILD_CWD, child_env, make_data, mutate

LIBRSYNC = [sys.executable, "-m", "librsync"]


def _env(**extra: str) -> dict:
    env = child_env()
    env.pop("LIBRSYNC_PROGRESS_DELAY", None)
    env.update(extra)
    return env


def lib(*args, cwd=None, input=None, stdin=None, env=None, check=False):
    """Run ``librsync ARGS``; stdout and stderr captured as bytes."""
    kwargs = {"stdin": stdin} if stdin is not None else {"input": input}
    return subprocess.run([*LIBRSYNC, *map(str, args)], cwd=cwd or CHILD_CWD,
                          capture_output=True,
                          env=env or _env(), check=check, **kwargs)


def rd(rdiff, *args, cwd=None, input=None, stdin=None, check=False):
    """Run ``rdiff ARGS`` the same way."""
    kwargs = {"stdin": stdin} if stdin is not None else {"input": input}
    return subprocess.run([rdiff, *map(str, args)], cwd=cwd, capture_output=True,
                          check=check, **kwargs)


def ok(proc):
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc


def one_line_error(proc) -> str:
    """A runtime failure is reported as a single line, never a traceback."""
    err = proc.stderr.decode()
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("librsync: "), err
    return err


@pytest.fixture()
def files(tmp_path):
    old = make_data(300_000, seed=7)
    new = mutate(old, 30, seed=8)
    (tmp_path / "old").write_bytes(old)
    (tmp_path / "new").write_bytes(new)
    (tmp_path / "small").write_bytes(b"a small file\n")
    (tmp_path / "empty").write_bytes(b"")
    return tmp_path


# ---------------------------------------------------------------------------
# Byte-identical signatures, for every option and placement
# ---------------------------------------------------------------------------

SIG_OPTIONS = [
    [],
    ["-b", "1024"],
    ["-b", "0x400"],          # popt reads C integers: hex ...
    ["-b", "0400"],           # ... and octal
    ["--block-size=300"],
    ["-b300"],
    ["-S", "8"],
    ["-S", "-1"],
    ["--sum-size", "16", "-H", "md4"],
    ["-H", "md4"],            # md4 alone keeps the RabinKarp rollsum
    ["-H", "md4", "-R", "rollsum"],
    ["-R", "rollsum"],
    ["--hash=blake2", "--rollsum=rabinkarp"],
    ["-Hmd4", "-Rrollsum", "-S", "-1", "-b", "256"],
    ["-I", "4096", "-O", "65536"],
]


@pytest.mark.parametrize("opts", SIG_OPTIONS, ids=lambda o: " ".join(o) or "defaults")
@pytest.mark.parametrize("name", ["old", "small", "empty"])
def test_signature_identical_to_rdiff(files, rdiff, opts, name):
    ok(rd(rdiff, *opts, "signature", name, "rdiff.sig", cwd=files))
    ok(lib(*opts, "signature", name, "ours.sig", cwd=files))
    assert (files / "ours.sig").read_bytes() == (files / "rdiff.sig").read_bytes()


@pytest.mark.parametrize("argv", [
    ["-b", "512", "signature", "old", "out.sig"],      # options first
    ["signature", "-b", "512", "old", "out.sig"],      # after the action
    ["signature", "old", "-b", "512", "out.sig"],      # between the names
    ["signature", "old", "out.sig", "-b", "512"],      # last
    ["sig", "old", "out.sig", "-b512"],                # abbreviated action
    ["s", "--", "old", "out.sig", "-b512"],            # "--" ends options
])
def test_options_anywhere_like_popt(files, rdiff, argv):
    expected = ok(rd(rdiff, "-b", "512", "signature", "old", "-", cwd=files)).stdout
    if "--" in argv:
        # After "--", "-b512" is a third file name: too many arguments.
        proc = lib(*argv, cwd=files)
        assert proc.returncode == rd(rdiff, *argv, cwd=files).returncode == 101
        return
    ok(lib(*argv, cwd=files))
    assert (files / "out.sig").read_bytes() == expected


def test_signature_stdin_stdout_like_rdiff(files, rdiff):
    data = (files / "old").read_bytes()
    # Through a pipe the size is unknown, so both pick the default block
    # length (2048) rather than the one for the file's size.
    piped = ok(lib("signature", input=data)).stdout
    assert piped == ok(rd(rdiff, "signature", input=data)).stdout
    assert piped == ok(lib("signature", "-", "-", input=data)).stdout
    # Redirected from a file, stdin's size is known, as for rdiff.
    with open(files / "old", "rb") as f:
        redirected = ok(lib("signature", stdin=f)).stdout
    with open(files / "old", "rb") as f:
        assert redirected == ok(rd(rdiff, "signature", stdin=f)).stdout
    assert redirected == ok(lib("signature", "old", cwd=files)).stdout
    assert redirected != piped


# ---------------------------------------------------------------------------
# Delta and patch
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("sig_opts", [[], ["-H", "md4", "-R", "rollsum", "-S", "8"],
                                      ["-b", "256"]])
def test_delta_patches_to_new_file_with_both_tools(files, rdiff, sig_opts):
    new = (files / "new").read_bytes()
    ok(rd(rdiff, *sig_opts, "signature", "old", "rdiff.sig", cwd=files))
    ok(lib(*sig_opts, "signature", "old", "ours.sig", cwd=files))
    ok(lib("delta", "rdiff.sig", "new", "ours.delta", cwd=files))
    ok(lib("delta", "ours.sig", "new", "ours2.delta", cwd=files))
    # Our delta, applied by rdiff and by us, gives the new file.
    ok(rd(rdiff, "patch", "old", "ours.delta", "by-rdiff", cwd=files))
    ok(lib("patch", "old", "ours.delta", "by-us", cwd=files))
    assert (files / "by-rdiff").read_bytes() == new
    assert (files / "by-us").read_bytes() == new
    assert (files / "ours2.delta").read_bytes() == (files / "ours.delta").read_bytes()
    # The delta reuses the old file rather than copying the new one whole.
    assert len((files / "ours.delta").read_bytes()) < len(new) // 4


def test_patch_identical_to_rdiff(files, rdiff):
    ok(rd(rdiff, "signature", "old", "sig", cwd=files))
    ok(rd(rdiff, "delta", "sig", "new", "delta", cwd=files))
    ok(rd(rdiff, "patch", "old", "delta", "rdiff.out", cwd=files))
    ok(lib("patch", "old", "delta", "ours.out", cwd=files))
    assert (files / "ours.out").read_bytes() == (files / "rdiff.out").read_bytes()
    assert (files / "ours.out").read_bytes() == (files / "new").read_bytes()


def test_pipeline_through_stdin_and_stdout(files, rdiff):
    new = (files / "new").read_bytes()
    old = (files / "old").read_bytes()
    sig = ok(lib("signature", input=old)).stdout
    assert sig == ok(rd(rdiff, "signature", "-", "-", input=old)).stdout
    (files / "sig").write_bytes(sig)
    delta = ok(lib("delta", "sig", "-", "-", cwd=files, input=new)).stdout
    delta_default = ok(lib("delta", "sig", cwd=files, input=new)).stdout
    assert delta == delta_default
    out = ok(lib("patch", "old", "-", cwd=files, input=delta)).stdout
    assert out == new
    assert ok(rd(rdiff, "patch", "old", cwd=files, input=delta)).stdout == new
    # The signature itself may come from stdin too.
    delta2 = ok(lib("delta", "-", "new", cwd=files, input=sig)).stdout
    assert ok(lib("patch", "old", "-", "-", cwd=files, input=delta2)).stdout == new


def test_stdout_redirected_to_a_file_is_not_rewound(files):
    # The library rewinds seekable output files; stdout must not be, or the
    # next command writing to the same redirection would overwrite us.
    script = f"{{ {shlex.join(LIBRSYNC)} signature small; echo tail; }} > both"
    subprocess.run(["sh", "-c", script], cwd=files, env=_env(), check=True)
    sig = ok(lib("signature", "small", cwd=files)).stdout
    assert (files / "both").read_bytes() == sig + b"tail\n"


def test_output_may_name_an_input(files):
    # rdiff would truncate the basis while reading it; the atomic rename
    # makes this safe for us.
    ok(lib("signature", "old", "sig", cwd=files))
    ok(lib("delta", "sig", "new", "delta", cwd=files))
    ok(lib("-f", "patch", "old", "delta", "old", cwd=files))
    assert (files / "old").read_bytes() == (files / "new").read_bytes()


# ---------------------------------------------------------------------------
# Overwriting, usage and failures: rdiff's exit codes
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["signature", "old", "exists"],
    ["delta", "sig", "new", "exists"],
    ["patch", "old", "delta", "exists"],
])
def test_refuses_to_overwrite_without_force(files, rdiff, argv):
    ok(rd(rdiff, "signature", "old", "sig", cwd=files))
    ok(rd(rdiff, "delta", "sig", "new", "delta", cwd=files))
    (files / "exists").write_bytes(b"keep me")
    proc = lib(*argv, cwd=files)
    assert proc.returncode == rd(rdiff, *argv, cwd=files).returncode == 100
    assert 'File exists "exists"' in one_line_error(proc)
    assert (files / "exists").read_bytes() == b"keep me"
    assert sorted(p.name for p in files.iterdir() if p.name.startswith(".")) == []
    # With -f (anywhere on the line) it is replaced.
    ok(lib(*argv, "-f", cwd=files))
    assert (files / "exists").read_bytes() != b"keep me"
    ok(lib("--force", *argv, cwd=files))


def test_refusal_comes_before_any_work(files):
    # The input is a pipe that is never written to: a command that read it
    # before checking the output would hang, not fail at once.
    (files / "exists").write_bytes(b"")
    proc = subprocess.run([*LIBRSYNC, "signature", "-", "exists"], cwd=files,
                          env=_env(), stdin=subprocess.PIPE, capture_output=True,
                          timeout=60)
    assert proc.returncode == 100


def _corrupt_inputs(d: Path) -> None:
    old = (d / "old").read_bytes()
    sig = librsync.signature(old).read()
    delta = librsync.delta((d / "new").read_bytes(), librsync.load_signature(sig)).read()
    files = {
        "sig": sig,
        "delta": delta,
        "delta-truncated": delta[: len(delta) // 2],
        "delta-3-bytes": delta[:3],
        "delta-bogus-command": delta[:4] + b"\x99" + delta[5:],
        # COPY 10 bytes from offset 1,000,000 of a 300,000-byte basis.
        "delta-copy-past-end": bytes.fromhex("72730236") + bytes([0x47])
        + (10**6).to_bytes(4, "big") + bytes([0x45, 0, 10, 0]),
        "sig-truncated": sig[:1010],
        "sig-6-bytes": sig[:6],
        "sig-bad-magic": b"\x12\x34\x56\x78" + sig[4:],
        "sig-strong-99": sig[:8] + (99).to_bytes(4, "big") + sig[12:],
        "sig-block-0": sig[:4] + bytes(4) + sig[8:],
        "sig-md4-magic-blake2-len": bytes.fromhex("72730146") + sig[4:],
    }
    for name, data in files.items():
        (d / name).write_bytes(data)


def _for_rdiff(argv):
    # rdiff creates its output before it fails (and leaves it); give it
    # another name so that ours can be checked for absence.
    return ["rdiff-out" if a == "out" else a for a in argv]


@pytest.mark.parametrize("argv", [
    ["patch", "old", "delta-truncated", "out"],
    ["patch", "old", "delta-3-bytes", "out"],
    ["patch", "old", "empty", "out"],
    ["patch", "old", "delta-bogus-command", "out"],
    ["patch", "old", "delta-copy-past-end", "out"],
    ["patch", "old", "sig", "out"],               # a signature is not a delta
    ["patch", "empty", "delta", "out"],           # the basis is too short
    ["delta", "sig-truncated", "new", "out"],
    ["delta", "sig-6-bytes", "new", "out"],
    ["delta", "sig-bad-magic", "new", "out"],
    ["delta", "sig-strong-99", "new", "out"],
    ["delta", "sig-block-0", "new", "out"],
    ["delta", "sig-md4-magic-blake2-len", "new", "out"],
    ["delta", "empty", "new", "out"],
    ["delta", "new", "old", "out"],               # data is not a signature
    ["delta", "delta", "new", "out"],             # nor is a delta
    ["signature", "missing", "out"],
    ["delta", "missing", "new", "out"],
    ["delta", "sig", "missing", "out"],
    ["patch", "missing", "delta", "out"],
    ["patch", "old", "missing", "out"],
    ["signature", "old", "no-such-dir/out"],
    ["-S", "100", "signature", "old", "out"],     # longer than BLAKE2's 32
    ["-S", "-2", "signature", "old", "out"],
    ["-H", "md4", "-S", "17", "signature", "old", "out"],
])
def test_failure_exit_codes_match_rdiff(files, rdiff, argv):
    _corrupt_inputs(files)
    expected = rd(rdiff, *_for_rdiff(argv), cwd=files).returncode
    assert expected not in (0, 1)
    proc = lib(*argv, cwd=files)
    assert proc.returncode == expected, proc.stderr
    one_line_error(proc)
    # Nothing is left behind: no output, no temporary file.
    assert not (files / "out").exists()
    assert not [p for p in files.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("argv", [
    [],
    ["frobnicate", "old"],
    ["delta"],
    ["patch"],
    ["signature", "old", "out", "extra"],
    ["delta", "sig", "new", "out", "extra"],
    ["patch", "old", "delta", "out", "extra"],
    ["--no-such-option", "signature", "old"],
    ["--verb", "signature", "old"],               # no abbreviated options
    ["-b", "abc", "signature", "old"],
    ["-b", "1024k", "signature", "old"],
    ["-b", "99999999999", "signature", "old"],
    ["-b", "signature", "old"],                   # "signature" is -b's value
    ["-H", "sha1", "signature", "old"],
    ["-R", "adler", "signature", "old"],
])
def test_usage_errors_match_rdiff(files, rdiff, argv):
    _corrupt_inputs(files)
    expected = rd(rdiff, *_for_rdiff(argv), cwd=files).returncode
    assert expected == 101
    proc = lib(*argv, cwd=files)
    assert proc.returncode == expected
    err = proc.stderr.decode()
    assert "Traceback" not in err
    assert err.startswith("librsync: ") and "Try `librsync --help'" in err
    assert not (files / "out").exists()


@pytest.mark.parametrize("opt", ["-z", "--gzip", "-i", "--bzip2", "--gzip=9"])
def test_compression_is_unimplemented_like_rdiff(files, opt):
    # rdiff 2.3.4 documents -z/-i and stops with RS_UNIMPLEMENTED; Debian's
    # 2.3.2 does not know them at all, so this is checked against the code.
    proc = lib(opt, "signature", "old", cwd=files)
    assert proc.returncode == 105
    assert "not implemented" in proc.stderr.decode()


def test_help_and_version(rdiff):
    for opt in ("-h", "-?", "--help"):
        proc = ok(lib(opt))
        assert proc.stdout.decode().startswith("Usage: librsync [OPTIONS] signature")
        assert b"sync SOURCE DESTINATION" in proc.stdout
    for opt in ("-V", "--version"):
        proc = ok(lib(opt))
        assert librsync.LIBRSYNC_VERSION in proc.stdout.decode()
        assert librsync.__version__ in proc.stdout.decode()
    # Like rdiff, the first of -h/-V wins and nothing else is checked.
    assert lib("-V", "-h").stdout.startswith(b"librsync ")
    assert lib("-h", "-V").stdout.startswith(b"Usage:")
    assert ok(lib("signature", "missing-file", "-h")).stdout.startswith(b"Usage:")
    assert rd(rdiff, "signature", "missing-file", "-h").returncode == 0


def test_buffer_size_options_are_validated(files):
    ok(lib("-I", "0", "-O", "0", "signature", "old", "out", cwd=files))
    for opt in ("-I", "-O", "--input-size", "--output-size"):
        proc = lib(opt, "-5", "signature", "old", cwd=files)
        assert proc.returncode == 108
        one_line_error(proc)
        assert lib(opt, "x", "signature", "old", cwd=files).returncode == 101


def test_block_size_out_of_range(files):
    for value in ("-5", str(librsync.MAX_BLOCK_LEN + 1)):
        proc = lib("-b", value, "signature", "old", "out", cwd=files)
        assert proc.returncode == 108
        one_line_error(proc)


def test_basis_must_be_seekable(files, rdiff):
    ok(lib("signature", "old", "sig", cwd=files))
    ok(lib("delta", "sig", "new", "delta", cwd=files))
    with open(files / "old", "rb") as f:
        # Redirected from a file, stdin is a seekable basis ...
        assert ok(lib("patch", "-", "delta", cwd=files, stdin=f)).stdout == \
            (files / "new").read_bytes()
    # ... through a pipe it is not.
    old = (files / "old").read_bytes()
    proc = lib("patch", "-", "delta", cwd=files, input=old)
    assert proc.returncode == rd(rdiff, "patch", "-", "delta", cwd=files, input=old).returncode
    assert proc.returncode == 100
    one_line_error(proc)


# ---------------------------------------------------------------------------
# -s, -v, --max-length
# ---------------------------------------------------------------------------

def _stats_lines(stderr: bytes, prefix: str) -> list:
    """The -s lines without the prefix and the timing part."""
    lines = [ln for ln in stderr.decode().splitlines() if " statistics: " in ln]
    return [ln[len(prefix):].split(" speed[")[0] for ln in lines]


def test_statistics_like_rdiff(files, rdiff):
    for argv in (["signature", "old", "sig"], ["delta", "sig", "new", "delta"],
                 ["patch", "old", "delta", "new2"]):
        theirs = ok(rd(rdiff, "-f", "-s", *argv, cwd=files))
        ours = ok(lib(*argv, "-f", "--statistics", cwd=files))
        got = _stats_lines(ours.stderr, "librsync: ")
        want = _stats_lines(theirs.stderr, "librsync: ")
        if argv[0] == "delta":
            # rdiff prints loadsig, match (hash-table counters, which our
            # thread-safe build does not keep) and delta; the delta's
            # command split may differ between 2.3.2 and 2.3.4, so only its
            # kind is compared.
            want = [w for w in want if not w.startswith("match statistics")]
            assert [g.split(":")[0] for g in got] == [w.split(":")[0] for w in want]
            assert got[0] == want[0]
        else:
            assert got == want
        assert re.search(r" speed\[[\d.]+ MB \([\d.]+ MB/s\) in, ", ours.stderr.decode())
    assert (files / "new2").read_bytes() == (files / "new").read_bytes()
    assert ok(lib("--stats", "signature", "old", cwd=files)).stderr.count(b"\n") == 1


def test_verbose_keeps_output(files):
    plain = ok(lib("signature", "old", cwd=files)).stdout
    proc = ok(lib("-v", "signature", "old", cwd=files))
    assert proc.stdout == plain
    assert b"Traceback" not in proc.stderr
    assert b"512 bytes" in proc.stderr  # the chosen block length is told


def test_max_length(files):
    ok(lib("signature", "old", "sig", cwd=files))
    ok(lib("delta", "sig", "new", "delta", cwd=files))
    size = len((files / "new").read_bytes())
    proc = lib("--max-length", str(size - 1), "patch", "old", "delta", "out", cwd=files)
    assert proc.returncode == 106
    assert "max_length" in one_line_error(proc)
    assert not (files / "out").exists()
    ok(lib("patch", "old", "delta", "out", "--max-length", str(size), cwd=files))
    assert (files / "out").read_bytes() == (files / "new").read_bytes()
    ok(lib("-f", "--max-length=1M", "patch", "old", "delta", "out", cwd=files))
    assert lib("--max-length", "lots", "patch", "old", "delta", cwd=files).returncode == 101


def test_size_parser():
    assert cli._size("10") == 10
    assert cli._size("2k") == 2048
    assert cli._size("3MiB") == 3 << 20
    assert cli._size("1G") == 1 << 30
    assert cli._c_int("0x10") == 16 and cli._c_int("010") == 8
    assert cli._c_int("-1") == -1 and cli._c_int("0") == 0


def test_threads_parser():
    assert cli._threads("3") == 3
    assert cli._threads("0") >= 1          # one per CPU available to us
    for bad in ("-1", "two", "1.5"):
        with pytest.raises(Exception):
            cli._threads(bad)


# ---------------------------------------------------------------------------
# --threads: same bytes as rdiff, more cores
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big_files(tmp_path_factory):
    """Large enough for several 8 MiB segments, so threads really split it."""
    d = tmp_path_factory.mktemp("threads")
    old = make_data(20 << 20, seed=21)
    (d / "old").write_bytes(old)
    (d / "new").write_bytes(mutate(old, 60, seed=22))
    return d


@pytest.mark.parametrize("threads", ["2", "0"])
def test_threads_signature_identical_to_rdiff(big_files, rdiff, threads):
    ok(rd(rdiff, "-f", "signature", "old", "rdiff.sig", cwd=big_files))
    ok(lib("-f", "--threads", threads, "signature", "old", "ours.sig", cwd=big_files))
    assert (big_files / "ours.sig").read_bytes() == (big_files / "rdiff.sig").read_bytes()
    # From a pipe too: the segments are cut from a stream, not a file.
    with open(big_files / "old", "rb") as stdin:
        piped = ok(lib("-j2", "signature", "-b", "2048", stdin=stdin, cwd=big_files))
    expected = ok(rd(rdiff, "signature", "-b", "2048", "old", cwd=big_files)).stdout
    assert piped.stdout == expected


def test_threads_delta_applies_with_rdiff(big_files, rdiff):
    ok(rd(rdiff, "-f", "signature", "old", "sig", cwd=big_files))
    ok(lib("-f", "-j", "2", "delta", "sig", "new", "delta.2", cwd=big_files))
    ok(lib("-f", "delta", "sig", "new", "delta.1", cwd=big_files))
    ok(rd(rdiff, "patch", "old", "delta.2", "out", cwd=big_files))
    assert (big_files / "out").read_bytes() == (big_files / "new").read_bytes()
    # The threaded delta is no bigger than 1% over the serial one.
    assert (big_files / "delta.2").stat().st_size <= 1.01 * (big_files / "delta.1").stat().st_size
    (big_files / "out").unlink()


def test_threads_sync(big_files):
    dest = big_files / "dest"
    dest.write_bytes((big_files / "old").read_bytes())
    proc = ok(lib("--threads=2", "sync", "new", "dest", cwd=big_files))
    assert dest.read_bytes() == (big_files / "new").read_bytes()
    assert b"bytes copied" in proc.stdout


def test_threads_reach_the_library(files, monkeypatch):
    """Equal outputs cannot show that threads were used; the calls can."""
    calls = []
    real_sig, real_delta = librsync.signature, librsync.delta

    def spy(real):
        def wrapper(*args, **kwargs):
            calls.append((real.__name__, kwargs.get("threads")))
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(librsync, "signature", spy(real_sig))
    monkeypatch.setattr(librsync, "delta", spy(real_delta))
    monkeypatch.chdir(files)
    assert cli.run(["-j", "3", "signature", "old", "t.sig"]) == 0
    assert cli.run(["-j", "3", "delta", "t.sig", "new", "t.delta"]) == 0
    assert cli.run(["-q", "-j", "3", "sync", "new", "t.dest"]) == 0
    assert cli.run(["signature", "old", "t1.sig"]) == 0
    assert calls == [("signature", 3), ("delta", 3), ("signature", 3),
                     ("delta", 3), ("signature", 1)]


def test_threads_bad_value_is_a_usage_error(files):
    for bad in ("-1", "many"):
        proc = lib("--threads", bad, "signature", "old", "x.sig", cwd=files)
        assert proc.returncode == 101
        assert b"Traceback" not in proc.stderr
    assert not (files / "x.sig").exists()


# ---------------------------------------------------------------------------
# sync
# ---------------------------------------------------------------------------

def test_sync_updates_destination(files):
    dest = files / "dest"
    dest.write_bytes((files / "old").read_bytes())
    dest.chmod(0o640)
    proc = ok(lib("sync", "new", "dest", cwd=files))
    assert dest.read_bytes() == (files / "new").read_bytes()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o640
    # The summary counts match the library's own delta of the same files.
    seen = []
    librsync.delta(files / "new", librsync.signature(files / "old"), stats=seen.append)
    line = proc.stdout.decode().strip()
    m = re.fullmatch(r"dest: (\d+) bytes literal, (\d+) bytes copied "
                     r"\(([\d.]+)% reused\), (\d+) bytes total", line)
    assert m, line
    assert (int(m[1]), int(m[2])) == (seen[0].lit_bytes, seen[0].copy_bytes)
    assert int(m[4]) == len(dest.read_bytes())
    assert int(m[2]) > 0.8 * int(m[4])
    assert proc.stderr == b""
    assert not [p for p in files.iterdir() if p.name.startswith(".")]


def test_sync_creates_missing_destination_and_reads_stdin(files):
    new = (files / "new").read_bytes()
    proc = ok(lib("sync", "-", "fresh", cwd=files, input=new))
    assert (files / "fresh").read_bytes() == new
    assert proc.stdout.decode().startswith(f"fresh: {len(new)} bytes literal, 0 bytes copied")
    # Synced again, everything is copied.
    proc = ok(lib("-q", "sync", "new", "fresh", cwd=files))
    assert proc.stdout == b""
    assert (files / "fresh").read_bytes() == new


def test_sync_errors(files):
    assert lib("sync", "new", cwd=files).returncode == 101
    assert lib("sync", "new", "-", cwd=files).returncode == 101
    assert lib("sync", "new", "dest", "extra", cwd=files).returncode == 101
    proc = lib("sync", "missing", "dest", cwd=files)
    assert proc.returncode == 100
    one_line_error(proc)
    assert not (files / "dest").exists()


def test_sync_max_length_keeps_destination(files):
    old = (files / "old").read_bytes()
    (files / "dest").write_bytes(old)
    proc = lib("--max-length", "1000", "sync", "new", "dest", cwd=files)
    assert proc.returncode == 106
    one_line_error(proc)
    assert (files / "dest").read_bytes() == old
    assert not [p for p in files.iterdir() if p.name.startswith(".")]


def test_sync_with_signature_options(files):
    dest = files / "dest"
    dest.write_bytes((files / "old").read_bytes())
    ok(lib("-H", "md4", "-R", "rollsum", "-b", "700", "-s", "sync", "new", "dest", cwd=files))
    assert dest.read_bytes() == (files / "new").read_bytes()


# ---------------------------------------------------------------------------
# Progress bar
# ---------------------------------------------------------------------------

def _run_with_tty_stderr(argv, cwd, env):
    """Run with stderr on a pseudo-terminal (80 columns); return (status,
    what the terminal received)."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    # A fresh pty is 0x0, which tqdm would take for zero columns.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=slave)
    finally:
        os.close(slave)
    chunks = []
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


pytestmark_pty = pytest.mark.skipif(sys.platform == "win32",
                                    reason="pseudo-terminals are POSIX")


@pytestmark_pty
@pytest.mark.parametrize("argv, label", [
    (["signature", "old", "out"], "signature"),
    (["delta", "sig", "new", "out"], "delta"),
    (["patch", "old", "delta", "out"], "patch"),
    (["sync", "new", "dest"], "delta"),
])
def test_progress_bar_on_a_terminal(files, argv, label):
    import tqdm  # noqa: F401  (in the test extra: its absence must fail here)

    ok(lib("signature", "old", "sig", cwd=files))
    ok(lib("delta", "sig", "new", "delta", cwd=files))
    (files / "dest").write_bytes((files / "old").read_bytes())
    env = _env(LIBRSYNC_PROGRESS_DELAY="0")
    status, tty = _run_with_tty_stderr([*LIBRSYNC, *argv], files, env)
    assert status == 0, tty
    # tqdm's bar: the label, a percentage, bytes done / total with units.
    total = len((files / ("old" if label == "signature" else "new")).read_bytes())
    assert re.search(rf"{label}:\s+\d+%\|", tty), tty
    assert f"/{total / 1024:.0f}k" in tty, tty
    assert "B/s" in tty
    # The bar changes nothing in the results.
    new = (files / "new").read_bytes()
    if argv[0] == "signature":
        assert (files / "out").read_bytes() == (files / "sig").read_bytes()
    elif argv[0] == "delta":
        assert librsync.patch(files / "old", files / "out").read() == new
    elif argv[0] == "patch":
        assert (files / "out").read_bytes() == new
    else:
        assert (files / "dest").read_bytes() == new


@pytestmark_pty
def test_no_bar_when_quiet_or_without_tqdm(files):
    env = _env(LIBRSYNC_PROGRESS_DELAY="0")
    status, tty = _run_with_tty_stderr([*LIBRSYNC, "-q", "signature", "old", "out"],
                                       files, env)
    assert (status, tty) == (0, "")
    # Without tqdm (the cli extra not installed) the command still works.
    code = ("import sys; sys.modules['tqdm'] = None; from librsync.cli import main; "
            "sys.exit(main())")
    status, tty = _run_with_tty_stderr(
        [sys.executable, "-c", code, "signature", "old", "out2"], files, env)
    assert (status, tty) == (0, "")
    assert (files / "out2").read_bytes() == (files / "out").read_bytes()


def test_no_bar_when_stderr_is_piped(files):
    proc = ok(lib("sync", "new", "dest", cwd=files, env=_env(LIBRSYNC_PROGRESS_DELAY="0")))
    assert proc.stderr == b""
    proc = ok(lib("signature", "old", cwd=files, env=_env(LIBRSYNC_PROGRESS_DELAY="0")))
    assert proc.stderr == b""


def test_delta_output_size_for_the_bar(files):
    ok(lib("signature", "old", "sig", cwd=files))
    ok(lib("delta", "sig", "new", "delta", cwd=files))
    assert _cli_io.delta_output_size(str(files / "delta")) == len((files / "new").read_bytes())
    assert _cli_io.delta_output_size(str(files / "sig")) is None
    (files / "cut").write_bytes((files / "delta").read_bytes()[:100])
    assert _cli_io.delta_output_size(str(files / "cut")) is None


# ---------------------------------------------------------------------------
# A script written for rdiff, run unchanged with librsync
# ---------------------------------------------------------------------------

RDIFF_SCRIPT = r"""
set -e
$RDIFF signature old old.sig
$RDIFF -b 1024 -S 8 -H md4 signature old old-md4.sig
$RDIFF delta old.sig new new.delta
$RDIFF patch old new.delta new.out
cmp new new.out
$RDIFF signature < old > piped.sig
cat old | $RDIFF signature - - > pipe2.sig
cat new | $RDIFF delta old.sig | $RDIFF patch old - > new.piped
cmp new new.piped
if $RDIFF signature old old.sig 2>/dev/null; then echo "overwrote!"; exit 1; fi
status=0; $RDIFF patch old old.sig bad.out 2>/dev/null || status=$?
echo "status $status"
$RDIFF -f sig old old.sig
"""


def test_rdiff_script_runs_unchanged(files, rdiff, tmp_path_factory):
    results = {}
    for tool in ("rdiff", "librsync"):
        d = tmp_path_factory.mktemp(tool)
        for name in ("old", "new"):
            (d / name).write_bytes((files / name).read_bytes())
        cmd = rdiff if tool == "rdiff" else shlex.join(LIBRSYNC)
        proc = subprocess.run(["sh", "-c", RDIFF_SCRIPT], cwd=d, capture_output=True,
                              env=_env(RDIFF=cmd))
        assert proc.returncode == 0, (tool, proc.stdout, proc.stderr)
        # rdiff leaves an empty bad.out behind after failing; we leave none.
        bad = d / "bad.out"
        assert bad.exists() == (tool == "rdiff")
        if bad.exists():
            assert bad.read_bytes() == b""
            bad.unlink()
        results[tool] = (proc.stdout, {
            p.name: p.read_bytes() for p in d.iterdir() if p.suffix != ".delta"})
    assert results["librsync"] == results["rdiff"]
    assert results["rdiff"][0] == b"status 104\n"
