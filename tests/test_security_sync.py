"""What a hostile peer can do to a tree or remote sync: the findings of the
security review (issue "Security: close what a hostile peer, a forged
signature or a device path can do today"), each as a test that failed
before its fix.

The hostile remote side is ``tests/helpers/hostile_serve.py``, given as
``--remote-cmd`` behind the local stand-in for ssh, so the real ``librsync``
command faces a peer that lies in the ways an attacker who controls the
remote machine would.
"""

from __future__ import annotations

import io
import os
import random
import resource
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import librsync
from librsync import _cli_remote, sync, tree
from librsync.sync import _wire as W

from conftest import CHILD_CWD, child_env

HERE = Path(__file__).resolve().parent
LOCALRSH = f"{shlex.quote(sys.executable)} {shlex.quote(str(HERE / 'helpers' / 'localrsh.py'))}"
HOSTILE = f"{shlex.quote(sys.executable)} {shlex.quote(str(HERE / 'helpers' / 'hostile_serve.py'))}"
REMOTE_CMD = f"{shlex.quote(sys.executable)} -m librsync"
LIBRSYNC = [sys.executable, "-m", "librsync"]
TIMEOUT = 120

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="sh and fork-based rsh")


def lib(*args, env=None, cwd=CHILD_CWD, timeout=TIMEOUT, **kwargs):
    full = child_env()
    full.pop("LIBRSYNC_PROGRESS_DELAY", None)
    full.update(env or {})
    return subprocess.run([*LIBRSYNC, *map(str, args)], cwd=cwd, env=full,
                          capture_output=True, timeout=timeout, **kwargs)


def hostile(scenario: str, *args, env=None, **kwargs):
    """``librsync sync ARGS`` against the hostile serve side."""
    return lib("--rsh", LOCALRSH, "--remote-cmd", f"{HOSTILE} {scenario}", *args,
               env=env, **kwargs)


def err(proc) -> str:
    text = proc.stderr.decode(errors="replace")
    assert "Traceback" not in text, text
    return text


# --- 1. a pull must not write through a symlink the peer planted ------------------------

def test_a_pulled_file_replaces_a_planted_symlink_and_never_follows_it(tmp_path):
    outside = tmp_path / "home" / ".bashrc"
    outside.parent.mkdir()
    outside.write_bytes(b"the user's own file\n")
    dst = tmp_path / "dst"
    dst.mkdir()
    os.symlink(outside, dst / "src")  # made by an earlier (tree) pull from this peer
    log = tmp_path / "sig-the-peer-got"
    proc = hostile("file-pwn", "-q", "sync", "peer:/somewhere/src", dst,
                   env={"HOSTILE_LOG": str(log)})
    assert proc.returncode == 0, err(proc)
    assert outside.read_bytes() == b"the user's own file\n"
    assert not os.path.islink(dst / "src")
    assert (dst / "src").read_bytes() == b"pwned\n"
    # Nothing of the link's target was read and signed for the peer either:
    # the file was asked for whole.
    assert log.read_bytes() == bytes([W.WHOLE])


def test_serve_receiver_replaces_a_symlink_at_a_single_files_name(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"secret\n")
    dst = tmp_path / "dst"
    dst.mkdir()
    os.symlink(outside, dst / "name")
    src = tmp_path / "src" / "name"
    src.parent.mkdir()
    src.write_bytes(b"mine\n")
    proc = subprocess.Popen(
        [*LIBRSYNC, "serve", "--protocol", str(_cli_remote.PROTOCOL), f"--receiver={dst}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=CHILD_CWD, env=child_env())
    try:
        assert proc.stdout.readline().startswith(b"LRSYNC-SERVE")
        sync.send(src, proc.stdout, proc.stdin)
        proc.stdin.close()
        assert proc.stdout.readline().startswith(b"LRSYNC-DONE")
        assert proc.wait(TIMEOUT) == 0, proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
        for f in (proc.stdout, proc.stderr):
            f.close()
    assert outside.read_bytes() == b"secret\n"
    assert not os.path.islink(dst / "name") and (dst / "name").read_bytes() == b"mine\n"


# --- 2. the signer of a destination never reads outside it -------------------------------

class _SwapOnFirstWrite(io.RawIOBase):
    """A signature stream's output that, when the signer first writes (it
    has listed the root, not yet the subdirectory), swaps ``dst/sub`` for a
    symlink to a directory outside, as a hostile stream applied to the same
    tree at that moment would."""

    def __init__(self, dst: Path, outside: Path) -> None:
        super().__init__()
        self.dst, self.outside = dst, outside
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        if not self.data:
            sub = self.dst / "sub"
            for child in sub.iterdir():
                child.unlink()
            sub.rmdir()
            os.symlink(self.outside, sub)
        self.data += bytes(b)
        return len(b)


def test_the_signer_does_not_follow_a_directory_swapped_for_a_symlink(tmp_path, monkeypatch):
    monkeypatch.setattr(tree, "_FLUSH_AT", 1)  # each record written as it is made
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret-outside.txt").write_bytes(b"top secret\n")
    dst = tmp_path / "dst"
    (dst / "sub").mkdir(parents=True)
    (dst / "sub" / "secret-outside.txt").write_bytes(b"same name inside\n")
    (dst / "a.txt").write_bytes(b"a\n")
    out = _SwapOnFirstWrite(dst, outside)
    stats = tree.tree_signature(dst, out)
    assert b"secret-outside" not in out.data
    assert stats.files == 1 and stats.dirs == 0  # the swapped directory counts as gone


def test_the_signer_reads_trees_deeper_than_path_max(tmp_path):
    """A tree whose paths exceed PATH_MAX (made through directory
    descriptors) is still signed, and so can be synced and deleted."""
    dst = tmp_path / "dst"
    dst.mkdir()
    name = "d" * 250
    fd = os.open(dst, os.O_RDONLY)
    try:
        for _ in range(20):
            os.mkdir(name, dir_fd=fd)
            sub = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = sub
        leaf = os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(leaf, b"deep\n")
        os.close(leaf)
    finally:
        os.close(fd)
    out = io.BytesIO()
    stats = tree.tree_signature(dst, out)
    assert stats.files == 1 and stats.dirs == 20


def test_a_stream_cannot_create_paths_beyond_path_max(tmp_path):
    dst = tmp_path / "dst"
    name = b"d" * 250
    records = []
    for _ in range(20):
        records.append((tree._D, tree._ENTRY.pack(0o755, 0, len(name)) + name))
    records += [(tree._Q, b"")] * 20
    with pytest.raises(librsync.LimitExceededError, match="path of"):
        tree.tree_patch(dst, _frame(records))
    # What was made before the limit stays within it.
    deepest = max(len(os.fsencode(dp)) for dp, _, _ in os.walk(dst))
    assert deepest <= tree._MAX_PATH


def _frame(records) -> bytes:
    out = io.BytesIO()
    w = tree._Writer(out, "test")
    w.record(tree._H, b"D\0")
    w.entry(tree._D, b"", 0o755, 0)
    for kind, body in records:
        w.record(kind, body)
    w.record(tree._Q)
    w.close()
    return out.getvalue()


# --- 5. memory a peer controls -----------------------------------------------------------

def test_a_remote_stderr_without_newlines_costs_no_memory(tmp_path):
    """300 MiB on the remote's stderr, never a newline: the local side
    forwards it in pieces, its memory stays small."""
    probe = textwrap.dedent("""
        import resource, subprocess, sys
        subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    """)
    dst = tmp_path / "dst"
    full = child_env()
    full.pop("LIBRSYNC_PROGRESS_DELAY", None)
    proc = subprocess.run(
        [sys.executable, "-c", probe, *LIBRSYNC, "--rsh", LOCALRSH, "--remote-cmd",
         f"{HOSTILE} stderr-flood", "-q", "sync", "peer:/x/", dst],
        capture_output=True, cwd=CHILD_CWD, env=full, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    max_rss_kib = int(proc.stdout)
    assert max_rss_kib < 150 * 1024, max_rss_kib


# --- 6. output a peer controls -----------------------------------------------------------

def _copy_bomb_setup(tmp_path):
    dst = tmp_path / "dst"
    dst.mkdir()
    old = random.Random(3).randbytes(64 << 10)
    (dst / "small.bin").write_bytes(old)
    (tmp_path / "old.bin").write_bytes(old)
    return dst, old


def test_a_delta_cannot_expand_a_few_bytes_into_a_full_disk(tmp_path):
    dst, old = _copy_bomb_setup(tmp_path)
    new = old * 200
    delta = librsync.delta(new, librsync.signature(old)).read()
    assert len(delta) < 4096  # 12.8 MB from a few KB of COPY commands
    import hashlib
    digest = hashlib.blake2b(new, digest_size=32).digest()
    name = b"small.bin"
    records = [(tree._P, tree._ENTRY.pack(0o644, 0, len(name)) + name + tree._U64.pack(len(new))),
               (tree._C, delta), (tree._E, tree._FILE_END.pack(len(new), digest))]
    for dry_run in (True, False):
        with pytest.raises(librsync.LimitExceededError, match="four times the old file"):
            tree.tree_patch(dst, _frame(records), dry_run=dry_run)
        assert (dst / "small.bin").read_bytes() == old
        assert sorted(os.listdir(dst)) == ["small.bin"]
    # Honest growth (the file doubled, edited) is well inside the bound.
    grown = old + old[:30000] + b"edit" + old[30000:]
    delta = librsync.delta(grown, librsync.signature(old)).read()
    digest = hashlib.blake2b(grown, digest_size=32).digest()
    records = [(tree._P, tree._ENTRY.pack(0o644, 0, len(name)) + name
                + tree._U64.pack(len(grown))),
               (tree._C, delta), (tree._E, tree._FILE_END.pack(len(grown), digest))]
    tree.tree_patch(dst, _frame(records))
    assert (dst / "small.bin").read_bytes() == grown


def test_a_pull_refuses_a_copy_bomb_with_its_reason(tmp_path):
    dst, old = _copy_bomb_setup(tmp_path)
    proc = hostile("copy-bomb", "-q", "sync", "peer:/x/", dst,
                   env={"HOSTILE_OLD": str(tmp_path / "old.bin")})
    assert proc.returncode == _cli_remote.EXIT_STREAM, err(proc)
    assert "four times the old file" in err(proc)
    assert (dst / "small.bin").read_bytes() == old


@pytest.mark.parametrize("how", ["local", "push", "pull"])
def test_max_length_bounds_every_file_of_a_tree_sync(tmp_path, how):
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    (src / "small.txt").write_bytes(b"s" * 100)
    (src / "big.bin").write_bytes(b"b" * 5000)
    remote = ["--rsh", LOCALRSH, "--remote-cmd", REMOTE_CMD]
    if how == "local":
        args = ["sync", f"{src}/", dst]
    elif how == "push":
        args = [*remote, "sync", f"{src}/", f"peer:{dst}"]
    else:
        args = [*remote, "sync", f"peer:{src}/", dst]
    proc = lib("-q", "--max-length", "1000", *args)
    assert proc.returncode != 0
    assert "max_file_size=1000" in err(proc) or "1000" in err(proc)
    assert not (dst / "big.bin").exists()
    proc = lib("-q", "--max-length", "5000", *args)
    assert proc.returncode == 0, err(proc)
    assert (dst / "big.bin").read_bytes() == b"b" * 5000


# --- 7. our errors are reported as ours ----------------------------------------------------

def _limit_file_size(limit: int):
    def set_limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return set_limit


def test_a_full_disk_in_a_pull_is_reported_as_ours(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    (src / "big.bin").write_bytes(os.urandom(4 << 20))
    proc = lib("--rsh", LOCALRSH, "--remote-cmd", REMOTE_CMD, "-q", "sync",
               f"peer:{src}/", dst, preexec_fn=_limit_file_size(1 << 20))
    text = err(proc)
    assert proc.returncode == _cli_remote.EXIT_FILE_IO, text
    assert "File too large" in text and "signal" not in text
    assert not (dst / "big.bin").exists()


@pytest.mark.parametrize("scenario, reason", [("bad-name", "'/'"),
                                              ("bad-msg", "'X' message")])
def test_a_refused_stream_is_reported_with_its_reason(tmp_path, scenario, reason):
    proc = hostile(scenario, "-q", "sync", "peer:/x/", tmp_path / "dst")
    text = err(proc)
    assert proc.returncode == _cli_remote.EXIT_STREAM, text
    assert reason in text and "remote exit status" not in text


# --- 8. the smaller ones ---------------------------------------------------------------

def test_a_pull_without_delete_removes_nothing(tmp_path):
    """Removals are the receiver's decision (--delete), whatever the sender
    lists."""
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "keep.txt").write_bytes(b"mine\n")
    proc = hostile("delete", "-q", "sync", "peer:/x/", dst)
    assert proc.returncode == 0, err(proc)
    assert (dst / "keep.txt").read_bytes() == b"mine\n"


def test_tree_patch_without_delete_still_replaces_an_entry_of_another_type(tmp_path):
    dst = tmp_path / "dst"
    (dst / "thing").mkdir(parents=True)
    import hashlib
    name = b"thing"
    x = (ord("X"), tree._ENTRY.pack(0, 0, len(name)) + name)
    n = [(tree._N, tree._ENTRY.pack(0o644, 0, len(name)) + name + tree._U64.pack(3)),
         (tree._C, b"new"),
         (tree._E, tree._FILE_END.pack(3, hashlib.blake2b(b"new", digest_size=32).digest()))]
    tree.tree_patch(dst, _frame([x, *n]))
    assert (dst / "thing").read_bytes() == b"new"
    with pytest.raises(tree.UnsafePathError, match="deletions were not asked for"):
        tree.tree_patch(dst, _frame([x]))
    assert (dst / "thing").read_bytes() == b"new"
    assert tree.tree_patch(dst, _frame([x]), delete=True).deleted == 1


def test_a_trailer_with_wrong_types_is_a_clear_error(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"a\n")
    proc = hostile("bad-trailer", "-q", "sync", f"peer:{src}/", tmp_path / "dst")
    assert proc.returncode == _cli_remote.EXIT_STREAM
    assert "bad closing line" in err(proc)


def test_stats_from_a_trailer_are_checked():
    assert _cli_remote._stats_from({"files": 3, "dry_run": True, "future": "x"}).files == 3
    for bad in ([], {"files": "3"}, {"files": -1}, {"files": True}, {"dry_run": 1},
                {"deleted": 1 << 70}):
        with pytest.raises(ValueError):
            _cli_remote._stats_from(bad)


def test_a_remote_path_starting_with_a_dash_is_a_path(tmp_path):
    (tmp_path / "-src").mkdir()
    (tmp_path / "-src" / "a.txt").write_bytes(b"dash\n")
    proc = lib("--rsh", LOCALRSH, "--remote-cmd", REMOTE_CMD, "-q", "sync", "peer:-src/",
               tmp_path / "dst", cwd=tmp_path)
    assert proc.returncode == 0, err(proc)
    assert (tmp_path / "dst" / "a.txt").read_bytes() == b"dash\n"


def test_the_default_remote_command_ignores_modules_in_the_remote_cwd(tmp_path):
    for shadow in ("runpy.py", "argparse.py", "librsync.py"):
        (tmp_path / shadow).write_text("raise SystemExit('shadowed')\n")
    command = _cli_remote.DEFAULT_REMOTE_CMD.replace("python3", shlex.quote(sys.executable), 1)
    proc = subprocess.run(f"{command} --version", shell=True, cwd=tmp_path,
                          env=child_env(), capture_output=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(b"librsync ")


def test_two_syncs_into_one_directory_keep_each_others_temporaries(tmp_path):
    if tree.fcntl is None:
        pytest.skip("no advisory locks on this platform")
    dst = tmp_path / "dst"
    dst.mkdir()
    first = tree._Dir.root(str(dst), False, tree._DIR_FDS)
    first._anon = False  # a named temporary file, as between link and rename
    try:
        temp = first.temp()
        os.write(temp.fd, b"first\n")
        dead = dst / ".lrsync-tree.0123456789abcdef01234567.tmp"
        dead.write_bytes(b"left by a killed sync\n")
        second = tree._Dir.root(str(dst), False, tree._DIR_FDS)  # sweeps
        second.close()
        assert not dead.exists()
        first.commit(temp, "f.txt", 0o644, 0)
    finally:
        first.close()
    assert (dst / "f.txt").read_bytes() == b"first\n"
    assert [p for p in os.listdir(dst) if p.endswith(".tmp")] == []


def test_a_timeout_with_a_forking_rsh_does_not_wait_twice(tmp_path):
    """An rsh that leaves a child holding stderr open (as ssh's
    ControlMaster can): a --timeout exit must not wait for that pipe long,
    nor twice."""
    rsh = tmp_path / "rsh.sh"
    rsh.write_text("#!/bin/sh\nprintf 'LRSYNC-SERVE %s x tree\\n' " + str(_cli_remote.PROTOCOL)
                   + "\n(sleep 60 >&2 &)\nexec sleep 60\n")
    rsh.chmod(0o755)
    proc = lib("--rsh", str(rsh), "--timeout", "1", "-q", "sync", "peer:/x/",
               tmp_path / "dst", timeout=15)
    assert proc.returncode == _cli_remote.EXIT_TIMEOUT, err(proc)
