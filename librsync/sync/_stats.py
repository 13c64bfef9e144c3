"""What a sync did, from one side's point of view."""

from __future__ import annotations

import dataclasses
from typing import List, Tuple


@dataclasses.dataclass
class SyncStats:
    """What a sync did (or, with ``dry_run``, would do).

    ``files`` counts the source's regular files, ``files_new``,
    ``files_changed`` and ``files_unchanged`` split them (a receiver's
    view; a sender knows only ``files``).  ``files_redone``: changed files
    whose short strong sums collided, so their whole-file digest did not
    match and they were sent again with full-length sums.  ``deleted``
    counts entries removed (each file, link and directory of a removed
    directory).  ``file_bytes`` is the source files' size, ``literal_bytes``
    what was sent as data (new files, the literal parts of deltas),
    ``matched_bytes`` what deltas reused from the old files.
    ``bytes_sent`` and ``bytes_received`` are this side's traffic.
    ``skipped`` lists ``(path, reason)`` of files that could not be sent
    (they vanished or could not be read), left as they were.
    """

    files: int = 0
    files_new: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    files_redone: int = 0
    dirs: int = 0
    symlinks: int = 0
    deleted: int = 0
    file_bytes: int = 0
    literal_bytes: int = 0
    matched_bytes: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    skipped: List[Tuple[str, str]] = dataclasses.field(default_factory=list)
    dry_run: bool = False
