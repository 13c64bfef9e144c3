"""Exceptions raised by :mod:`librsync`.

Every failure reported by the C library is a :class:`LibrsyncError` carrying the
numeric ``rs_result`` in :attr:`LibrsyncError.code`.  A few codes get subclasses
that also inherit the matching built-in exception, so callers that already
catch ``EOFError`` or ``MemoryError`` keep working.
"""

from __future__ import annotations

__all__ = [
    "LibrsyncError",
    "InputEndedError",
    "BadMagicError",
    "CorruptDataError",
    "LibrsyncMemoryError",
    "LibrsyncParamError",
    "LimitExceededError",
    "RS_DONE",
    "RS_BLOCKED",
    "RS_RUNNING",
    "RS_IO_ERROR",
    "RS_SYNTAX_ERROR",
    "RS_MEM_ERROR",
    "RS_INPUT_ENDED",
    "RS_BAD_MAGIC",
    "RS_UNIMPLEMENTED",
    "RS_CORRUPT",
    "RS_INTERNAL_ERROR",
    "RS_PARAM_ERROR",
]

# rs_result values from librsync.h (tests/test_api.py checks them against the
# compiled module, so they cannot drift from the vendored header).
RS_DONE = 0
RS_BLOCKED = 1
RS_RUNNING = 2
RS_IO_ERROR = 100
RS_SYNTAX_ERROR = 101
RS_MEM_ERROR = 102
RS_INPUT_ENDED = 103
RS_BAD_MAGIC = 104
RS_UNIMPLEMENTED = 105
RS_CORRUPT = 106
RS_INTERNAL_ERROR = 107
RS_PARAM_ERROR = 108

# librsync's own rs_strerror() texts, so that an error built in Python (for
# example a limit exceeded before librsync saw the data) reads the same way.
_STRERROR = {
    RS_DONE: "OK",
    RS_BLOCKED: "blocked waiting for input or output buffers",
    RS_RUNNING: "still running",
    RS_IO_ERROR: "IO error",
    RS_SYNTAX_ERROR: "bad command line syntax",
    RS_MEM_ERROR: "out of memory",
    RS_INPUT_ENDED: "unexpected end of input",
    RS_BAD_MAGIC: "bad magic number at start of stream",
    RS_UNIMPLEMENTED: "unimplemented case",
    RS_CORRUPT: "stream corrupt",
    RS_INTERNAL_ERROR: "library internal error",
    RS_PARAM_ERROR: "unexpected parameter value",
}


class LibrsyncError(Exception):
    """A librsync job failed.

    ``code`` is librsync's ``rs_result`` (also rdiff's exit status), and
    ``message`` the most specific text librsync logged for the failure (or
    ``rs_strerror(code)`` when it logged none).  ``str(err)`` combines both.

    The first positional argument is the code, as in the old python-librsync
    wrapper where ``LibrsyncError(result)`` was the only form.
    """

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = int(code)
        text = _STRERROR.get(self.code, f"unknown error {self.code}")
        self.message = message or text
        if message and message != text:
            text = f"{text}: {message}"
        super().__init__(text)

    # Keeps code and message across pickling (multiprocessing).
    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return (type(self), (self.code, self.message))


class InputEndedError(LibrsyncError, EOFError):
    """The input ended before the data was complete (truncated signature or
    delta, or a COPY beyond the end of the basis)."""


class BadMagicError(LibrsyncError):
    """The stream does not start with the expected magic number (for example a
    delta given where a signature is expected)."""


class CorruptDataError(LibrsyncError):
    """The stream holds a value that cannot be valid (unknown command, bad
    length)."""


class LibrsyncMemoryError(LibrsyncError, MemoryError):
    """librsync could not allocate memory."""


class LibrsyncParamError(LibrsyncError, ValueError):
    """librsync rejected a parameter (normally caught earlier as ValueError)."""


class LimitExceededError(LibrsyncError):
    """The data would exceed a limit the caller set (``max_length``,
    ``max_blocks``), a guard against hostile input."""

    def __init__(self, message: str | None = None, code: int = RS_CORRUPT) -> None:
        super().__init__(code, message)

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return (type(self), (self.message, self.code))


_BY_CODE = {
    RS_INPUT_ENDED: InputEndedError,
    RS_BAD_MAGIC: BadMagicError,
    RS_CORRUPT: CorruptDataError,
    RS_MEM_ERROR: LibrsyncMemoryError,
    RS_PARAM_ERROR: LibrsyncParamError,
}


def error_for_code(code: int, message: str | None = None) -> LibrsyncError:
    """Build the most specific :class:`LibrsyncError` for an ``rs_result``."""
    return _BY_CODE.get(code, LibrsyncError)(code, message)
