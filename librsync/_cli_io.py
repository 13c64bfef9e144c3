"""The command line's terminal side: files as rdiff opens them, standard
output, the progress bar, statistics lines and failures reported rdiff's way.

Nothing here parses a command line or runs a job; ``cli.py`` parses and
``_cli_commands.py`` runs.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import stat
import sys
import threading
import time
from typing import IO, Any, Iterator, List, NoReturn, Optional

import librsync
from librsync import _files, _format
from librsync.exceptions import RS_IO_ERROR, RS_SYNTAX_ERROR

#: The name in messages and help.  Fixed rather than taken from argv[0] so
#: that ``python -m librsync`` reads the same as the ``librsync`` script.
PROG = "librsync"

#: Seconds an operation must run before its progress bar appears, so that
#: quick commands in an interactive loop do not flash bars.  Overridable
#: (LIBRSYNC_PROGRESS_DELAY) mainly so tests need not make slow inputs.
DEFAULT_PROGRESS_DELAY = 0.5

log = logging.getLogger("librsync.cli")


# --- failures ------------------------------------------------------------------

class CliError(Exception):
    """A failure to report as ``librsync: MESSAGE`` with exit status ``code``.

    ``usage`` adds rdiff's "Try --help" line, as rdiff does for command-line
    mistakes."""

    def __init__(self, code: int, message: str, usage: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.usage = usage


def usage_error(message: str, code: int = RS_SYNTAX_ERROR) -> NoReturn:
    raise CliError(code, message, usage=True)


def say(message: str) -> None:
    """One line on stderr, prefixed as rdiff prefixes its messages."""
    sys.stderr.write(f"{PROG}: {message}\n")
    sys.stderr.flush()


# --- signals ---------------------------------------------------------------------

class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP, raised as Ctrl-C's KeyboardInterrupt is, so
    that the same unwinding runs: a path output's temporary file is removed,
    a tree sync's temporaries too, and the exit status is the documented
    one for an interruption rather than death by the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_unwinding = False


def _on_signal(signum: int, frame: Any) -> None:
    global _unwinding
    if _unwinding:
        return  # already on the way out: a repeat, or one of _nudge's
    _unwinding = True
    raise Interrupted(signum)


def _nudge(wakeup: int, main: int) -> None:
    """Make sure the main thread runs the handler.

    Python runs a signal handler only when the main thread next executes
    Python code, or when a system call of the main thread fails with EINTR.
    A signal that lands just before a blocking read (of a FIFO whose writer
    has gone quiet) -- or that the kernel gives another thread -- would wait
    for that read to return, possibly forever.  Python's C-level handler
    writes each signal's number to the wakeup descriptor, which this thread
    reads; it then sends the signal to the main thread itself, again until
    the handler has run, so that the blocking call fails with EINTR."""
    while True:
        try:
            got = os.read(wakeup, 64)
        except OSError:
            return
        if not got:
            return
        while not _unwinding:
            signal.pthread_kill(main, got[-1])
            time.sleep(0.05)


def catch_signals() -> None:
    """Turn SIGINT, SIGTERM and SIGHUP into :class:`Interrupted`, for a real
    command line (never for ``main()`` called from Python, whose signals are
    its caller's).  A signal that is ignored (``nohup``, ``&`` in a script)
    stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set handlers (main() run in a thread)
    caught = False
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _on_signal)
            caught = True
    if caught and hasattr(signal, "pthread_kill") and os.name == "posix":
        r, w = os.pipe()
        os.set_blocking(w, False)
        for fd in (r, w):
            os.set_inheritable(fd, False)
        signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        threading.Thread(target=_nudge, args=(r, threading.main_thread().ident),
                         name="signal nudge", daemon=True).start()


# --- operands --------------------------------------------------------------------

def is_std(name: Optional[str]) -> bool:
    return name is None or name == "-"


def arg(args: List[str], i: int) -> Optional[str]:
    return args[i] if len(args) > i else None


def no_more_args(args: List[str], used: int) -> None:
    if len(args) > used:
        usage_error("Too many arguments.")


def open_input(name: Optional[str]) -> IO[bytes]:
    """Open an input as rdiff does, failing with its message and status 100.

    Unbuffered: the library reads into its own large buffer.  Standard input
    is wrapped, not closed, so it stays usable for a second ``-``."""
    if is_std(name):
        fd = sys.stdin.fileno() if sys.stdin is not None else 0
        return open(fd, "rb", buffering=0, closefd=False)
    assert name is not None  # is_std() took None
    try:
        return open(name, "rb", buffering=0)
    except OSError as e:
        raise CliError(RS_IO_ERROR,
                       f'Error opening "{name}" for read: {e.strerror}') from None


def open_seekable_input(name: Optional[str]) -> IO[bytes]:
    """``open_input`` for a patch basis, which is read at any offset."""
    f = open_input(name)
    try:
        seekable = f.seekable()
    except OSError:
        seekable = False
    if not seekable:
        f.close()
        # rdiff fails too, as an I/O error, at its first seek; we fail before
        # writing anything (rdiff would succeed on an all-literal delta).
        raise CliError(RS_IO_ERROR,
                       f"Failed, the basis {name or '-'} must be a seekable file, not a pipe")
    return f


def output(name: Optional[str], force: bool) -> Any:
    """What to pass the library as output: the path itself (a regular file
    replaced atomically, anything else written in place) or a
    standard-output writer.  Refuses an existing file
    without ``-f`` before any work is done, with rdiff's status (100)."""
    if is_std(name):
        return StdoutWriter()
    assert name is not None  # is_std() took None
    # rdiff tests existence by opening for reading, which follows symlinks;
    # exists() does the same, so a dangling link is written through as rdiff
    # would.
    if not force and os.path.exists(name):
        raise CliError(RS_IO_ERROR,
                       f'File exists "{name}", aborting! (use -f to overwrite)')
    return name


@contextlib.contextmanager
def output_errors(name: Optional[str]) -> Iterator[None]:
    """Report a failure to create output ``name`` as rdiff does (its name, not
    that of the temporary file the library writes beside it; status 100)."""
    try:
        yield
    except OSError as e:
        if name is None or is_std(name) or not isinstance(e.filename, str):
            raise
        if e.filename != name and not _files.is_temp_of(e.filename, name):
            raise
        raise CliError(RS_IO_ERROR, f'Error opening "{name}" for write: '
                                    f"{e.strerror or e}") from None


def regular_size(f: Any) -> Optional[int]:
    """Bytes left in ``f`` if it is a regular file, else None (pipes)."""
    try:
        st = os.fstat(f.fileno())
        if stat.S_ISREG(st.st_mode):
            return max(st.st_size - f.tell(), 0)
    except (AttributeError, OSError, ValueError):
        pass
    return None


def delta_output_size(name: Optional[str]) -> Optional[int]:
    """What patching with the delta file ``name`` will write, for the bar's
    total; None for standard input or a delta it cannot size cheaply."""
    if name is None or is_std(name):
        return None
    try:
        with open(name, "rb") as f:
            return _format.delta_output_size(f)
    except OSError:
        return None


class StdoutWriter(io.RawIOBase):
    """Standard output for the library's output argument.

    Deliberately not seekable: the library rewinds a seekable output file
    object after writing (so callers can read it back), which, when stdout is
    redirected to a file, would move the shell's shared file offset back and
    let later commands in ``{ ...; } > file`` overwrite our output."""

    def __init__(self) -> None:
        super().__init__()
        stdout = sys.stdout
        if stdout is not None:
            stdout.flush()  # anything printed before must come first
        fd = stdout.fileno() if stdout is not None else 1
        self._raw = open(fd, "wb", buffering=0, closefd=False)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> Optional[int]:
        return self._raw.write(data)

    def seekable(self) -> bool:
        return False


# --- progress --------------------------------------------------------------------

class CountingReader(io.RawIOBase):
    """Reads through to ``raw`` and moves a progress bar by the bytes read.

    Passes ``fileno``/``tell``/``seek`` through so the library still sees a
    regular file's size (signature defaults depend on it), unless
    ``hide_fd``: a patch basis without a descriptor is read with
    ``seek`` + ``readinto`` (which we can count) instead of ``pread``."""

    def __init__(self, raw: Any, progress: "Progress", hide_fd: bool = False) -> None:
        super().__init__()
        self._raw = raw
        self._progress = progress
        self._hide_fd = hide_fd

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> Optional[int]:
        n = self._raw.readinto(buf)
        if n:
            self._progress.update(n)
        return n

    def fileno(self) -> int:
        if self._hide_fd:
            raise io.UnsupportedOperation("fileno")
        return self._raw.fileno()

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        return self._raw.seek(pos, whence)

    def tell(self) -> int:
        return self._raw.tell()


def _load_tqdm() -> Any:
    try:
        from tqdm import tqdm
    except ImportError:  # the cli extra is optional: no bar, same results
        return None
    return tqdm


def _progress_delay() -> float:
    try:
        return max(float(os.environ["LIBRSYNC_PROGRESS_DELAY"]), 0.0)
    except (KeyError, ValueError):
        return DEFAULT_PROGRESS_DELAY


def want_bar(quiet: bool) -> bool:
    """Whether to draw a bar: not asked to be quiet, and stderr is a
    terminal (so never into logs or pipes)."""
    stderr = sys.stderr
    try:
        return not quiet and stderr is not None and stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


class Progress:
    """A byte-counting tqdm bar on stderr, or nothing at all.

    Drawn only when stderr is a terminal (never into logs or pipes), not
    ``-q``, and tqdm is importable; it appears after a short delay, so quick
    operations stay silent."""

    def __init__(self, enabled: bool, total: Optional[int], desc: str) -> None:
        self._bar = None
        tqdm = _load_tqdm() if enabled else None
        if tqdm is not None:
            self._bar = tqdm(
                total=total, desc=desc, unit="B", unit_scale=True,
                unit_divisor=1024, file=sys.stderr, leave=False,
                dynamic_ncols=True, delay=_progress_delay(), miniters=1,
            )

    @property
    def active(self) -> bool:
        return self._bar is not None

    def counting(self, f: Any, hide_fd: bool = False) -> Any:
        """``f``, read through the bar when there is one."""
        return CountingReader(f, self, hide_fd) if self.active else f

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


@contextlib.contextmanager
def progress(quiet: bool, total: Optional[int], desc: str) -> Iterator[Progress]:
    bar = Progress(want_bar(quiet), total, desc)
    try:
        yield bar
    finally:
        bar.close()


# --- statistics and trace ----------------------------------------------------------

def format_stats(st: librsync.Stats) -> str:
    """A job's statistics in rdiff's ``-s`` layout (rs_format_stats), except
    that the time is the real elapsed time rather than whole seconds."""
    text = f"{st.op} statistics: "
    if st.lit_cmds:
        text += (f"literal[{st.lit_cmds} cmds, {st.lit_bytes} bytes, "
                 f"{st.lit_cmdbytes} cmdbytes] ")
    if st.sig_cmds:
        text += f"in-place-signature[{st.sig_cmds} cmds, {st.sig_bytes} bytes] "
    if st.copy_cmds or st.false_matches:
        text += (f"copy[{st.copy_cmds} cmds, {st.copy_bytes} bytes, "
                 f"{st.copy_cmdbytes} cmdbytes, {st.false_matches} false]")
    if st.sig_blocks:
        text += f"signature[{st.sig_blocks} blocks, {st.block_len} bytes per block]"
    secs = max(st.elapsed, 1e-6)
    mb_in, mb_out = st.in_bytes / 1e6, st.out_bytes / 1e6
    text += (f" speed[{mb_in:.1f} MB ({mb_in / secs:.1f} MB/s) in, "
             f"{mb_out:.1f} MB ({mb_out / secs:.1f} MB/s) out, {st.elapsed:.3f} sec]")
    return text


def setup_verbose() -> None:
    if not librsync.supports_trace():
        say("Library does not support trace.")  # rdiff's warning, then go on
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
    root = logging.getLogger("librsync")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    librsync.debug(7)  # syslog LOG_DEBUG: everything librsync will log
