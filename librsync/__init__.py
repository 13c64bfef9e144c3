"""rsync-style binary deltas: signature, delta, patch.

Three steps bring an old copy of a file up to date with a new one without
sending the whole new file:

1. ``sig = signature(old)`` -- a small summary of the old file;
2. ``d = delta(new, sig)`` -- what the new file has that the old lacks;
3. ``patch(old, d, out)`` -- rebuild the new file from the old one and the delta.

The formats are librsync's, byte for byte the same as the ``rdiff`` tool's.
librsync 2.3.4 is compiled into this package; nothing needs installing.

Every input may be a binary file object (read to its end, need not be
seekable, except ``patch``'s basis), a bytes-like object (bytes, bytearray,
memoryview, mmap, ...) or a path (``str`` or ``os.PathLike``; ``bytes`` is
always data).  Every output may be ``None`` (returns a SpooledTemporaryFile
rewound to 0), a binary file object (written, rewound to where writing began
if seekable, and returned) or a path (written atomically and returned).

Every input may also be an iterable of bytes-like chunks (a generator, a
list, an HTTP client's ``iter_content()``), and :func:`iter_signature` and
:func:`iter_delta` give their output as a generator of chunks, computed as it
is consumed: the two ends of a transfer over HTTP or a socket.  For data that
arrives in pieces on your schedule, use the streaming job objects
:class:`SignatureJob`, :class:`DeltaJob`, :class:`PatchJob` and
:class:`LoadSignatureJob`; for asyncio, ``import librsync.aio``.
"""

try:
    from . import _rsync  # first, for the error below
except ImportError as _exc:  # pragma: no cover - depends on how it was installed
    import os as _os

    raise ImportError(
        f"librsync's compiled core (_rsync) is missing from {_os.path.dirname(__file__)}: "
        "this looks like an unbuilt source checkout.  Install it with "
        "'pip install .' or build in place with 'python setup.py build_ext --inplace'."
    ) from _exc

from . import _api, _iter, exceptions
from ._api import *  # noqa: F401,F403  (the names in _api.__all__)
from ._iter import *  # noqa: F401,F403  (the names in _iter.__all__)
from ._version import __version__
from .exceptions import *  # noqa: F401,F403  (the names in exceptions.__all__)

# The public namespace is what the modules that define it export, nothing
# else (tests/test_api.py pins dir() against it).
__all__ = [*_api.__all__, *_iter.__all__, *exceptions.__all__, "__version__"]
