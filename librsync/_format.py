"""librsync's stream formats as Python sees them: the one home of the delta
command table and of the signature header rules.

The driver (``_rsync.pyx``) never parses a stream itself (librsync does);
the layers above it sometimes must:

- ``threads=N`` deltas (``_parallel.py``) take segment deltas apart into
  commands, re-scan the seams and write the commands back;
- the command line sizes its ``patch`` progress bar by walking a delta's
  commands, and reports a bad signature header with the status rdiff would.

The command table follows librsync's ``prototab.c`` (tests/test_format.py
checks it entry by entry against the vendored file, so an upstream change
fails loudly):

- ``0x00``: END;
- ``0x01``..``0x40``: LITERAL of 1..64 bytes, the length in the opcode;
- ``0x41``..``0x44``: LITERAL with a 1, 2, 4 or 8-byte big-endian length;
- ``0x45``..``0x54``: COPY with a 1/2/4/8-byte position then a 1/2/4/8-byte
  length (``op - 0x45 = 4 * pos_width_index + len_width_index``);
- everything else is reserved (librsync refuses it as corrupt).
"""

from __future__ import annotations

import collections
import os
import struct

TYPE_CHECKING = False  # mypy takes it as True; typing costs ~3 ms of start-up
if TYPE_CHECKING:  # annotations, and Command's declaration for mypy
    from typing import IO, List, NamedTuple, Optional, Tuple

from . import _rsync
from .exceptions import RS_CORRUPT, RS_INPUT_ENDED, RS_INTERNAL_ERROR, error_for_code

__all__ = [
    "DELTA_MAGIC",
    "END",
    "LITERAL",
    "COPY",
    "INT_WIDTHS",
    "SIGNATURE_HEADER",
    "MAX_STRONG_SUM_LENGTH",
    "COMMANDS",
    "Command",
    "int_len",
    "encode_literal_header",
    "encode_copy",
    "parse_delta",
    "delta_output_size",
    "signature_header_error",
    "magic_name",
]

#: The four bytes every delta starts with.
DELTA_MAGIC = struct.pack(">I", _rsync.RS_DELTA_MAGIC)
#: The END command's opcode, the last byte of every delta.
END = 0x00
#: Command kinds (prototab.h's RS_KIND_LITERAL / RS_KIND_COPY).
LITERAL, COPY = 1, 2
#: Widths librsync uses for command parameters (netint.c), smallest first.
INT_WIDTHS = (1, 2, 4, 8)
#: A signature starts with magic, block length and strong sum length.
SIGNATURE_HEADER = struct.Struct(">III")
#: librsync.h's RS_MAX_STRONG_SUM_LENGTH: no hash is longer.
MAX_STRONG_SUM_LENGTH = _rsync.RS_MAX_STRONG_SUM_LENGTH

_FIRST_LITERAL_N = 0x41
_FIRST_COPY = 0x45
_LAST_COPY = _FIRST_COPY + len(INT_WIDTHS) ** 2 - 1


def _command_table() -> Tuple[Optional[Tuple[int, int, int, int]], ...]:
    """``COMMANDS[op]``: (kind, immediate length, first parameter width,
    second parameter width), or None for END and reserved opcodes."""
    table: List[Optional[Tuple[int, int, int, int]]] = [None] * 256
    for op in range(1, _FIRST_LITERAL_N):
        table[op] = (LITERAL, op, 0, 0)
    for i, width in enumerate(INT_WIDTHS):
        table[_FIRST_LITERAL_N + i] = (LITERAL, 0, width, 0)
    for op in range(_FIRST_COPY, _LAST_COPY + 1):
        k = op - _FIRST_COPY
        table[op] = (COPY, 0, INT_WIDTHS[k // 4], INT_WIDTHS[k % 4])
    return tuple(table)


COMMANDS = _command_table()


def int_len(value: int) -> int:
    """The width librsync gives a parameter (rs_int_len in netint.c): the
    smallest of 1, 2, 4, 8 bytes that holds it."""
    for n in INT_WIDTHS:
        if value < (1 << (8 * n)):
            return n
    raise ValueError("value does not fit in 8 bytes")


def encode_literal_header(length: int) -> bytes:
    """The command bytes that precede ``length`` bytes of literal data,
    exactly as librsync's emit.c writes them."""
    if 1 <= length <= _FIRST_LITERAL_N - 1:
        return bytes([length])
    n = int_len(length)
    return bytes([_FIRST_LITERAL_N + INT_WIDTHS.index(n)]) + length.to_bytes(n, "big")


def encode_copy(pos: int, length: int) -> bytes:
    """A COPY command, exactly as librsync's emit.c writes it."""
    pn, ln = int_len(pos), int_len(length)
    op = _FIRST_COPY + 4 * INT_WIDTHS.index(pn) + INT_WIDTHS.index(ln)
    return bytes([op]) + pos.to_bytes(pn, "big") + length.to_bytes(ln, "big")


_COMMAND_DOC = """One command of a parsed delta.

    ``pos`` is the basis offset (COPY) or the offset of the literal data in
    the parsed buffer (LITERAL); ``start``/``end`` delimit the command's own
    bytes (for a LITERAL, its data included) in that buffer."""

if TYPE_CHECKING:
    class Command(NamedTuple):
        kind: int
        pos: int
        length: int
        start: int
        end: int
else:
    # The same named tuple as typing.NamedTuple would make, without typing.
    Command = collections.namedtuple("Command", ["kind", "pos", "length", "start", "end"])
    Command.__doc__ = _COMMAND_DOC


def parse_delta(delta: bytes | bytearray | memoryview) -> List[Command]:
    """The commands of a whole delta (magic, commands, END), as librsync
    itself produced it (used on our own segment deltas, so a surprise is an
    internal error, not a corrupt input)."""
    view = memoryview(delta)
    if bytes(view[:4]) != DELTA_MAGIC or len(view) < 5 or view[-1] != END:
        raise error_for_code(RS_INTERNAL_ERROR, "delta is not framed as expected")
    cmds: List[Command] = []
    i, end = 4, len(view) - 1
    while i < end:
        start = i
        entry = COMMANDS[view[i]]
        if entry is None:
            raise error_for_code(RS_INTERNAL_ERROR, f"unexpected command {view[i]:#04x}")
        kind, immediate, w1, w2 = entry
        i += 1
        first = int.from_bytes(view[i:i + w1], "big") if w1 else immediate
        i += w1
        if kind == LITERAL:
            cmds.append(Command(LITERAL, i, first, start, i + first))
            i += first
        else:
            length = int.from_bytes(view[i:i + w2], "big")
            i += w2
            cmds.append(Command(COPY, first, length, start, i))
    if i != end:
        raise error_for_code(RS_INTERNAL_ERROR, "delta ends inside a command")
    return cmds


def delta_output_size(f: IO[bytes], limit: int = 1 << 18) -> Optional[int]:
    """How many bytes applying the delta in seekable file ``f`` produces, or
    None when that cannot be told cheaply: not a delta, truncated, a
    reserved opcode, or more than ``limit`` commands.  Seeks over literal
    data; the patch itself validates the delta."""
    try:
        if f.read(4) != DELTA_MAGIC:
            return None
        total = 0
        for _ in range(limit):
            op = f.read(1)
            if not op:
                return None
            if op[0] == END:
                return total
            entry = COMMANDS[op[0]]
            if entry is None:
                return None
            kind, immediate, w1, w2 = entry
            params = f.read(w1 + w2)
            if len(params) != w1 + w2:
                return None
            length = int.from_bytes(params[w1:], "big") if kind == COPY else (
                int.from_bytes(params, "big") if w1 else immediate)
            if kind == LITERAL:
                f.seek(length, os.SEEK_CUR)
            total += length
    except OSError:
        return None
    return None


def signature_header_error(head: bytes) -> Optional[Exception]:
    """The error librsync (and so rdiff) reports for a signature whose
    first bytes ``head`` (12, or all of a shorter input) carry an unknown
    magic, or None when the magic is known (or too short to tell).

    The driver names a wrong magic at once (BadMagicError, 104), but
    librsync's loader reads the block and strong sum lengths before it
    checks the magic, so rdiff exits 103 or 106 for many such inputs."""
    if len(head) < 4 or int.from_bytes(head[:4], "big") in _rsync.SIGNATURE_MAGICS:
        return None
    if len(head) < 8:
        return error_for_code(RS_INPUT_ENDED)
    (block_len,) = struct.unpack(">i", head[4:8])
    if block_len < 1:
        return error_for_code(RS_CORRUPT, f"block length of {block_len} is bogus")
    if len(head) < 12:
        return error_for_code(RS_INPUT_ENDED)
    (strong_len,) = struct.unpack(">i", head[8:12])
    if not 0 <= strong_len <= MAX_STRONG_SUM_LENGTH:
        return error_for_code(RS_CORRUPT, f"strong sum length {strong_len} is implausible")
    return None  # librsync reports the magic too; the driver says it better


def magic_name(magic: int) -> str:
    """``"rabinkarp/blake2"`` and the like: a signature magic's rolling sum
    and hash."""
    name = _rsync.MAGIC_NAMES.get(magic)
    if name is None or magic == _rsync.RS_DELTA_MAGIC:
        return f"unknown ({magic:#010x})"
    return name.removesuffix(" signature")

