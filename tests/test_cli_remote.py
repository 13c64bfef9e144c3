"""``librsync sync`` of directory trees, locally and with a remote side.

The remote side is reached with ``--rsh`` set to ``tests/helpers/localrsh.py``,
which runs the command it is given on this machine (as ssh would on the
other), so the real ``librsync serve`` runs as a child over pipes and no
sshd is needed.  One test goes through a real ``ssh`` to an sshd on
127.0.0.1 (``scripts/start_test_sshd.sh``, run by CI): it is skipped without
``LIBRSYNC_TEST_SSH``, unless ``LIBRSYNC_REQUIRE_SSH=1``, where that is a
failure.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CHILD_CWD, PKG_PARENT, child_env, make_data

HERE = Path(__file__).resolve().parent
LOCALRSH = f"{shlex.quote(sys.executable)} {shlex.quote(str(HERE / 'helpers' / 'localrsh.py'))}"
REMOTE_CMD = f"{shlex.quote(sys.executable)} -m librsync"
LIBRSYNC = [sys.executable, "-m", "librsync"]
TIMEOUT = 300
BIG = 200 << 20  # the big file of the issue, with scattered edits (~2 s a sync)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="sh and fork-based rsh")


def lib(*args, env=None, timeout=TIMEOUT):
    """Run ``librsync ARGS`` (cwd outside the checkout, so the child imports
    the librsync this process tests)."""
    full = child_env()
    full.pop("LIBRSYNC_PROGRESS_DELAY", None)
    full.update(env or {})
    return subprocess.run([*LIBRSYNC, *map(str, args)], cwd=CHILD_CWD, env=full,
                          capture_output=True, timeout=timeout)


def remote(*args, env=None, timeout=TIMEOUT):
    """``librsync sync`` with the local rsh and the remote command."""
    return lib("--rsh", LOCALRSH, "--remote-cmd", REMOTE_CMD, *args, env=env,
               timeout=timeout)


def ok(proc):
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc


def err(proc) -> str:
    text = proc.stderr.decode(errors="replace")
    assert "Traceback" not in text, text
    return text


# --- trees -----------------------------------------------------------------------------

def make_tree(root: Path, files: int = 300, big: int = BIG, seed: int = 0) -> None:
    """Nested directories of small binary files, empty files and directories,
    a symlink and one big file, with assorted modes and mtimes."""
    rnd = random.Random(seed)
    dirs = [root]
    root.mkdir(parents=True)
    for i in range(24):
        d = rnd.choice(dirs) / f"dir{i:02d}"
        d.mkdir()
        dirs.append(d)
    (root / "empty-dir").mkdir()
    for i in range(files):
        f = rnd.choice(dirs) / f"file{i:03d}.bin"
        f.write_bytes(rnd.randbytes(rnd.choice([0, 1, 100, 4000, 70000])))
        f.chmod(rnd.choice([0o644, 0o600, 0o755, 0o640]))
        os.utime(f, ns=(1_600_000_000_000_000_000 + i * 1_000_003,) * 2)
    (root / "empty").write_bytes(b"")
    (root / "big.img").write_bytes(make_data(big, seed))
    os.symlink("dir00/../empty", root / "link")
    os.utime(root / "link", ns=(1_500_000_000_123_456_789,) * 2, follow_symlinks=False)
    for d in reversed(dirs[1:]):
        os.utime(d, ns=(1_550_000_000_000_000_000 + len(str(d)),) * 2)


def edit_tree(root: Path, seed: int = 1) -> None:
    """Small changes: scattered edits in the big file (same size), a few
    small files rewritten, one added, one removed."""
    rnd = random.Random(seed)
    with open(root / "big.img", "r+b") as f:
        for _ in range(20):
            f.seek(rnd.randrange(BIG - 1000))
            f.write(rnd.randbytes(100))
    small = sorted(p for p in root.rglob("file*.bin") if p.stat().st_size > 0)
    for p in rnd.sample(small, 5):
        p.write_bytes(rnd.randbytes(300) + p.read_bytes()[300:])
    (next(root.rglob("dir03")) / "added.txt").write_bytes(b"new\n" * 100)
    small[-1].unlink()


def _digest(path: Path) -> str:
    h = hashlib.blake2b()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def snapshot(root: Path) -> dict:
    """Everything a sync promises to carry: per relative path, its kind,
    permission bits, mtime and content (or link target)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            rel = str(p.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p), st.st_mtime_ns)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), st.st_mtime_ns)
            else:
                out[rel] = ("file", stat.S_IMODE(st.st_mode), st.st_mtime_ns,
                            st.st_size, _digest(p))
    st = root.stat()
    out["."] = ("dir", stat.S_IMODE(st.st_mode), st.st_mtime_ns)
    return out


def assert_same(src: Path, dst: Path) -> None:
    a, b = snapshot(src), snapshot(dst)
    assert sorted(a) == sorted(b)
    for rel in a:
        assert a[rel] == b[rel], rel


def stat_value(out: bytes, label: str) -> int:
    m = re.search(rb"^" + label.encode() + rb": (\d+)", out, re.M)
    assert m, out
    return int(m.group(1))


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("remote") / "src"
    make_tree(src)
    return src


# --- round trips -----------------------------------------------------------------------

def test_push_then_small_edits_cross_as_deltas(source, tmp_path):
    dst = tmp_path / "dst"
    proc = ok(remote("--stats", "sync", source, f"somehost:{dst}"))
    assert_same(source, dst)
    assert b"somehost:" in proc.stdout
    # A second run with nothing changed sends only the signatures' answer.
    ok(remote("-q", "sync", source, f"somehost:{dst}"))
    assert_same(source, dst)

    src = tmp_path / "src"
    ok(lib("-q", "sync", source, src))   # a local tree sync: a copy to edit
    assert_same(source, src)
    edit_tree(src)
    proc = ok(remote("--stats", "--delete", "sync", src, f"user@somehost:{dst}"))
    assert_same(src, dst)
    total = stat_value(proc.stdout, "Total file size")
    wire = stat_value(proc.stdout, "Bytes on the wire")
    literal = stat_value(proc.stdout, "Literal data")
    copied = stat_value(proc.stdout, "Matched data")
    assert total > BIG
    # The edits are ~30 KiB; the signatures ~1% of the tree.
    assert wire < total // 20, proc.stdout
    assert literal < 2 << 20 and copied > BIG - (2 << 20), proc.stdout
    assert re.search(rb"\d+\.\d% saved", proc.stdout)


def test_pull_round_trip(source, tmp_path):
    dst = tmp_path / "pulled"
    ok(remote("-q", "sync", f"somehost:{source}", dst))
    assert_same(source, dst)
    # Pull again after the remote tree changed: deltas, same result.
    src = tmp_path / "src"
    ok(lib("-q", "sync", source, src))
    edit_tree(src, seed=7)
    proc = ok(remote("--stats", "--delete", "sync", f"somehost:{src}", dst))
    assert_same(src, dst)
    assert stat_value(proc.stdout, "Bytes on the wire") < \
        stat_value(proc.stdout, "Total file size") // 20


def test_local_tree_sync(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, files=50, big=1 << 20)
    proc = ok(lib("sync", src, dst))
    assert_same(src, dst)
    assert re.search(rb"\d+ files \(\d+ new", proc.stdout)


# --- single files ------------------------------------------------------------------------

def test_single_file_push_and_pull(tmp_path):
    src, dst, pulled = tmp_path / "big.img", tmp_path / "remote.img", tmp_path / "pulled.img"
    data = make_data(8 << 20, seed=3)
    src.write_bytes(data)
    ok(remote("-q", "sync", src, f"h:{dst}"))
    assert dst.read_bytes() == data
    dst.chmod(0o600)
    # Scattered edits cross as a delta; the destination keeps its mode.
    edited = bytearray(data)
    for pos in range(100_000, len(edited), 1_500_000):
        edited[pos:pos + 50] = b"e" * 50
    edited[4_000_000:4_000_000] = b"inserted bytes"
    src.write_bytes(edited)
    proc = ok(remote("--stats", "sync", src, f"h:{dst}"))
    assert dst.read_bytes() == edited
    assert stat.S_IMODE(dst.stat().st_mode) == 0o600
    assert stat_value(proc.stdout, "Bytes on the wire") < len(data) // 20
    assert stat_value(proc.stdout, "Literal data") < 100_000
    # Pull: the sender tells the receiver it sends a file.
    ok(remote("-q", "sync", f"h:{dst}", pulled))
    assert pulled.read_bytes() == edited
    before = pulled.read_bytes()
    src.write_bytes(b"")
    ok(remote("-q", "--dry-run", "sync", f"h:{src}", pulled))
    assert pulled.read_bytes() == before
    ok(remote("-q", "sync", f"h:{src}", pulled))
    assert pulled.read_bytes() == b""
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("how", ["local", "push", "pull"])
def test_single_file_onto_a_directory_goes_inside_it(tmp_path, how):
    # rsync's rule: `rsync file dir/' (or `dir', when it exists) makes dir/file.
    f = tmp_path / "src" / "it's a file.bin"
    f.parent.mkdir()
    data = make_data(300_000, seed=11)
    f.write_bytes(data)
    d = tmp_path / "d"
    d.mkdir()
    (d / "other").write_bytes(b"kept")

    def run(*opts, dest=d):
        if how == "local":
            return lib(*opts, "sync", f, dest)
        if how == "push":
            return remote(*opts, "sync", f, f"h:{dest}")
        return remote(*opts, "sync", f"h:{f}", dest)

    ok(run("-q"))
    assert (d / f.name).read_bytes() == data
    assert (d / "other").read_bytes() == b"kept"
    # Again after an edit: a delta against the copy inside, same rule.
    edited = data[:1000] + b"edited" + data[1006:]
    f.write_bytes(edited)
    ok(run("-q", dest=f"{d}/"))
    assert (d / f.name).read_bytes() == edited
    assert sorted(p.name for p in d.iterdir()) == sorted([f.name, "other"])
    # A directory of that name inside is not replaced by the file.
    (d / f.name).unlink()
    (d / f.name).mkdir()
    proc = run("-q")
    assert proc.returncode != 0
    assert "irectory" in err(proc)
    assert (d / f.name).is_dir() and not list((d / f.name).iterdir())


# --- options ---------------------------------------------------------------------------

def _small_pair(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, files=40, big=1 << 20)
    ok(lib("-q", "sync", src, dst))
    edit_tree_small(src)
    (dst / "only-in-dst").write_bytes(b"extra")
    (next(dst.rglob("dir01")) / "extra-dir").mkdir()
    return src, dst


def edit_tree_small(src: Path) -> None:
    (src / "big.img").write_bytes(b"changed" + (src / "big.img").read_bytes()[7:])
    (src / "new-file").write_bytes(b"fresh")


@pytest.mark.parametrize("direction", ["push", "pull", "local"])
def test_dry_run_changes_nothing(tmp_path, direction):
    src, dst = _small_pair(tmp_path)
    before = snapshot(dst)
    args = {"push": (src, f"h:{dst}"), "pull": (f"h:{src}", dst), "local": (src, dst)}
    proc = ok(remote("--dry-run", "--delete", "--stats", "sync", *args[direction]))
    assert snapshot(dst) == before
    assert b"dry run" in proc.stdout
    # What would change is listed; nothing is computed or sent for it.
    assert re.search(rb"new 1, changed [1-9]", proc.stdout), proc.stdout
    assert stat_value(proc.stdout, "Literal data") == 0


@pytest.mark.parametrize("direction", ["push", "pull", "local"])
def test_delete(tmp_path, direction):
    src, dst = _small_pair(tmp_path)
    args = {"push": (src, f"h:{dst}"), "pull": (f"h:{src}", dst), "local": (src, dst)}
    ok(remote("-q", "sync", *args[direction]))
    # Without --delete, what only the destination has stays.
    assert (dst / "only-in-dst").exists() and (next(dst.rglob("dir01")) / "extra-dir").is_dir()
    assert (dst / "new-file").read_bytes() == b"fresh"
    proc = ok(remote("--delete", "--stats", "sync", *args[direction]))
    assert_same(src, dst)
    assert re.search(rb"deleted: 2\b", proc.stdout), proc.stdout


def test_checksum_finds_changes_that_keep_size_and_mtime(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, files=10, big=1 << 16)
    ok(remote("-q", "sync", src, f"h:{dst}"))
    f = dst / "big.img"
    st = f.stat()
    f.write_bytes(b"X" + f.read_bytes()[1:])
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    ok(remote("-q", "sync", src, f"h:{dst}"))
    assert (dst / "big.img").read_bytes()[:1] == b"X"   # size and mtime match
    ok(remote("-q", "--checksum", "sync", src, f"h:{dst}"))
    assert_same(src, dst)


# --- failures --------------------------------------------------------------------------

def test_receiver_killed_mid_stream_then_rerun_completes(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, files=20, big=24 << 20)
    old = make_data(24 << 20, seed=99)
    dst.mkdir()
    (dst / "big.img").write_bytes(old)
    # The relay kills the receiver once 8 MiB of the delta stream have
    # passed: inside big.img, which is all literal against the old file.
    proc = remote("-q", "sync", src, f"h:{dst}", env={"LOCALRSH_KILL_AFTER": str(8 << 20)})
    text = err(proc)
    assert proc.returncode == 255, text
    assert "lost the connection" in text, text
    # No partial file: big.img is the old one, whole; no temporary left.
    assert (dst / "big.img").read_bytes() == old
    assert not [p for p in dst.rglob(".lrsync-tree.*")]
    ok(remote("-q", "sync", src, f"h:{dst}"))
    assert_same(src, dst)


def test_sender_killed_mid_stream_on_pull(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, files=20, big=24 << 20)
    # On a pull the relay carries the signature stream: the sender dies
    # after reading a little of it, before its delta is complete.
    dst.mkdir()
    (dst / "big.img").write_bytes(make_data(24 << 20, seed=5))
    old = (dst / "big.img").read_bytes()
    proc = remote("-q", "sync", f"h:{src}", dst, env={"LOCALRSH_KILL_AFTER": "1000"})
    assert proc.returncode == 255, err(proc)
    assert (dst / "big.img").read_bytes() == old
    ok(remote("-q", "sync", f"h:{src}", dst))
    assert_same(src, dst)


def test_interrupted_is_20_and_does_not_hang(tmp_path):
    import signal
    import time

    src = tmp_path / "src"
    make_tree(src, files=5, big=1000)
    mark = tmp_path / "remote-started"
    # A remote side that is slow to answer; Ctrl-C reaches the whole process
    # group, as from a terminal.
    cmd = f"touch {shlex.quote(str(mark))}; sleep 60; {REMOTE_CMD}"
    proc = subprocess.Popen([*LIBRSYNC, "--rsh", LOCALRSH, "--remote-cmd", cmd, "sync",
                             str(src), f"h:{tmp_path / 'dst'}"], cwd=CHILD_CWD,
                            env=child_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not mark.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 20, stderr
    assert b"Interrupted." in stderr and b"Traceback" not in stderr
    assert not (tmp_path / "dst").exists()


def test_rsh_failing_is_255_with_a_clear_message(tmp_path):
    src = tmp_path / "src"
    make_tree(src, files=5, big=1000)
    proc = remote("sync", src, f"nohost:{tmp_path / 'dst'}", env={"LOCALRSH_FAIL": "1"})
    text = err(proc)
    assert proc.returncode == 255, text
    assert "Connection refused" in text and "could not connect to 'nohost'" in text, text
    assert not (tmp_path / "dst").exists()
    # An rsh command that does not exist at all.
    proc = lib("--rsh", "no-such-rsh-command -x", "sync", src, "h:/tmp/x")
    assert proc.returncode == 255
    assert "Failed to run the rsh command 'no-such-rsh-command'" in err(proc)


def test_remote_without_librsync(tmp_path):
    src = tmp_path / "src"
    make_tree(src, files=5, big=1000)
    # -I -S: the remote python sees neither PYTHONPATH nor site-packages,
    # so it has no librsync, as on a machine where it was never installed.
    cmd = f"{shlex.quote(sys.executable)} -I -S -m librsync"
    for args in ((src, f"h:{tmp_path / 'dst'}"), (f"h:{src}", tmp_path / "dst")):
        proc = lib("--rsh", LOCALRSH, "--remote-cmd", cmd, "sync", *args)
        text = err(proc)
        assert proc.returncode == 2, text
        assert "No module named librsync" in text, text
        assert "is librsync installed there?" in text, text
    assert not (tmp_path / "dst").exists()


def test_remote_command_not_found(tmp_path):
    src = tmp_path / "src"
    make_tree(src, files=5, big=1000)
    proc = lib("--rsh", LOCALRSH, "--remote-cmd", "no-such-python -m librsync",
               "sync", src, f"h:{tmp_path / 'dst'}")
    assert proc.returncode == 2, err(proc)
    assert "is librsync installed there?" in err(proc)


def test_remote_errors_reach_the_user(tmp_path):
    proc = remote("sync", f"h:{tmp_path / 'missing'}", tmp_path / "dst")
    text = err(proc)
    assert proc.returncode == 3, text
    assert "h: Failed sending: No such file or directory" in text, text
    assert str(tmp_path / "missing") in text
    # A receiver that cannot create its destination (no parent).
    src = tmp_path / "src"
    make_tree(src, files=5, big=1000)
    proc = remote("sync", src, f"h:{tmp_path / 'no' / 'parent'}")
    assert proc.returncode == 3, err(proc)
    assert "Failed receiving" in err(proc)


def test_junk_instead_of_a_greeting_is_a_protocol_error(tmp_path):
    src = tmp_path / "src"
    make_tree(src, files=5, big=1000)
    # `echo' answers with its arguments: like a login script printing text.
    proc = lib("--rsh", LOCALRSH, "--remote-cmd", "echo", "sync", src, f"h:{tmp_path}/d")
    assert proc.returncode == 2, err(proc)
    assert "not a librsync serve greeting" in err(proc)


def test_serve_checks_the_protocol_and_its_arguments(tmp_path):
    proc = lib("serve", "--protocol", "99", "--receiver", tmp_path / "d")
    assert proc.returncode == 2
    assert proc.stdout.startswith(b"LRSYNC-SERVE 3 ")
    assert "speaks protocol 3, not 99" in err(proc)
    for args in ((), ("--sender", "a", "--receiver", "b"), ("--sender", "a", "extra")):
        proc = lib("serve", "--protocol", "3", *args)
        assert proc.returncode == 1, err(proc)
        assert "Usage for serve" in err(proc)


def test_usage_errors(tmp_path):
    proc = lib("sync", "a:x", "b:y")
    assert proc.returncode == 1 and "cannot both be remote" in err(proc)
    f = tmp_path / "f"
    f.write_bytes(b"data")
    # Tree options on a file sync would be silently ignored: refused instead
    # (rdiff's status, as the file sync keeps rdiff's codes).
    for opt in ("--dry-run", "--delete", "--checksum"):
        proc = lib(opt, "sync", f, tmp_path / "g")
        assert proc.returncode == 101 and "applies to directory trees" in err(proc)
    assert not (tmp_path / "g").exists()
    # A missing local source of a push.
    proc = remote("sync", tmp_path / "missing", "h:/tmp/nowhere")
    assert proc.returncode == 3 and "no such file or directory" in err(proc)


def test_progress_bar_on_a_terminal(tmp_path):
    pytest.importorskip("pty")
    # tqdm is in the test extra: its absence must fail here, not skip.
    assert __import__("tqdm")

    from test_cli import _run_with_tty_stderr

    src = tmp_path / "src"
    make_tree(src, files=5, big=4 << 20)
    env = child_env()
    env["LIBRSYNC_PROGRESS_DELAY"] = "0"
    argv = [*LIBRSYNC, "--rsh", LOCALRSH, "--remote-cmd", REMOTE_CMD, "sync", str(src),
            f"h:{tmp_path / 'dst'}"]
    status, tty = _run_with_tty_stderr(argv, CHILD_CWD, env)
    assert status == 0, tty
    assert re.search(r"sync:\s+\d+%\|", tty) and "B/s" in tty, tty
    assert_same(src, tmp_path / "dst")
    # -q: nothing on the terminal.
    status, tty = _run_with_tty_stderr([*argv[:-2], "-q", *argv[-2:]], CHILD_CWD, env)
    assert (status, tty) == (0, "")


# --- through a real ssh ----------------------------------------------------------------

def test_sync_through_real_ssh(source, tmp_path):
    ssh = os.environ.get("LIBRSYNC_TEST_SSH")
    if not ssh:
        if os.environ.get("LIBRSYNC_REQUIRE_SSH") == "1":
            pytest.fail("LIBRSYNC_REQUIRE_SSH=1 but LIBRSYNC_TEST_SSH is not set "
                        "(run scripts/start_test_sshd.sh)")
        pytest.skip("no test sshd: set LIBRSYNC_TEST_SSH, e.g. "
                    "eval \"$(bash scripts/start_test_sshd.sh)\" (root)")
    host = os.environ.get("LIBRSYNC_TEST_SSH_HOST", "127.0.0.1")
    # The ssh session has its own environment and PATH: name the interpreter
    # and the librsync this process tests explicitly.
    cmd = f"env PYTHONPATH={shlex.quote(PKG_PARENT)} {shlex.quote(sys.executable)} -m librsync"
    dst = tmp_path / "dst"
    ok(lib("--rsh", ssh, "--remote-cmd", cmd, "-q", "sync", source, f"{host}:{dst}"))
    assert_same(source, dst)
    pulled = tmp_path / "pulled"
    ok(lib("--rsh", ssh, "--remote-cmd", cmd, "-q", "sync", f"{host}:{dst}", pulled))
    assert_same(source, pulled)
    # A failure on the far side reaches us through ssh.
    proc = lib("--rsh", ssh, "--remote-cmd", cmd, "sync", f"{host}:{tmp_path}/missing",
               tmp_path / "x")
    assert proc.returncode == 3 and "No such file or directory" in err(proc)


def test_threads_reach_both_sides_of_a_tree_sync(tmp_path):
    # -j N used to be ignored by tree syncs; now the big files' signatures
    # and deltas use N threads on each side, and the serve side is told.
    src, dst, pulled = tmp_path / "src", tmp_path / "dst", tmp_path / "pulled"
    make_tree(src, files=30, big=20 << 20)
    log = tmp_path / "argv.log"
    recorder = tmp_path / "recorder.py"
    recorder.write_text(
        "import sys\n"
        f"open({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "from librsync.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n")
    cmd = f"{shlex.quote(sys.executable)} {shlex.quote(str(recorder))}"
    ok(lib("-q", "-j", "2", "sync", src, dst))
    assert_same(src, dst)
    with open(src / "big.img", "r+b") as f:
        f.seek(12 << 20)
        f.write(b"an edit in the middle of the big file")
    os.utime(src / "big.img", ns=(1_700_000_000_000_000_000,) * 2)
    proc = ok(lib("--rsh", LOCALRSH, "--remote-cmd", cmd, "--stats", "-j", "2", "--checksum",
                  "sync", src, f"h:{dst}"))
    assert_same(src, dst)
    assert stat_value(proc.stdout, "Literal data") < 100_000
    ok(lib("--rsh", LOCALRSH, "--remote-cmd", cmd, "-q", "-j", "2", "--delete",
           "sync", f"h:{src}", pulled))
    assert_same(src, pulled)
    lines = log.read_text().splitlines()
    assert len(lines) == 2
    assert "--checksum -j 2 --receiver=" in lines[0]
    # --delete is the receiver's to apply: the sender is not told.
    assert " -j 2 --sender=" in lines[1] and "--delete" not in lines[1]


# --- --timeout ---------------------------------------------------------------------------

def _timeout_tree(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, files=10, big=1 << 20)
    ok(lib("-q", "sync", src, dst))
    # A new 6 MiB file, sent whole: a stall after 2 MiB of the stream is
    # inside its data.
    (src / "zz-new.bin").write_bytes(make_data(6 << 20, seed=21))
    (src / "big.img").write_bytes(make_data(1 << 20, seed=22))
    return src, dst


def _no_temps(root: Path) -> bool:
    return not [p for p in root.rglob(".lrsync-tree.*")]


@pytest.mark.parametrize("how", ["pull", "push"])
def test_timeout_when_the_remote_goes_silent_mid_stream(tmp_path, how):
    src, dst = _timeout_tree(tmp_path)
    before = snapshot(dst)
    args = (f"h:{src}", dst) if how == "pull" else (src, f"h:{dst}")
    # Pull: the delta stream stops inside the new file.  Push: the remote's
    # signature stream stops, so our sender waits for it.
    stall = 2 << 20 if how == "pull" else 2000
    proc = remote("--timeout", "1.5", "sync", *args, env={"LOCALRSH_STALL_AFTER": str(stall)})
    assert proc.returncode == 30, err(proc)
    assert "Timeout" in err(proc) and "(--timeout 1.5)" in err(proc), err(proc)
    assert "no data from h for 1.5 seconds" in err(proc)
    # Nothing half-written: no temporary file, the new file absent, and
    # what was not complete is as it was.
    assert _no_temps(dst) and not (dst / "zz-new.bin").exists()
    after = snapshot(dst)
    assert after.get("big.img") in (before["big.img"], snapshot(src)["big.img"])
    # Without the stall the same command completes.
    ok(remote("--timeout", "30", "-q", "sync", *args))
    assert_same(src, dst)


def test_timeout_before_the_greeting(tmp_path):
    src, dst = _timeout_tree(tmp_path)
    # A remote command that never answers (extra arguments go to $0, $1...).
    proc = lib("--rsh", LOCALRSH, "--remote-cmd", "sh -c 'sleep 6' x", "--timeout", "1",
               "sync", src, f"h:{dst}")
    assert proc.returncode == 30, err(proc)
    assert "no data from h for 1 seconds" in err(proc)


def test_timeout_option_checks(tmp_path):
    src, dst = _timeout_tree(tmp_path)
    for bad in ("-1", "soon", "nan"):
        proc = lib("--timeout", bad, "sync", src, dst)
        assert proc.returncode == 101, err(proc)  # the parser's usage status, as rdiff's
        assert "argument --timeout" in err(proc)
    # 0 is no timeout (rsync's meaning); a local tree sync has nothing to wait for.
    ok(lib("--timeout", "0", "-q", "sync", src, dst))
    ok(remote("--timeout", "0", "-q", "sync", src, f"h:{tmp_path / 'other'}"))
    assert_same(src, tmp_path / "other")
    f = tmp_path / "f"
    f.write_bytes(b"x")
    proc = lib("--timeout", "5", "sync", f, tmp_path / "g")
    assert proc.returncode != 0 and "--timeout applies to directory trees" in err(proc)
