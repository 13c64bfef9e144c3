"""Shared pieces of the atheris fuzz targets (see README.md).

A *finding* is a crash, a hang (libFuzzer's -timeout), memory past
-rss_limit_mb, or an exception other than the documented ones: LibrsyncError
(and subclasses), ValueError and TypeError are the library's answers to bad
input and end the run of one input quietly.
"""

from __future__ import annotations

import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# Fuzz the tree this file lives in when it has an in-place build; otherwise
# the installed package (CI installs it and does not build in place).
_BUILT = any(name.startswith("_rsync.") and name.endswith((".so", ".pyd"))
             for name in os.listdir(os.path.join(ROOT, "librsync")))
if _BUILT and ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import librsync  # noqa: E402

EXPECTED = (librsync.LibrsyncError, ValueError, TypeError)

#: A fixed basis for patch targets: 16 KiB of deterministic bytes, so COPY
#: commands from the corpus (made against it) copy real data.
BASIS = random.Random(1234).randbytes(16384)

#: Output cap for patches: deltas can ask for any length; the fuzzer is
#: after crashes, not after writing gigabytes.
MAX_OUT = 1 << 20

MAGICS = [librsync.RS_RK_BLAKE2_SIG_MAGIC, librsync.RS_BLAKE2_SIG_MAGIC,
          librsync.RS_RK_MD4_SIG_MAGIC, librsync.RS_MD4_SIG_MAGIC]


def librsyncs_delta(new, sig) -> bytes:
    """The delta librsync's own job writes (the fast engine's reference)."""
    before = librsync.delta_engine()
    librsync._rsync._use_delta_engine("librsync")
    try:
        return librsync.delta(new, sig).read()
    finally:
        librsync._rsync._use_delta_engine(before)


def split_points(fdp, n: int, most: int = 8) -> list[int]:
    """A few cut points in range(n), chosen by the fuzzer."""
    cuts = sorted(fdp.ConsumeIntInRange(0, n) for _ in range(fdp.ConsumeIntInRange(0, most)))
    return cuts


def pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    out, prev = [], 0
    for c in cuts + [len(data)]:
        out.append(data[prev:c])
        prev = c
    return out


# --- the tree target -----------------------------------------------------------------

#: Where the tree target builds its trees: in memory when the machine has a
#: tmpfs (every input copies a tree, and fsync on a disk would dominate).
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None

#: mtime of every entry of the fixed trees, so that streams made from them
#: stay valid against fresh copies.
TREE_MTIME = 1_600_000_000_000_000_000


def _put(path: str, data: bytes, mode: int = 0o644) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    os.utime(path, ns=(TREE_MTIME, TREE_MTIME))


def make_tree_arena(base: str) -> tuple[str, str, str]:
    """Under ``base``: ``template`` (the destination tree delta streams are
    applied to, copied to ``base/dst`` for each: a few files, a directory,
    symlinks leading out of it), ``src`` (a tree differing from it in every
    way a stream can say) and ``outside`` (what no stream may touch).
    Returns their paths."""
    dst, src, outside = (os.path.join(base, n) for n in ("template", "src", "outside"))
    _put(os.path.join(outside, "secret.txt"), b"outside the destination\n", 0o600)
    _put(os.path.join(dst, "a.txt"), b"alpha\n" * 50)
    _put(os.path.join(dst, "sub", "b.bin"), BASIS[:3000])
    _put(os.path.join(dst, "empty"), b"")
    _put(os.path.join(dst, "gone.txt"), b"removed with delete=True\n")
    # Relative, so they lead outside from base/dst too, and the corpus made
    # from them does not depend on where it was made.
    os.symlink("../outside", os.path.join(dst, "link_dir"))
    os.symlink("../outside/secret.txt", os.path.join(dst, "link_file"))
    _put(os.path.join(src, "a.txt"), b"alpha\n" * 20 + b"beta\n" + b"alpha\n" * 29, 0o640)
    _put(os.path.join(src, "sub", "b.bin"), BASIS[:1000] + BASIS[2000:4000])
    _put(os.path.join(src, "sub", "new.txt"), b"new file\n", 0o755)
    _put(os.path.join(src, "empty"), b"")
    os.makedirs(os.path.join(src, "newdir", "deeper"))
    os.symlink("a.txt", os.path.join(src, "link_dir"))
    for link in ("template/link_dir", "template/link_file", "src/link_dir"):
        os.utime(os.path.join(base, link), ns=(TREE_MTIME, TREE_MTIME), follow_symlinks=False)
    for root in (dst, src):
        for dirpath, _, _ in sorted(os.walk(root), key=lambda t: -len(t[0])):
            os.chmod(dirpath, 0o755)  # not the umask's choice
            os.utime(dirpath, ns=(TREE_MTIME, TREE_MTIME))
    return dst, src, outside


def tree_snapshot(root: str) -> dict:
    """Every entry under ``root`` (not following links): kind, mode, mtime,
    content or link target."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if os.path.islink(path):
                out[path] = ("l", os.readlink(path), st.st_mtime_ns)
            elif os.path.isdir(path):
                out[path] = ("d", st.st_mode, st.st_mtime_ns)
            else:
                with open(path, "rb") as f:
                    out[path] = ("f", st.st_mode, st.st_mtime_ns, f.read())
    return out


class Arena:
    """``make_tree_arena`` in a scratch folder under ``prefix``, and the
    oracle of the targets that apply a peer's stream to ``dst``: nothing
    outside it changed, nothing created beside it, no temporary file left.
    (libFuzzer ends the process without running atexit handlers; run.sh
    passes a scratch directory it removes itself.)"""

    def __init__(self, prefix: str) -> None:
        import atexit
        import shutil
        import tempfile

        self.base = tempfile.mkdtemp(prefix=prefix, dir=os.environ.get("FUZZ_SCRATCH")
                                     or SCRATCH)
        atexit.register(shutil.rmtree, self.base, True)
        self.template, self.src, self.outside = make_tree_arena(self.base)
        self.dst = os.path.join(self.base, "dst")
        self._outside_before = tree_snapshot(self.outside)

    def fresh_dst(self) -> str:
        import shutil

        shutil.rmtree(self.dst, ignore_errors=True)
        shutil.copytree(self.template, self.dst, symlinks=True)
        return self.dst

    def check_untouched(self) -> None:
        if tree_snapshot(self.outside) != self._outside_before:
            raise AssertionError("a stream changed something outside the destination")
        if sorted(os.listdir(self.base)) != ["dst", "outside", "src", "template"]:
            raise AssertionError(f"a stream created {os.listdir(self.base)} beside the "
                                 "destination")
        for dirpath, dirnames, filenames in os.walk(self.dst):
            for name in dirnames + filenames:
                if name.startswith(".lrsync-tree."):
                    raise AssertionError("temporary file left: "
                                         f"{os.path.join(dirpath, name)}")
