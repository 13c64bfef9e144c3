"""librsync/_format.py, the one home of the delta command table and the
signature header rules, against the vendored C and against real deltas."""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import librsync
from librsync import _format
from conftest import make_data, mutate

PROTOTAB = Path(__file__).resolve().parent.parent / "vendor" / "librsync" / "src" / "prototab.c"
_KINDS = {"RS_KIND_LITERAL": _format.LITERAL, "RS_KIND_COPY": _format.COPY}


def _prototab():
    """librsync's rs_prototab[] as (kind name, immediate, len_1, len_2)."""
    entries = re.findall(r"\{\s*(RS_KIND_\w+),\s*(\d+),\s*(\d+),\s*(\d+)\s*\}",
                         PROTOTAB.read_text())
    return [(kind, int(a), int(b), int(c)) for kind, a, b, c in entries]


@pytest.mark.skipif(not PROTOTAB.exists(), reason="needs the vendored sources (a checkout or sdist)")
def test_command_table_is_librsyncs_prototab():
    table = _prototab()
    assert len(table) == 256 == len(_format.COMMANDS)
    for op, ((kind, immediate, len_1, len_2), ours) in enumerate(zip(table, _format.COMMANDS)):
        if kind in _KINDS:
            assert ours == (_KINDS[kind], immediate, len_1, len_2), hex(op)
        else:  # END and the reserved opcodes are not commands we parse
            assert kind in ("RS_KIND_END", "RS_KIND_RESERVED") and ours is None, hex(op)
    assert table[_format.END][0] == "RS_KIND_END"


@pytest.mark.parametrize("value, width", [
    (0, 1), (255, 1), (256, 2), (65535, 2), (65536, 4), (2**32 - 1, 4), (2**32, 8),
    (2**64 - 1, 8)])
def test_int_len(value, width):
    assert _format.int_len(value) == width


def test_int_len_refuses_what_does_not_fit():
    with pytest.raises(ValueError):
        _format.int_len(2**64)


@given(pieces=st.lists(st.one_of(
    st.tuples(st.just("lit"), st.binary(min_size=1, max_size=300)),
    st.tuples(st.just("copy"), st.integers(0, 2**40), st.integers(1, 2**33))), max_size=20))
def test_encode_then_parse_round_trips(pieces):
    body = b""
    for piece in pieces:
        if piece[0] == "lit":
            body += _format.encode_literal_header(len(piece[1])) + piece[1]
        else:
            body += _format.encode_copy(piece[1], piece[2])
    delta = _format.DELTA_MAGIC + body + bytes([_format.END])
    cmds = _format.parse_delta(delta)
    assert len(cmds) == len(pieces)
    for cmd, piece in zip(cmds, pieces):
        if piece[0] == "lit":
            assert cmd.kind == _format.LITERAL
            assert delta[cmd.pos:cmd.pos + cmd.length] == piece[1]
        else:
            assert (cmd.kind, cmd.pos, cmd.length) == (_format.COPY, piece[1], piece[2])
    # The commands tile the body exactly.
    assert [c.start for c in cmds[1:]] == [c.end for c in cmds[:-1]]


def _real_delta(size=300_000, edits=20):
    old = make_data(size, seed=3)
    new = mutate(old, edits, seed=4)
    return old, new, librsync.delta(new, librsync.signature(old, block_size=512)).read()


def test_parse_matches_librsyncs_own_deltas():
    old, new, delta = _real_delta()
    out = bytearray()
    for cmd in _format.parse_delta(delta):
        if cmd.kind == _format.LITERAL:
            out += delta[cmd.pos:cmd.pos + cmd.length]
        else:
            out += old[cmd.pos:cmd.pos + cmd.length]
    assert bytes(out) == new


def test_our_encoding_is_what_librsync_writes():
    # Re-encoding librsync's commands gives back its delta byte for byte.
    _, _, delta = _real_delta()
    again = bytearray(_format.DELTA_MAGIC)
    for cmd in _format.parse_delta(delta):
        if cmd.kind == _format.LITERAL:
            again += _format.encode_literal_header(cmd.length) + delta[cmd.pos:cmd.pos + cmd.length]
        else:
            again += _format.encode_copy(cmd.pos, cmd.length)
    again.append(_format.END)
    assert bytes(again) == delta


@pytest.mark.parametrize("bad", [b"", b"rs\x026", _format.DELTA_MAGIC,
                                 _format.DELTA_MAGIC + b"\x41",  # no END, cut
                                 _format.DELTA_MAGIC + b"\xfc\x00"])  # reserved opcode
def test_parse_refuses_what_librsync_would_not_write(bad):
    with pytest.raises(librsync.LibrsyncError):
        _format.parse_delta(bad)


def test_delta_output_size():
    _, new, delta = _real_delta()
    assert _format.delta_output_size(io.BytesIO(delta)) == len(new)
    assert _format.delta_output_size(io.BytesIO(librsync.signature(new).read())) is None
    for cut in (0, 3, 4, 5, 100, len(delta) - 1):
        assert _format.delta_output_size(io.BytesIO(delta[:cut])) is None
    assert _format.delta_output_size(io.BytesIO(delta), limit=2) is None
    reserved = _format.DELTA_MAGIC + b"\xfc\x00"
    assert _format.delta_output_size(io.BytesIO(reserved)) is None


def _header(magic, block_len, strong_len):
    return struct.pack(">Iii", magic, block_len, strong_len)


@pytest.mark.parametrize("head, code", [
    (b"\x01\x02\x03", None),                      # too short to tell: the driver says
    (_header(librsync.RS_MD4_SIG_MAGIC, -1, 99), None),  # known magic: the driver checks
    (b"\x12\x34\x56\x78", librsync.RS_INPUT_ENDED),
    (_header(0x12345678, 0, 8), librsync.RS_CORRUPT),
    (_header(0x12345678, 2048, 8)[:10], librsync.RS_INPUT_ENDED),
    (_header(0x12345678, 2048, 33), librsync.RS_CORRUPT),
    (_header(0x12345678, 2048, -1), librsync.RS_CORRUPT),
    (_header(0x12345678, 2048, 32), None),         # rdiff reports the magic: so do we
])
def test_signature_header_error_is_librsyncs(head, code):
    error = _format.signature_header_error(head)
    if code is None:
        assert error is None
    else:
        assert isinstance(error, librsync.LibrsyncError) and error.code == code


def test_signature_header_error_agrees_with_rdiff(tmp_path, run_rdiff):
    new = tmp_path / "new"
    new.write_bytes(b"x" * 100)
    for i, head in enumerate((_header(0x12345678, 0, 8), _header(0x12345678, 16, 40),
                              b"\x12\x34\x56\x78\x00", _header(0x12345678, 16, 8))):
        sig = tmp_path / f"sig{i}"
        sig.write_bytes(head)
        proc = run_rdiff("delta", str(sig), str(new), str(tmp_path / f"d{i}"), check=False)
        error = _format.signature_header_error(head)
        expected = librsync.RS_BAD_MAGIC if error is None else error.code
        assert proc.returncode == expected, head


@pytest.mark.parametrize("magic, name", [
    (librsync.RS_MD4_SIG_MAGIC, "rollsum/md4"),
    (librsync.RS_BLAKE2_SIG_MAGIC, "rollsum/blake2"),
    (librsync.RS_RK_MD4_SIG_MAGIC, "rabinkarp/md4"),
    (librsync.RS_RK_BLAKE2_SIG_MAGIC, "rabinkarp/blake2"),
    (librsync.RS_DELTA_MAGIC, "unknown (0x72730236)"),
])
def test_magic_name(magic, name):
    assert _format.magic_name(magic) == name
