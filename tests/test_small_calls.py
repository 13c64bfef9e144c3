"""The in-memory fast paths of signature(), delta() and patch() (bytes in:
no opening, one output step) must behave exactly as the general path does:
same outputs, same output kinds and positions, same statistics and errors.
Each case is compared with the same call made through a file object input,
which takes the general path."""

import io
import tempfile

import pytest

import librsync
from librsync import LimitExceededError

OLD = bytes(range(256)) * 40  # 10 KiB
NEW = OLD[:3000] + b"edited" * 10 + OLD[3100:]


def _sig(data=OLD):
    return librsync.signature(io.BytesIO(data), io.BytesIO()).getvalue()


def _delta(new=NEW):
    return librsync.delta(io.BytesIO(new), io.BytesIO(_sig()), io.BytesIO()).getvalue()


@pytest.mark.parametrize("kind", [bytes, bytearray])
def test_signature_of_bytes_matches_general_path(kind):
    out = librsync.signature(kind(OLD))
    assert isinstance(out, tempfile.SpooledTemporaryFile) and out.tell() == 0
    assert out.read() == _sig()
    out.close()


@pytest.mark.parametrize("magic", [librsync.RS_MD4_SIG_MAGIC, librsync.RS_BLAKE2_SIG_MAGIC])
def test_signature_of_bytes_keeps_options(magic):
    want = librsync.signature(io.BytesIO(OLD), io.BytesIO(), 512, 8, magic).getvalue()
    assert librsync.signature(OLD, None, 512, 8, magic).read() == want


def test_bytesio_output_is_rewound_to_where_it_started():
    out = io.BytesIO()
    out.write(b"prefix")
    assert librsync.signature(OLD, out) is out
    assert out.tell() == 6
    assert out.read() == _sig()


@pytest.mark.parametrize("kind", [bytes, bytearray])
def test_delta_of_bytes_with_bytes_signature(kind):
    got = librsync.delta(kind(NEW), _sig(), io.BytesIO()).getvalue()
    assert got == _delta()
    assert got == librsync.delta(NEW, librsync.load_signature(_sig())).read()


@pytest.mark.parametrize("dkind", [bytes, bytearray])
def test_patch_of_bytes(dkind):
    out = io.BytesIO(b"xx")
    out.seek(2)
    assert librsync.patch(OLD, dkind(_delta()), out) is out
    assert out.tell() == 2 and out.read() == NEW
    assert librsync.patch(OLD, _delta()).read() == NEW


def test_fast_paths_report_stats():
    seen = []
    librsync.signature(OLD, io.BytesIO(), stats=seen.append)
    librsync.delta(NEW, _sig(), io.BytesIO(), stats=seen.append)
    librsync.patch(OLD, _delta(), io.BytesIO(), stats=seen.append)
    assert [s.op for s in seen] == ["signature", "delta", "patch"]
    assert seen[0].in_bytes == len(OLD) and seen[2].out_bytes == len(NEW)


def test_failing_stats_callback_propagates():
    def boom(_):
        raise KeyError("stats")

    with pytest.raises(KeyError):
        librsync.signature(OLD, stats=boom)
    with pytest.raises(KeyError):
        librsync.patch(OLD, _delta(), stats=boom)


def test_patch_of_bytes_max_length():
    with pytest.raises(LimitExceededError):
        librsync.patch(OLD, _delta(), max_length=len(NEW) - 1)
    assert librsync.patch(OLD, _delta(), max_length=len(NEW)).read() == NEW


def test_fast_paths_refuse_bad_outputs():
    for call in (lambda o: librsync.signature(OLD, o),
                 lambda o: librsync.delta(NEW, _sig(), o),
                 lambda o: librsync.patch(OLD, _delta(), o)):
        with pytest.raises(TypeError):
            call(b"not a file")
        with pytest.raises(TypeError):
            call(42)


def test_fast_paths_refuse_wrong_streams():
    with pytest.raises(librsync.LibrsyncError):
        librsync.delta(NEW, _delta())  # a delta given as the signature
    with pytest.raises(librsync.LibrsyncError):
        librsync.patch(OLD, _sig())  # a signature given as the delta


def test_patch_path_output_from_bytes(tmp_path):
    dest = tmp_path / "new"
    assert librsync.patch(OLD, _delta(), str(dest)) == str(dest)
    assert dest.read_bytes() == NEW


# --- file-object inputs: small inputs are read whole, not through 1 MiB -------------
#
# A file object of a known kind (BytesIO, the spooled files the functions
# return, a file open()ed from disk) holding a small input is read into bytes
# and takes the in-memory path: no buffer larger than the input.  Measured
# with tracemalloc (the driver's buffers are Python bytearrays).

import tracemalloc


def _peak(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _triple_passing_files_on(old, new, make):
    with librsync.signature(make(old)) as s, librsync.delta(make(new), s) as d, \
            librsync.patch(make(old), d) as p:
        return p.read()


@pytest.mark.parametrize("kind", ["bytesio", "spooled", "file"])
def test_small_file_object_inputs_allocate_no_large_buffer(kind, tmp_path):
    def make(data, n=[0]):
        if kind == "bytesio":
            return io.BytesIO(data)
        if kind == "spooled":
            f = tempfile.SpooledTemporaryFile()
            f.write(data)
            f.seek(0)
            return f
        n[0] += 1
        path = tmp_path / f"in{n[0]}"
        path.write_bytes(data)
        return open(path, "rb")

    assert _triple_passing_files_on(OLD, NEW, make) == NEW  # warm: imports, caches
    peak = _peak(lambda: _triple_passing_files_on(OLD, NEW, make))
    # The inputs are 10 KiB; the driver's file buffers are 1 MiB each.
    assert peak < 256 * 1024


def test_small_input_read_from_where_the_file_is_and_left_at_its_end():
    f = io.BytesIO(b"junk" + OLD)
    f.seek(4)
    assert librsync.signature(f).read() == _sig()
    assert f.tell() == 4 + len(OLD)
    s = io.BytesIO(b"xx" + _sig())
    s.seek(2)
    assert librsync.load_signature(s).block_len == librsync.load_signature(_sig()).block_len
    assert s.tell() == s.getbuffer().nbytes


def test_large_file_object_input_is_still_streamed():
    from librsync import _files

    big = bytes(range(256)) * (_files.SMALL_INPUT // 256 + 64)
    got = librsync.signature(io.BytesIO(big)).read()
    assert got == librsync.signature(big).read()
    assert _peak(lambda: librsync.signature(io.BytesIO(big)).read()) < 3 * len(big)


def test_write_only_file_input_is_refused_as_before(tmp_path):
    with open(tmp_path / "w", "wb") as f:
        with pytest.raises(io.UnsupportedOperation):
            librsync.signature(f)
