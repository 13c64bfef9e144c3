"""``librsync sync`` for directory trees and remote sides, and ``serve``.

A remote side is ``[user@]host:path``.  The local side starts
``RSH HOST 'REMOTE_CMD serve --protocol 2 --receiver|--sender PATH ...'``
(``ssh`` and ``python3 -m librsync`` by default) and the two speak
``librsync.tree``'s streams over the child's stdin and stdout:

- the serve side first writes one greeting line,
  ``LRSYNC-SERVE <protocol> <version>\\n``, so that a remote shell printing
  junk, a missing librsync or another protocol version is told apart from a
  broken stream before anything is read as a stream;
- a receiver (``--receiver PATH``, the destination) writes
  ``tree_signature(PATH)`` to stdout while it applies the delta stream read
  from stdin with ``tree_patch(PATH)``.  The two run concurrently (as in
  ``sync_tree``): the sender writes delta records while it still reads the
  signature, so a receiver that first wrote its whole signature would
  deadlock against full pipes;
- a sender (``--sender PATH``, the source) reads the signature stream from
  stdin and writes ``tree_delta(PATH)`` to stdout;
- after its stream the serve side writes one trailer line,
  ``LRSYNC-DONE <json TreeStats>\\n``: proof that its step completed, and
  the numbers the local side cannot know (what was deleted, for a push; the
  literal and copied bytes, for a pull).

Only the two streams cross the pipe: signatures of the destination's files
one way, deltas (and new files whole) the other.  Errors of the serve side
go to its stderr, which the local side forwards line by line.

Single files have a mode of their own (the tree streams' root is a
directory): the source side says ``file`` in its greeting (a sender) or is
told ``--file`` (a receiver), and the streams are then librsync's own
signature and delta of that one file, each cut into frames (``u32``
length, then that many bytes; a zero length ends the stream), since a
signature does not show where it ends.  The destination file is replaced
atomically and keeps its permission bits, as in a local file sync.

Exit statuses for tree and remote syncs follow rsync's where they fit (the
rdiff commands, and ``sync`` of a local file, keep librsync's codes).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import io
import json
import os
import shlex
import signal
import stat
import struct
import subprocess
import sys
import threading
import time
from typing import IO, Any, Dict, Iterator, List, NamedTuple, Optional, Tuple

import librsync
from librsync import _cli_timeout, tree
from librsync._cli_io import PROG, CliError, progress, say
from librsync.exceptions import (
    RS_CORRUPT,
    RS_INPUT_ENDED,
    BadMagicError,
    CorruptDataError,
    InputEndedError,
    LibrsyncError,
)

#: Version of the serve protocol: the greeting and trailer around the tree
#: streams, and those streams' format (``tree.FORMAT_VERSION``).  2: tree
#: format 2, where the receiver is told ``--checksum`` (its signature stream
#: carries file digests only then) and ``-j N``.
PROTOCOL = 2
GREETING = "LRSYNC-SERVE"
TRAILER = "LRSYNC-DONE"
DEFAULT_RSH = "ssh"
#: ``python3 -m librsync``, except that the remote working directory is not
#: searched for modules first: a ``runpy.py`` or ``argparse.py`` there (the
#: remote user's home, say) must not run in place of the standard library's.
#: (``python3 -P`` does the same from Python 3.11 on; this works on all.)
DEFAULT_REMOTE_CMD = ("python3 -c 'import sys; sys.path[:1] = sys.path[1:1] "
                      "if sys.path[:1] == [\"\"] else sys.path[:1]; import runpy; "
                      "runpy.run_module(\"librsync\", run_name=\"__main__\", alter_sys=True)'")

# rsync's exit statuses, for the tree and remote syncs.
EXIT_SYNTAX = 1        # syntax or usage error
EXIT_PROTOCOL = 2      # protocol incompatibility (no librsync there, another version)
EXIT_SELECT = 3        # errors selecting input/output files, dirs
EXIT_SOCKET_IO = 10    # error in the connection: the pipe to the other side broke
EXIT_FILE_IO = 11      # error in file I/O
EXIT_STREAM = 12       # error in the protocol data stream
EXIT_INTERRUPTED = 20  # SIGINT, SIGTERM or SIGHUP
EXIT_TIMEOUT = _cli_timeout.EXIT_TIMEOUT  # --timeout: no data moved for that long
EXIT_RSH = 255         # the rsh command (ssh) failed

#: How long a failing remote side may take to exit once its pipes are
#: closed before it is killed: a dead or stuck remote never hangs us.
_EXIT_WAIT = 10.0
#: Lines of the remote's stderr kept for the final message.
_KEEP_LINES = 20
#: The longest line of the remote's stderr read at once: a longer one is
#: shown in pieces, so a remote that never ends a line costs no memory.
_MAX_ERR_LINE = 8192
#: How long to wait, after a failure, for the thread that forwards the
#: remote's stderr: an rsh that forked keeps that pipe open after it exits.
_ERR_WAIT = 2.0
#: The most blocks a peer's signature may hold when it is loaded whole (a
#: single-file push): the same bound as a tree stream's signatures, about
#: 16 TiB of file at the default block sizes and ~230 MiB of memory.
_MAX_SIG_BLOCKS = 1 << 22


class Location(NamedTuple):
    """One operand of ``sync``: ``host`` is None for a local path."""

    host: Optional[str]
    path: str

    def __str__(self) -> str:
        return self.path if self.host is None else f"{self.host}:{self.path}"


def parse_location(text: str) -> Location:
    """``[user@]host:path`` is remote, as in rsync: a colon before any
    slash.  ``./a:b`` or ``/x/a:b`` is local; on Windows so is ``C:\\x``."""
    head, sep, tail = text.partition(":")
    if not sep or not head or "/" in head or (os.name == "nt" and len(head) == 1):
        return Location(None, text)
    # An empty remote path is the remote home directory, as for scp.
    return Location(head, tail or ".")


def _exit_code(e: BaseException) -> int:
    """The rsync-style status for a failure of a tree step run here."""
    if isinstance(e, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(e, _cli_timeout.IOTimeout):
        return EXIT_TIMEOUT
    if isinstance(e, BadMagicError):
        return EXIT_PROTOCOL
    if isinstance(e, LibrsyncError):
        return EXIT_STREAM
    if isinstance(e, (BrokenPipeError, ConnectionError)):
        return EXIT_SOCKET_IO
    if isinstance(e, (FileNotFoundError, NotADirectoryError, IsADirectoryError)):
        return EXIT_SELECT
    if isinstance(e, OSError):
        return EXIT_FILE_IO
    if isinstance(e, ValueError):
        return EXIT_SYNTAX
    return EXIT_STREAM


def _describe(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        where = f': "{e.filename}"' if e.filename is not None else ""
        return f"{e.strerror}{where}"
    if isinstance(e, LibrsyncError):
        return str(e)
    return str(e) or type(e).__name__


def _failure(e: BaseException, doing: str) -> CliError:
    if isinstance(e, _cli_timeout.IOTimeout):
        return _timeout_error(e, doing)
    return CliError(_exit_code(e), f"Failed {doing}: {_describe(e)}")


def _stats_dict(st: tree.TreeStats) -> Dict[str, Any]:
    return dataclasses.asdict(st)


def _stats_from(d: Any) -> tree.TreeStats:
    """The TreeStats of a peer's trailer, checked field by field: a peer's
    numbers are shown and added up, so each must be what it claims to be."""
    if not isinstance(d, dict):
        raise ValueError("the statistics are not a JSON object")
    fields = {f.name: f for f in dataclasses.fields(tree.TreeStats)}
    got: Dict[str, Any] = {}
    for key, value in d.items():
        if key not in fields:
            continue  # a newer peer's extra numbers
        if key == "dry_run":
            if not isinstance(value, bool):
                raise ValueError(f"{key} is not true or false")
        elif (not isinstance(value, int) or isinstance(value, bool)
              or not 0 <= value < 1 << 63):
            raise ValueError(f"{key} is not a count")
        got[key] = value
    return tree.TreeStats(**got)


# --- the serve side -------------------------------------------------------------------

def cmd_serve(opts: argparse.Namespace, args: List[str]) -> int:
    """serve --sender PATH | --receiver PATH: one end of a remote sync, on
    stdin and stdout (started by ``sync`` through ``--rsh``)."""
    if args or (opts.sender is None) == (opts.receiver is None):
        raise CliError(EXIT_SYNTAX, f"Usage for serve: {PROG} serve --protocol N "
                       "(--sender PATH | --receiver PATH); it is started by "
                       f"`{PROG} sync' through --rsh, not by hand", usage=True)
    # Our own descriptor for the stream, and /dev/null on fd 1: a stray
    # print cannot corrupt the stream, and closing ``out`` really ends it
    # (the peer must see the end, not wait, when the signer fails).
    sys.stdout.flush()
    out = open(os.dup(sys.stdout.fileno()), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    inp = open(sys.stdin.fileno(), "rb", closefd=False)
    # A sender says what it sends: the receiving side cannot know whether
    # a remote SOURCE is a file or a tree.
    kind = "file" if opts.file else "tree"
    if opts.sender is not None and os.path.isfile(opts.sender):
        kind = "file"
    if opts.file_name is not None and (opts.sender is not None or not opts.file
                                       or _file_name(opts.file_name) != opts.file_name):
        raise CliError(EXIT_SYNTAX, "serve: --file-name NAME goes with --receiver PATH "
                       "--file, and NAME must be a plain file name", usage=True)
    out.write(f"{GREETING} {PROTOCOL} {librsync.__version__} {kind}\n".encode())
    out.flush()
    if opts.protocol != PROTOCOL:
        raise CliError(EXIT_PROTOCOL, f"{PROG} {librsync.__version__} on this side speaks "
                       f"protocol {PROTOCOL}, not {opts.protocol}")
    try:
        if opts.sender is not None and kind == "file":
            stats = _send_file(opts.sender, inp, out)
        elif opts.sender is not None:
            stats = tree.tree_delta(opts.sender, inp, out, delete=opts.delete,
                                    checksum=opts.checksum, threads=opts.threads)
        elif kind == "file":
            path = opts.receiver
            if opts.file_name is not None and os.path.isdir(path):
                path = os.path.join(path, opts.file_name)
            stats = _receive_file(path, inp, out, opts.dry_run, None, opts.max_length)
        else:
            stats = _receive(opts.receiver, inp, out, opts.dry_run, opts.checksum,
                             opts.threads, opts.delete, opts.max_length)
    except CliError:
        raise
    except BaseException as e:
        raise _failure(e, "sending" if opts.sender is not None else "receiving") from None
    out.write(f"{TRAILER} {json.dumps(_stats_dict(stats))}\n".encode())
    out.flush()
    return 0


def _receive(path: str, inp: IO[bytes], out: IO[bytes], dry_run: bool, checksum: bool,
             threads: int, delete: bool = False,
             max_file_size: Optional[int] = None) -> tree.TreeStats:
    """Sign ``path`` onto ``out`` while patching it from ``inp`` (the
    pusher's stream, which the signer is safe from: see tree.sync_tree)."""
    sig_error: List[BaseException] = []

    def signer() -> None:
        try:
            tree.tree_signature(path, out, checksum=checksum, threads=threads)
        except BaseException as e:
            sig_error.append(e)
            # The sender then sees the signature stream end and stops, which
            # ends our delta stream too: the patch below fails and we report
            # this, the real cause.
            with contextlib.suppress(OSError):
                out.close()

    t = threading.Thread(target=signer, name="tree_signature", daemon=True)
    t.start()
    try:
        stats = tree.tree_patch(path, inp, dry_run=dry_run, delete=delete,
                                max_file_size=max_file_size)
    except BaseException:
        if sig_error:
            raise sig_error[0] from None
        raise
    # The sender read the signature's end record before it wrote the delta's,
    # so the signer has written everything and is returning.
    t.join()
    if sig_error:
        raise sig_error[0]
    return stats


# --- single files: librsync's streams in frames ----------------------------------------

_FRAME = struct.Struct(">I")
_MAX_FRAME = 1 << 20


class _FrameWriter:
    """An output for the library that frames what it is given."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.nbytes = 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        for i in range(0, len(view), _MAX_FRAME):
            part = view[i:i + _MAX_FRAME]
            self._raw.write(_FRAME.pack(len(part)))
            self._raw.write(part)
        self.nbytes += len(view)
        return len(view)

    def end(self) -> None:
        self._raw.write(_FRAME.pack(0))
        self._raw.flush()


class _FrameReader(io.RawIOBase):
    """Reads the framed stream's content up to its end frame, never further."""

    def __init__(self, raw: Any, what: str) -> None:
        super().__init__()
        self._raw = raw
        self._what = what
        self._left = 0
        self._done = False
        self.nbytes = 0

    def readable(self) -> bool:
        return True

    def _exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            part = self._raw.read(n - len(data))
            if not part:
                raise InputEndedError(RS_INPUT_ENDED, f"the {self._what} ended after "
                                      f"{self.nbytes} bytes, before its end frame")
            data += part
        return data

    def readinto(self, buf: Any) -> int:
        while not self._done and self._left == 0:
            (n,) = _FRAME.unpack(self._exact(_FRAME.size))
            if n > _MAX_FRAME:
                raise CorruptDataError(RS_CORRUPT, f"a frame of {n} bytes in the "
                                       f"{self._what} (the limit is {_MAX_FRAME})")
            self._left = n
            self._done = n == 0
        if self._done:
            return 0
        view = memoryview(buf).cast("B")
        data = self._raw.read(min(len(view), self._left))
        if not data:
            self._exact(1)  # raises: the stream ended inside a frame
        view[:len(data)] = data
        self._left -= len(data)
        self.nbytes += len(data)
        return len(data)

    def finish(self) -> None:
        """Read up to the end frame (what the library left unread)."""
        while self.readinto(bytearray(65536)):
            pass


def _umask() -> int:
    """The process's umask, read without changing it where the system says
    (os.umask would set it, for every thread, while it is read)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _send_file(path: str, inp: Any, out: Any) -> tree.TreeStats:
    """A sender of one file: its delta against the framed signature read."""
    reader = _FrameReader(inp, "signature stream")
    # The peer chose this signature: its size is bounded before it is
    # loaded, and the delta search is bounded per byte by the engine.
    sig = librsync.load_signature(reader, max_blocks=_MAX_SIG_BLOCKS)
    reader.finish()
    writer = _FrameWriter(out)
    seen: List[librsync.Stats] = []
    with open(path, "rb") as f:
        librsync.delta(f, sig, writer, stats=seen.append)
    writer.end()
    st = seen[0]
    return tree.TreeStats(files=1, files_new=int(st.copy_bytes == 0 and st.lit_bytes > 0),
                          files_changed=int(st.copy_bytes > 0), file_bytes=st.in_bytes,
                          literal_bytes=st.lit_bytes, copied_bytes=st.copy_bytes,
                          signature_bytes=reader.nbytes, delta_bytes=writer.nbytes)


def _receive_file(path: str, inp: Any, out: Any, dry_run: bool, bar: Any,
                  max_length: Optional[int] = None) -> tree.TreeStats:
    """A receiver of one file: sign ``path``, then patch it from the delta.

    As in a tree, the file's own name is never followed: a symlink there
    (one a peer made in an earlier sync, say) is replaced by the file, as
    rsync does, and neither read as the old version nor written through.
    The file is replaced atomically and keeps its permission bits."""
    directory, name = os.path.split(path)
    if not name or name in (".", ".."):
        raise IsADirectoryError(errno.EISDIR, "is a directory, and the source is a file",
                                path)
    d = tree._Dir.existing(directory or os.curdir, dry_run)
    try:
        st = d.lstat(name)
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory, and the source is a "
                                    "file", path)
        regular = st is not None and stat.S_ISREG(st.st_mode)
        basis: Any = d.open_basis(name) if regular else b""
        temp = None
        try:
            writer = _FrameWriter(out)
            librsync.signature(basis, writer)
            writer.end()
            reader = _FrameReader(inp, "delta stream")
            delta = bar.counting(reader) if bar is not None else reader
            if not isinstance(basis, bytes):
                basis.seek(0)
            if dry_run:
                # Patched into a spooled file that is thrown away, to check it.
                librsync.patch(basis, delta, None, max_length=max_length).close()
            else:
                temp = d.temp()
                with open(temp.fd, "wb", buffering=0, closefd=False) as f:
                    librsync.patch(basis, delta, f, max_length=max_length)
            reader.finish()
            if temp is not None:
                if not isinstance(basis, bytes):
                    basis.close()  # before the rename: Windows cannot replace an open file
                mode = (stat.S_IMODE(st.st_mode) if regular and st is not None
                        else 0o666 & ~_umask())
                d.commit(temp, name, mode, time.time_ns())
                temp = None
        finally:
            if temp is not None:
                d.discard(temp)
            if not isinstance(basis, bytes):
                basis.close()
    finally:
        d.close()
    return tree.TreeStats(files=1, signature_bytes=writer.nbytes,
                          delta_bytes=reader.nbytes, dry_run=dry_run)


# --- the local side: parsing what the serve side says ---------------------------------

#: The longest closing line read (its JSON statistics included).
_MAX_TRAILER = 1 << 16


def parse_greeting(line: bytes, host: str) -> str:
    """The kind (``file`` or ``tree``) a serve side's greeting line says it
    sends; CliError (exit 2) for anything else."""
    words = line.decode("ascii", "replace").split()
    if len(words) != 4 or words[0] != GREETING or words[3] not in ("file", "tree"):
        raise CliError(EXIT_PROTOCOL, f"{host} answered {line[:60]!r}, not a "
                       f"{PROG} serve greeting (does the remote shell print "
                       "something at login?)")
    if words[1] != str(PROTOCOL):
        raise CliError(EXIT_PROTOCOL, f"{host} runs {PROG} {words[2][:40]}, which speaks "
                       f"protocol {words[1][:20]}; this {PROG} {librsync.__version__} "
                       f"speaks {PROTOCOL}")
    return words[3]


def parse_trailer(line: bytes, host: str) -> tree.TreeStats:
    """The statistics of a serve side's closing line; CliError (exit 12) if
    it is not one."""
    words = line.decode("utf-8", "replace").split(" ", 1)
    if words[0] != TRAILER or len(words) != 2 or not line.endswith(b"\n"):
        raise CliError(EXIT_STREAM, f"{host} sent a bad closing line: {line[:80]!r}")
    try:
        return _stats_from(json.loads(words[1]))
    except (ValueError, TypeError, RecursionError):
        raise CliError(EXIT_STREAM, f"{host} sent a bad closing line: "
                       f"{line[:80]!r}") from None


# --- the local side: the rsh child ------------------------------------------------------

class _Remote:
    """The rsh child running ``serve`` on the other side, and its stderr."""

    def __init__(self, opts: argparse.Namespace, loc: Location, role: str,
                 flags: List[str]) -> None:
        assert loc.host is not None
        self.host = loc.host
        rsh = opts.rsh if opts.rsh is not None else DEFAULT_RSH
        remote_cmd = opts.remote_cmd if opts.remote_cmd is not None else DEFAULT_REMOTE_CMD
        try:
            rsh_argv = shlex.split(rsh)
        except ValueError as e:
            raise CliError(EXIT_SYNTAX, f"Bad --rsh command {rsh!r}: {e}") from None
        if not rsh_argv:
            raise CliError(EXIT_SYNTAX, "The --rsh command is empty")
        # ssh joins its arguments with spaces for the remote shell, so the
        # command goes as one string, quoted for that shell.
        # --role=PATH, one word: a PATH starting with "-" is not an option.
        command = " ".join([remote_cmd, "serve", "--protocol", str(PROTOCOL), *flags,
                            shlex.quote(f"--{role}={loc.path}")])
        self.argv = [*rsh_argv, loc.host, command]
        self.remote_cmd = remote_cmd
        self.lines: List[str] = []
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as e:
            raise CliError(EXIT_RSH, f"Failed to run the rsh command {rsh_argv[0]!r}: "
                           f"{e.strerror or e}") from None
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr
        self.stdin: IO[bytes] = self.proc.stdin
        stdout: IO[bytes] = self.proc.stdout
        self.watch: Optional[_cli_timeout.Watch] = None
        if opts.timeout:
            self.watch = _cli_timeout.Watch(opts.timeout)
            self.stdin = _cli_timeout.TimedWriter(self.proc.stdin, self.watch,  # type: ignore[assignment]
                                                  self.host)
            stdout = io.BufferedReader(_cli_timeout.TimedReader(
                self.proc.stdout, self.watch, self.host), 1 << 16)
        self.stdout = _WatchedReader(stdout)
        self._rc: Optional[int] = None
        self._err_thread = threading.Thread(target=self._forward, args=(self.proc.stderr,),
                                            name="remote stderr", daemon=True)
        self._err_thread.start()

    def _forward(self, err: IO[bytes]) -> None:
        # Live, so that ssh's questions and warnings are seen when they come.
        for raw in iter(lambda: err.readline(_MAX_ERR_LINE), b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line.strip():
                continue
            if line.startswith(f"{PROG}: "):
                line = line[len(PROG) + 2:]
            self.lines = (self.lines + [line])[-_KEEP_LINES:]
            say(f"{self.host}: {line}")
        err.close()

    def greet(self) -> None:
        """Read the serve side's greeting; fail clearly if it is not there.
        Sets ``kind``: what a sender sends, ``file`` or ``tree``."""
        line = self.stdout.readline(200)
        if not line:
            raise self.failed("before it answered")
        self.kind = parse_greeting(line, self.host)

    def trailer(self) -> tree.TreeStats:
        """The serve side's closing line: its step completed."""
        line = self.stdout.readline(_MAX_TRAILER)
        if not line.startswith(f"{TRAILER} ".encode()):
            raise self.failed("before it finished")
        return parse_trailer(line, self.host)

    def close(self, ok: bool) -> int:
        """Close our ends, wait for the child (killing it if it lingers after
        a failure) and return its exit status.  Once: a second call returns
        the same status at once."""
        if self._rc is not None:
            return self._rc
        for f in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):
                f.close()
        if self.timed_out() is not None:
            # Silent for --timeout already: no grace period.
            self.proc.kill()
        try:
            rc = self.proc.wait(None if ok else _EXIT_WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self._err_thread.join(_EXIT_WAIT if ok else _ERR_WAIT)
        self._rc = rc
        return rc

    def timed_out(self) -> Optional[_cli_timeout.IOTimeout]:
        return self.watch.timed_out if self.watch is not None else None

    def failed(self, when: str) -> CliError:
        """Why the other side stopped ``when``, from its status and stderr."""
        rc = self.close(ok=False)
        timeout = self.timed_out()
        if timeout is not None:
            return _timeout_error(timeout, when)
        said = " ".join(self.lines)
        if rc == EXIT_RSH:
            what = ("could not connect to" if when == "before it answered"
                    else "lost the connection to")
            return CliError(EXIT_RSH, f"the rsh command failed (exit status 255) {when}: "
                            f"{what} {self.host!r}")
        if "No module named librsync" in said or rc == 127:
            return CliError(EXIT_PROTOCOL, f"{self.host} cannot run `{self.remote_cmd}' "
                            "(is librsync installed there? pip install librsync, or give "
                            "--remote-cmd)")
        if rc == 101 and when == "before it answered":
            # rdiff's usage status: a librsync from before `serve' existed.
            return CliError(EXIT_PROTOCOL, f"the {PROG} that `{self.remote_cmd}' runs on "
                            f"{self.host} has no `serve' (an older version?); it must "
                            f"speak protocol {PROTOCOL}")
        if rc < 0:
            return CliError(EXIT_STREAM, f"the remote side on {self.host} was killed by "
                            f"signal {-rc} {when}")
        if rc in (EXIT_SYNTAX, EXIT_PROTOCOL, EXIT_SELECT, EXIT_SOCKET_IO, EXIT_FILE_IO,
                  EXIT_STREAM, EXIT_INTERRUPTED):
            return CliError(rc, f"the remote side on {self.host} failed {when} "
                            f"(exit status {rc})")
        return CliError(EXIT_STREAM, f"the connection to {self.host} ended {when} "
                        f"(remote exit status {rc})")


class _WatchedReader:
    """The remote's stdout, remembering whether it ended or failed: a step
    that fails after that is told the remote's story, any other failure
    (our disk, a stream we refuse) is ours to report."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.broken = False

    def _check(self, data: bytes) -> bytes:
        if not data:
            self.broken = True
        return data

    def read(self, size: int = -1) -> bytes:
        try:
            return self._check(self._raw.read(size))
        except OSError:
            self.broken = True
            raise

    def readinto(self, buf: Any) -> int:
        try:
            n = self._raw.readinto(buf)
        except OSError:
            self.broken = True
            raise
        if not n and len(memoryview(buf)):
            self.broken = True
        return n

    def readline(self, size: int = -1) -> bytes:
        try:
            return self._check(self._raw.readline(size))
        except OSError:
            self.broken = True
            raise

    def close(self) -> None:
        self._raw.close()


def _remote_or_ours(remote: _Remote, e: BaseException, doing: str,
                    when: str = "during the transfer") -> CliError:
    """The error to report for ``e``, raised by a step that talks to
    ``remote``: the remote's own story when its stream ended or broke (or
    our writes to it did), else ours, with its reason (a full disk, a stream
    we refused)."""
    if isinstance(e, _cli_timeout.IOTimeout):
        return _timeout_error(e, when)
    if (remote.stdout.broken or isinstance(e, (InputEndedError, BrokenPipeError,
                                               ConnectionError))):
        return remote.failed(when)
    remote.close(ok=False)
    if isinstance(e, LibrsyncError):
        return CliError(EXIT_STREAM, f"Failed {doing}: the stream from {remote.host} was "
                        f"refused: {_describe(e)}")
    return _failure(e, doing)


class _CountingWriter:
    """A writer that moves the progress bar by the bytes sent."""

    def __init__(self, raw: IO[bytes], bar: Any) -> None:
        self._raw = raw
        self._bar = bar

    def write(self, data: Any) -> int:
        n = self._raw.write(data)
        self._bar.update(len(data))
        return n

    def flush(self) -> None:
        self._raw.flush()


@contextlib.contextmanager
def _no_sigpipe() -> Iterator[None]:
    """A dead remote must be an error we report (BrokenPipeError), not the
    silent death by SIGPIPE that ``main`` asks for rdiff's sake."""
    if not hasattr(signal, "SIGPIPE") or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGPIPE, old)


def _tree_size(path: str) -> Optional[int]:
    """The bytes of the regular files under ``path``, for the bar's total."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                st = os.lstat(os.path.join(dirpath, name))
                if stat.S_ISREG(st.st_mode):
                    total += st.st_size
    return total


def _push(opts: argparse.Namespace, src: str, dst: Location) -> Tuple[tree.TreeStats,
                                                                       tree.TreeStats]:
    """Local tree or file ``src`` to a remote receiver: (our delta stats, its
    patch stats)."""
    flags = ["--dry-run"] if opts.dry_run else []
    if opts.max_length is not None:
        flags += ["--max-length", str(opts.max_length)]
    if os.path.isfile(src):
        flags.append("--file")
        name = _file_name(src)
        if name is not None:
            # The receiver puts the file inside PATH if that is a directory.
            flags += ["--file-name", shlex.quote(name)]
    elif os.path.isdir(src):
        flags += _tree_flags(opts, [f for f, on in (("--delete", opts.delete),
                                                    ("--checksum", opts.checksum)) if on])
    else:
        raise _no_source(src)
    remote = _Remote(opts, dst, "receiver", flags)
    ok = False
    try:
        remote.greet()
        if os.path.isfile(src):
            total: Optional[int] = os.path.getsize(src)
        else:
            total = _tree_size(src) if not opts.quiet else None
        with progress(opts.quiet, total, "sync") as bar:
            out: Any = _CountingWriter(remote.stdin, bar) if bar.active else remote.stdin
            try:
                if "--file" in flags:
                    sent = _send_file(src, remote.stdout, out)
                else:
                    sent = tree.tree_delta(src, remote.stdout, out, delete=opts.delete,
                                           checksum=opts.checksum, threads=opts.threads)
                remote.stdin.close()
            except (LibrsyncError, OSError) as e:
                if isinstance(e, OSError) and e.filename is not None:
                    raise _failure(e, "reading the source") from None
                # A broken pipe or a cut stream: the remote's story is the real one.
                raise _remote_or_ours(remote, e, "sending") from None
        got = remote.trailer()
        ok = True
    finally:
        rc = remote.close(ok)
    if rc != 0:
        raise remote.failed("after the transfer")
    return sent, got


def _tree_flags(opts: argparse.Namespace, flags: List[str]) -> List[str]:
    """The serve side's options for a tree sync: ``flags``, and -j N (the
    threads for big files' signatures and deltas apply on both sides)."""
    return flags + (["-j", str(opts.threads)] if opts.threads != 1 else [])


def _pull(opts: argparse.Namespace, src: Location, dst: str) -> Tuple[tree.TreeStats,
                                                                       tree.TreeStats]:
    """A remote sender's tree or file into local ``dst``: (its delta stats,
    our patch stats)."""
    flags = _tree_flags(opts, [f for f, on in (("--delete", opts.delete),
                                               ("--checksum", opts.checksum)) if on])
    remote = _Remote(opts, src, "sender", flags)
    ok = False
    sig_error: List[BaseException] = []

    def signer() -> None:
        try:
            with remote.stdin:
                tree.tree_signature(dst, remote.stdin, checksum=opts.checksum,
                                    threads=opts.threads)
        except BaseException as e:
            sig_error.append(e)
            with contextlib.suppress(OSError):
                remote.stdin.close()

    try:
        remote.greet()
        t = threading.Thread(target=signer, name="tree_signature", daemon=True)
        if remote.kind == "tree":
            t.start()
        with progress(opts.quiet, None, "sync") as bar:
            try:
                if remote.kind == "file":
                    got = _receive_file(into_directory(src.path, dst), remote.stdout,
                                        remote.stdin, opts.dry_run, bar, opts.max_length)
                else:
                    got = tree.tree_patch(dst, bar.counting(remote.stdout),
                                          dry_run=opts.dry_run, delete=opts.delete,
                                          max_file_size=opts.max_length)
            except (LibrsyncError, OSError) as e:
                if sig_error and not isinstance(sig_error[0], BrokenPipeError):
                    raise _failure(sig_error[0], "signing the destination") from None
                raise _remote_or_ours(remote, e, "receiving") from None
        if t.is_alive() or remote.kind == "tree":
            t.join()
        if sig_error:
            if isinstance(sig_error[0], BrokenPipeError):
                raise remote.failed("during the transfer")
            raise _failure(sig_error[0], "signing the destination")
        sent = remote.trailer()
        ok = True
    finally:
        rc = remote.close(ok)
    if rc != 0:
        raise remote.failed("after the transfer")
    return sent, got


def _timeout_error(e: _cli_timeout.IOTimeout, when: str) -> CliError:
    return CliError(EXIT_TIMEOUT, f"Timeout {when}: {e.strerror} (--timeout {e.seconds:g}); "
                    "stopped")


def _no_source(path: str) -> CliError:
    if not os.path.lexists(path):
        return CliError(EXIT_SELECT, f'Failed, no such file or directory: "{path}"')
    return CliError(EXIT_SELECT, f'Failed, "{path}" is neither a directory nor a regular '
                    "file")


# --- sync -----------------------------------------------------------------------------

def into_directory(source: str, dest: str) -> str:
    """Where a file ``source`` goes when synced to ``dest``: inside it, as
    ``dest/NAME``, when ``dest`` is an existing directory (rsync's rule for
    ``rsync file dir/``), else ``dest`` itself."""
    if not os.path.isdir(dest):
        return dest
    name = _file_name(source)
    if name is None:
        raise CliError(EXIT_SELECT, f'Failed, "{dest}" is a directory and the source '
                       "has no file name to give the file in it")
    return os.path.join(dest, name)


def _file_name(path: str) -> Optional[str]:
    """The last component of a file's path (None for standard input, or a
    path that names no file such as ``.``)."""
    name = path.replace(os.sep, "/").rsplit("/", 1)[-1]
    return None if name in ("", ".", "..", "-") else name


def is_tree_sync(source: str, dest: str) -> bool:
    """Whether ``sync SOURCE DEST`` is ours (a tree or a remote side)
    rather than the rdiff-style local file sync."""
    if parse_location(source).host is not None or parse_location(dest).host is not None:
        return True
    return os.path.isdir(source)


def cmd_tree_sync(opts: argparse.Namespace, source: str, dest: str) -> int:
    """sync SOURCE DESTINATION for directory trees, either side possibly
    remote.  Exit statuses are rsync's."""
    src, dst = parse_location(source), parse_location(dest)
    try:
        with _no_sigpipe():
            if src.host is not None and dst.host is not None:
                raise CliError(EXIT_SYNTAX, "The source and destination cannot both be "
                               "remote", usage=True)
            if dst.host is not None:
                sent, got = _push(opts, src.path, dst)
                stats = _merge(sent, got)
            elif src.host is not None:
                sent, got = _pull(opts, src, dst.path)
                stats = _merge(sent, got)
            else:
                stats = _local(opts, src.path, dst.path)
    except CliError:
        raise
    except KeyboardInterrupt:
        raise CliError(EXIT_INTERRUPTED, "Interrupted.") from None
    except _cli_timeout.IOTimeout as e:
        raise _timeout_error(e, "waiting for the remote side") from None
    except (LibrsyncError, OSError, ValueError) as e:
        raise _failure(e, "syncing") from None
    _summary(opts, dest, stats)
    return 0


def _local(opts: argparse.Namespace, src: str, dst: str) -> tree.TreeStats:
    if not os.path.isdir(src):
        raise _no_source(src)
    if os.path.lexists(dst) and not os.path.isdir(dst):
        raise CliError(EXIT_SELECT, f'Failed, "{dst}" is not a directory, and the source '
                       "is one")
    return tree.sync_tree(src, dst, delete=opts.delete, checksum=opts.checksum,
                          dry_run=opts.dry_run, threads=opts.threads,
                          max_file_size=opts.max_length)


def _merge(sent: tree.TreeStats, got: tree.TreeStats) -> tree.TreeStats:
    """One TreeStats from both ends: the sender knows literal and copied
    bytes, the receiver what it did (deleted, dry run); each counted one of
    the streams."""
    stats = dataclasses.replace(sent)
    stats.deleted = got.deleted
    stats.dry_run = got.dry_run
    stats.signature_bytes = sent.signature_bytes or got.signature_bytes
    stats.delta_bytes = sent.delta_bytes or got.delta_bytes
    return stats


def _summary(opts: argparse.Namespace, dest: str, st: tree.TreeStats) -> None:
    wire = st.signature_bytes + st.delta_bytes
    if opts.statistics:
        print(f"Number of files: {st.files} (new {st.files_new}, changed {st.files_changed}, "
              f"unchanged {st.files_unchanged}), directories: {st.dirs}, "
              f"symlinks: {st.symlinks}, deleted: {st.deleted}")
        print(f"Total file size: {st.file_bytes} bytes")
        print(f"Literal data: {st.literal_bytes} bytes")
        print(f"Copied data: {st.copied_bytes} bytes")
        print(f"Signature stream: {st.signature_bytes} bytes")
        print(f"Delta stream: {st.delta_bytes} bytes")
        saving = 100.0 * (st.file_bytes - wire) / st.file_bytes if st.file_bytes else 0.0
        speedup = st.file_bytes / wire if wire else 0.0
        shown = f"{saving:.1f}".replace("-0.0", "0.0")  # sent whole: no saving, not less
        print(f"Bytes on the wire: {wire} ({shown}% saved, speedup {speedup:.2f})")
    if not opts.quiet:
        dry = " (dry run, nothing changed)" if st.dry_run else ""
        print(f"{dest}: {st.files} files ({st.files_new} new, {st.files_changed} changed, "
              f"{st.deleted} deleted), {st.literal_bytes} bytes literal, "
              f"{st.copied_bytes} bytes copied, {wire} bytes on the wire{dry}")
    sys.stdout.flush()


__all__ = ["cmd_serve", "cmd_tree_sync", "into_directory", "is_tree_sync", "parse_location", "Location",
           "PROTOCOL"]
