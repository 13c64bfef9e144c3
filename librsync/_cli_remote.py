"""``librsync sync`` for directory trees and remote sides, and ``serve``:
the command line's layer over :mod:`librsync.sync` (protocol 3).

A remote side is ``[user@]host:path``.  The local side starts
``RSH HOST 'REMOTE_CMD serve --protocol 3 [OPTIONS] --receiver=PATH'`` (or
``--sender=PATH``; ``ssh`` and ``python3 -m librsync`` by default) and the
two run :func:`librsync.sync.send` and :func:`librsync.sync.receive` over
the child's stdin and stdout:

- the serve side first writes one greeting line,
  ``LRSYNC-SERVE <protocol> <version> <kind>\n``, so that a remote shell
  printing junk, a missing librsync or another protocol version is told
  apart from a broken stream before anything is read as a stream;
- then the protocol's own messages, both ways (see ``librsync/sync``);
- after them the serve side writes one trailer line,
  ``LRSYNC-DONE <json SyncStats>\n``: proof that its role completed, and
  the numbers the local side cannot know (what a push deleted, say).

Errors of the serve side go to its stderr, which the local side forwards
line by line.  Exit statuses for tree and remote syncs follow rsync's where
they fit (the rdiff commands, and ``sync`` of a local file, keep librsync's
codes).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
from typing import IO, Any, Dict, Iterator, List, NamedTuple, Optional, Tuple

import librsync
from librsync import _cli_timeout, sync
from librsync._cli_io import PROG, CliError, progress, say
from librsync.exceptions import BadMagicError, InputEndedError, LibrsyncError

#: Version of the serve protocol: the greeting and trailer around
#: librsync.sync's messages (3: the file list first).
PROTOCOL = 3
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


def _stats_dict(st: sync.SyncStats) -> Dict[str, Any]:
    d = dataclasses.asdict(st)
    d["skipped"] = [list(x) for x in st.skipped[:100]]
    return d


def _stats_from(d: Any) -> sync.SyncStats:
    """The SyncStats of a peer's trailer, checked field by field: a peer's
    numbers are shown and added up, so each must be what it claims to be."""
    if not isinstance(d, dict):
        raise ValueError("the statistics are not a JSON object")
    fields = {f.name for f in dataclasses.fields(sync.SyncStats)}
    got: Dict[str, Any] = {}
    for key, value in d.items():
        if key not in fields:
            continue  # a newer peer's extra numbers
        if key == "dry_run":
            if not isinstance(value, bool):
                raise ValueError(f"{key} is not true or false")
        elif key == "skipped":
            if not (isinstance(value, list) and len(value) <= 100 and all(
                    isinstance(x, list) and len(x) == 2
                    and all(isinstance(y, str) and len(y) < 8192 for y in x)
                    for x in value)):
                raise ValueError(f"{key} is not a list of (path, reason)")
            value = [tuple(x) for x in value]
        elif (not isinstance(value, int) or isinstance(value, bool)
              or not 0 <= value < 1 << 63):
            raise ValueError(f"{key} is not a count")
        got[key] = value
    return sync.SyncStats(**got)


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
    kind = "file" if opts.sender is not None and os.path.isfile(opts.sender) else "tree"
    out.write(f"{GREETING} {PROTOCOL} {librsync.__version__} {kind}\n".encode())
    out.flush()
    if opts.protocol != PROTOCOL:
        raise CliError(EXIT_PROTOCOL, f"{PROG} {librsync.__version__} on this side speaks "
                       f"protocol {PROTOCOL}, not {opts.protocol}")
    try:
        if opts.sender is not None:
            stats = sync.send(opts.sender, inp, out, compress=opts.compress,
                              threads=opts.threads)
        else:
            stats = sync.receive(opts.receiver, inp, out, delete=opts.delete,
                                 checksum=opts.checksum, dry_run=opts.dry_run,
                                 compress=opts.compress, fsync=opts.fsync,
                                 max_file_size=opts.max_length)
    except CliError:
        raise
    except BaseException as e:
        raise _failure(e, "sending" if opts.sender is not None else "receiving") from None
    out.write(f"{TRAILER} {json.dumps(_stats_dict(stats))}\n".encode())
    out.flush()
    return 0


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


def parse_trailer(line: bytes, host: str) -> sync.SyncStats:
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

    def trailer(self) -> sync.SyncStats:
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

    def __init__(self, raw: Any) -> None:
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
                                               ConnectionError, sync.PeerError))):
        return remote.failed(when)
    remote.close(ok=False)
    if isinstance(e, LibrsyncError):
        return CliError(EXIT_STREAM, f"Failed {doing}: the stream from {remote.host} was "
                        f"refused: {_describe(e)}")
    return _failure(e, doing)


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


def _tree_size(path: str) -> int:
    """The bytes of the regular files under ``path``, for the bar's total."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                st = os.lstat(os.path.join(dirpath, name))
                if st.st_mode & 0o170000 == 0o100000:
                    total += st.st_size
    return total


def _serve_flags(opts: argparse.Namespace, receiver: bool) -> List[str]:
    """What the serve side is told: the options that are its to apply."""
    on = [("--compress", opts.compress), ("--checksum", opts.checksum)]
    if receiver:
        on += [("--delete", opts.delete), ("--dry-run", opts.dry_run),
               ("--fsync", opts.fsync)]
    flags = [f for f, wanted in on if wanted]
    if receiver and opts.max_length is not None:
        flags += ["--max-length", str(opts.max_length)]
    return flags + (["-j", str(opts.threads)] if opts.threads != 1 else [])


def _push(opts: argparse.Namespace, src: str, dst: Location) -> Tuple[sync.SyncStats,
                                                                       sync.SyncStats]:
    """Local tree or file ``src`` to a remote receiver: (our stats, its)."""
    if not (os.path.isdir(src) or os.path.isfile(src)):
        raise _no_source(src)
    remote = _Remote(opts, dst, "receiver", _serve_flags(opts, receiver=True))
    ok = False
    try:
        remote.greet()
        total = None if opts.quiet else (
            os.path.getsize(src) if os.path.isfile(src) else _tree_size(src))
        try:
            with progress(opts.quiet, total, "sync") as bar:
                out: Any = _CountingWriter(remote.stdin, bar) if bar.active else remote.stdin
                sent = sync.send(src, remote.stdout, out, compress=opts.compress,
                                 threads=opts.threads)
            remote.stdin.close()
        except (LibrsyncError, OSError) as e:
            if isinstance(e, OSError) and e.filename is not None:
                raise _failure(e, "reading the source") from None
            raise _remote_or_ours(remote, e, "sending") from None
        got = remote.trailer()
        ok = True
    finally:
        rc = remote.close(ok)
    if rc != 0:
        raise remote.failed("after the transfer")
    return sent, got


def _pull(opts: argparse.Namespace, src: Location, dst: str) -> Tuple[sync.SyncStats,
                                                                       sync.SyncStats]:
    """A remote sender's tree or file into local ``dst``: (its stats, ours)."""
    remote = _Remote(opts, src, "sender", _serve_flags(opts, receiver=False))
    ok = False
    try:
        remote.greet()
        try:
            with progress(opts.quiet, None, "sync") as bar:
                got = sync.receive(dst, bar.counting(remote.stdout), remote.stdin,
                                   delete=opts.delete, checksum=opts.checksum,
                                   dry_run=opts.dry_run, compress=opts.compress,
                                   fsync=opts.fsync, max_file_size=opts.max_length)
            remote.stdin.close()
        except (LibrsyncError, OSError) as e:
            raise _remote_or_ours(remote, e, "receiving") from None
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


def _local(opts: argparse.Namespace, src: str, dst: str) -> sync.SyncStats:
    if not os.path.isdir(src):
        raise _no_source(src)
    if os.path.lexists(dst) and not os.path.isdir(dst):
        raise CliError(EXIT_SELECT, f'Failed, "{dst}" is not a directory, and the source '
                       "is one")
    return sync.sync(src, dst, delete=opts.delete, checksum=opts.checksum,
                     dry_run=opts.dry_run, fsync=opts.fsync, threads=opts.threads,
                     max_file_size=opts.max_length)


def _merge(sent: sync.SyncStats, got: sync.SyncStats) -> sync.SyncStats:
    """One SyncStats for the summary: the receiver's view (it knows what it
    did), the bytes as this side saw them."""
    return got


def _summary(opts: argparse.Namespace, dest: str, st: sync.SyncStats) -> None:
    wire = st.bytes_sent + st.bytes_received
    for path, reason in st.skipped:
        say(f"{path}: not synced: {reason}")
    if opts.statistics:
        print(f"Number of files: {st.files} (new {st.files_new}, changed {st.files_changed}, "
              f"unchanged {st.files_unchanged}), directories: {st.dirs}, "
              f"symlinks: {st.symlinks}, deleted: {st.deleted}")
        print(f"Total file size: {st.file_bytes} bytes")
        print(f"Literal data: {st.literal_bytes} bytes")
        print(f"Matched data: {st.matched_bytes} bytes")
        print(f"Bytes sent: {st.bytes_sent}")
        print(f"Bytes received: {st.bytes_received}")
        saving = 100.0 * (st.file_bytes - wire) / st.file_bytes if st.file_bytes else 0.0
        speedup = st.file_bytes / wire if wire else 0.0
        shown = f"{saving:.1f}".replace("-0.0", "0.0")  # sent whole: no saving, not less
        print(f"Bytes on the wire: {wire} ({shown}% saved, speedup {speedup:.2f})")
    if not opts.quiet:
        dry = " (dry run, nothing changed)" if st.dry_run else ""
        print(f"{dest}: {st.files} files ({st.files_new} new, {st.files_changed} changed, "
              f"{st.deleted} deleted), {st.literal_bytes} bytes literal, "
              f"{st.matched_bytes} bytes matched, {wire} bytes on the wire{dry}")
    sys.stdout.flush()


__all__ = ["cmd_serve", "cmd_tree_sync", "into_directory", "is_tree_sync", "parse_location",
           "Location", "PROTOCOL"]
