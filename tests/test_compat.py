"""librsync.compat: rdiff-backup's and duplicity's ``_librsync`` interface.

The makers are driven here the way both tools' ``librsync.py`` drive their
C module (a window of at least 64 KiB of input, the unconsumed rest passed
again, ``b""`` at the end, stop at ``done``), and also in other ways a
caller may use it.  The real tools, and their own C module side by side,
are run by scripts/check_real_clients.sh (in .ci/run).

The end of the file holds python-librsync's own test cases (SmartFile's
tests.py), rewritten for this package, with the two cases where this
package raises ValueError/TypeError instead of AssertionError.
"""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

import librsync
import librsync.compat as compat
from conftest import CHILD_CWD, child_env, make_data, mutate

BLOCK = compat.RS_JOB_BLOCKSIZE


def drive(maker, data: bytes, read_size: int = BLOCK, outputs: list[int] | None = None) -> bytes:
    """All of ``maker``'s output for input ``data``, fed as the tools'
    LikeFile does: top the window up to 64 KiB by reads of ``read_size``,
    cycle it, keep what was not consumed."""
    out, inbuf, pos, eof, done, calls = [], b"", 0, False, 0, 0
    while not done:
        while not eof and len(inbuf) < BLOCK:
            chunk = data[pos:pos + read_size]
            pos += len(chunk)
            if not chunk:
                eof = True
                break
            inbuf += chunk
        done, used, chunk = maker.cycle(inbuf)
        assert 0 <= used <= len(inbuf)
        assert len(chunk) <= BLOCK
        if outputs is not None:
            outputs.append(len(chunk))
        inbuf = inbuf[used:]
        out.append(chunk)
        calls += 1
        assert calls < 100_000, "no progress"
    return b"".join(out)


def md4_signature(data: bytes, block_len: int) -> bytes:
    return librsync.signature(data, block_size=block_len, strong_len=8,
                              magic=librsync.RS_MD4_SIG_MAGIC).read()


@pytest.fixture
def basis_file():
    files = []

    def make(data: bytes):
        f = tempfile.TemporaryFile()
        f.write(data)
        f.flush()
        files.append(f)
        return f

    yield make
    for f in files:
        f.close()


# --- the module's surface --------------------------------------------------

def test_constants_under_both_tools_names():
    assert compat.RSM_JOB_BLOCKSIZE == compat.RS_JOB_BLOCKSIZE == 65536
    assert compat.RS_DEFAULT_BLOCK_LEN == 2048
    assert compat.get_version() == f"librsync {librsync.LIBRSYNC_VERSION}"


def test_no_ctypes_backend_marker():
    # duplicity's librsync.py takes a module with a SigMaker attribute for its
    # ctypes backend and then skips unwrapping a temporary file's .file.
    assert not hasattr(compat, "SigMaker")


def test_error_is_a_librsync_error_and_pickles():
    err = compat.librsyncError(106, "bogus command 0x99", "patch cycle")
    assert isinstance(err, librsync.LibrsyncError) and err.code == 106
    assert str(err) == "librsync error 106 while in patch cycle: bogus command 0x99"
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is compat.librsyncError and str(again) == str(err)


# --- signatures ---------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 1, 2047, 2048, 2049, 65536, 300_001])
@pytest.mark.parametrize("block_len", [64, 512, 2048, 7168, 204800])
def test_signature_is_md4_with_8_byte_sums(size, block_len):
    data = make_data(size, seed=size)
    assert drive(compat.new_sigmaker(block_len), data) == md4_signature(data, block_len)


def test_signature_default_block_len_is_2048():
    data = make_data(100_000)
    assert drive(compat.new_sigmaker(compat.RS_DEFAULT_BLOCK_LEN), data) == md4_signature(data, 2048)


def test_signature_matches_rdiff(run_rdiff, tmp_path):
    data = make_data(1_000_003, seed=5)
    (tmp_path / "old").write_bytes(data)
    run_rdiff("-b", "1024", "-R", "rollsum", "-S", "8", "-H", "md4", "signature",
              str(tmp_path / "old"), str(tmp_path / "sig"))
    assert drive(compat.new_sigmaker(1024), data) == (tmp_path / "sig").read_bytes()


def test_signature_fed_like_sig_generator():
    # Their SigGenerator: add 1000 bytes at a time, cycle while 64 KiB are
    # held (raising if the maker ends early), then cycle to the end.
    data = make_data(400_000, seed=3)
    maker, buffer, parts = compat.new_sigmaker(2048), b"", []
    for i in range(0, len(data), 1000):
        buffer += data[i:i + 1000]
        while len(buffer) >= BLOCK:
            done, used, out = maker.cycle(buffer)
            assert not done
            buffer = buffer[used:]
            parts.append(out)
    while True:
        done, used, out = maker.cycle(buffer)
        buffer = buffer[used:]
        parts.append(out)
        if done:
            break
    assert b"".join(parts) == md4_signature(data, 2048)


def test_cycle_takes_at_most_64k_of_input():
    maker = compat.new_sigmaker(2048)
    done, used, _ = maker.cycle(bytes(1_000_000))
    assert (done, used) == (0, BLOCK)


def test_small_block_signature_output_is_split():
    # 64 KiB of input in 1-byte blocks is 12 bytes of signature per byte:
    # 768 KiB, handed out 64 KiB at a time without taking more input.
    data = make_data(200_000)
    sizes: list[int] = []
    assert drive(compat.new_sigmaker(1), data, outputs=sizes) == md4_signature(data, 1)
    assert max(sizes) == BLOCK and len(sizes) > 12 * len(data) // BLOCK


def test_done_comes_with_the_last_output_and_then_stays():
    maker = compat.new_sigmaker(2048)
    done, used, head = maker.cycle(b"abc")
    assert (done, used) == (0, 3)
    done, used, out = maker.cycle(b"")
    assert done == 1 and used == 0 and head + out == md4_signature(b"abc", 2048)
    assert maker.cycle(b"") == (1, 0, b"")


@pytest.mark.parametrize("bad", ["text", None, 12, [b"a"]])
def test_cycle_wants_bytes(bad):
    with pytest.raises(TypeError):
        compat.new_sigmaker(2048).cycle(bad)


def test_cycle_takes_any_bytes_like():
    data = make_data(5000)
    maker = compat.new_sigmaker(512)
    parts = [maker.cycle(bytearray(data)), maker.cycle(memoryview(b""))]
    assert b"".join(p[2] for p in parts) == md4_signature(data, 512)


@pytest.mark.parametrize("bad", [-1, "2048", 2.0, None])
def test_sigmaker_refuses_bad_block_lengths(bad):
    with pytest.raises((TypeError, ValueError)):
        compat.new_sigmaker(bad)


# --- deltas and patches ------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 1, 4096, 100_000, 3 << 20])
@pytest.mark.parametrize("block_len", [512, 2048])
def test_delta_and_patch_round_trip(size, block_len, basis_file):
    old = make_data(size, seed=size)
    new = mutate(old, 10, seed=size + 1) if size else b"new data"
    sig = drive(compat.new_sigmaker(block_len), old)
    delta = drive(compat.new_deltamaker(sig), new, read_size=1000)
    assert delta == librsync.delta(new, sig).read()
    assert drive(compat.new_patchmaker(basis_file(old)), delta) == new


def test_patch_of_a_delta_made_elsewhere(basis_file):
    old = make_data(2 << 20, seed=9)
    new = old[:700_000] + make_data(50_000, seed=10) + old[600_000:]
    delta = librsync.delta(new, librsync.signature(old)).read()
    assert drive(compat.new_patchmaker(basis_file(old)), delta, read_size=777) == new


def _copy_delta(*copies: tuple[int, int]) -> bytes:
    out = bytearray(librsync.RS_DELTA_MAGIC.to_bytes(4, "big"))
    for pos, length in copies:
        out += bytes([0x54]) + pos.to_bytes(8, "big") + length.to_bytes(8, "big")
    return bytes(out + b"\0")


def test_a_long_copy_is_returned_64k_at_a_time(basis_file):
    old = make_data(5 << 20, seed=4)
    delta = _copy_delta((1000, len(old) - 1000), (0, 1000))
    sizes: list[int] = []
    assert drive(compat.new_patchmaker(basis_file(old)), delta, outputs=sizes) == old[1000:] + old[:1000]
    assert max(sizes) == BLOCK and len(sizes) >= len(old) // BLOCK


def test_a_delta_expanding_to_terabytes_stays_bounded(basis_file):
    # 10,000 COPYs of a 1 MiB basis: 10 GiB of output from 170 KiB of delta.
    # Each cycle holds at most 64 KiB of output, and takes no more delta than
    # that output needs.
    old = make_data(1 << 20)
    delta = _copy_delta(*[(0, len(old))] * 10_000)
    maker = compat.new_patchmaker(basis_file(old))
    inbuf, produced = delta, 0
    for _ in range(100):
        done, used, out = maker.cycle(inbuf)
        assert not done and len(out) == BLOCK
        assert out == old[produced % len(old):][:BLOCK]
        produced += len(out)
        inbuf = inbuf[used:]
    # 6.25 MiB out: the magic and the first seven COPYs of the delta taken.
    assert len(delta) - len(inbuf) == 4 + 17 * 7


def test_a_long_copy_is_never_held_whole(tmp_path):
    # A COPY of a whole 256 MiB (sparse) basis: the job behind the maker may
    # never have produced more than one call's output ahead of the caller,
    # whether or not the caller passes more delta meanwhile.
    path = tmp_path / "sparse"
    with open(path, "wb") as f:
        f.truncate(256 << 20)
    delta = _copy_delta((0, 256 << 20))
    with open(path, "rb") as f:
        maker = compat.new_patchmaker(f)
        returned, inbuf = 0, delta
        for _ in range(50):
            done, used, out = maker.cycle(inbuf)
            inbuf = inbuf[used:]
            returned += len(out)
            assert not done and out == bytes(BLOCK)
            assert maker._job.out_bytes - returned <= 0, "output produced ahead of the caller"
        assert returned == 50 * BLOCK


def test_a_copy_past_the_basis_end_fails_after_bounded_output(basis_file):
    old = make_data(100_000)
    maker = compat.new_patchmaker(basis_file(old))
    inbuf = _copy_delta((0, 1 << 40))
    with pytest.raises(compat.librsyncError) as info:
        for _ in range(100):
            done, used, out = maker.cycle(inbuf)
            inbuf = inbuf[used:]
    assert info.value.code == librsync.RS_INPUT_ENDED
    assert str(info.value).startswith("librsync error 103 while in patch cycle")


def test_bytes_after_end_are_not_consumed(basis_file):
    old = make_data(10_000)
    delta = librsync.delta(old, librsync.signature(old)).read()
    maker = compat.new_patchmaker(basis_file(old))
    done, used, out = maker.cycle(delta + b"trailing")
    assert (done, used, out) == (1, len(delta), old)


def test_patch_commands_split_anywhere(basis_file):
    old = make_data(300_000, seed=2)
    new = mutate(old, 30, seed=3)
    delta = librsync.delta(new, librsync.signature(old, block_size=256)).read()
    for step in (1, 2, 3, 7, 17, 1000):
        maker, out, pos = compat.new_patchmaker(basis_file(old)), [], 0
        inbuf, done = b"", 0
        while not done:
            if pos < len(delta):
                inbuf += delta[pos:pos + step]
                pos += step
                done, used, chunk = maker.cycle(inbuf)
            else:
                done, used, chunk = maker.cycle(inbuf if inbuf else b"")
            inbuf = inbuf[used:]
            out.append(chunk)
        assert b"".join(out) == new, step


def test_patch_basis_must_be_a_real_file():
    for bad in (io.BytesIO(b"old"), None, b"old", "path", -1):
        with pytest.raises(TypeError, match="^Need true file object$"):
            compat.new_patchmaker(bad)


def test_patch_basis_by_descriptor_survives_its_closing(tmp_path):
    old = make_data(200_000)
    new = mutate(old, 5)
    delta = librsync.delta(new, librsync.signature(old)).read()
    (tmp_path / "old").write_bytes(old)
    with open(tmp_path / "old", "rb") as f:
        f.seek(123)
        maker = compat.new_patchmaker(f)
        # Read at any offset without moving the caller's file position.
        done, used, first = maker.cycle(delta[:20_000])
        assert f.tell() == 123
    # The caller's file is closed: the maker reads its own descriptor.
    rest = drive(maker, delta[used:])
    assert first + rest == new
    fd = os.open(tmp_path / "old", os.O_RDONLY)
    try:
        assert drive(compat.new_patchmaker(fd), delta) == new
    finally:
        os.close(fd)


def test_patch_releases_its_descriptor(basis_file):
    old = make_data(50_000)
    delta = librsync.delta(old, librsync.signature(old)).read()
    f = basis_file(old)
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    drive(compat.new_patchmaker(f), delta)
    abandoned = compat.new_patchmaker(f)
    abandoned.cycle(delta[:10])
    del abandoned
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before


# --- errors --------------------------------------------------------------------

@pytest.mark.parametrize("sig, code", [
    (b"", librsync.RS_INPUT_ENDED),
    (md4_signature(b"x" * 5000, 2048)[:-3], librsync.RS_INPUT_ENDED),
    (b"rs\x026" + b"\0" * 20, librsync.RS_BAD_MAGIC),
    (b"garbage!" * 4, librsync.RS_BAD_MAGIC),
])
def test_bad_signature(sig, code):
    with pytest.raises(compat.librsyncError) as info:
        compat.new_deltamaker(sig)
    assert info.value.code == code
    assert str(info.value).startswith(
        f"librsync error {code} while in delta rs_signature_t builder")


@pytest.mark.parametrize("cut, code", [
    (lambda d: d[:-1], librsync.RS_INPUT_ENDED),
    (lambda d: d[:4] + b"\x99" + d[5:], librsync.RS_CORRUPT),
    (lambda d: b"\0\0\0\0" + d[4:], librsync.RS_BAD_MAGIC),
    (lambda d: d[:2], librsync.RS_INPUT_ENDED),
])
def test_bad_delta(cut, code, basis_file):
    old = make_data(100_000)
    delta = librsync.delta(mutate(old, 3), librsync.signature(old)).read()
    with pytest.raises(compat.librsyncError) as info:
        drive(compat.new_patchmaker(basis_file(old)), cut(delta))
    assert info.value.code == code
    assert isinstance(info.value.__cause__, librsync.LibrsyncError)


def test_a_failed_maker_stays_failed(basis_file):
    maker = compat.new_patchmaker(basis_file(b"old"))
    with pytest.raises(compat.librsyncError) as first:
        maker.cycle(b"\0\0\0\0")
    with pytest.raises(compat.librsyncError) as again:
        maker.cycle(b"")
    assert again.value is first.value


# --- install() ---------------------------------------------------------------------

# Stand-ins for the two tools' packages, importing their _librsync the way
# their librsync.py files do.
_FAKE_TOOLS = {
    "rdiff_backup/__init__.py": "",
    "rdiff_backup/librsync.py": "from rdiff_backup import _librsync\n",
    "duplicity/__init__.py": "",
    "duplicity/librsync.py": textwrap.dedent("""\
        try:
            from . import _librsync
        except ImportError:
            _librsync = None
        """),
}

_CHECK = textwrap.dedent("""\
    import librsync.compat as compat
    import rdiff_backup.librsync, duplicity.librsync
    for tool in (rdiff_backup, duplicity):
        module = tool.librsync._librsync
        assert module is tool._librsync
        assert module.__name__ == tool.__name__ + "._librsync"
        assert module.new_patchmaker is compat.new_patchmaker
        assert module.librsyncError is compat.librsyncError
    print("ok")
    """)


def _fake_tools(root: Path) -> None:
    for name, text in _FAKE_TOOLS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _child(code: str, *paths: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=CHILD_CWD, env=child_env(*paths), timeout=60)


def test_install_before_the_tools_import(tmp_path):
    _fake_tools(tmp_path)
    proc = _child("import librsync.compat; librsync.compat.install()\n" + _CHECK, str(tmp_path))
    assert proc.returncode == 0 and proc.stdout == "ok\n", proc.stderr
    # Without install(), the stand-ins find no _librsync at all.
    proc = _child(_CHECK, str(tmp_path))
    assert proc.returncode != 0


def test_install_from_a_pth_file(tmp_path):
    # The README's recipe: one line in a .pth file of the site-packages.
    site = tmp_path / "site"
    site.mkdir()
    _fake_tools(site)
    (site / "librsync-compat.pth").write_text(
        "import librsync.compat; librsync.compat.install()\n")
    proc = _child(f"import site; site.addsitedir({str(site)!r})\n" + _CHECK)
    assert proc.returncode == 0 and proc.stdout == "ok\n", proc.stderr


def test_install_after_the_tool_is_refused(tmp_path):
    _fake_tools(tmp_path)
    for tool in ("rdiff_backup", "duplicity"):
        (tmp_path / tool / "_librsync.py").write_text("OWN = True\n")
    proc = _child(textwrap.dedent("""\
        import rdiff_backup.librsync, librsync.compat
        try:
            librsync.compat.install("rdiff_backup")
        except RuntimeError as e:
            print("refused:", e)
        assert rdiff_backup.librsync._librsync.OWN
        # Their module imported, but not yet their librsync.py: replaced.
        import duplicity._librsync
        librsync.compat.install("duplicity")
        librsync.compat.install("duplicity")
        import duplicity.librsync
        assert duplicity.librsync._librsync.new_sigmaker is librsync.compat.new_sigmaker
        assert duplicity._librsync is duplicity.librsync._librsync
        """), str(tmp_path))
    assert proc.returncode == 0 and proc.stdout.startswith("refused: rdiff_backup.librsync"), \
        proc.stderr


def test_install_knows_only_the_two_tools():
    with pytest.raises(ValueError):
        compat.install("rsync")


# --- python-librsync's own test cases -----------------------------------------
#
# SmartFile's tests.py has eight cases; this package passes six unchanged.
# The other two expected AssertionError (the old wrapper's `assert`
# statements, which `python -O` removes); this package raises the
# documented misuse exceptions instead, as the README's "How it differs
# from python-librsync" says.

@pytest.fixture
def random_file():
    return lambda: io.BytesIO(os.urandom(1 << 20))


def test_python_librsync_debug_default():
    librsync.debug()


def test_python_librsync_debug_invalid_level_is_a_value_error():
    with pytest.raises(ValueError) as info:
        librsync.debug(level=40)
    assert not isinstance(info.value, AssertionError)


def test_python_librsync_signature(random_file):
    assert librsync.signature(random_file()).read(4) == (
        librsync.RS_RK_BLAKE2_SIG_MAGIC.to_bytes(4, "big"))


def test_python_librsync_delta(random_file):
    s = librsync.signature(random_file())
    assert librsync.delta(random_file(), s).read(4) == librsync.RS_DELTA_MAGIC.to_bytes(4, "big")


def test_python_librsync_delta_with_a_non_signature_fails(random_file):
    with pytest.raises(librsync.LibrsyncError):
        librsync.delta(random_file(), random_file())


def test_python_librsync_patch(random_file):
    old, new = random_file(), random_file()
    d = librsync.delta(new, librsync.signature(old))
    old.seek(0)
    new.seek(0)
    assert librsync.patch(old, d).read() == new.read()


def test_python_librsync_patch_without_basis_is_a_type_error(random_file):
    with pytest.raises(TypeError) as info:
        librsync.patch(None, random_file())
    assert not isinstance(info.value, AssertionError)


def test_python_librsync_patch_with_a_non_delta_fails(random_file):
    with pytest.raises(librsync.LibrsyncError):
        librsync.patch(random_file(), random_file())


def test_readme_lists_the_two_differences():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n## How it differs from python-librsync\n")
    section = readme[start:readme.index("\n## ", start + 1)]
    assert "debug(level=40)" in section and "patch(None, " in section
    assert "AssertionError" in section
