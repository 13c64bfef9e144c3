"""The three-step API: round trips, argument kinds, outputs, errors, logging."""

from __future__ import annotations

import io
import logging
import mmap
import os
import pathlib
import stat
import tempfile
import threading

import pytest

import librsync
from librsync import _rsync, exceptions

from conftest import make_data, mutate

SIG_MAGICS = [
    librsync.RS_RK_BLAKE2_SIG_MAGIC,
    librsync.RS_BLAKE2_SIG_MAGIC,
    librsync.RS_RK_MD4_SIG_MAGIC,
    librsync.RS_MD4_SIG_MAGIC,
]


def roundtrip(old: bytes, new: bytes, **sig_args) -> bytes:
    sig = librsync.signature(old, **sig_args)
    d = librsync.delta(new, sig)
    return librsync.patch(old, d).read()


# --- round trips over shapes --------------------------------------------------

SIZES = [0, 1, 2, 255, 256, 257, 1023, 1024, 1025, 2047, 2048, 2049, 65536 + 3, 300_001]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("block_size", [0, 256, 1024])
def test_roundtrip_sizes(size, block_size):
    old = make_data(size, seed=size)
    new = mutate(old, edits=3, seed=size + 1) if size else b"fresh"
    assert roundtrip(old, new, block_size=block_size) == new
    # identical files and an empty new file too
    assert roundtrip(old, old, block_size=block_size) == old
    assert roundtrip(old, b"", block_size=block_size) == b""


@pytest.mark.parametrize("magic", SIG_MAGICS)
@pytest.mark.parametrize("strong_len", [0, -1, 8])
def test_roundtrip_every_magic(magic, strong_len):
    old = make_data(200_000, seed=7)
    new = mutate(old, edits=20, seed=8)
    assert roundtrip(old, new, magic=magic, strong_len=strong_len) == new


def test_identical_files_give_small_delta():
    old = make_data(500_000, seed=3)
    d = librsync.delta(old, librsync.signature(old)).read()
    assert len(d) < 64  # header, one COPY, end


def test_delta_against_empty_signature_is_all_literal():
    new = make_data(100_000, seed=4)
    st = []
    d = librsync.delta(new, librsync.signature(b""), stats=st.append).read()
    assert st[0].lit_bytes == len(new) and st[0].copy_cmds == 0
    assert librsync.patch(b"", d).read() == new


# --- the old python-librsync README example, with open() for file() ----------

def test_old_readme_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    v1 = make_data(100_000, seed=11)
    v2 = mutate(v1, 10, seed=12)
    pathlib.Path("Resume-v1.0.pdf").write_bytes(v1)
    pathlib.Path("Resume-v1.2.pdf").write_bytes(v2)

    # The destination file.
    dst = open("Resume-v1.0.pdf", "rb")
    # Step 1: prepare signature of the destination file
    signature = librsync.signature(dst)
    # The source file.
    src = open("Resume-v1.2.pdf", "rb")
    # Step 2: prepare a delta of the source file against the signature
    delta = librsync.delta(src, signature)
    # Step 3: synchronize the files.
    # In many cases, you would overwrite the destination with the result of
    # synchronization. However, by default a new file is created.
    dst.seek(0)
    synced = open("Resume-v1.2.pdf.synced", "wb")
    librsync.patch(dst, delta, synced)
    synced.close()
    dst.close()
    src.close()

    assert pathlib.Path("Resume-v1.2.pdf.synced").read_bytes() == v2


def test_default_outputs_are_rewound_spooled_files():
    s = librsync.signature(b"abc" * 1000)
    assert isinstance(s, tempfile.SpooledTemporaryFile)
    assert s.tell() == 0
    d = librsync.delta(b"abc" * 1000, s)
    assert isinstance(d, tempfile.SpooledTemporaryFile) and d.tell() == 0
    o = librsync.patch(b"abc" * 1000, d)
    assert o.read() == b"abc" * 1000


# --- argument kinds ----------------------------------------------------------

OLD = make_data(150_000, seed=21)
NEW = mutate(OLD, 12, seed=22)


def _pipe_reader(data: bytes):
    """A non-seekable binary reader fed by a thread, like a socket or stdin."""
    r, w = os.pipe()

    def feed():
        try:
            with os.fdopen(w, "wb") as f:
                f.write(data)
        except BrokenPipeError:
            pass  # the reader was refused (patch basis) and closed

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    return os.fdopen(r, "rb")


class ReadOnly:
    """A minimal reader with only read(): the fallback path."""

    def __init__(self, data: bytes) -> None:
        self._f = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self._f.read(min(n, 777) if n > 0 else n)


def make_kind(kind: str, data: bytes, tmp_path: pathlib.Path, name: str, closers: list):
    """``data`` as the given argument kind (files are closed by the caller)."""
    path = tmp_path / name
    path.write_bytes(data)
    if kind == "bytes":
        return data
    if kind == "bytearray":
        return bytearray(data)
    if kind == "memoryview":
        return memoryview(data)
    if kind == "memoryview-slice":
        return memoryview(b"xx" + data + b"yy")[2:-2]
    if kind == "str-path":
        return str(path)
    if kind == "pathlib":
        return path
    if kind == "bytesio":
        return io.BytesIO(data)
    if kind == "read-only-object":
        return ReadOnly(data)
    if kind == "pipe":
        f = _pipe_reader(data)
    elif kind == "mmap":
        with open(path, "rb") as fh:
            f = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    else:
        f = open(path, "rb", buffering=0 if kind == "raw-file" else -1)
    closers.append(f)
    return f


KIND_NAMES = ["bytes", "bytearray", "memoryview", "memoryview-slice", "str-path",
              "pathlib", "file", "raw-file", "bytesio", "pipe", "read-only-object", "mmap"]
# Kinds whose size cannot be known in advance: rdiff's defaults for unknown
# sizes apply (block length 2048), as with `rdiff signature - sig < pipe`.
UNSIZED = {"pipe", "read-only-object"}


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_every_input_kind(kind, tmp_path):
    sig_ref = librsync.signature(OLD).read()
    delta_ref = librsync.delta(NEW, sig_ref).read()
    closers: list = []
    try:
        expected_sig = (librsync.signature(OLD, block_size=2048).read()
                        if kind in UNSIZED else sig_ref)
        old = make_kind(kind, OLD, tmp_path, "old", closers)
        assert librsync.signature(old).read() == expected_sig

        new = make_kind(kind, NEW, tmp_path, "new", closers)
        sig = make_kind(kind, sig_ref, tmp_path, "sig", closers)
        assert librsync.delta(new, sig).read() == delta_ref

        d = make_kind(kind, delta_ref, tmp_path, "delta", closers)
        basis = make_kind(kind, OLD, tmp_path, "basis", closers)
        if kind in UNSIZED:
            with pytest.raises((ValueError, TypeError)):
                librsync.patch(basis, d)
        else:
            assert librsync.patch(basis, d).read() == NEW
    finally:
        for f in closers:
            f.close()


def test_signature_of_pipe_uses_unknown_size_defaults():
    """A pipe's size is unknown: rdiff then uses block length 2048."""
    sig = librsync.load_signature(librsync.signature(_pipe_reader(OLD)))
    assert sig.block_len == librsync.RS_DEFAULT_BLOCK_LEN
    sized = librsync.load_signature(librsync.signature(OLD))
    assert sized.block_len == _rsync.signature_args(len(OLD))[1] != 2048


def test_file_input_is_read_from_its_position(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"HEADER" + OLD)
    with open(p, "rb") as f:
        f.seek(6)
        assert librsync.signature(f).read() == librsync.signature(OLD).read()


def test_patch_basis_offsets_are_absolute(tmp_path):
    """COPY offsets count from the start of the basis, whatever its position."""
    p = tmp_path / "old"
    p.write_bytes(OLD)
    d = librsync.delta(NEW, librsync.signature(OLD)).read()
    with open(p, "rb") as f:
        f.seek(1234)
        assert librsync.patch(f, d).read() == NEW


def test_patch_basis_open_for_writing_is_flushed(tmp_path):
    d = librsync.delta(NEW, librsync.signature(OLD)).read()
    with open(tmp_path / "old", "w+b") as f:
        f.write(OLD)  # still in Python's buffer: pread must not miss it
        assert librsync.patch(f, d).read() == NEW


def test_non_contiguous_buffer_is_refused():
    arr = memoryview(bytearray(100))[::2]
    with pytest.raises(ValueError, match="contiguous"):
        librsync.signature(arr)


@pytest.mark.parametrize("bad", [123, 4.5, None, ["a"], object(), {"a": 1}])
def test_wrong_input_types_raise_typeerror(bad):
    with pytest.raises(TypeError):
        librsync.signature(bad)
    with pytest.raises(TypeError):
        librsync.delta(bad, librsync.signature(b"x"))
    with pytest.raises(TypeError):
        librsync.delta(b"x", bad)
    with pytest.raises(TypeError):
        librsync.patch(b"x", bad)
    if bad is not None:
        with pytest.raises(TypeError):
            librsync.patch(bad, librsync.delta(b"x", librsync.signature(b"x")))


def test_text_mode_files_raise_typeerror(tmp_path):
    p = tmp_path / "t"
    p.write_text("hello")
    with open(p) as f, pytest.raises(TypeError, match="binary mode"):
        librsync.signature(f)
    with open(p) as f, pytest.raises(TypeError, match="binary mode"):
        librsync.patch(f, b"rs\x026\x00")
    with open(tmp_path / "o", "w") as out, pytest.raises(TypeError, match="binary mode"):
        librsync.signature(b"abc", out)
    with pytest.raises(TypeError):
        librsync.signature(io.StringIO("abc"))


def test_bytes_is_data_never_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pathlib.Path("old").write_bytes(b"not this")
    assert librsync.signature(b"old").read() == librsync.signature(bytearray(b"old")).read()


def test_bytes_output_is_refused():
    with pytest.raises(TypeError, match="cannot receive output"):
        librsync.signature(b"abc", bytearray(100))


def test_missing_input_path_raises_filenotfound(tmp_path):
    with pytest.raises(FileNotFoundError):
        librsync.signature(tmp_path / "nope")
    with pytest.raises(FileNotFoundError):
        librsync.patch(tmp_path / "nope", b"rs\x026\x00")


# --- outputs -------------------------------------------------------------------

def test_file_output_is_written_rewound_and_returned():
    out = io.BytesIO()
    assert librsync.signature(OLD, out) is out
    assert out.tell() == 0
    assert out.read() == librsync.signature(OLD).read()


def test_file_output_rewinds_to_where_writing_began():
    out = io.BytesIO()
    out.write(b"prefix")
    librsync.signature(OLD, out)
    assert out.tell() == 6
    assert out.read() == librsync.signature(OLD).read()


def test_unseekable_output(tmp_path):
    r, w = os.pipe()
    chunks = []

    def drain():
        with os.fdopen(r, "rb") as f:
            chunks.append(f.read())

    t = threading.Thread(target=drain)
    t.start()
    with os.fdopen(w, "wb") as out:
        librsync.signature(OLD, out)
    t.join()
    assert chunks[0] == librsync.signature(OLD).read()


def test_raw_output_with_short_writes():
    class Trickle(io.RawIOBase):
        def __init__(self):
            self.data = bytearray()

        def writable(self):
            return True

        def write(self, b):
            n = min(len(b), 1000)
            self.data += bytes(b[:n])
            return n

    out = Trickle()
    librsync.patch(OLD, librsync.delta(NEW, librsync.signature(OLD)), out)
    assert bytes(out.data) == NEW


def test_writer_cannot_keep_the_reused_buffer():
    kept = []

    class Keeper:
        def write(self, b):
            kept.append(b)
            return len(b)

    librsync.signature(OLD, Keeper())
    with pytest.raises(ValueError):
        bytes(kept[0])  # released: no silent reuse of our buffer


@pytest.mark.parametrize("as_pathlib", [False, True])
def test_path_output_is_returned_and_written(tmp_path, as_pathlib):
    target = tmp_path / "sig"
    arg = target if as_pathlib else str(target)
    assert librsync.signature(OLD, arg) is arg
    assert target.read_bytes() == librsync.signature(OLD).read()
    assert os.listdir(tmp_path) == ["sig"]


def test_new_path_output_gets_umask_permissions(tmp_path):
    old_mask = os.umask(0o022)
    try:
        librsync.signature(OLD, tmp_path / "sig")
    finally:
        os.umask(old_mask)
    assert stat.S_IMODE(os.stat(tmp_path / "sig").st_mode) == 0o644


def _corrupt_delta() -> bytes:
    good = librsync.delta(NEW, librsync.signature(OLD)).read()
    return good[:-1] + b"\x99"  # an unknown command instead of END


def test_failed_patch_leaves_no_output_file(tmp_path):
    out = tmp_path / "new"
    with pytest.raises(librsync.LibrsyncError):
        librsync.patch(OLD, _corrupt_delta(), out)
    assert os.listdir(tmp_path) == []


def test_failed_patch_leaves_existing_file_untouched(tmp_path):
    out = tmp_path / "new"
    out.write_bytes(b"precious")
    os.chmod(out, 0o600)
    with pytest.raises(librsync.LibrsyncError):
        librsync.patch(OLD, _corrupt_delta(), out)
    assert out.read_bytes() == b"precious"
    assert os.listdir(tmp_path) == ["new"]


def test_exception_in_input_leaves_no_output_file(tmp_path):
    class Exploding:
        def __init__(self):
            self.calls = 0

        def readinto(self, b):
            self.calls += 1
            if self.calls > 2:
                raise RuntimeError("disk on fire")
            b[:10] = b"0123456789"
            return 10

    with pytest.raises(RuntimeError, match="disk on fire"):
        librsync.signature(Exploding(), tmp_path / "sig")
    assert os.listdir(tmp_path) == []


def test_keyboard_interrupt_in_writer_leaves_no_file(tmp_path):
    """Any BaseException (Ctrl-C) removes the temporary file too."""
    target = tmp_path / "out"

    class Interrupting(io.RawIOBase):
        def readinto(self, b):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        librsync.signature(Interrupting(), target)
    assert os.listdir(tmp_path) == []


def test_patch_in_place_replaces_basis_safely(tmp_path):
    p = tmp_path / "file"
    p.write_bytes(OLD)
    os.chmod(p, 0o640)
    d = librsync.delta(NEW, librsync.signature(p))
    assert librsync.patch(p, d, p) == p
    assert p.read_bytes() == NEW
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o640
    assert os.listdir(tmp_path) == ["file"]


def test_failed_in_place_patch_keeps_basis(tmp_path):
    p = tmp_path / "file"
    p.write_bytes(OLD)
    with pytest.raises(librsync.LibrsyncError):
        librsync.patch(p, _corrupt_delta(), p)
    assert p.read_bytes() == OLD
    assert os.listdir(tmp_path) == ["file"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="platform has no symlinks")
def test_path_output_through_symlink_updates_target(tmp_path):
    real = tmp_path / "real"
    real.write_bytes(b"old")
    link = tmp_path / "link"
    os.symlink(real, link)
    librsync.signature(OLD, link)
    assert os.path.islink(link)
    assert real.read_bytes() == librsync.signature(OLD).read()


def test_output_in_missing_directory_fails_before_work(tmp_path):
    with pytest.raises(FileNotFoundError):
        librsync.signature(OLD, tmp_path / "no" / "such" / "dir" / "sig")


# --- parameters ------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc", [
    ({"block_size": -1}, ValueError),
    ({"block_size": librsync.MAX_BLOCK_LEN + 1}, ValueError),
    ({"block_size": 2**70}, ValueError),
    ({"block_size": "1024"}, TypeError),
    ({"block_size": 1.5}, TypeError),
    ({"strong_len": -2}, ValueError),
    ({"strong_len": 33}, ValueError),
    ({"strong_len": 17, "magic": librsync.RS_MD4_SIG_MAGIC}, ValueError),
    ({"magic": librsync.RS_DELTA_MAGIC}, ValueError),
    ({"magic": 0}, ValueError),
    ({"magic": 12345}, ValueError),
    ({"magic": None}, TypeError),
])
def test_bad_signature_parameters(kwargs, exc, tmp_path):
    with pytest.raises(exc):
        librsync.signature(OLD, tmp_path / "sig", **kwargs)
    assert not (tmp_path / "sig").exists()


def test_strong_len_choices():
    def strong_len(**kw):
        return librsync.load_signature(librsync.signature(OLD, **kw)).strong_len

    assert strong_len() == librsync.RS_BLAKE2_SUM_LENGTH == 32
    assert strong_len(magic=librsync.RS_MD4_SIG_MAGIC) == librsync.RS_MD4_SUM_LENGTH == 16
    assert strong_len(strong_len=8) == 8
    # rs_sig_args' recommended minimum: 2 + (log2(size + 2**24) +
    # log2(size / block_len + 1) + 7) // 8 bytes
    block_len = _rsync.signature_args(len(OLD))[1]
    expected = 2 + ((len(OLD) + 2**24).bit_length() - 1
                    + (len(OLD) // block_len + 1).bit_length() - 1 + 7) // 8
    assert strong_len(strong_len=-1) == expected


def test_old_wrapper_format_is_one_call_away():
    """Old rdiff-backup/duplicity repositories: MD4, rollsum, 8-byte sums."""
    sig = librsync.load_signature(librsync.signature(
        OLD, block_size=librsync.RS_DEFAULT_BLOCK_LEN,
        strong_len=librsync.RS_DEFAULT_STRONG_LEN, magic=librsync.RS_MD4_SIG_MAGIC))
    assert (sig.magic, sig.block_len, sig.strong_len) == (0x72730136, 2048, 8)


# --- errors ------------------------------------------------------------------------

def test_errors_carry_code_and_message():
    with pytest.raises(librsync.CorruptDataError) as info:
        librsync.patch(OLD, _corrupt_delta())
    err = info.value
    assert isinstance(err, librsync.LibrsyncError)
    assert err.code == exceptions.RS_CORRUPT == 106
    assert "bogus command 0x99" in str(err)
    assert err.message == "bogus command 0x99"


def test_truncated_delta_is_input_ended_and_eoferror():
    good = librsync.delta(NEW, librsync.signature(OLD)).read()
    with pytest.raises(librsync.InputEndedError) as info:
        librsync.patch(OLD, good[:-1])
    assert isinstance(info.value, EOFError) and info.value.code == 103


def test_wrong_stream_kinds_are_named():
    sig = librsync.signature(OLD).read()
    d = librsync.delta(NEW, sig).read()
    with pytest.raises(librsync.BadMagicError, match="expected a signature but got a delta"):
        librsync.delta(NEW, d)
    with pytest.raises(librsync.BadMagicError, match="expected a delta but got a signature"):
        librsync.patch(OLD, sig)
    with pytest.raises(librsync.BadMagicError, match="not a librsync delta"):
        librsync.patch(OLD, b"%PDF-1.4 not a delta")


def test_copy_past_end_of_basis_is_an_error_not_a_hang():
    d = librsync.delta(NEW, librsync.signature(OLD)).read()
    with pytest.raises(librsync.InputEndedError, match="past the end of the basis"):
        librsync.patch(OLD[:1000], d)


def test_old_style_constructor_and_pickling():
    import pickle

    err = librsync.LibrsyncError(106)
    assert err.code == 106 and str(err) == "stream corrupt"
    again = pickle.loads(pickle.dumps(exceptions.error_for_code(103, "cut short")))
    assert type(again) is librsync.InputEndedError
    assert (again.code, again.message) == (103, "cut short")


def test_result_codes_match_header():
    for name, value in _rsync.RESULT_CODES.items():
        assert getattr(exceptions, name) == value


# --- constants and module --------------------------------------------------------

def test_constants():
    assert librsync.LIBRSYNC_VERSION == "2.3.4"
    assert librsync.RS_DEFAULT_BLOCK_LEN == 2048
    assert librsync.RS_DEFAULT_STRONG_LEN == 8
    assert librsync.RS_JOB_BLOCKSIZE == 65536
    assert librsync.MAX_SPOOL == 5 * 1024 * 1024
    assert librsync.RS_DELTA_MAGIC == 0x72730236
    assert librsync.RS_MD4_SIG_MAGIC == 0x72730136
    assert librsync.RS_BLAKE2_SIG_MAGIC == 0x72730137
    assert librsync.RS_RK_MD4_SIG_MAGIC == 0x72730146
    assert librsync.RS_RK_BLAKE2_SIG_MAGIC == 0x72730147
    assert isinstance(librsync.__version__, str)
    for name in librsync.__all__:
        assert hasattr(librsync, name), name


# --- logging -----------------------------------------------------------------------

def test_librsync_errors_go_to_logging_not_stderr(caplog, capfd):
    with caplog.at_level(logging.DEBUG, logger="librsync"):
        with pytest.raises(librsync.LibrsyncError, match="bogus command"):
            librsync.patch(OLD, _corrupt_delta())
    assert any("bogus command" in r.getMessage() for r in caplog.records)
    assert all(r.name == "librsync" for r in caplog.records)
    # The failure is reported once, by the exception: its log lines are
    # debug detail, not ERROR records that alarm log monitors.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    out, err = capfd.readouterr()
    assert err == "" and out == ""


def test_warnings_reach_logger(caplog):
    with caplog.at_level(logging.WARNING, logger="librsync"):
        librsync.signature(OLD, strong_len=1)  # below the recommended minimum
    assert any("smaller than recommended" in r.getMessage() for r in caplog.records)


def test_debug_level_filters_messages(caplog):
    try:
        librsync.debug(3)  # syslog LOG_ERR: warnings are no longer logged
        with caplog.at_level(logging.DEBUG, logger="librsync"):
            librsync.signature(OLD, strong_len=1)
        assert not any("smaller than recommended" in r.getMessage() for r in caplog.records)
        # error details still reach exceptions whatever the level
        librsync.debug(0)
        with pytest.raises(librsync.CorruptDataError, match="bogus command"):
            librsync.patch(OLD, _corrupt_delta())
    finally:
        librsync.debug(6)


@pytest.mark.parametrize("level", [-1, 8, 100])
def test_debug_rejects_bad_levels(level):
    with pytest.raises(ValueError):
        librsync.debug(level)


def test_stats_callback():
    got = []
    librsync.signature(OLD, stats=got.append)
    librsync.delta(OLD, librsync.signature(OLD), stats=got.append)
    sig_stats, delta_stats = got
    assert sig_stats.op == "signature" and sig_stats.in_bytes == len(OLD)
    assert sig_stats.sig_blocks == len(librsync.load_signature(librsync.signature(OLD)))
    assert delta_stats.op == "delta"
    assert delta_stats.lit_bytes == 0 and delta_stats.copy_cmds == 1
    assert delta_stats.copy_bytes == len(OLD)


def test_compiled_module_is_the_one_loaded():
    assert _rsync.__file__.endswith((".so", ".pyd"))
    assert os.path.dirname(_rsync.__file__) == os.path.dirname(librsync.__file__)


# --- the one-shot fast path (bytes in, io.BytesIO out) --------------------------

class _OtherBytesIO(io.BytesIO):
    """Not exactly io.BytesIO: takes the general path."""


def _three_steps(old, new, wrap, out_type):
    """Run the three steps with inputs passed through ``wrap``, outputs into
    ``out_type`` objects that already hold a prefix; return the outputs and
    the stats each step reported."""
    seen = []
    outs = []
    sig_out = out_type(b"prefix")
    sig_out.seek(0, io.SEEK_END)
    librsync.signature(wrap(old), sig_out, stats=seen.append)
    assert sig_out.read(6) != b"prefix"  # rewound to where writing began
    sig = sig_out.getvalue()[6:]
    outs.append(sig)
    d_out = out_type()
    outs.append(librsync.delta(wrap(new), wrap(sig), d_out, stats=seen.append).getvalue())
    p_out = out_type()
    outs.append(librsync.patch(wrap(old), wrap(outs[1]), p_out, stats=seen.append).getvalue())
    return outs, [(s.op, s.lit_bytes, s.copy_bytes, s.in_bytes, s.out_bytes) for s in seen]


@pytest.mark.parametrize("size", [0, 1, 4096, 3 * (1 << 20) + 17])
def test_fast_path_matches_general_path(size):
    old = make_data(size, seed=size)
    new = mutate(old, 5, seed=size + 1) if size else b"new"
    fast = _three_steps(old, new, bytes, io.BytesIO)
    also_fast = _three_steps(old, new, bytearray, io.BytesIO)
    general = _three_steps(old, new, memoryview, _OtherBytesIO)
    assert fast == also_fast == general
    assert fast[0][2] == new


def test_fast_path_errors_and_limits_match_general_path():
    sig = librsync.signature(OLD, io.BytesIO()).getvalue()
    d = librsync.delta(NEW, sig, io.BytesIO()).getvalue()
    for wrap, out in ((bytes, io.BytesIO), (memoryview, _OtherBytesIO)):
        with pytest.raises(librsync.BadMagicError, match="expected a delta but got a signature"):
            librsync.patch(wrap(OLD), wrap(sig), out())
        with pytest.raises(librsync.BadMagicError, match="expected a signature but got a delta"):
            librsync.delta(wrap(NEW), wrap(d), out())
        with pytest.raises(librsync.InputEndedError):
            librsync.patch(wrap(OLD), wrap(d[:-1]), out())
        with pytest.raises(librsync.LimitExceededError):
            librsync.patch(wrap(OLD), wrap(d), out(), max_length=len(NEW) - 1)
        with pytest.raises(TypeError):
            librsync.signature(wrap(OLD), out(), block_size=1.5)
