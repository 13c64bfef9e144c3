"""Hostile and broken input: every public entry point must answer bad data
with an exception (LibrsyncError with ``.code``, or TypeError/ValueError for
misuse) -- never a crash, a hang, or memory that grows with what the data
*claims* instead of what it *is*.

Signatures and deltas often come from a network peer that may be buggy or
hostile, so this module builds malformed streams by hand (see ``Delta`` and
``sig_header`` below) rather than relying on what librsync itself writes.

Every call that could hang runs under a deadline (``within``): a hang fails
the test instead of blocking CI.  Cases that could spin in C for minutes run
in a child process that is killed at the deadline (``run_isolated``).
"""

from __future__ import annotations

import io
import mmap
import os
import struct
import subprocess
import sys
import textwrap
import threading

import pytest

import librsync
from librsync import exceptions

from conftest import CHILD_CWD, child_env, make_data, mutate

HERE = os.path.dirname(os.path.abspath(__file__))

#: Seconds a single call may take before it counts as a hang.  Every call
#: here finishes in milliseconds; the margin is for slow, shared CI machines.
DEADLINE = 60.0


# ---------------------------------------------------------------------------
# Deadlines
# ---------------------------------------------------------------------------

def within(fn, *args, timeout: float = DEADLINE, **kwargs):
    """Call ``fn`` in a daemon thread; fail the test if it has not returned
    after ``timeout`` seconds.  Exceptions (and results) pass through, with
    their original traceback."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True, name=f"deadline:{fn.__name__}")
    t.start()
    t.join(timeout)
    if t.is_alive():
        pytest.fail(f"{fn.__name__} did not return within {timeout:.0f} s: a hang")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def run_isolated(code: str, timeout: float = DEADLINE) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter that imports this tree's librsync;
    kill it and fail the test at ``timeout``.  For cases that may spin inside
    C (no thread could be stopped) or may crash the interpreter."""
    try:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                              capture_output=True, text=True, timeout=timeout,
                              env=child_env(HERE), cwd=CHILD_CWD)
    except subprocess.TimeoutExpired:
        pytest.fail(f"child did not finish within {timeout:.0f} s: a hang")


# ---------------------------------------------------------------------------
# A tiny delta encoder (prototab.c / emit.c): one command byte, then big-endian
# parameters of 1, 2, 4 or 8 bytes.
#   0x00          END
#   0x01..0x40    LITERAL with the length in the command byte
#   0x41..0x44    LITERAL_N1/N2/N4/N8: length parameter
#   0x45..0x54    COPY_N{1,2,4,8}_N{1,2,4,8}: position, then length
#   0x55..0xff    reserved (invalid in a stream)
# ---------------------------------------------------------------------------

DELTA_MAGIC = struct.pack(">I", librsync.RS_DELTA_MAGIC)
_WIDTH_INDEX = {1: 0, 2: 1, 4: 2, 8: 3}


def _netint(value: int, width: int) -> bytes:
    """``value`` as a big-endian ``width``-byte integer; negative values are
    written in two's complement (how a hostile peer sends "negative")."""
    return (value % (1 << (8 * width))).to_bytes(width, "big")


def literal_cmd(length: int, width: int | None = None) -> bytes:
    """A LITERAL command header (the data must follow it)."""
    if width is None:
        if 1 <= length <= 64:
            return bytes([length])
        width = 1 if length < 1 << 8 else 2 if length < 1 << 16 else 4 if length < 1 << 32 else 8
    return bytes([0x41 + _WIDTH_INDEX[width]]) + _netint(length, width)


def literal(data: bytes, width: int | None = None) -> bytes:
    return literal_cmd(len(data), width) + data


def copy_cmd(pos: int, length: int, pos_width: int = 8, len_width: int = 8) -> bytes:
    op = 0x45 + 4 * _WIDTH_INDEX[pos_width] + _WIDTH_INDEX[len_width]
    return bytes([op]) + _netint(pos, pos_width) + _netint(length, len_width)


END = b"\x00"


def delta_of(*commands: bytes, end: bool = True) -> bytes:
    return DELTA_MAGIC + b"".join(commands) + (END if end else b"")


def sig_header(magic: int, block_len: int, strong_len: int) -> bytes:
    return _netint(magic, 4) + _netint(block_len, 4) + _netint(strong_len, 4)


def test_encoder_matches_librsync():
    """The hand encoder speaks librsync's format: what it writes patches to
    the expected bytes, and a real delta decodes with the same layout."""
    basis = bytes(range(256)) * 4
    d = delta_of(literal(b"hello "), copy_cmd(10, 5, 1, 1), literal(b"x" * 300),
                 copy_cmd(1000, 24, 2, 2), copy_cmd(0, 3, 4, 4), copy_cmd(7, 1, 8, 8))
    expected = b"hello " + basis[10:15] + b"x" * 300 + basis[1000:1024] + basis[:3] + basis[7:8]
    assert librsync.patch(basis, d).read() == expected
    # librsync's own delta of a file that is all new: one LITERAL_N2 + END.
    real = librsync.delta(b"z" * 1000, librsync.signature(b"")).read()
    assert real == delta_of(literal(b"z" * 1000))


# ---------------------------------------------------------------------------
# Valid streams to break
# ---------------------------------------------------------------------------

BASIS = make_data(6000, seed=41)
NEW = mutate(BASIS, 6, seed=42)
#: Small blocks and short strong sums keep the signature short, so that every
#: truncation point can be tried in every entry point.
SIG = librsync.signature(BASIS, block_size=512, strong_len=8).read()
SIG_BLOCK = 4 + 8
DELTA = librsync.delta(NEW, SIG).read()
assert librsync.patch(BASIS, DELTA).read() == NEW


# Every way to hand a delta to the library (basis given).
def _patch_bytes(basis, d):
    return librsync.patch(basis, d).read()


def _patch_fileobj(basis, d):
    return librsync.patch(basis, io.BytesIO(d)).read()


def _patchjob_whole(basis, d):
    with librsync.PatchJob(basis) as job:
        return job.update(d) + job.finish()


def _patchjob_bytewise(basis, d, edge=64):
    """Fed one byte at a time, except the middle of long deltas (one piece):
    the head splits the magic and first commands at every byte, the tail
    every command before a truncation point; keeps every-offset loops linear."""
    with librsync.PatchJob(basis) as job:
        if len(d) <= 2 * edge:
            out = [job.update(d[i:i + 1]) for i in range(len(d))]
        else:
            out = [job.update(d[i:i + 1]) for i in range(edge)]
            out.append(job.update(d[edge:len(d) - edge]))
            out += [job.update(d[i:i + 1]) for i in range(len(d) - edge, len(d))]
        return b"".join(out) + job.finish()


PATCHERS = [_patch_bytes, _patch_fileobj, _patchjob_whole, _patchjob_bytewise]


# Every way to hand a signature to the library.
def _load_bytes(s):
    return librsync.load_signature(s)


def _load_fileobj(s):
    return librsync.load_signature(io.BytesIO(s))


def _loadjob_whole(s):
    with librsync.LoadSignatureJob() as job:
        job.update(s)
        job.finish()
        return job.signature


def _loadjob_bytewise(s):
    with librsync.LoadSignatureJob() as job:
        for i in range(len(s)):
            job.update(s[i:i + 1])
        job.finish()
        return job.signature


def _delta_with_sig(s):
    return librsync.delta(NEW, s).read()


def _deltajob_with_sig(s):
    with librsync.DeltaJob(s) as job:
        return job.update(NEW) + job.finish()


SIG_READERS = [_load_bytes, _load_fileobj, _loadjob_whole, _loadjob_bytewise,
               _delta_with_sig, _deltajob_with_sig]


def _ids(fns):
    return [f.__name__.lstrip("_") for f in fns]


def _check_error(err: BaseException, cls, code: int, *fragments: str) -> None:
    assert isinstance(err, cls), repr(err)
    assert isinstance(err, librsync.LibrsyncError)
    assert err.code == code
    text = str(err)
    assert text and err.message
    for fragment in fragments:
        assert fragment in text, text


# ---------------------------------------------------------------------------
# Empty input
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("patcher", PATCHERS, ids=_ids(PATCHERS))
def test_empty_delta(patcher):
    with pytest.raises(librsync.InputEndedError) as info:
        within(patcher, BASIS, b"")
    _check_error(info.value, librsync.InputEndedError, 103)
    assert isinstance(info.value, EOFError)


@pytest.mark.parametrize("reader", SIG_READERS, ids=_ids(SIG_READERS))
def test_empty_signature(reader):
    with pytest.raises(librsync.InputEndedError) as info:
        within(reader, b"")
    _check_error(info.value, librsync.InputEndedError, 103)


def test_empty_data_is_valid_for_signature_and_delta():
    """Empty *data* (not an empty signature or delta) is a valid input."""
    sig = within(lambda: librsync.signature(b"").read())
    assert len(sig) == 12
    with librsync.SignatureJob(file_size=0) as job:
        assert job.finish() == sig
    d = within(lambda: librsync.delta(b"", sig).read())
    assert d == delta_of()
    with librsync.DeltaJob(sig) as job:
        assert job.finish() == d
    assert librsync.patch(b"", d).read() == b""


# ---------------------------------------------------------------------------
# Truncation at every byte offset
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("reader", SIG_READERS, ids=_ids(SIG_READERS))
def test_signature_truncated_at_every_offset(reader):
    """A signature cut inside its header or inside a block is an
    InputEndedError; cut exactly between blocks it is a valid, shorter
    signature (the format has no block count).

    librsync itself accepts a cut inside a block's 4-byte rolling checksum
    (rs_loadsig_s_weak treats any end of input there as the end of the
    signature), silently dropping the partial block; the binding must not."""
    accepted_wrongly = []
    for n in range(len(SIG)):
        at_boundary = n >= 12 and (n - 12) % SIG_BLOCK == 0
        if at_boundary:
            sig = within(reader, SIG[:n])
            if isinstance(sig, librsync.Signature):
                assert len(sig) == (n - 12) // SIG_BLOCK
            continue
        try:
            within(reader, SIG[:n])
        except librsync.InputEndedError as err:
            _check_error(err, librsync.InputEndedError, 103)
        else:
            accepted_wrongly.append(n)
    assert not accepted_wrongly, (
        f"signature truncated at offsets {accepted_wrongly} (of {len(SIG)}; blocks "
        f"of {SIG_BLOCK} bytes start at 12) was accepted")


@pytest.mark.parametrize("patcher", PATCHERS, ids=_ids(PATCHERS))
def test_delta_truncated_at_every_offset(patcher):
    """Every proper prefix of a delta lacks its END command."""
    for n in range(len(DELTA)):
        with pytest.raises(librsync.InputEndedError) as info:
            within(patcher, BASIS, DELTA[:n])
        _check_error(info.value, librsync.InputEndedError, 103)


def test_truncated_streaming_patch_is_not_reported_finished():
    with librsync.PatchJob(BASIS) as job:
        job.update(DELTA[:-1])
        assert not job.finished
        with pytest.raises(librsync.InputEndedError):
            job.finish()
        assert not job.finished


# ---------------------------------------------------------------------------
# Wrong magic, and one stream kind given for the other
# ---------------------------------------------------------------------------

JUNK_HEADS = [b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"%PDF", b"rs\x02\x37", b"RS\x026"]


@pytest.mark.parametrize("head", JUNK_HEADS)
@pytest.mark.parametrize("patcher", PATCHERS, ids=_ids(PATCHERS))
def test_delta_with_wrong_magic(patcher, head):
    with pytest.raises(librsync.BadMagicError) as info:
        within(patcher, BASIS, head + DELTA[4:])
    _check_error(info.value, librsync.BadMagicError, 104, "not a librsync delta")


@pytest.mark.parametrize("head", JUNK_HEADS)
@pytest.mark.parametrize("reader", SIG_READERS, ids=_ids(SIG_READERS))
def test_signature_with_wrong_magic(reader, head):
    with pytest.raises(librsync.BadMagicError) as info:
        within(reader, head + SIG[4:])
    _check_error(info.value, librsync.BadMagicError, 104, "not a librsync signature")


@pytest.mark.parametrize("patcher", PATCHERS, ids=_ids(PATCHERS))
def test_signature_given_as_delta(patcher):
    for magic in (librsync.RS_MD4_SIG_MAGIC, librsync.RS_BLAKE2_SIG_MAGIC,
                  librsync.RS_RK_MD4_SIG_MAGIC, librsync.RS_RK_BLAKE2_SIG_MAGIC):
        sig = librsync.signature(BASIS, magic=magic).read()
        with pytest.raises(librsync.BadMagicError) as info:
            within(patcher, BASIS, sig)
        _check_error(info.value, librsync.BadMagicError, 104,
                     "expected a delta but got a signature")


@pytest.mark.parametrize("reader", SIG_READERS, ids=_ids(SIG_READERS))
def test_delta_given_as_signature(reader):
    with pytest.raises(librsync.BadMagicError) as info:
        within(reader, DELTA)
    _check_error(info.value, librsync.BadMagicError, 104,
                 "expected a signature but got a delta")


def test_basis_given_where_signature_expected():
    """Raw data (here: random bytes) where a signature belongs."""
    with pytest.raises(librsync.BadMagicError):
        librsync.delta(NEW, BASIS)


# ---------------------------------------------------------------------------
# Delta commands: unknown, zero and negative lengths, huge lengths
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("op", range(0x55, 0x100), ids=lambda op: f"{op:#04x}")
def test_unknown_delta_command(op):
    for patcher in (_patch_bytes, _patchjob_bytewise):
        with pytest.raises(librsync.CorruptDataError) as info:
            within(patcher, BASIS, delta_of(literal(b"ok"), bytes([op]) + b"\x00" * 16))
        _check_error(info.value, librsync.CorruptDataError, 106, f"bogus command {op:#04x}")


BAD_LENGTH_CASES = {
    # name: (delta body, words expected in the message)
    "literal_n1_zero": (literal_cmd(0, 1), "LITERAL"),
    "literal_n2_zero": (literal_cmd(0, 2), "LITERAL"),
    "literal_n4_zero": (literal_cmd(0, 4), "LITERAL"),
    "literal_n8_zero": (literal_cmd(0, 8), "LITERAL"),
    "literal_n8_minus_one": (literal_cmd(-1, 8), "LITERAL"),
    "literal_n8_int64_min": (literal_cmd(-(1 << 63), 8), "LITERAL"),
    "copy_len_zero_n1": (copy_cmd(0, 0, 1, 1), "COPY"),
    "copy_len_zero_n8": (copy_cmd(0, 0, 8, 8), "COPY"),
    "copy_len_minus_one": (copy_cmd(0, -1, 8, 8), "length=-1 on COPY"),
    "copy_len_int64_min": (copy_cmd(0, -(1 << 63), 8, 8), "COPY"),
    "copy_pos_minus_one": (copy_cmd(-1, 10, 8, 1), "position=-1 on COPY"),
    "copy_pos_int64_min": (copy_cmd(-(1 << 63), 10, 8, 4), "COPY"),
}


@pytest.mark.parametrize("case", sorted(BAD_LENGTH_CASES))
@pytest.mark.parametrize("patcher", PATCHERS, ids=_ids(PATCHERS))
def test_zero_and_negative_lengths(patcher, case):
    body, fragment = BAD_LENGTH_CASES[case]
    with pytest.raises(librsync.CorruptDataError) as info:
        within(patcher, BASIS, delta_of(body, b"data" * 4))
    _check_error(info.value, librsync.CorruptDataError, 106, fragment)


@pytest.mark.parametrize("length,width", [
    (255, 1), (0xFFFF, 2), (0xFFFFFFFF, 4), (1 << 40, 8), ((1 << 63) - 1, 8)],
    ids=["n1_255", "n2_64k", "n4_4g", "n8_1t", "n8_int64_max"])
@pytest.mark.parametrize("patcher", PATCHERS, ids=_ids(PATCHERS))
def test_literal_longer_than_the_data(patcher, length, width):
    d = delta_of(literal_cmd(length, width), b"only this" + END, end=False)
    with pytest.raises(librsync.InputEndedError) as info:
        within(patcher, BASIS, d)
    _check_error(info.value, librsync.InputEndedError, 103)


def test_huge_literal_streams_in_bounded_memory():
    """A LITERAL claiming 8 EiB passes its data through as it arrives: output
    tracks input, nothing is buffered for the claimed length."""
    chunk = make_data(1 << 16, seed=5)
    with librsync.PatchJob(b"") as job:
        first = job.update(delta_of(literal_cmd((1 << 63) - 1, 8), end=False))
        assert first == b""
        total = 0
        for _ in range(160):  # 10 MiB
            out = job.update(chunk)
            assert out == chunk
            total += len(out)
        assert total == 160 * len(chunk) == job.out_bytes
        assert not job.finished
        with pytest.raises(librsync.InputEndedError):
            job.finish()


# ---------------------------------------------------------------------------
# COPY beyond the basis (PITFALLS 1: the copy callback at end of file must
# end the job, not make rs_job_iter spin), and offsets above 32 bits
# (PITFALLS 8)
# ---------------------------------------------------------------------------

def _basis_kinds(tmp_path):
    path = tmp_path / "basis"
    path.write_bytes(BASIS)
    f_fd = open(path, "rb")
    f_map = open(path, "rb")
    mm = mmap.mmap(f_map.fileno(), 0, access=mmap.ACCESS_READ)

    class NoFileno(io.RawIOBase):
        """Seekable, readable, no descriptor: read with seek + readinto."""

        def __init__(self, data):
            self._b = io.BytesIO(data)

        def readable(self):
            return True

        def seekable(self):
            return True

        def seek(self, pos, whence=0):
            return self._b.seek(pos, whence)

        def tell(self):
            return self._b.tell()

        def readinto(self, buf):
            return self._b.readinto(buf)

    class ReadOnly:
        """Only seek/read/seekable: the minimal basis protocol."""

        def __init__(self, data):
            self._b = io.BytesIO(data)

        def seekable(self):
            return True

        def seek(self, pos, whence=0):
            return self._b.seek(pos, whence)

        def read(self, n=-1):
            return self._b.read(n)

    kinds = {
        "bytes": BASIS,
        "bytearray": bytearray(BASIS),
        "memoryview": memoryview(BASIS),
        "mmap": mm,
        "path": str(path),
        "real_file_pread": f_fd,
        "bytesio": io.BytesIO(BASIS),
        "raw_no_fileno": NoFileno(BASIS),
        "read_only_object": ReadOnly(BASIS),
    }
    return kinds, [f_fd, mm, f_map]


BASIS_KINDS = ["bytes", "bytearray", "memoryview", "mmap", "path", "real_file_pread",
               "bytesio", "raw_no_fileno", "read_only_object"]

PAST_END = {
    "at_end": (len(BASIS), 1),
    "straddling_end": (len(BASIS) - 10, 20),
    "len_int64_max": (0, (1 << 63) - 1),
    "above_4g": (1 << 32, 100),
    "above_4g_plus_1": ((1 << 32) + 1, 1),
    "at_1t": (1 << 40, 1 << 20),
    "near_int64_max": ((1 << 63) - (1 << 20), 1 << 30),
    "int64_max": ((1 << 63) - 1, 1 << 62),
}


@pytest.mark.parametrize("case", list(PAST_END))
@pytest.mark.parametrize("kind", BASIS_KINDS)
def test_copy_past_end_of_basis(tmp_path, kind, case):
    pos, length = PAST_END[case]
    kinds, opened = _basis_kinds(tmp_path)
    try:
        d = delta_of(literal(b"head"), copy_cmd(pos, length))
        with pytest.raises(librsync.InputEndedError) as info:
            within(_patch_bytes, kinds[kind], d)
        err = info.value
        _check_error(err, librsync.InputEndedError, 103, "past the end of the basis")
        first_missing = max(pos, len(BASIS))
        assert f"offset {first_missing}" in str(err)
        # Also the streaming job, fed one byte at a time.
        if kind not in ("bytesio", "raw_no_fileno", "read_only_object"):
            with pytest.raises(librsync.InputEndedError):
                within(_patchjob_bytewise, kinds[kind], d)
    finally:
        for f in opened:
            f.close()


@pytest.mark.parametrize("pos_width", [1, 2, 4, 8])
@pytest.mark.parametrize("len_width", [1, 2, 4, 8])
def test_every_copy_encoding_in_range(pos_width, len_width):
    """All 16 COPY encodings read the basis at the offset they name."""
    pos, length = 200, 50
    d = delta_of(copy_cmd(pos, length, pos_width, len_width))
    assert within(_patch_bytes, BASIS, d) == BASIS[pos:pos + length]


# ---------------------------------------------------------------------------
# Signatures with absurd header fields
# ---------------------------------------------------------------------------

RK = librsync.RS_RK_BLAKE2_SIG_MAGIC
BAD_HEADERS = {
    "block_len_zero": (sig_header(RK, 0, 8), librsync.CorruptDataError, "block length"),
    "block_len_minus_one": (sig_header(RK, -1, 8), librsync.CorruptDataError, "block length"),
    "block_len_int32_min": (sig_header(RK, -(1 << 31), 8), librsync.CorruptDataError,
                            "block length"),
    "block_len_over_max": (sig_header(RK, librsync.MAX_BLOCK_LEN + 1, 8),
                           librsync.CorruptDataError, "MAX_BLOCK_LEN"),
    "block_len_int32_max": (sig_header(RK, (1 << 31) - 1, 8), librsync.CorruptDataError,
                            "MAX_BLOCK_LEN"),
    "strong_len_minus_one": (sig_header(RK, 2048, -1), librsync.CorruptDataError,
                             "strong sum length"),
    "strong_len_33": (sig_header(RK, 2048, 33), librsync.CorruptDataError,
                      "strong sum length"),
    "strong_len_int32_max": (sig_header(RK, 2048, (1 << 31) - 1), librsync.CorruptDataError,
                             "strong sum length"),
    # MD4 sums are 16 bytes; librsync reports this one as a parameter error.
    "md4_strong_len_17": (sig_header(librsync.RS_MD4_SIG_MAGIC, 2048, 17),
                          librsync.LibrsyncError, "strong_len"),
    "rk_md4_strong_len_32": (sig_header(librsync.RS_RK_MD4_SIG_MAGIC, 2048, 32),
                             librsync.LibrsyncError, "strong_len"),
}


@pytest.mark.parametrize("case", sorted(BAD_HEADERS))
@pytest.mark.parametrize("reader", SIG_READERS, ids=_ids(SIG_READERS))
def test_signature_with_absurd_lengths(reader, case):
    header, cls, fragment = BAD_HEADERS[case]
    with pytest.raises(cls) as info:
        # Four whole blocks for the 8-byte strong sums: only the header is bad.
        within(reader, header + b"\x00" * 48)
    err = info.value
    assert isinstance(err, librsync.LibrsyncError)
    assert err.code in (exceptions.RS_CORRUPT, exceptions.RS_PARAM_ERROR)
    assert fragment in str(err)


def test_largest_allowed_block_len_delta_memory_is_bounded():
    """A signature claiming MAX_BLOCK_LEN blocks is accepted; a delta against
    it must not allocate more than a small multiple of that length."""
    proc = run_isolated(f"""
        import resource, librsync, struct
        sig = struct.pack(">III", {RK}, librsync.MAX_BLOCK_LEN, 8) + b"\\x01" * 12
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        d = librsync.delta(b"\\x00" * (8 << 20), sig).read()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(len(d), (after - before) // 1024)
    """)
    assert proc.returncode == 0, proc.stderr
    size, grew_mib = map(int, proc.stdout.split())
    assert size > 8 << 20
    # 8 MiB of input, 16 MiB blocks: a few block lengths of buffers at most.
    assert grew_mib < 8 * librsync.MAX_BLOCK_LEN >> 20, grew_mib


def test_hostile_signature_all_blocks_one_weak_sum_loads_in_linear_time():
    """A signature whose blocks all share one rolling checksum but differ in
    strong sum puts every block in one hash-table probe chain: building the
    table (rs_build_hash_table) is then quadratic in the block count.  A
    peer can send 4 MB of such a signature (500,000 8-byte blocks) and tie
    up a CPU for minutes (measured: 40,000 blocks 1.8 s, quadrupling per
    doubling).  It must load -- or be refused with an error -- in about
    the time of a normal signature of that size (well under a second)."""
    proc = run_isolated(f"""
        import struct, librsync
        n = 500_000
        body = b"".join(struct.pack(">II", 0x1234, i) for i in range(n))
        sig = struct.pack(">III", {RK}, 1024, 4) + body
        try:
            s = librsync.load_signature(sig)
            print("loaded", len(s))
        except librsync.LibrsyncError as e:
            print("refused", e.code, e)
    """, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(("loaded", "refused")), proc.stdout


def _sig_with_weak_collisions(distinct: int, copies: int = 1) -> bytes:
    """A signature whose blocks all have weak sum 0x1234: ``distinct``
    different strong sums, each repeated ``copies`` times."""
    body = b"".join(struct.pack(">II", 0x1234, i)
                    for i in range(distinct) for _ in range(copies))
    return struct.pack(">III", RK, 1024, 4) + body


def test_weak_sum_collision_limit_is_exact():
    limit = librsync.MAX_WEAK_COLLISIONS
    assert len(librsync.load_signature(_sig_with_weak_collisions(limit))) == limit
    with pytest.raises(librsync.CorruptDataError, match="0x00001234") as info:
        librsync.load_signature(_sig_with_weak_collisions(limit + 1))
    assert info.value.code == librsync.RS_CORRUPT


def test_identical_blocks_are_not_weak_sum_collisions(rdiff, tmp_path):
    """Zero-filled regions give thousands of blocks with one weak sum but
    also one strong sum; librsync stores them once, and they must load."""
    old = tmp_path / "old"
    old.write_bytes(bytes(5000 * 512) + make_data(4096, seed=3))
    sig = tmp_path / "sig"
    subprocess.run([rdiff, "-b", "512", "signature", str(old), str(sig)], check=True)
    loaded = librsync.load_signature(str(sig))
    assert len(loaded) == 5008
    # A few distinct blocks per weak sum among many copies still loads.
    assert len(librsync.load_signature(_sig_with_weak_collisions(3, copies=2000))) == 6000


# ---------------------------------------------------------------------------
# Non-binary file objects, and objects whose read/write raise (PITFALLS 10)
# ---------------------------------------------------------------------------

class Boom(Exception):
    """Raised by the test's own file objects; must reach the caller as is."""


class RaisingReader:
    def __init__(self, after: bytes = b""):
        self.after = after
        self.calls = 0

    def read(self, n=-1):
        self.calls += 1
        if self.calls == 1 and self.after:
            return self.after
        raise Boom("read failed")


class RaisingWriter:
    def __init__(self, fail_at_call: int = 1):
        self.fail_at_call = fail_at_call
        self.calls = 0

    def write(self, data):
        self.calls += 1
        if self.calls >= self.fail_at_call:
            raise Boom("write failed")
        return len(data)


class StrReader:
    """A reader that is not an io.TextIOBase but returns str anyway."""

    def read(self, n=-1):
        return "text, not bytes"


def _entry_points_reading(src):
    """Every public function given ``src`` as the stream it reads."""
    return {
        "signature": lambda: librsync.signature(src),
        "delta_new_file": lambda: librsync.delta(src, SIG),
        "delta_signature": lambda: librsync.delta(NEW, src),
        "patch_delta": lambda: librsync.patch(BASIS, src),
        "load_signature": lambda: librsync.load_signature(src),
        "deltajob_signature": lambda: librsync.DeltaJob(src),
    }


READING = sorted(_entry_points_reading(None))


@pytest.mark.parametrize("entry", READING)
def test_text_mode_input_is_typeerror(entry, tmp_path):
    path = tmp_path / "text"
    path.write_bytes(b"abc")
    with open(path, "r") as f:
        with pytest.raises(TypeError, match="binary mode"):
            within(_entry_points_reading(f)[entry])
    with pytest.raises(TypeError, match="binary mode"):
        within(_entry_points_reading(io.StringIO("abc"))[entry])


@pytest.mark.parametrize("entry", READING)
def test_reader_returning_str_is_typeerror(entry):
    with pytest.raises(TypeError):
        within(_entry_points_reading(StrReader())[entry])


@pytest.mark.parametrize("entry", READING)
def test_read_exception_propagates_unchanged(entry):
    for reader in (RaisingReader(), RaisingReader(after=SIG[:20])):
        with pytest.raises(Boom, match="read failed") as info:
            within(_entry_points_reading(reader)[entry])
        # The original traceback: its last frame is the raising read().
        tb = info.value.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        assert tb.tb_frame.f_code.co_name == "read"


def _entry_points_writing(out):
    return {
        "signature": lambda: librsync.signature(BASIS, out),
        "delta": lambda: librsync.delta(NEW, SIG, out),
        "patch": lambda: librsync.patch(BASIS, DELTA, out),
    }


WRITING = sorted(_entry_points_writing(None))


@pytest.mark.parametrize("entry", WRITING)
def test_text_mode_output_is_typeerror(entry, tmp_path):
    with open(tmp_path / "out", "w") as f:
        with pytest.raises(TypeError, match="binary mode"):
            within(_entry_points_writing(f)[entry])
    with pytest.raises(TypeError, match="binary mode"):
        within(_entry_points_writing(io.StringIO())[entry])


@pytest.mark.parametrize("entry", WRITING)
def test_write_exception_propagates_unchanged(entry):
    writer = RaisingWriter()
    with pytest.raises(Boom, match="write failed") as info:
        within(_entry_points_writing(writer)[entry])
    tb = info.value.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    assert tb.tb_frame.f_code.co_name == "write"


def test_write_exception_mid_stream_propagates():
    """A writer failing on its second chunk (a 3 MiB patch output)."""
    big = make_data(3 << 20, seed=9)
    d = delta_of(literal(big, 4))
    writer = RaisingWriter(fail_at_call=2)
    with pytest.raises(Boom):
        within(librsync.patch, b"", d, writer)
    assert writer.calls == 2


class RaisingBasis(io.RawIOBase):
    """A seekable basis without a descriptor whose reads (or seeks) fail."""

    def __init__(self, fail_in: str):
        self.fail_in = fail_in

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, pos, whence=0):
        if self.fail_in == "seek":
            raise Boom("seek failed")
        return pos

    def readinto(self, buf):
        if self.fail_in == "readinto":
            raise Boom("readinto failed")
        return 0


@pytest.mark.parametrize("fail_in", ["seek", "readinto"])
def test_basis_exception_propagates_from_copy_callback(fail_in):
    """An exception in the patch's copy callback is kept while librsync runs
    and re-raised afterwards, with its original traceback."""
    d = delta_of(copy_cmd(100, 10))
    for run in (_patch_bytes, _patchjob_whole):
        with pytest.raises(Boom, match=f"{fail_in} failed") as info:
            within(run, RaisingBasis(fail_in), d)
        tb = info.value.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        assert tb.tb_frame.f_code.co_name == fail_in


def test_basis_readinto_returning_garbage_counts():
    class Liar(RaisingBasis):
        def readinto(self, buf):
            return len(buf) + 1000

    with pytest.raises(OSError):
        within(_patch_bytes, Liar("none"), delta_of(copy_cmd(0, 10)))


# ---------------------------------------------------------------------------
# max_length: a tiny delta asking for petabytes
# ---------------------------------------------------------------------------

class CountingSink(io.RawIOBase):
    def __init__(self):
        self.n = 0

    def writable(self):
        return True

    def write(self, data):
        self.n += len(data)
        return len(data)


def test_max_length_stops_repeated_copy_patch():
    """50,000 COPYs of a 64 KiB basis: an 850 KB delta asking for 3.2 GB."""
    basis = make_data(1 << 16, seed=3)
    d = delta_of(*[copy_cmd(0, 1 << 16)] * 50_000)
    assert len(d) < 1 << 20
    for limit in (0, 1, 1000, (1 << 16) - 1, 1 << 20, (5 << 20) + 7):
        sink = CountingSink()
        with pytest.raises(librsync.LimitExceededError) as info:
            within(librsync.patch, basis, d, sink, max_length=limit)
        assert info.value.code == exceptions.RS_CORRUPT
        assert f"max_length={limit}" in str(info.value)
        assert sink.n <= limit


def test_max_length_single_copy_asking_petabytes(tmp_path):
    """One COPY of 2**50 bytes from a 1 MiB basis file: the limit ends it
    before the basis runs out."""
    path = tmp_path / "basis"
    path.write_bytes(make_data(1 << 20, seed=4))
    sink = CountingSink()
    with pytest.raises(librsync.LimitExceededError):
        within(librsync.patch, str(path), delta_of(copy_cmd(0, 1 << 50)), sink,
               max_length=300_000)
    assert sink.n <= 300_000


def test_max_length_patchjob_fed_endless_copies():
    """A peer streaming COPY commands forever: the job stops at the limit and
    never hands out more than it allows."""
    basis = make_data(4096, seed=6)
    limit = 3 << 20
    chunk = copy_cmd(0, 4096, 1, 2) * 1000  # 4 MB of output per 4 KB of delta
    out = 0

    def feed():
        nonlocal out
        with librsync.PatchJob(basis, max_length=limit) as job:
            out += len(job.update(DELTA_MAGIC))
            for _ in range(1_000_000):  # ~4 TB if nothing stopped it
                out += len(job.update(chunk))

    with pytest.raises(librsync.LimitExceededError):
        within(feed)
    assert out <= limit


def test_max_length_boundary_is_exact():
    expected = librsync.patch(BASIS, DELTA).read()
    assert within(librsync.patch, BASIS, DELTA, max_length=len(expected)).read() == expected
    with pytest.raises(librsync.LimitExceededError):
        within(librsync.patch, BASIS, DELTA, max_length=len(expected) - 1)
    with librsync.PatchJob(BASIS, max_length=len(expected)) as job:
        assert job.update(DELTA) + job.finish() == expected
    assert librsync.patch(b"", delta_of(), max_length=0).read() == b""


@pytest.mark.parametrize("bad,exc", [(-1, ValueError), ("10", TypeError), (1.5, TypeError),
                                     (True, TypeError)])
def test_max_length_misuse(bad, exc):
    with pytest.raises(exc):
        librsync.patch(BASIS, DELTA, max_length=bad)
    with pytest.raises(exc):
        librsync.PatchJob(BASIS, max_length=bad)


# ---------------------------------------------------------------------------
# max_blocks: a signature describing too many blocks
# ---------------------------------------------------------------------------

def test_max_blocks_boundary():
    blocks = (len(SIG) - 12) // SIG_BLOCK
    assert len(librsync.load_signature(SIG, max_blocks=blocks)) == blocks
    with pytest.raises(librsync.LimitExceededError, match=f"max_blocks={blocks - 1}"):
        librsync.load_signature(SIG, max_blocks=blocks - 1)
    with pytest.raises(librsync.LimitExceededError):
        librsync.load_signature(io.BytesIO(SIG), max_blocks=0)
    with librsync.LoadSignatureJob(max_blocks=blocks) as job:
        job.update(SIG)
        job.finish()
        assert len(job.signature) == blocks


def test_max_blocks_stops_endless_signature_stream():
    """A peer streaming signature blocks forever: the job refuses as soon as
    the count passes the limit, holding memory for about that many blocks."""
    block = b"\x00\x00\x00\x01" + b"\x02" * 8
    chunk = block * 10_000

    def feed():
        with librsync.LoadSignatureJob(max_blocks=50_000) as job:
            job.update(sig_header(RK, 1024, 8))
            for i in range(100_000):  # 12 GB if nothing stopped it
                job.update(chunk)
        return i

    with pytest.raises(librsync.LimitExceededError):
        within(feed)


@pytest.mark.parametrize("bad,exc", [(-1, ValueError), ("10", TypeError), (2.0, TypeError)])
def test_max_blocks_misuse(bad, exc):
    with pytest.raises(exc):
        librsync.load_signature(SIG, max_blocks=bad)
    with pytest.raises(exc):
        librsync.LoadSignatureJob(max_blocks=bad)


# ---------------------------------------------------------------------------
# Misuse of the job objects
# ---------------------------------------------------------------------------

def _jobs():
    return {
        "SignatureJob": lambda: librsync.SignatureJob(),
        "DeltaJob": lambda: librsync.DeltaJob(SIG),
        "PatchJob": lambda: librsync.PatchJob(BASIS),
        "LoadSignatureJob": lambda: librsync.LoadSignatureJob(),
    }


JOBS = sorted(_jobs())


@pytest.mark.parametrize("kind", JOBS)
@pytest.mark.parametrize("bad", ["text", 12, object(), [b"a"]], ids=["str", "int", "object", "list"])
def test_job_update_with_non_bytes_is_typeerror(kind, bad):
    with _jobs()[kind]() as job:
        with pytest.raises(TypeError):
            job.update(bad)
        with pytest.raises(TypeError):
            job.finish(bad)


@pytest.mark.parametrize("kind", JOBS)
def test_job_after_close_or_finish_is_valueerror(kind):
    job = _jobs()[kind]()
    job.close()
    with pytest.raises(ValueError, match="closed"):
        job.update(b"x")
    job.close()  # idempotent
    job = _jobs()[kind]()
    inputs = {"SignatureJob": b"", "DeltaJob": b"", "PatchJob": DELTA, "LoadSignatureJob": SIG}
    job.finish(inputs[kind])
    with pytest.raises(ValueError, match="finished"):
        job.finish()


@pytest.mark.parametrize("kind", ["PatchJob", "LoadSignatureJob"])
def test_job_after_failure_is_valueerror(kind):
    job = _jobs()[kind]()
    with pytest.raises(librsync.BadMagicError):
        job.update(b"JUNK" * 8)
    with pytest.raises(ValueError, match="failed earlier"):
        job.update(b"x")
    with pytest.raises(ValueError, match="failed earlier"):
        job.finish()
    job.close()


@pytest.mark.parametrize("kwargs,exc", [
    ({"block_size": -1}, ValueError), ({"block_size": librsync.MAX_BLOCK_LEN + 1}, ValueError),
    ({"strong_len": -2}, ValueError), ({"strong_len": 33}, ValueError),
    ({"magic": 0x12345678}, ValueError), ({"magic": librsync.RS_DELTA_MAGIC}, ValueError),
    ({"block_size": "1"}, TypeError), ({"file_size": -5}, ValueError),
    ({"file_size": 1.0}, TypeError)])
def test_signature_job_bad_parameters(kwargs, exc):
    with pytest.raises(exc):
        librsync.SignatureJob(**kwargs)
    if "file_size" not in kwargs:
        with pytest.raises(exc):
            librsync.signature(BASIS, **kwargs)


def test_patch_basis_that_cannot_seek_is_valueerror():
    class Pipe(io.RawIOBase):
        def readable(self):
            return True

        def seekable(self):
            return False

        def readinto(self, buf):
            return 0

    with pytest.raises(ValueError, match="seekable"):
        librsync.PatchJob(Pipe())
    with pytest.raises(ValueError, match="seekable"):
        librsync.patch(Pipe(), DELTA)


def test_unloaded_signature_object_is_refused():
    with pytest.raises(TypeError):
        librsync.Signature()
    blank = librsync.Signature.__new__(librsync.Signature)
    with pytest.raises(ValueError, match="not loaded"):
        librsync.DeltaJob(blank)
    with pytest.raises(ValueError, match="not loaded"):
        librsync.delta(NEW, blank)
