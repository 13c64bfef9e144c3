"""Outputs named by a path: what gets replaced, what gets written in place,
and what a signal or a kill leaves behind.

A regular file (or a new name) is replaced atomically through a temporary
file beside it; anything else -- a device, a FIFO, a socket behind
/dev/stdout -- is written in place, as rdiff writes into it.  A caught
signal removes the temporary file; one left by kill -9 is swept by the
next run on the same output, never one a live writer still holds.

Device tests use a private copy of /dev/null made with mknod when running
as root, so that a regression cannot replace the machine's own /dev/null.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import librsync
from librsync import _files

from conftest import CHILD_CWD, child_env, make_data

LIBRSYNC = [sys.executable, "-m", "librsync"]
DATA = make_data(300_000, seed=91)
SIG = librsync.signature(DATA).read()
#: Only a guard against hangs: every wait below ends in well under a second
#: unless the code under test is broken.
PATIENCE = 60

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX files and signals")


def _run(*args, **kwargs):
    return subprocess.run([*LIBRSYNC, *map(str, args)], cwd=CHILD_CWD, env=child_env(),
                          capture_output=True, timeout=PATIENCE, **kwargs)


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def null_device(tmp_path) -> str:
    """A character device that discards what is written to it: a mknod
    copy of /dev/null as root, else /dev/null itself (which a non-root
    process cannot replace, so the old code failed on it instead)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0 and hasattr(os, "mknod"):
        path = tmp_path / "null"
        os.mknod(path, stat.S_IFCHR | 0o666, os.stat("/dev/null").st_rdev)
        return str(path)
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    return "/dev/null"


def _assert_null_device(path: str) -> None:
    st = os.lstat(path)
    assert stat.S_ISCHR(st.st_mode), f"{path} is no longer a character device"
    assert st.st_rdev == os.stat("/dev/null").st_rdev


# --- devices, FIFOs, sockets, /dev/std* -------------------------------------------------

@posix_only
def test_cli_signature_into_a_null_device_keeps_the_device(tmp_path, null_device):
    src = tmp_path / "old"
    src.write_bytes(DATA)
    proc = _run("-f", "signature", src, null_device)
    assert proc.returncode == 0, proc.stderr
    _assert_null_device(null_device)
    assert _temps(Path(null_device).parent) == []


@posix_only
def test_api_signature_into_a_null_device_keeps_the_device(null_device):
    assert librsync.signature(DATA, null_device) == null_device
    _assert_null_device(null_device)
    assert librsync.patch(DATA, librsync.delta(DATA, librsync.signature(DATA)),
                          Path(null_device)) == Path(null_device)
    _assert_null_device(null_device)


@posix_only
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_fifo_output_is_written_into_not_replaced(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # A second name for the FIFO, to release the reader should the FIFO's
    # own name be replaced (the bug) while the reader waits for a writer.
    alias = tmp_path / "alias"
    os.link(fifo, alias)
    got = []

    def reader():
        with open(fifo, "rb") as f:
            got.append(f.read())

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        assert librsync.signature(DATA, fifo) == fifo
        t.join(PATIENCE)
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
        assert got == [SIG]
    finally:
        if t.is_alive():
            os.close(os.open(alias, os.O_WRONLY | os.O_NONBLOCK))
            t.join(PATIENCE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alias", "fifo"]


@posix_only
def test_socket_path_is_refused_not_replaced(tmp_path):
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(OSError):
            librsync.signature(DATA, path)
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        server.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sock"]


@posix_only
def test_cli_dev_stdout_into_a_pipe(tmp_path):
    src = tmp_path / "old"
    src.write_bytes(DATA)
    proc = _run("-f", "signature", src, "/dev/stdout")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == SIG
    assert _temps(tmp_path) == []


@posix_only
def test_cli_dev_stdout_appended_to_a_file_keeps_what_was_there(tmp_path):
    """``librsync signature f /dev/stdout >> log``: written at stdout's own
    offset (O_APPEND), like ``-``; not a new file renamed over ``log``."""
    src = tmp_path / "old"
    src.write_bytes(DATA)
    log = tmp_path / "log"
    log.write_bytes(b"HEAD")
    with open(log, "ab") as out:
        proc = subprocess.run([*LIBRSYNC, "-f", "signature", str(src), "/dev/stdout"],
                              cwd=CHILD_CWD, env=child_env(), stdout=out,
                              stderr=subprocess.PIPE, timeout=PATIENCE)
    assert proc.returncode == 0, proc.stderr
    assert log.read_bytes() == b"HEAD" + SIG
    assert _temps(tmp_path) == []


@posix_only
def test_cli_dev_stdout_into_a_socket(tmp_path):
    src = tmp_path / "old"
    src.write_bytes(DATA)
    ours, theirs = socket.socketpair()
    got = []
    t = threading.Thread(target=lambda: got.append(_read_all(ours)), daemon=True)
    t.start()
    try:
        proc = subprocess.run([*LIBRSYNC, "-f", "signature", str(src), "/dev/stdout"],
                              cwd=CHILD_CWD, env=child_env(), stdout=theirs,
                              stderr=subprocess.PIPE, timeout=PATIENCE)
    finally:
        theirs.close()
        t.join(PATIENCE)
        ours.close()
    assert proc.returncode == 0, proc.stderr
    assert got == [SIG]


def _read_all(sock: socket.socket) -> bytes:
    parts = []
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)


@posix_only
def test_cli_dev_fd_pipe_as_with_process_substitution(tmp_path):
    """``librsync signature f >(cmd)``: the shell passes /dev/fd/N, a pipe."""
    src = tmp_path / "old"
    src.write_bytes(DATA)
    r, w = os.pipe()
    got = []
    t = threading.Thread(target=lambda: got.append(_read_fd(r)), daemon=True)
    t.start()
    try:
        proc = subprocess.run([*LIBRSYNC, "-f", "signature", str(src), f"/dev/fd/{w}"],
                              cwd=CHILD_CWD, env=child_env(), pass_fds=(w,),
                              capture_output=True, timeout=PATIENCE)
    finally:
        os.close(w)
        t.join(PATIENCE)
        os.close(r)
    assert proc.returncode == 0, proc.stderr
    assert got == [SIG]
    assert _temps(tmp_path) == []


def _read_fd(fd: int) -> bytes:
    parts = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)


def test_directory_output_is_refused_before_any_input_is_read(tmp_path):
    reads = []

    class Counting:
        def readinto(self, b):
            reads.append(len(b))
            return 0

    with pytest.raises(IsADirectoryError):
        librsync.signature(Counting(), tmp_path)
    assert reads == []
    assert list(tmp_path.iterdir()) == []


# --- regular files and symlinks -----------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "symlink"), reason="platform has no symlinks")
def test_symlink_to_a_file_elsewhere_updates_the_target_beside_it(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    real = tmp_path / "b" / "real"
    real.write_bytes(b"old")
    os.chmod(real, 0o640)
    link = tmp_path / "a" / "link"
    os.symlink(os.path.join("..", "b", "real"), link)
    assert librsync.signature(DATA, link) == link
    assert os.readlink(link) == os.path.join("..", "b", "real")
    assert real.read_bytes() == SIG
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["real"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="platform has no symlinks")
def test_dangling_symlink_creates_its_target(tmp_path):
    """As rdiff's open(O_CREAT) would: the link stays, its target appears."""
    link = tmp_path / "link"
    os.symlink("target", link)
    librsync.signature(DATA, link)
    assert os.path.islink(link)
    assert (tmp_path / "target").read_bytes() == SIG
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "target"]


@posix_only
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="needs root to plant another user's symlink")
def test_someone_elses_symlink_in_a_sticky_folder_is_not_followed(tmp_path):
    """A link planted in /tmp by another user must not make us create (or
    replace) the file it names: Linux's protected_symlinks rule, kept even
    though we follow links by readlink() (and where the sysctl is off)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    victim = tmp_path / "victim"
    link = shared / "out.sig"
    os.symlink(victim, link)
    os.lchown(link, 65534, 65534)
    with pytest.raises(PermissionError):
        librsync.signature(DATA, link)
    assert not victim.exists()
    assert sorted(p.name for p in shared.iterdir()) == ["out.sig"]
    # Our own link there is followed, as before.
    os.lchown(link, 0, 0)
    librsync.signature(DATA, link)
    assert victim.read_bytes() == SIG


def test_existing_file_untouched_when_the_output_fails(tmp_path):
    out = tmp_path / "out"
    out.write_bytes(b"precious")
    # Cut before its end command: the patch fails after writing output.
    truncated = librsync.delta(DATA, librsync.signature(b"")).read()[:-1]
    with pytest.raises(librsync.LibrsyncError):
        librsync.patch(b"", truncated, out)
    assert out.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_output_with_a_name_as_long_as_the_system_allows(tmp_path):
    """The temporary file's name is cut to fit, rather than failing with
    ENAMETOOLONG where rdiff would succeed."""
    out = tmp_path / ("n" * 250)
    librsync.signature(DATA, out)
    assert out.read_bytes() == SIG
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n" * 250]


# --- temporary files after a crash: swept, unless in use ----------------------------------

def _temp_name(out: Path, slot: int) -> Path:
    return out.parent / f".{out.name}.lrsync-{slot}.tmp"


def test_dead_writers_temporaries_are_swept_by_the_next_output(tmp_path):
    out = tmp_path / "out"
    stale = [_temp_name(out, 0), _temp_name(out, 5)]
    for p in stale:
        p.write_bytes(b"left by a killed writer")
    others = [tmp_path / ".out.3f2a.tmp", tmp_path / ".other.lrsync-0.tmp",
              tmp_path / ".out.lrsync-x.tmp"]
    for p in others:
        p.write_bytes(b"not ours, or not this output's")
    librsync.signature(DATA, out)
    assert out.read_bytes() == SIG
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["out", *(p.name for p in others)])


@pytest.mark.skipif(os.name != "posix", reason="flock")
def test_live_writers_temporary_is_not_swept(tmp_path):
    import fcntl

    out = tmp_path / "out"
    live = _temp_name(out, 0)
    fd = os.open(live, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a writer holds it
        os.write(fd, b"partial")
        librsync.signature(DATA, out)
        assert out.read_bytes() == SIG
        assert live.read_bytes() == b"partial"
        assert os.path.samestat(os.fstat(fd), os.stat(live))
        assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "out"]
    finally:
        os.close(fd)


def test_concurrent_outputs_to_one_path_all_complete(tmp_path):
    """Writers racing on one output sweep each other's slots: none may
    remove a file another is still writing (each must complete)."""
    out = tmp_path / "out"
    datas = [make_data(200_000, seed=s) for s in range(8)]
    errors = []
    start = threading.Barrier(len(datas))

    def writer(data):
        try:
            start.wait(PATIENCE)
            for _ in range(5):
                librsync.signature(data, out)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(d,)) for d in datas]
    for t in threads:
        t.start()
    for t in threads:
        t.join(PATIENCE)
    assert errors == []
    assert out.read_bytes() in {librsync.signature(d).read() for d in datas}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# --- the command line under signals -----------------------------------------------

class _BlockedWriter:
    """``librsync -f signature FIFO OUT`` held mid-run: its input is a FIFO
    we write a first part into and then keep open, so it waits for more
    with its temporary output file created."""

    def __init__(self, tmp_path: Path, out: Path, tag: str = "in") -> None:
        self.fifo = tmp_path / f"{tag}.fifo"
        os.mkfifo(self.fifo)
        self.out = out
        self.proc = subprocess.Popen([*LIBRSYNC, "-f", "signature", str(self.fifo), str(out)],
                                     cwd=CHILD_CWD, env=child_env(),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.feed = open(self.fifo, "wb")  # blocks until the command opens it
        self.feed.write(DATA[:200_000])
        self.feed.flush()
        _wait_for(lambda: self.proc.poll() is not None or _temps(out.parent),
                  "the temporary output file")
        assert self.proc.poll() is None, self.proc.communicate()

    def finish(self) -> tuple[int, bytes]:
        try:
            self.feed.close()
        except BrokenPipeError:
            pass
        _, err = self.proc.communicate(timeout=PATIENCE)
        return self.proc.returncode, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.finish()


@posix_only
@pytest.mark.parametrize("signame, status", [("SIGTERM", 128 + 15), ("SIGHUP", 128 + 1),
                                             ("SIGINT", 128 + 2)])
def test_cli_signal_mid_write_removes_the_temporary_file(tmp_path, signame, status):
    outdir = tmp_path / "out"
    outdir.mkdir()
    w = _BlockedWriter(tmp_path, outdir / "sig")
    try:
        w.proc.send_signal(getattr(signal, signame))
        _, err = w.proc.communicate(timeout=PATIENCE)
    finally:
        w.kill()
    assert w.proc.returncode == status, err
    assert b"Interrupted." in err and b"Traceback" not in err
    assert list(outdir.iterdir()) == []


@posix_only
def test_cli_sigterm_keeps_an_existing_output(tmp_path):
    outdir = tmp_path / "out"
    outdir.mkdir()
    (outdir / "sig").write_bytes(b"previous")
    w = _BlockedWriter(tmp_path, outdir / "sig")
    try:
        w.proc.terminate()
        w.proc.communicate(timeout=PATIENCE)
    finally:
        w.kill()
    assert w.proc.returncode == 128 + signal.SIGTERM
    assert sorted(p.name for p in outdir.iterdir()) == ["sig"]
    assert (outdir / "sig").read_bytes() == b"previous"


@posix_only
def test_cli_kill_9_leaves_a_temporary_file_the_next_run_sweeps(tmp_path):
    outdir = tmp_path / "out"
    outdir.mkdir()
    w = _BlockedWriter(tmp_path, outdir / "sig")
    w.proc.kill()
    w.kill()
    assert w.proc.returncode == -signal.SIGKILL
    assert len(_temps(outdir)) == 1  # nothing can remove it at once
    src = tmp_path / "old"
    src.write_bytes(DATA)
    proc = _run("-f", "signature", src, outdir / "sig")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in outdir.iterdir()) == ["sig"]
    assert (outdir / "sig").read_bytes() == SIG


@posix_only
def test_cli_run_beside_a_live_writer_leaves_its_temporary_file(tmp_path):
    outdir = tmp_path / "out"
    outdir.mkdir()
    first = _BlockedWriter(tmp_path, outdir / "sig")
    try:
        [temp] = _temps(outdir)
        before = os.stat(outdir / temp)
        other = tmp_path / "other"
        other.write_bytes(DATA[:1000])
        proc = _run("-f", "signature", other, outdir / "sig")
        assert proc.returncode == 0, proc.stderr
        assert (outdir / "sig").read_bytes() == librsync.signature(DATA[:1000]).read()
        assert os.path.samestat(os.stat(outdir / temp), before)
        # The first writer then completes, over the second's output.
        first.feed.write(DATA[200_000:])
        status, err = first.finish()
        assert status == 0, err
    finally:
        first.kill()
    assert sorted(p.name for p in outdir.iterdir()) == ["sig"]
    # From a FIFO, whose size is unknown: the default block length for pipes.
    assert (outdir / "sig").read_bytes() == librsync.signature(iter([DATA])).read()


@posix_only
def _unnamed_temp_open(pid: int, folder: Path) -> bool:
    """Whether process ``pid`` holds an unnamed (O_TMPFILE) file of
    ``folder`` open: the receiver's temporary output."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder) + "/") and (
                target.endswith("(deleted)") or target.endswith(".tmp")):
            return True
    return False


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads /proc/PID/fd")
def test_serve_receiver_sigterm_mid_patch_exits_20_and_cleans_up(tmp_path):
    """The remote end of a file sync, blocked reading the delta with its
    temporary output file open: SIGTERM (ssh's SIGHUP alike) is rsync's
    "interrupted", 20, and leaves nothing behind."""
    from librsync import _cli_remote
    from librsync.sync import _wire as W

    dest = tmp_path / "dest"
    dest.write_bytes(DATA)
    proc = subprocess.Popen([*LIBRSYNC, "serve", "--protocol", str(_cli_remote.PROTOCOL),
                             f"--receiver={dest}"], cwd=CHILD_CWD,
                            env=child_env(), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def msg(kind, payload=b""):
        head = bytearray((kind,))
        W.put_uvarint(head, len(payload))
        return bytes(head) + payload

    try:
        assert proc.stdout.readline().startswith(b"LRSYNC-SERVE")
        r = W.MessageReader(proc.stdout, "receiver")
        # A sender of one file, new content, that stops halfway through
        # its delta.
        enc = W.ListingEncoder(0)
        enc.add(W.Entry(W.KIND_FILE, b"dest", 0o644, 0, len(DATA) + 10))
        end = bytearray()
        for v in (1, 1, 0o755):
            W.put_uvarint(end, v)
        W.put_svarint(end, 0)
        proc.stdin.write(msg(W.HELLO, W.hello_payload(W.FEAT_SINGLE))
                         + msg(W.LIST, enc.finish()) + msg(W.LIST_END, bytes(end)))
        proc.stdin.flush()
        W.read_hello(r)
        kind, payload = r.next()
        assert kind == W.REQUEST
        sig = b""
        while True:
            kind, payload = r.next()
            if kind == W.SIG_END:
                break
            sig += payload
        delta = librsync.delta(DATA[:1000] + b"0123456789" + DATA[1000:],
                               librsync.load_signature(sig)).read()
        head = bytearray()
        W.put_uvarint(head, 0)
        head.append(W.DELTA)
        proc.stdin.write(msg(W.FILE, bytes(head)) + msg(W.CHUNK, delta[:len(delta) // 2]))
        proc.stdin.flush()
        drain = threading.Thread(target=proc.stdout.read, daemon=True)
        drain.start()
        _wait_for(lambda: proc.poll() is not None or _unnamed_temp_open(proc.pid, tmp_path),
                  "the receiver's temporary file")
        assert proc.poll() is None
        proc.terminate()
        proc.wait(PATIENCE)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
    assert proc.returncode == 20, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest"]
    assert dest.read_bytes() == DATA


def test_nohup_keeps_sighup_ignored(tmp_path):
    """Under nohup (SIGHUP ignored) the command must not start catching it."""
    code = ("import signal, sys; signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
            "from librsync import _cli_io\n"
            "_cli_io.catch_signals()\n"
            "assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN\n"
            "assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL\n")
    if not hasattr(signal, "SIGHUP"):
        pytest.skip("no SIGHUP")
    proc = subprocess.run([sys.executable, "-c", code], cwd=CHILD_CWD, env=child_env(),
                          capture_output=True, timeout=PATIENCE)
    assert proc.returncode == 0, proc.stderr
