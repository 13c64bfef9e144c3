"""librsync.tree: syncing directory trees, locally and through the three
streams, and what tree_patch does with streams that are cut, corrupt or
hostile."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import random
import shutil
import stat
import subprocess
import sys
import threading
import time
import zlib

import pytest

import librsync
from librsync import tree
from librsync.tree import (
    TreeStats,
    UnsafePathError,
    sync_tree,
    tree_delta,
    tree_patch,
    tree_signature,
)
from conftest import CHILD_CWD, child_env

# These tests compare POSIX permission bits and make symlinks and non-UTF-8
# names freely.  The Windows code path (no directory descriptors: checked
# paths) runs here on POSIX too, as dir_fds=False; on Windows itself it has
# not been run yet.
pytestmark = pytest.mark.skipif(sys.platform == "win32",
                                reason="POSIX modes, symlinks and byte names")

MiB = 1 << 20
BIG_SIZE = 24 * MiB
T0 = 1_600_000_000_000_000_000  # a fixed mtime base, in ns

# The patch code has two ways to reach the destination: directory
# descriptors (POSIX) and checked paths (Windows).  Both run here.
WAYS = [True, False] if tree._DIR_FDS else [False]


@pytest.fixture(scope="session")
def big() -> bytes:
    return random.Random(7).randbytes(BIG_SIZE)


@pytest.fixture
def mem_path(tmp_path):
    """A directory in memory (tmpfs) where there is one, else tmp_path: the
    every-offset tests patch a tree a few thousand times, and a disk's
    fsync, mkdir and unlink would make that slow, not more thorough."""
    shm = "/dev/shm"
    if not (os.path.isdir(shm) and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    import tempfile
    path = tempfile.mkdtemp(prefix="librsync-tree-test-", dir=shm)
    try:
        yield type(tmp_path)(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --- trees ---------------------------------------------------------------------------

def write(path, data: bytes, mode: int = 0o644, mtime: int | None = None) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    if mtime is not None:
        os.utime(path, ns=(mtime, mtime))


def set_dir_mtimes(root, base: int = T0) -> None:
    """Fixed mtimes for every directory, deepest first (after their contents)."""
    for i, (path, _, _) in enumerate(sorted(os.walk(root), key=lambda t: -len(t[0]))):
        os.utime(path, ns=(base + i, base + i))


def make_tree(root, big: bytes, files: int = 300, seed: int = 0) -> None:
    """Hundreds of small files (text, binary, empty) in nested directories,
    one large file, an empty directory, symlinks, odd names and modes."""
    rnd = random.Random(seed)
    os.makedirs(root)
    dirs = [""]
    for i in range(30):
        d = os.path.join(rnd.choice(dirs), f"d{i:02d}")
        os.mkdir(os.path.join(root, d))
        dirs.append(d)
    for i in range(files):
        kind = i % 5
        if kind == 0:
            data = b""
        elif kind == 1:
            data = "".join(f"line {j} of file {i}\n" for j in range(rnd.randrange(1, 200))).encode()
        else:
            data = rnd.randbytes(rnd.randrange(1, 9000))
        write(os.path.join(root, rnd.choice(dirs), f"f{i:03d}.{'txt' if kind == 1 else 'bin'}"),
              data, rnd.choice([0o644, 0o600, 0o755, 0o640, 0o444]), T0 + i * 1_234_567)
    write(os.path.join(root, "d00", "big.bin"), big, 0o644, T0 - 5)  # d00 is at the top
    write(os.path.join(root, "café.txt"), "non-ASCII name\n".encode(), 0o644, T0 + 1)
    try:  # macOS file systems refuse names that are not UTF-8
        write(os.path.join(os.fsencode(root), b"raw-\xff-name"), b"not UTF-8\n", 0o644, T0 + 2)
    except OSError:
        pass
    os.mkdir(os.path.join(root, "empty_dir"))
    os.makedirs(os.path.join(root, "deep", "er", "est"))
    os.symlink("d00/big.bin", os.path.join(root, "link_to_big"))
    os.symlink("/nonexistent/target", os.path.join(root, "dangling"))
    os.symlink("..", os.path.join(root, dirs[2], "up"))
    os.chmod(os.path.join(root, dirs[3]), 0o750)
    for name in ("link_to_big", "dangling", os.path.join(dirs[2], "up")):
        os.utime(os.path.join(root, name), ns=(T0 + 3, T0 + 3), follow_symlinks=False)
    set_dir_mtimes(root)


def edit_tree(root, big: bytes) -> bytes:
    """Scattered edits of the large file and a few small changes of every
    kind; returns the large file's new content."""
    rnd = random.Random(99)
    new_big = bytearray(big)
    for _ in range(8):
        pos = rnd.randrange(len(new_big) - 200)
        new_big[pos:pos + 100] = rnd.randbytes(100)
    write(os.path.join(root, "d00", "big.bin"), bytes(new_big), 0o644, T0 + 10**9)
    files = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(root) for f in fs
                   if f.startswith("f") and not os.path.islink(os.path.join(dp, f)))
    for path in files[:5]:  # content and mtime
        with open(path, "ab") as f:
            f.write(b"appended\n")
        os.utime(path, ns=(T0 + 2 * 10**9, T0 + 2 * 10**9))
    os.chmod(files[5], 0o700)  # mode only
    for path in files[6:9]:
        os.unlink(path)
    write(os.path.join(root, "new_dir", "inner", "new.txt"), b"new\n", 0o644, T0)
    write(os.path.join(root, "d03", "another.bin"), rnd.randbytes(5000))
    shutil.rmtree(os.path.join(root, "deep", "er"))
    os.unlink(files[9])
    os.mkdir(files[9])  # a file becomes a directory
    write(os.path.join(files[9], "x"), b"x")
    os.unlink(os.path.join(root, "dangling"))
    write(os.path.join(root, "dangling"), b"a link becomes a file\n")
    os.unlink(files[10])
    os.symlink("elsewhere", files[10])  # a file becomes a link
    set_dir_mtimes(root, T0 + 3 * 10**9)
    return bytes(new_big)


def snapshot(root) -> dict:
    """Everything sync_tree promises to copy: per path its kind, mode,
    mtime, and content digest or link target."""
    root = os.fsencode(root)
    out = {}
    st = os.lstat(root)
    out[b"."] = ("d", stat.S_IMODE(st.st_mode), st.st_mtime_ns)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("l", os.readlink(path), st.st_mtime_ns)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("d", stat.S_IMODE(st.st_mode), st.st_mtime_ns)
            else:
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                out[rel] = ("f", stat.S_IMODE(st.st_mode), st.st_mtime_ns, digest)
    return out


def inodes(root) -> dict:
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            st = os.lstat(os.path.join(dirpath, name))
            out[os.path.join(dirpath, name)] = (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
    return out


def temps(root) -> list:
    return [os.path.join(dp, f) for dp, ds, fs in os.walk(root) for f in fs + ds
            if f.startswith(".lrsync-tree.")]


def tree_size(root) -> int:
    return sum(os.lstat(os.path.join(dp, f)).st_size for dp, _, fs in os.walk(root)
               for f in fs if not os.path.islink(os.path.join(dp, f)))


def streams(src, dst, **kwargs) -> tuple[bytes, bytes]:
    sig = io.BytesIO()
    tree_signature(dst, sig)
    delta = io.BytesIO()
    tree_delta(src, sig.getvalue(), delta, **kwargs)
    return sig.getvalue(), delta.getvalue()


# --- round trips -----------------------------------------------------------------------

def test_sync_tree_copies_a_tree_and_then_sends_only_changes(tmp_path, big):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, big)
    stats = sync_tree(src, dst)
    assert snapshot(dst) == snapshot(src)
    n_files = sum(1 for v in snapshot(src).values() if v[0] == "f")
    assert stats.files == stats.files_new == n_files
    assert stats.symlinks == 3 and stats.deleted == 0
    assert stats.dirs == sum(1 for v in snapshot(src).values() if v[0] == "d") - 1
    assert stats.file_bytes == stats.literal_bytes == tree_size(src)
    assert stats.delta_bytes > stats.file_bytes  # everything, plus framing

    new_big = edit_tree(src, big)
    stats = sync_tree(src, dst, delete=True)
    assert snapshot(dst) == snapshot(src)
    with open(dst / "d00" / "big.bin", "rb") as f:
        assert f.read() == new_big
    assert stats.files_changed == 6  # big.bin and the 5 appended to
    assert stats.files_new == 4  # new.txt, another.bin, x, 'dangling' (was a link)
    assert stats.deleted >= 3 + 2 + 1  # 3 files, deep/er and deep/er/est, ...
    # The edits cost a sliver of the tree (24 MiB) in the delta stream.
    assert stats.copied_bytes > BIG_SIZE - 100_000
    assert stats.delta_bytes < stats.file_bytes // 50, stats
    assert stats.signature_bytes < stats.file_bytes // 20, stats


def test_unchanged_files_are_not_rewritten(tmp_path, big):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, big, files=120)
    sync_tree(src, dst)
    before = inodes(dst)
    stats = sync_tree(src, dst)
    assert inodes(dst) == before  # same inode, mtime and ctime: not even chmod'ed
    assert stats.files_unchanged == stats.files == len([p for p in before if not
                                                        os.path.islink(p)])
    assert stats.files_new == stats.files_changed == stats.literal_bytes == 0
    # One small record per entry: a few dozen bytes each.
    assert stats.delta_bytes < 100 * (len(before) + 40)
    assert snapshot(dst) == snapshot(src)


def test_mode_only_change_updates_metadata_in_place(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    write(src / "a.txt", b"same", 0o644, T0)
    sync_tree(src, dst)
    ino = os.stat(dst / "a.txt").st_ino
    os.chmod(src / "a.txt", 0o600)
    stats = sync_tree(src, dst)
    assert stats.files_unchanged == 1
    st = os.stat(dst / "a.txt")
    assert st.st_ino == ino and stat.S_IMODE(st.st_mode) == 0o600


def _pipe_threads(src, dst, patch, **kwargs):
    """The split form joined by os.pipe()s, one thread per sending step."""
    sig_r, sig_w = os.pipe()
    delta_r, delta_w = os.pipe()
    results = {}

    def signer():
        with open(sig_w, "wb") as out:
            results["sig"] = tree_signature(dst, out)

    def differ():
        with open(sig_r, "rb") as sig_in, open(delta_w, "wb") as out:
            results["delta"] = tree_delta(src, sig_in, out, **kwargs)

    threads = [threading.Thread(target=signer), threading.Thread(target=differ)]
    for t in threads:
        t.start()
    with open(delta_r, "rb") as delta_in:
        results["patch"] = patch(dst, delta_in)
    for t in threads:
        t.join()
    return results


def test_split_form_over_pipes_between_threads(tmp_path, big):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, big, files=150)
    make_tree(dst, big[:MiB] + big, files=100, seed=5)  # a different tree to start from
    got = _pipe_threads(src, dst, lambda d, s: tree_patch(d, s, delete=True), delete=True)
    assert snapshot(dst) == snapshot(src)
    assert got["patch"].delta_bytes == got["delta"].delta_bytes
    assert got["sig"].signature_bytes == got["delta"].signature_bytes
    for field in ("files_new", "files_changed", "files_unchanged", "symlinks", "dirs",
                  "literal_bytes", "copied_bytes", "file_bytes"):
        assert getattr(got["patch"], field) == getattr(got["delta"], field), field
    # Most of the large file was copied from the old one, which held it
    # one MiB further on.
    assert got["patch"].copied_bytes > BIG_SIZE - MiB


def test_streams_may_be_iterables_of_chunks(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, b"x" * 100_000, files=40)
    sig, delta = streams(src, dst)
    rnd = random.Random(3)

    def pieces(data):
        pos = 0
        while pos < len(data):
            n = rnd.choice([1, 2, 7, 100, 4096, 70_000])
            yield memoryview(data)[pos:pos + n]
            pos += n

    again = io.BytesIO()
    tree_delta(src, pieces(sig), again)
    assert again.getvalue() == delta  # same bytes, however the input is cut
    tree_patch(dst, pieces(delta))
    assert snapshot(dst) == snapshot(src)


def test_split_form_with_a_receiving_subprocess(tmp_path, big):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, big, files=100)
    sig = io.BytesIO()
    tree_signature(dst, sig)
    code = ("import sys, librsync.tree as t\n"
            "s = t.tree_patch(sys.argv[1], sys.stdin.buffer)\n"
            "print(s.files_new, s.delta_bytes)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(dst)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, cwd=CHILD_CWD, env=child_env())
    try:
        sent = tree_delta(src, sig.getvalue(), proc.stdin)
        proc.stdin.close()
        out = proc.stdout.read()
        proc.wait(timeout=120)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0
    assert out.split() == [str(sent.files_new).encode(), str(sent.delta_bytes).encode()]
    assert snapshot(dst) == snapshot(src)


@pytest.mark.parametrize("dir_fds", WAYS)
def test_both_ways_of_reaching_the_destination(tmp_path, dir_fds):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, random.Random(1).randbytes(300_000), files=60)
    make_tree(dst, random.Random(2).randbytes(300_001), files=40, seed=3)
    _, delta = streams(src, dst, delete=True)
    stats = tree._tree_patch(dst, delta, False, None, dir_fds, delete=True)
    assert snapshot(dst) == snapshot(src)
    assert stats.deleted > 0 and stats.files_changed > 0
    edit_tree(src, random.Random(1).randbytes(300_000))
    _, delta = streams(src, dst, delete=True)
    tree._tree_patch(dst, delta, False, None, dir_fds, delete=True)
    assert snapshot(dst) == snapshot(src)


def test_delete_false_keeps_extra_entries_and_true_removes_them(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    write(src / "keep.txt", b"keep")
    write(src / "sub" / "a.txt", b"a")
    sync_tree(src, dst)
    write(dst / "extra.txt", b"only in dst")
    write(dst / "sub" / "extra_dir" / "deeper" / "f", b"f")
    os.symlink("keep.txt", dst / "extra_link")
    stats = sync_tree(src, dst)
    assert stats.deleted == 0
    assert (dst / "extra.txt").read_bytes() == b"only in dst"
    assert (dst / "sub" / "extra_dir" / "deeper" / "f").exists()
    assert os.path.islink(dst / "extra_link")
    stats = sync_tree(src, dst, delete=True)
    assert stats.deleted == 5  # extra.txt, extra_link, extra_dir, deeper, f
    assert snapshot(dst) == snapshot(src)


def test_a_directory_replaced_by_a_file_needs_delete(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    write(src / "x" / "inner", b"1")
    sync_tree(src, dst)
    shutil.rmtree(src / "x")
    write(src / "x", b"now a file")
    with pytest.raises(ValueError, match="delete=True"):
        sync_tree(src, dst)
    assert (dst / "x" / "inner").read_bytes() == b"1"
    sync_tree(src, dst, delete=True)
    assert snapshot(dst) == snapshot(src)


def test_checksum_compares_content_not_mtime(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    write(src / "same_stamp.txt", b"new content", 0o644, T0)
    write(src / "same_content.txt", b"identical", 0o644, T0 + 5)
    write(dst / "same_stamp.txt", b"old content", 0o644, T0)  # same size and mtime
    write(dst / "same_content.txt", b"identical", 0o644, T0 - 5)
    ino = os.stat(dst / "same_content.txt").st_ino
    stats = sync_tree(src, dst)
    assert (dst / "same_stamp.txt").read_bytes() == b"old content"  # looks unchanged
    assert stats.files_unchanged == 1 and stats.files_changed == 1
    stats = sync_tree(src, dst, checksum=True)
    assert (dst / "same_stamp.txt").read_bytes() == b"new content"
    assert stats.files_changed == 1 and stats.files_unchanged == 1
    st = os.stat(dst / "same_content.txt")
    assert st.st_mtime_ns == T0 + 5  # the first sync rewrote it (mtime differed) ...
    stats = sync_tree(src, dst, checksum=True)
    assert stats.files_unchanged == 2 and snapshot(dst) == snapshot(src)
    os.utime(src / "same_content.txt", ns=(T0 + 9, T0 + 9))
    ino = os.stat(dst / "same_content.txt").st_ino
    stats = sync_tree(src, dst, checksum=True)  # ... this one only sets its mtime
    assert stats.files_unchanged == 2
    st = os.stat(dst / "same_content.txt")
    assert st.st_ino == ino and st.st_mtime_ns == T0 + 9


def test_dry_run_changes_nothing_and_reports_what_would_be_done(tmp_path, big):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, big[:2 * MiB], files=80)
    sync_tree(src, dst)
    edit_tree(src, big[:2 * MiB])
    before, before_inodes = snapshot(dst), inodes(dst)
    dry = sync_tree(src, dst, delete=True, dry_run=True)
    assert snapshot(dst) == before and inodes(dst) == before_inodes
    assert dry.dry_run and "dry_run=True" in repr(dry)
    real = sync_tree(src, dst, delete=True)
    assert snapshot(dst) == snapshot(src)
    for field in ("files", "files_new", "files_changed", "files_unchanged", "deleted",
                  "symlinks", "dirs", "file_bytes", "literal_bytes", "copied_bytes",
                  "signature_bytes", "delta_bytes"):
        assert getattr(dry, field) == getattr(real, field), field
    # Into a destination that does not exist: nothing is created.
    assert sync_tree(src, tmp_path / "nowhere", dry_run=True).files_new == real.files
    assert not (tmp_path / "nowhere").exists()


def test_directory_modes_and_mtimes_are_set_after_their_contents(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    write(src / "ro" / "a.txt", b"a")
    write(src / "ro" / "sub" / "b.txt", b"b")
    os.chmod(src / "ro" / "sub", 0o555)
    os.chmod(src / "ro", 0o500)
    set_dir_mtimes(src)
    try:
        sync_tree(src, dst)
        assert snapshot(dst) == snapshot(src)
        os.chmod(src / "ro", 0o700)
        write(src / "ro" / "c.txt", b"c")  # into a directory that is read-only in dst
        os.chmod(src / "ro", 0o500)
        set_dir_mtimes(src, T0 + 1000)
        sync_tree(src, dst)
        assert snapshot(dst) == snapshot(src)
    finally:
        for root in (src, dst):
            for dp, ds, _ in os.walk(root):
                os.chmod(dp, 0o755)
                for d in ds:
                    os.chmod(os.path.join(dp, d), 0o755)


def test_stale_temporary_files_are_removed_and_never_sent(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    write(src / "a.txt", b"a")
    stale = ".lrsync-tree." + "0" * 24 + ".tmp"
    write(src / stale, b"in the source: not sent")
    write(dst / "sub" / stale, b"left by a killed patch")
    os.makedirs(src / "sub")
    stats = sync_tree(src, dst)
    assert stats.files == 1
    assert not (dst / stale).exists() and not (dst / "sub" / stale).exists()
    assert temps(dst) == []


def test_fifos_are_skipped_and_never_opened(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    write(src / "a.txt", b"a")
    os.mkfifo(src / "fifo")  # opening it for reading would block forever
    write(src / "was_fifo", b"a file where the destination has a FIFO")
    os.makedirs(dst)
    os.mkfifo(dst / "was_fifo")
    os.mkfifo(dst / "extra_fifo")
    stats = sync_tree(src, dst, delete=True)
    assert stats.files == 2
    assert not (dst / "fifo").exists()
    assert (dst / "was_fifo").read_bytes() == b"a file where the destination has a FIFO"
    assert stat.S_ISFIFO(os.lstat(dst / "extra_fifo").st_mode)  # not described, not touched


def test_sync_tree_refuses_nested_trees(tmp_path):
    write(tmp_path / "src" / "a", b"a")
    for dst in (tmp_path / "src", tmp_path / "src" / "inner", tmp_path):
        with pytest.raises(ValueError, match="holds the other|same tree"):
            sync_tree(tmp_path / "src", dst)


def test_stats_repr_and_pickle():
    stats = TreeStats(files=5, files_new=2, files_changed=1, files_unchanged=2, deleted=1,
                      symlinks=3, dirs=4, file_bytes=1000, literal_bytes=200,
                      copied_bytes=800, signature_bytes=50, delta_bytes=260)
    text = repr(stats)
    for part in ("files=5", "new=2", "changed=1", "unchanged=2", "deleted=1", "symlinks=3",
                 "dirs=4", "file_bytes=1000", "literal_bytes=200", "copied_bytes=800",
                 "signature_bytes=50", "delta_bytes=260"):
        assert part in text
    assert "dry_run" not in text
    assert pickle.loads(pickle.dumps(stats)) == stats
    err = pickle.loads(pickle.dumps(UnsafePathError("x")))
    assert type(err) is UnsafePathError and err.message == "x"
    assert isinstance(err, librsync.CorruptDataError)


# --- interrupted streams ------------------------------------------------------------------------

def _kill_tree(tmp_path, big):
    """A destination, and a source whose stream ends with a new small file
    then a large changed one (the last entries of the root)."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    write(src / "a_dir" / "one.txt", b"one\n")
    write(src / "m_changed.txt", b"old\n")
    write(src / "z_big.bin", big, 0o644, T0)
    sync_tree(src, dst)
    write(src / "m_changed.txt", b"new\n")
    write(src / "y_marker.txt", b"committed before the cut\n")
    new_big = bytearray(big)
    for pos in range(0, len(new_big), 3 * MiB):
        new_big[pos:pos + 10] = b"0123456789"
    write(src / "z_big.bin", bytes(new_big), 0o644, T0 + 1)
    return src, dst


def _offset_in_big_file(delta: bytes) -> int:
    """An offset in the middle of z_big.bin's data records."""
    r = tree._Reader(io.BytesIO(delta), "test")
    r.header(tree._KIND_DELTA)
    data = []
    seen_big = False
    while True:
        offset = r.nbytes
        kind, body = r.record()
        if kind in (tree._P, tree._N) and body.endswith(b"z_big.bin" + body[-8:]):
            seen_big = True
        elif kind == tree._C and seen_big:
            data.append((offset, r.nbytes))
        elif kind == tree._Z:
            break
    # Writers cut data into 256 KiB records: this delta may be one record.
    assert data and data[-1][1] - data[0][0] > 1000
    return (data[0][0] + data[-1][1]) // 2


def _digest(path) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_receiver_killed_mid_stream_leaves_no_partial_file(tmp_path, big):
    src, dst = _kill_tree(tmp_path, big)
    _, delta = streams(src, dst)
    cut = _offset_in_big_file(delta)
    old_big = (_digest(dst / "z_big.bin"), os.stat(dst / "z_big.bin").st_ino)
    code = "import sys, librsync.tree as t; t.tree_patch(sys.argv[1], sys.stdin.buffer)"
    proc = subprocess.Popen([sys.executable, "-c", code, str(dst)], stdin=subprocess.PIPE,
                            cwd=CHILD_CWD, env=child_env())
    try:
        proc.stdin.write(delta[:cut])
        proc.stdin.flush()
        # The marker is committed just before the large file starts: once it
        # is there the receiver is inside the large file, waiting for data.
        deadline = time.monotonic() + 60
        while not (dst / "y_marker.txt").exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.2)  # let it read what there is (the result is the same if not)
    finally:
        proc.kill()
        proc.wait()
        proc.stdin.close()
    assert (_digest(dst / "z_big.bin"), os.stat(dst / "z_big.bin").st_ino) == old_big
    assert (dst / "m_changed.txt").read_bytes() == b"new\n"
    if tree._ANON_TEMPS:
        assert temps(dst) == []  # the unfinished file never had a name
    stats = sync_tree(src, dst)
    assert stats.files_changed == 1 and stats.files_unchanged == 3
    assert snapshot(dst) == snapshot(src) and temps(dst) == []


@pytest.mark.parametrize("dir_fds", WAYS)
def test_stream_cut_inside_a_large_file(tmp_path, big, dir_fds):
    src, dst = _kill_tree(tmp_path, big)
    _, delta = streams(src, dst)
    old = _digest(dst / "z_big.bin")
    with pytest.raises(librsync.InputEndedError):
        tree._tree_patch(dst, delta[:_offset_in_big_file(delta)], False, None, dir_fds)
    assert _digest(dst / "z_big.bin") == old
    assert temps(dst) == []
    assert (dst / "y_marker.txt").exists()  # what came before the cut is done
    tree._tree_patch(dst, delta, False, None, dir_fds, delete=True)  # the same stream, whole, completes
    assert snapshot(dst) == snapshot(src)


# --- small trees and every offset -----------------------------------------------------------

def _small_pair(base):
    """A small old tree, a new one differing in every way a stream can say,
    and an 'outside' directory the patch must never touch."""
    old, new = base / "old", base / "new"
    write(old / "keep.txt", b"unchanged\n", 0o644, T0)
    write(old / "change.txt", b"old version of the content\n" * 40, 0o644, T0)
    write(old / "sub" / "inner.txt", b"inner old\n" * 60, 0o600, T0)
    write(old / "gone.txt", b"removed\n", 0o644, T0)
    write(old / "was_file", b"becomes a directory\n", 0o644, T0)
    os.symlink("keep.txt", old / "link")
    write(new / "keep.txt", b"unchanged\n", 0o644, T0)
    write(new / "change.txt", b"old version of the content\n" * 20 + b"NEW"
          + b"old version of the content\n" * 20, 0o640, T0 + 1)
    write(new / "new.bin", bytes(range(0, 256, 8)), 0o755, T0 + 2)
    write(new / "empty", b"", 0o644, T0 + 3)
    os.makedirs(new / "emptydir")
    write(new / "sub" / "inner.txt", b"inner old\n" * 30 + b"new" + b"inner old\n" * 30,
          0o600, T0 + 4)
    write(new / "sub" / "new2.txt", b"2nd\n", 0o644, T0 + 5)
    write(new / "was_file" / "x.txt", b"x\n", 0o644, T0 + 6)
    os.symlink("change.txt", new / "link")
    set_dir_mtimes(new, T0 + 100)
    write(base / "outside" / "secret.txt", b"do not touch\n", 0o600, T0)
    os.symlink(os.path.join(base, "outside"), old / "sub" / "to_outside")
    os.symlink(os.path.join(base, "outside", "secret.txt"), new / "sub" / "to_outside")
    return old, new


def _states(old, new) -> dict:
    """For each path, the contents a file there may have: the old or the new."""
    allowed: dict = {}
    for snap in (snapshot(old), snapshot(new)):
        for rel, v in snap.items():
            allowed.setdefault(rel, set()).add(v[0] + (v[3] if v[0] == "f" else ""))
    return allowed


def _check_whole(dst, allowed, outside_before, base):
    """No half-written file, no temporary file, nothing outside touched."""
    for rel, v in snapshot(dst).items():
        assert rel in allowed, rel
        assert v[0] + (v[3] if v[0] == "f" else "") in allowed[rel], rel
    assert temps(dst) == []
    assert snapshot(base / "outside") == outside_before
    assert sorted(os.listdir(base)) == ["dst", "new", "old", "outside"]


@pytest.mark.parametrize("dir_fds", WAYS)
def test_delta_stream_truncated_at_every_offset(mem_path, dir_fds):
    tmp_path = mem_path
    old, new = _small_pair(tmp_path)
    _, delta = streams(new, old, delete=True)
    assert 1000 < len(delta) < 4000
    allowed, outside = _states(old, new), snapshot(tmp_path / "outside")
    dst = tmp_path / "dst"
    pristine = snapshot(old)
    shutil.copytree(old, dst, symlinks=True)
    for cut in range(len(delta)):
        with pytest.raises(librsync.LibrsyncError) as info:
            tree._tree_patch(dst, delta[:cut], False, None, dir_fds, delete=True)
        assert isinstance(info.value, (librsync.InputEndedError, librsync.BadMagicError)), cut
        _check_whole(dst, allowed, outside, tmp_path)
        if snapshot(dst) != pristine:  # what was completed before the cut
            shutil.rmtree(dst)
            shutil.copytree(old, dst, symlinks=True)
    shutil.rmtree(dst)
    shutil.copytree(old, dst, symlinks=True)
    tree._tree_patch(dst, delta, False, None, dir_fds, delete=True)
    assert snapshot(dst) == snapshot(new)


def test_every_single_bit_flip_in_a_delta_stream_is_refused(mem_path):
    tmp_path = mem_path
    old, new = _small_pair(tmp_path)
    _, delta = streams(new, old, delete=True)
    allowed, outside = _states(old, new), snapshot(tmp_path / "outside")
    dst = tmp_path / "dst"
    pristine = snapshot(old)
    shutil.copytree(old, dst, symlinks=True)
    for pos in range(len(delta)):
        bad = bytearray(delta)
        bad[pos] ^= 1 << (pos * 3 % 8)
        with pytest.raises(librsync.LibrsyncError):
            tree_patch(dst, bytes(bad))
        _check_whole(dst, allowed, outside, tmp_path)
        if snapshot(dst) != pristine:
            shutil.rmtree(dst)
            shutil.copytree(old, dst, symlinks=True)


def test_signature_stream_truncated_or_flipped_anywhere(tmp_path):
    old, new = _small_pair(tmp_path)
    sig, delta = streams(new, old, delete=True)
    for cut in range(len(sig)):
        with pytest.raises((librsync.InputEndedError, librsync.BadMagicError)):
            tree_delta(new, sig[:cut], io.BytesIO(), delete=True)
    for pos in range(len(sig)):
        bad = bytearray(sig)
        bad[pos] ^= 0x80 >> (pos % 8)
        with pytest.raises(librsync.LibrsyncError):
            tree_delta(new, bytes(bad), io.BytesIO(), delete=True)
    out = io.BytesIO()
    tree_delta(new, sig, out, delete=True)
    assert out.getvalue() == delta


def test_a_dropped_record_is_noticed(tmp_path):
    old, new = _small_pair(tmp_path)
    _, delta = streams(new, old)
    shutil.copytree(old, tmp_path / "dst", symlinks=True)
    r = tree._Reader(io.BytesIO(delta), "test")
    r.header(tree._KIND_DELTA)
    while True:  # find the 'U' record of keep.txt and cut it out
        start = r.nbytes
        kind, _ = r.record()
        if kind == tree._U:
            break
    dropped = delta[:start] + delta[r.nbytes:]
    with pytest.raises(librsync.CorruptDataError, match="records were lost"):
        tree_patch(tmp_path / "dst", dropped)


# --- hostile streams -------------------------------------------------------------------------------

def entry(kind: str, name: bytes, mode: int = 0o644, mtime: int = T0, tail: bytes = b""):
    return (ord(kind), tree._ENTRY.pack(mode, mtime, len(name)) + name + tail)


def new_file(name: bytes, data: bytes, size: int | None = None):
    size = len(data) if size is None else size
    return [entry("N", name, tail=tree._U64.pack(size)),
            *([(tree._C, data)] if data else []),
            (tree._E, tree._FILE_END.pack(len(data), hashlib.blake2b(data, digest_size=32)
                                          .digest()))]


def frame(records, kind: bytes = b"D", root: bool = True, end: bool = True) -> bytes:
    """A stream of these records, framed correctly (right CRCs and count)."""
    out = io.BytesIO()
    w = tree._Writer(out, "test")
    w.record(tree._H, kind + b"\0")
    if root:
        w.entry(tree._D, b"", 0o755, T0)
    for rkind, body in records:
        w.record(rkind, body)
    if root:
        w.record(tree._Q)
    if end:
        w.close()
    else:
        w._drain()
    return out.getvalue()


@pytest.fixture
def arena(tmp_path):
    """dst (with links that lead outside it) beside an 'outside' directory;
    returns (dst, check) where check() asserts nothing outside changed."""
    dst, outside = tmp_path / "dst", tmp_path / "outside"
    write(outside / "secret.txt", b"secret\n", 0o600, T0)
    os.makedirs(outside / "dir")
    os.makedirs(dst)
    os.symlink(outside, dst / "link_dir")
    os.symlink(outside / "secret.txt", dst / "link_file")
    before = snapshot(tmp_path)

    def check(links: bool = True):
        now = snapshot(tmp_path)
        for rel in set(before) | set(now):
            if (links and rel in (b"dst/link_dir", b"dst/link_file")) or not (
                    rel == b"dst" or rel.startswith(b"dst/")):
                assert now.get(rel) == before.get(rel), rel
        assert os.stat(outside / "secret.txt").st_mode & 0o777 == 0o600

    return dst, check


HOSTILE_NAMES = [b"..", b".", b"../escape", b"a/b", b"/etc", b"/", b"\\evil", b"..\\..\\x",
                 b"C:\\x", b"c:\\windows", b"\\\\server\\share", b"a\0b", b"\0"]


@pytest.mark.parametrize("dir_fds", WAYS)
@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("kind", "DNLXUP")
def test_names_that_leave_the_destination_are_refused(arena, kind, name, dir_fds):
    dst, check = arena
    if kind == "N":
        records = new_file(name, b"pwned")
    elif kind == "L":
        records = [entry("L", name, tail=b"/etc/passwd")]
    elif kind in "UP":
        records = [entry(kind, name, tail=tree._U64.pack(5))]
    else:
        records = [entry(kind, name, 0 if kind == "X" else 0o755, 0 if kind == "X" else T0)]
        if kind == "D":
            records += new_file(b"f", b"pwned") + [(tree._Q, b"")]
    with pytest.raises(UnsafePathError, match="name"):
        tree._tree_patch(dst, frame(records), False, None, dir_fds)
    check()
    assert sorted(os.listdir(dst)) == ["link_dir", "link_file"]


@pytest.mark.parametrize("dir_fds", WAYS)
def test_a_path_through_a_symlink_in_the_destination_is_refused(arena, dir_fds):
    dst, check = arena
    stream = frame([entry("D", b"link_dir", 0o777), *new_file(b"secret.txt", b"pwned"),
                    *new_file(b"planted", b"pwned"), (tree._Q, b"")])
    with pytest.raises(UnsafePathError, match="symlink"):
        tree._tree_patch(dst, stream, False, None, dir_fds)
    check()


@pytest.mark.parametrize("dir_fds", WAYS)
def test_records_that_would_act_on_a_link_target_are_refused(arena, dir_fds):
    dst, check = arena
    # A delta against the link's target, an "unchanged" that would chmod it:
    # neither follows the link.
    delta = librsync.delta(b"pwned", librsync.signature(b"secret\n")).read()
    data = delta
    digest = hashlib.blake2b(b"pwned", digest_size=32).digest()
    patch = [entry("P", b"link_file", tail=tree._U64.pack(5)), (tree._C, data),
             (tree._E, tree._FILE_END.pack(5, digest))]
    with pytest.raises(librsync.CorruptDataError, match="no regular file"):
        tree._tree_patch(dst, frame(patch), False, None, dir_fds)
    check()
    touch = [entry("U", b"link_file", 0o777, 0, tree._U64.pack(7))]
    with pytest.raises(librsync.CorruptDataError, match="no regular file"):
        tree._tree_patch(dst, frame(touch), False, None, dir_fds)
    check()
    # Replacing or removing a link replaces or removes the link only.
    tree._tree_patch(dst, frame([entry("X", b"link_dir", 0, 0), *new_file(b"link_file", b"mine")]),
                     False, None, dir_fds, delete=True)
    check(links=False)
    assert sorted(os.listdir(dst)) == ["link_file"] and not os.path.islink(dst / "link_file")
    assert (dst / "link_file").read_bytes() == b"mine"


def test_a_link_made_by_the_stream_cannot_be_entered_later(arena):
    dst, check = arena
    outside = os.path.join(os.path.dirname(dst), "outside")
    stream = frame([entry("L", b"evil", tail=os.fsencode(outside)),
                    entry("D", b"evil"), *new_file(b"x", b"pwned"), (tree._Q, b"")])
    with pytest.raises(librsync.CorruptDataError, match="names must increase"):
        tree_patch(dst, stream)
    check()
    # In a second stream the link is in the destination: refused the same way.
    with pytest.raises(UnsafePathError, match="symlink"):
        tree_patch(dst, frame([entry("D", b"evil"), *new_file(b"x", b"pwned"),
                               (tree._Q, b"")]))
    check()
    assert os.readlink(dst / "evil") == outside


def test_windows_name_rules():
    for name in ("C:", "c:evil", "file.txt:stream", "CON", "nul.txt", "COM1", "lpt9.log",
                 "trailing.", "trailing ", "a<b", "a|b", "tab\there"):
        assert tree._windows_name_problem(name), name
    for name in ("CONSOLE", "file.txt", "a b", ".hidden", "com10", "café"):
        assert tree._windows_name_problem(name) is None, name


@pytest.mark.parametrize("kind", "HDQFNPULXCEZ")
def test_absurd_record_lengths_are_refused_before_reading(tmp_path, kind):
    head = tree.MAGIC + tree._REC.pack(tree._H, 2) + b"D\0"
    head += tree._CRC.pack(zlib.crc32(b"D\0", zlib.crc32(tree._REC.pack(tree._H, 2))))
    stream = head + tree._REC.pack(ord(kind), 0xFFFFFFFF)

    def endless():
        yield stream
        while True:  # a reader that trusted the length would read forever
            yield b"\0" * 65536

    with pytest.raises(librsync.CorruptDataError, match="limit"):
        tree_patch(tmp_path / "dst", endless())
    with pytest.raises(librsync.CorruptDataError, match="unknown record type"):
        tree_patch(tmp_path / "dst", head + b"?" + b"\0" * 8)


def test_malformed_entries_are_refused(tmp_path):
    dst = tmp_path / "dst"
    cases = {
        "runs past": [(tree._N, tree._ENTRY.pack(0o644, 0, 500) + b"short")],
        "too short": [(tree._N, b"\0\0")],
        "empty name": [entry("N", b"", tail=tree._U64.pack(0))],
        "limit is 1024": [entry("D", b"n" * 1025)],
        "permission bits": [entry("D", b"d", 0o4755)],
        "needs a size": [entry("N", b"f")],
        "impossible size": [entry("N", b"f", tail=tree._U64.pack(1 << 63))],
        "symlink target": [entry("L", b"l")],
        "without NUL": [entry("L", b"l", tail=b"a\0b")],
        "stray bytes": [entry("X", b"x", 0, 0, b"junk")],
        "inside the file's data": [entry("N", b"f", tail=tree._U64.pack(1)), entry("D", b"d")],
        "of a tree delta stream": [entry("F", b"f", tail=tree._U64.pack(1))],
        "names must increase": [*new_file(b"b", b"1"), *new_file(b"a", b"2")],
        "only a removal may": [*new_file(b"a", b"1"), *new_file(b"a", b"2")],
        "more data than": new_file(b"f", b"0123456789", size=4),
        "does not match": [entry("N", b"f", tail=tree._U64.pack(3)), (tree._C, b"abc"),
                           (tree._E, tree._FILE_END.pack(3, b"\0" * 32))],
        "no regular file": [entry("U", b"missing", tail=tree._U64.pack(3))],
    }
    for match, records in cases.items():
        with pytest.raises(librsync.CorruptDataError, match=match):
            tree_patch(dst, frame(records))
        assert temps(tmp_path) == []
    assert set(os.listdir(dst)) <= {"a", "b", "d"}  # files completed before the fault


def test_depth_and_size_limits(tmp_path):
    dst = tmp_path / "dst"
    deep = [entry("D", b"d")] * (tree.MAX_DEPTH + 1) + [(tree._Q, b"")] * (tree.MAX_DEPTH + 1)
    with pytest.raises(librsync.LimitExceededError, match="deep"):
        tree_patch(dst, frame(deep))
    ok = [entry("D", b"d")] * tree.MAX_DEPTH + [(tree._Q, b"")] * tree.MAX_DEPTH
    assert tree_patch(dst, frame(ok)).dirs == tree.MAX_DEPTH
    with pytest.raises(librsync.LimitExceededError, match="max_file_size"):
        tree_patch(dst, frame(new_file(b"big", b"x" * 100)), max_file_size=99)
    assert tree_patch(dst, frame(new_file(b"big", b"x" * 100)), max_file_size=100).files == 1
    # A delta that would make a file larger than announced stops at that size.
    write(dst / "basis", b"B" * 4096)
    grow = librsync.delta(b"B" * 4096 * 3, librsync.signature(b"B" * 4096, block_size=512)).read()
    stream = frame([entry("P", b"basis", tail=tree._U64.pack(4096)), (tree._C, grow),
                    (tree._E, tree._FILE_END.pack(4096 * 3, b"\0" * 32))])
    with pytest.raises(librsync.LimitExceededError):
        tree_patch(dst, stream)
    assert (dst / "basis").read_bytes() == b"B" * 4096 and temps(dst) == []


def test_hostile_signature_streams(tmp_path):
    src = tmp_path / "src"
    write(src / "a", b"a")
    sig_cases = {
        "names must increase": [entry("F", b"b", tail=tree._U64.pack(0)),
                                (tree._C, b""), (tree._E, tree._FILE_END.pack(0, b"\0" * 32)),
                                entry("L", b"a", tail=b"t")],
        "would leave": [entry("D", b".."), (tree._Q, b"")],
        "of a tree signature stream": [entry("N", b"a", tail=tree._U64.pack(0))],
        "deep": [entry("D", b"d")] * (tree.MAX_DEPTH + 1),
        "inside the file's data": [entry("F", b"a", tail=tree._U64.pack(1)), entry("D", b"x")],
    }
    for match, records in sig_cases.items():
        with pytest.raises(librsync.LibrsyncError, match=match):
            tree_delta(src, frame(records, kind=b"S"), io.BytesIO())
    # The data of a file must be a signature, and nothing more.
    junk = [entry("F", b"a", tail=tree._U64.pack(1)), (tree._C, b"not a signature"),
            (tree._E, tree._FILE_END.pack(1, b"\0" * 32))]
    with pytest.raises(librsync.BadMagicError):
        tree_delta(src, frame(junk, kind=b"S"), io.BytesIO())


def test_stream_kinds_and_versions(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    write(src / "a", b"a")
    sig, delta = streams(src, dst)
    with pytest.raises(librsync.BadMagicError, match="expected a tree delta stream but got "
                       "a tree signature stream"):
        tree_patch(dst, sig)
    with pytest.raises(librsync.BadMagicError, match="expected a tree signature stream"):
        tree_delta(src, delta, io.BytesIO())
    with pytest.raises(librsync.BadMagicError, match="not a librsync tree stream"):
        tree_patch(dst, b"RS\x026" + b"\0" * 20)
    # Version 1 (whose signature streams always carried digests) and a
    # future version are refused, saying which version each side has.
    for version in (1, 3):
        with pytest.raises(librsync.BadMagicError,
                           match=f"format version {version}; this library reads version 2"):
            tree_patch(dst, b"LRSTREE" + bytes([version]) + delta[8:])
        with pytest.raises(librsync.BadMagicError, match=f"format version {version}"):
            tree_delta(src, b"LRSTREE" + bytes([version]) + sig[8:], io.BytesIO())
    with pytest.raises(librsync.InputEndedError):
        tree_patch(dst, b"")
    assert not dst.exists()  # no stream above got as far as creating it
    with pytest.raises(librsync.CorruptDataError, match="after the root"):
        tree_patch(dst, delta[:-17] + delta[-26:-17] + delta[-17:])  # a second root Q


def test_argument_kinds(tmp_path):
    src = tmp_path / "src"
    write(src / "a", b"a")
    with pytest.raises(TypeError, match="not a path"):
        tree_patch(tmp_path / "dst", str(tmp_path / "x"))
    with pytest.raises(TypeError, match="not a path"):
        tree_delta(src, tmp_path / "sig", io.BytesIO())
    with pytest.raises(TypeError, match="binary"):
        tree_patch(tmp_path / "dst", io.StringIO("x"))
    with pytest.raises(TypeError, match="iterable"):
        tree_patch(tmp_path / "dst", 42)
    with pytest.raises(TypeError, match="bytes-like"):
        tree_patch(tmp_path / "dst", [tree.MAGIC, "text"])
    with pytest.raises(TypeError):
        tree_signature(src, b"")
    with pytest.raises(TypeError, match="binary"):
        tree_signature(src, io.StringIO())
    with pytest.raises(NotADirectoryError):
        tree_signature(src / "a", io.BytesIO())
    with pytest.raises(NotADirectoryError):
        sync_tree(src / "a", tmp_path / "dst")
    with pytest.raises(ValueError, match="max_file_size"):
        tree_patch(tmp_path / "dst", b"", max_file_size=-1)
    # A stream is read up to its end record and no further.
    sig = io.BytesIO()
    tree_signature(src, sig)
    sig.write(b"what follows on the connection")
    sig.seek(0)
    tree_delta(src, sig, io.BytesIO())
    assert sig.read() == b"what follows on the connection"


# --- format 2: digests on request, threads, the digest thread -------------------------------------

def _file_ends(stream: bytes) -> list:
    """The (size, digest) of every E record of a stream, in order."""
    r = tree._Reader(stream, "test stream")
    r.exact(len(tree.MAGIC))
    ends = []
    while True:
        kind, body = r.record()
        if kind == tree._E:
            ends.append(tree._FILE_END.unpack(body))
        if kind == tree._Z:
            return ends


def test_signature_streams_carry_digests_only_with_checksum(tmp_path, big):
    src, dst = tmp_path / "src", tmp_path / "dst"
    write(src / "a", b"hello")
    write(src / "big", big)  # above the size hashed in a thread of its own
    plain, full = io.BytesIO(), io.BytesIO()
    tree_signature(src, plain)
    tree_signature(src, full, checksum=True)
    assert _file_ends(plain.getvalue()) == [(5, bytes(32)), (len(big), bytes(32))]
    assert _file_ends(full.getvalue()) == [
        (5, hashlib.blake2b(b"hello", digest_size=32).digest()),
        (len(big), hashlib.blake2b(big, digest_size=32).digest())]
    # Without digests a checksum comparison cannot be made: refused, not
    # taken as "every file differs" or, worse, "equal".
    with pytest.raises(ValueError, match="no file digests"):
        tree_delta(src, plain.getvalue(), io.BytesIO(), checksum=True)
    delta = io.BytesIO()
    stats = tree_delta(src, full.getvalue(), delta, checksum=True)
    assert stats.files_unchanged == 2
    # A delta stream's digests are always there, and checked.
    write(src / "b", b"new")
    sync_tree(src, dst)
    _, delta_bytes = streams(src, tmp_path / "empty")
    assert _file_ends(delta_bytes)[1] == (3, hashlib.blake2b(b"new", digest_size=32).digest())


@pytest.mark.parametrize("threads", [2, 3])
def test_threads_change_no_signature_and_sync_the_same_tree(tmp_path, big, threads):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, big, files=40)
    sync_tree(src, dst, threads=threads)
    assert snapshot(dst) == snapshot(src)
    one, many = io.BytesIO(), io.BytesIO()
    tree_signature(dst, one, checksum=True)
    tree_signature(dst, many, checksum=True, threads=threads)
    assert one.getvalue() == many.getvalue()
    new_big = edit_tree(src, big)
    before = threading.active_count()
    stats = sync_tree(src, dst, delete=True, threads=threads)
    assert snapshot(dst) == snapshot(src)
    with open(dst / "d00" / "big.bin", "rb") as f:
        assert f.read() == new_big
    assert stats.copied_bytes > BIG_SIZE - 100_000  # a delta, not the file whole
    # The same delta stream whatever the number of threads (2 or more).
    _, d2 = streams(src, tmp_path / "empty", threads=2)
    _, dn = streams(src, tmp_path / "empty", threads=threads)
    assert d2 == dn
    assert threading.active_count() == before  # no worker or digest thread left
    # With threads, tree_delta hashes big files in a helper thread: a
    # checksum delta of the same tree still finds every file unchanged.
    sig = io.BytesIO()
    tree_signature(dst, sig, checksum=True, threads=threads)
    assert tree_delta(src, sig.getvalue(), io.BytesIO(), checksum=True,
                      threads=threads).files_changed == 0
    with pytest.raises(ValueError, match="threads"):
        sync_tree(src, dst, threads=0)
    with pytest.raises(TypeError, match="threads"):
        tree_signature(dst, io.BytesIO(), threads="2")


def test_a_big_file_with_a_wrong_digest_is_refused_and_no_thread_is_left(tmp_path, big):
    # A big file's digest is checked whole, and a failure leaves no thread.
    dst = tmp_path / "dst"
    bad = hashlib.blake2b(big[:-1] + b"?", digest_size=32).digest()
    records = [entry("N", b"big", tail=tree._U64.pack(len(big))),
               *[(tree._C, big[i:i + tree._CHUNK]) for i in range(0, len(big), tree._CHUNK)],
               (tree._E, tree._FILE_END.pack(len(big), bad))]
    before = threading.active_count()
    with pytest.raises(librsync.CorruptDataError, match="does not match"):
        tree_patch(dst, frame(records))
    assert not (dst / "big").exists() and temps(dst) == []
    cut = frame(records)[:-200_000]
    with pytest.raises(librsync.InputEndedError):
        tree_patch(dst, cut)
    assert threading.active_count() == before
    good = records[:-1] + [(tree._E, tree._FILE_END.pack(
        len(big), hashlib.blake2b(big, digest_size=32).digest()))]
    tree_patch(dst, frame(good))
    assert (dst / "big").read_bytes() == big
