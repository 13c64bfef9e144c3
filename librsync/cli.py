"""The ``librsync`` command: rdiff's command line, plus progress and ``sync``.

``librsync signature|delta|patch`` takes the same arguments and options as
``rdiff`` 2.3 and writes byte-identical signatures and patched files, so a
shell script written for rdiff works with ``librsync`` substituted:

- options may come before or after the action and between file names (rdiff
  parses with popt, which permutes them); ``--`` ends the options;
- the action may be abbreviated to any prefix (``sig``, ``d``, ``p``);
- ``-`` or a missing name means standard input or output;
- an existing output file is refused without ``-f``, before any work;
- numbers are C integers as popt reads them (``0x400``, ``010`` is octal);
- the exit status is librsync's ``rs_result`` (100 I/O error, 101 bad
  command line, 103 unexpected end of input, 104 bad magic, 105
  unimplemented, 106 corrupt stream, 108 bad parameter), and a failure is
  reported as one line on stderr.

Beyond rdiff: named outputs are written atomically (a temporary file renamed
over the name, so a failure never leaves a half-written file and an output
may safely name an input); a progress bar on a terminal (with the ``cli``
extra, i.e. tqdm); ``--max-length`` for patches from untrusted sources; and
``sync SOURCE DESTINATION``, which runs signature, delta and patch in one step.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import re
import signal
import stat
import struct
import sys
from typing import IO, Any, Iterator, List, NoReturn, Optional, Sequence

import librsync
from librsync.exceptions import (
    RS_CORRUPT,
    RS_INPUT_ENDED,
    RS_IO_ERROR,
    RS_MEM_ERROR,
    RS_PARAM_ERROR,
    RS_SYNTAX_ERROR,
    RS_UNIMPLEMENTED,
    LibrsyncError,
    error_for_code,
)

__all__ = ["main"]

#: The name in messages and help.  Fixed rather than taken from argv[0] so
#: that ``python -m librsync`` reads the same as the ``librsync`` script.
PROG = "librsync"

#: Seconds an operation must run before its progress bar appears, so that
#: quick commands in an interactive loop do not flash bars.  Overridable
#: (LIBRSYNC_PROGRESS_DELAY) mainly so tests need not make slow inputs.
DEFAULT_PROGRESS_DELAY = 0.5

# popt's POPT_ARG_INT range: rdiff's numeric options are C ints.
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1

_ACTIONS = ("signature", "delta", "patch", "sync")

_HASHES = {"blake2": librsync.RS_BLAKE2_SIG_MAGIC, "md4": librsync.RS_MD4_SIG_MAGIC}

log = logging.getLogger("librsync.cli")

HELP = f"""\
Usage: {PROG} [OPTIONS] signature [BASIS [SIGNATURE]]
                [OPTIONS] delta SIGNATURE [NEWFILE [DELTA]]
                [OPTIONS] patch BASIS [DELTA [NEWFILE]]
                [OPTIONS] sync SOURCE DESTINATION

rdiff-compatible signatures, deltas and patches.  A missing name or `-'
means standard input or output.  `sync' brings DESTINATION up to date with
SOURCE (signature, delta and patch in one step), replaces it atomically and
prints how many bytes were literal and how many copied.

Options:
  -v, --verbose             Trace internal processing
  -V, --version             Show program version
  -?, -h, --help            Show this help message
  -s, --statistics          Show performance statistics
  -f, --force               Force overwriting existing files
  -q, --quiet               No progress bar and no sync summary
  -j, --threads=N           Threads for signature and delta (default 1;
                            0 for one per CPU); outputs stay identical
Signature generation options:
  -H, --hash=ALG            Hash algorithm: blake2 (default), md4
  -R, --rollsum=ALG         Rollsum algorithm: rabinkarp (default), rollsum
Delta-encoding options:
  -b, --block-size=BYTES    Signature block size, 0 (default) for recommended
  -S, --sum-size=BYTES      Signature strength, 0 (default) for max, -1 for min
Patch options:
      --max-length=BYTES    Fail rather than write more than BYTES
                            (suffixes K, M, G, T: powers of 1024)
IO options:
  -I, --input-size=BYTES    Input buffer size (accepted, as a hint)
  -O, --output-size=BYTES   Output buffer size (accepted, as a hint)
  -z, --gzip[=LEVEL]        gzip-compress deltas (not implemented, as in rdiff)
  -i, --bzip2[=LEVEL]       bzip2-compress deltas (not implemented, as in rdiff)

On a terminal a progress bar is drawn on stderr (needs tqdm:
pip install 'librsync[cli]').  Exit status: 0 on success, otherwise
librsync's error code as with rdiff: 100 I/O error, 101 bad command line,
103 unexpected end of input, 104 bad magic, 105 unimplemented, 106 corrupt
stream or limit exceeded, 108 bad parameter value.
"""


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

class CliError(Exception):
    """A failure to report as ``librsync: MESSAGE`` with exit status ``code``.

    ``usage`` adds rdiff's "Try --help" line, as rdiff does for command-line
    mistakes."""

    def __init__(self, code: int, message: str, usage: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.usage = usage


def _usage_error(message: str, code: int = RS_SYNTAX_ERROR) -> NoReturn:
    raise CliError(code, message, usage=True)


# ---------------------------------------------------------------------------
# Command-line parsing
# ---------------------------------------------------------------------------

def _c_int(text: str) -> int:
    """An int as popt reads one for rdiff: strtol base 0 (``0x`` hex,
    leading ``0`` octal), whole string, within a C int."""
    m = re.fullmatch(r"\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)", text)
    if m is None:
        raise argparse.ArgumentTypeError(f"invalid numeric value: {text}")
    digits = m.group(2)
    if digits[:2] in ("0x", "0X"):
        value = int(digits, 16)
    elif digits.startswith("0"):
        value = int(digits, 8)
    else:
        value = int(digits)
    if m.group(1) == "-":
        value = -value
    if not _INT_MIN <= value <= _INT_MAX:
        raise argparse.ArgumentTypeError(f"number too large or too small: {text}")
    return value


_SUFFIXES = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def _threads(text: str) -> int:
    """--threads: a count of threads, 0 meaning one per CPU."""
    n = _c_int(text)
    if n < 0:
        raise argparse.ArgumentTypeError(f"thread count must be >= 0, not {n}")
    if n == 0:
        # The process may be confined to fewer CPUs than the machine has.
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:
            n = os.cpu_count() or 1
    return n


def _size(text: str) -> int:
    """A byte count for our own options: a decimal number, optionally with a
    K/M/G/T suffix (powers of 1024; a trailing ``B``/``iB`` is allowed)."""
    m = re.fullmatch(r"\s*(\d+)\s*([kKmMgGtT]?)(?:i?[bB])?\s*", text)
    if m is None:
        raise argparse.ArgumentTypeError(f"invalid size: {text}")
    return int(m.group(1)) * _SUFFIXES[m.group(2).lower()]


class _Parser(argparse.ArgumentParser):
    """argparse with rdiff's error format and exit status (101)."""

    def error(self, message: str) -> NoReturn:
        _usage_error(message)


class _ShowAndExit(argparse.Action):
    """-h and -V act when met, as in rdiff: the first one wins and nothing
    after it is checked."""

    def __init__(self, option_strings, dest, text_fn, **kwargs):
        super().__init__(option_strings, dest, nargs=0, **kwargs)
        self.text_fn = text_fn

    def __call__(self, parser, namespace, values, option_string=None):
        sys.stdout.write(self.text_fn())
        sys.stdout.flush()
        raise _Done(0)


class _Unimplemented(argparse.Action):
    """rdiff's -z/-i: documented, but compression was never implemented; rdiff
    stops with RS_UNIMPLEMENTED (105)."""

    def __call__(self, parser, namespace, values, option_string=None):
        _usage_error("Sorry, compression is not implemented yet.", RS_UNIMPLEMENTED)


class _Done(Exception):
    """Stop with this exit status, nothing more to print."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _version_text() -> str:
    try:
        import tqdm  # noqa: F401  (only to report whether the bar is available)

        bar = f"progress bar (tqdm {tqdm.__version__})"
    except ImportError:
        bar = "no progress bar (install librsync[cli])"
    trace = "trace enabled" if librsync.supports_trace() else "trace disabled"
    return (
        f"{PROG} {librsync.__version__} (librsync {librsync.LIBRSYNC_VERSION})\n"
        f"Capabilities: 64 bit files, {trace}, {bar},\n"
        f"  BLAKE2b: {librsync.blake2b_implementation()} "
        f"(of {', '.join(librsync._rsync.blake2b_implementations())})\n"
        "\n"
        "Python package under the MIT license; librsync is compiled in, under the\n"
        "GNU Lesser General Public License 2.1 or later.  Both come with NO WARRANTY,\n"
        "to the extent permitted by law.\n"
    )


def _build_parser() -> _Parser:
    # One flat parser, not subparsers: popt lets every option appear anywhere
    # (before the action, after it, between names), and the action itself
    # may be abbreviated, neither of which subparsers allow.
    p = _Parser(prog=PROG, add_help=False, allow_abbrev=False)
    p.add_argument("-?", "-h", "--help", action=_ShowAndExit, text_fn=lambda: HELP)
    p.add_argument("-V", "--version", action=_ShowAndExit, text_fn=_version_text)
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("-s", "--statistics", "--stats", action="store_true")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("-H", "--hash", default=None)
    p.add_argument("-R", "--rollsum", default=None)
    p.add_argument("-b", "--block-size", type=_c_int, default=0)
    p.add_argument("-S", "--sum-size", type=_c_int, default=0)
    p.add_argument("-I", "--input-size", type=_c_int, default=None)
    p.add_argument("-O", "--output-size", type=_c_int, default=None)
    p.add_argument("-z", "--gzip", nargs="?", action=_Unimplemented)
    p.add_argument("-i", "--bzip2", nargs="?", action=_Unimplemented)
    p.add_argument("--max-length", type=_size, default=None)
    p.add_argument("-j", "--threads", type=_threads, default=1)
    p.add_argument("args", nargs="*")
    return p


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse a command line (without the program name) as rdiff would."""
    opts = _build_parser().parse_intermixed_args(list(argv))
    for name in ("input_size", "output_size"):
        value = getattr(opts, name)
        # rdiff aborts on a negative buffer size; 0 lets it pick.  The library
        # sizes its own buffers, so a valid value is only a hint.
        if value is not None and value < 0:
            raise CliError(RS_PARAM_ERROR,
                           f"{'input' if name == 'input_size' else 'output'} "
                           f"buffer size must be >= 0, not {value}")
    return opts


def _pick_action(word: Optional[str]) -> str:
    # rdiff accepts any prefix, tested in this order (so "s" is signature,
    # and even "" is); "sync" is ours and comes last so it changes nothing.
    if word is not None:
        for action in _ACTIONS:
            if action.startswith(word):
                return action
    _usage_error("You must specify an action: `signature', `delta', `patch' or `sync'.")


def _magic(hash_name: Optional[str], rollsum_name: Optional[str]) -> int:
    """rdiff's rule: the hash picks MD4 or BLAKE2, the rollsum adds 0x10 for
    RabinKarp; each defaults independently (so ``-H md4`` alone is
    RabinKarp/MD4)."""
    name = hash_name if hash_name is not None else "blake2"
    if name not in _HASHES:
        _usage_error(f"Unknown hash algorithm '{hash_name}'.")
    magic = _HASHES[name]
    if rollsum_name is None or rollsum_name == "rabinkarp":
        magic += 0x10
    elif rollsum_name != "rollsum":
        _usage_error(f"Unknown rollsum algorithm '{rollsum_name}'.")
    return magic


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

def _is_std(name: Optional[str]) -> bool:
    return name is None or name == "-"


def _open_input(name: Optional[str]) -> IO[bytes]:
    """Open an input as rdiff does, failing with its message and status 100.

    Unbuffered: the library reads into its own large buffer.  Standard input
    is wrapped, not closed, so it stays usable for a second ``-``."""
    if _is_std(name):
        fd = sys.stdin.fileno() if sys.stdin is not None else 0
        return open(fd, "rb", buffering=0, closefd=False)
    try:
        return open(name, "rb", buffering=0)  # type: ignore[arg-type]
    except OSError as e:
        raise CliError(RS_IO_ERROR,
                       f'Error opening "{name}" for read: {e.strerror}') from None


def _output(name: Optional[str], force: bool) -> Any:
    """What to pass the library as output: the path itself (written
    atomically) or a standard-output writer.  Refuses an existing file
    without ``-f`` before any work is done, with rdiff's status (100)."""
    if _is_std(name):
        return _StdoutWriter()
    # rdiff tests existence by opening for reading, which follows symlinks;
    # exists() does the same, so a dangling link is written through as rdiff
    # would.
    if not force and os.path.exists(name):  # type: ignore[arg-type]
        raise CliError(RS_IO_ERROR,
                       f'File exists "{name}", aborting! (use -f to overwrite)')
    return name


def _no_more_args(args: List[str], used: int) -> None:
    if len(args) > used:
        _usage_error("Too many arguments.")


@contextlib.contextmanager
def _output_errors(name: Optional[str]) -> Iterator[None]:
    """Report a failure to create output ``name`` as rdiff does (its name, not
    that of the temporary file the library writes beside it; status 100)."""
    try:
        yield
    except OSError as e:
        if name is None or _is_std(name) or not isinstance(e.filename, str):
            raise
        m = re.fullmatch(r"\.(.+)\.[0-9a-f]{12}\.tmp", os.path.basename(e.filename))
        if m is None or m.group(1) != os.path.basename(os.path.realpath(name)):
            raise
        raise CliError(RS_IO_ERROR, f'Error opening "{name}" for write: '
                                    f"{e.strerror or e}") from None


def _regular_size(f: Any) -> Optional[int]:
    """Bytes left in ``f`` if it is a regular file, else None (pipes)."""
    try:
        st = os.fstat(f.fileno())
        if stat.S_ISREG(st.st_mode):
            return max(st.st_size - f.tell(), 0)
    except (AttributeError, OSError, ValueError):
        pass
    return None


class _StdoutWriter(io.RawIOBase):
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


class _CountingReader(io.RawIOBase):
    """Reads through to ``raw`` and moves a progress bar by the bytes read.

    Passes ``fileno``/``tell``/``seek`` through so the library still sees a
    regular file's size (signature defaults depend on it), unless
    ``hide_fd``: a patch basis without a descriptor is read with
    ``seek`` + ``readinto`` (which we can count) instead of ``pread``."""

    def __init__(self, raw: Any, progress: "_Progress", hide_fd: bool = False) -> None:
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


# ---------------------------------------------------------------------------
# Progress
# ---------------------------------------------------------------------------

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


class _Progress:
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

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


@contextlib.contextmanager
def _progress(quiet: bool, total: Optional[int], desc: str) -> Iterator[_Progress]:
    bar = _Progress(_want_bar(quiet), total, desc)
    try:
        yield bar
    finally:
        bar.close()


def _want_bar(quiet: bool) -> bool:
    """Whether to draw a bar: not asked to be quiet, and stderr is a
    terminal (so never into logs or pipes)."""
    stderr = sys.stderr
    try:
        return not quiet and stderr is not None and stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


def _delta_output_size(path: str, limit: int = 1 << 18) -> Optional[int]:
    """How many bytes applying the delta at ``path`` produces, or None.

    Only for the progress bar's total (and so its ETA): walks the command
    stream, seeking over literal data, and gives up on anything unexpected or
    after ``limit`` commands; the patch itself validates the delta."""
    sizes = (1, 2, 4, 8)
    formats = {1: ">B", 2: ">H", 4: ">I", 8: ">Q"}
    total = 0
    try:
        with open(path, "rb") as f:
            if f.read(4) != struct.pack(">I", librsync.RS_DELTA_MAGIC):
                return None
            for _ in range(limit):
                op = f.read(1)
                if not op:
                    return None
                code = op[0]
                if code == 0:
                    return total
                if code <= 0x40:
                    length = code
                    f.seek(length, os.SEEK_CUR)
                elif code <= 0x44:
                    width = sizes[code - 0x41]
                    (length,) = struct.unpack(formats[width], f.read(width))
                    f.seek(length, os.SEEK_CUR)
                elif code <= 0x54:
                    where = sizes[(code - 0x45) // 4]
                    width = sizes[(code - 0x45) % 4]
                    f.seek(where, os.SEEK_CUR)
                    (length,) = struct.unpack(formats[width], f.read(width))
                else:
                    return None
                total += length
    except (OSError, struct.error):
        return None
    return None


# ---------------------------------------------------------------------------
# Statistics and logging
# ---------------------------------------------------------------------------

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


def _stats_printer(opts: argparse.Namespace) -> Any:
    if not opts.statistics:
        return None

    def show(st: librsync.Stats) -> None:
        _say(format_stats(st))

    return show


def _say(message: str) -> None:
    sys.stderr.write(f"{PROG}: {message}\n")
    sys.stderr.flush()


def _setup_verbose() -> None:
    if not librsync.supports_trace():
        _say("Library does not support trace.")  # rdiff's warning, then go on
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
    root = logging.getLogger("librsync")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    librsync.debug(7)  # syslog LOG_DEBUG: everything librsync will log


# ---------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------

def _param_error(e: ValueError) -> CliError:
    # The library rejects -b/-S values in Python before librsync sees them;
    # rdiff reports the same mistakes (via rs_sig_args) as RS_PARAM_ERROR.
    return CliError(RS_PARAM_ERROR, f"Failed, unexpected parameter value: {e}")


def cmd_signature(opts: argparse.Namespace, args: List[str]) -> int:
    """signature [BASIS [SIGNATURE]]"""
    # The order of checks is rdiff's, so the same mistakes give the same
    # status: open the input, refuse an existing output, then the rest.
    with _open_input(_arg(args, 0)) as basis:
        out = _output(_arg(args, 1), opts.force)
        _no_more_args(args, 2)
        magic = _magic(opts.hash, opts.rollsum)
        with _progress(opts.quiet, _regular_size(basis), "signature") as bar:
            source = _CountingReader(basis, bar) if bar.active else basis
            seen: List[librsync.Stats] = []
            try:
                with _output_errors(_arg(args, 1)):
                    librsync.signature(source, out, opts.block_size,
                                       opts.sum_size, magic, threads=opts.threads,
                                       stats=seen.append)
            except ValueError as e:
                raise _param_error(e) from None
    st = seen[0]
    log.info("signature: %s, %d blocks of %d bytes",
             _magic_name(magic), st.sig_blocks, st.block_len)
    if opts.statistics:
        _say(format_stats(st))
    return 0


def _check_signature_header(head: bytes) -> None:
    """Fail as librsync (and so rdiff) would on a header with an unknown magic.

    The library names a wrong magic at once (BadMagicError, 104), but
    librsync reads the block and strong-sum lengths before it checks the
    magic, so rdiff exits 103 or 106 for many such files.  ``head`` is the
    first 12 bytes, or all of a shorter input."""
    magics = (librsync.RS_MD4_SIG_MAGIC, librsync.RS_BLAKE2_SIG_MAGIC,
              librsync.RS_RK_MD4_SIG_MAGIC, librsync.RS_RK_BLAKE2_SIG_MAGIC)
    if len(head) < 4 or int.from_bytes(head[:4], "big") in magics:
        return  # the library and librsync agree from here on
    if len(head) < 8:
        raise error_for_code(RS_INPUT_ENDED)
    (block_len,) = struct.unpack(">i", head[4:8])
    if block_len < 1:
        raise error_for_code(RS_CORRUPT, f"block length of {block_len} is bogus")
    if len(head) < 12:
        raise error_for_code(RS_INPUT_ENDED)
    (strong_len,) = struct.unpack(">i", head[8:12])
    if not 0 <= strong_len <= 32:  # RS_MAX_STRONG_SUM_LENGTH
        raise error_for_code(RS_CORRUPT, f"strong sum length {strong_len} is implausible")
    # Otherwise librsync too reports the magic (RS_BAD_MAGIC): the library's
    # own error says it better.


def _load_signature(f: IO[bytes], opts: argparse.Namespace) -> librsync.Signature:
    # A streaming job rather than load_signature(), for its statistics (rdiff
    # -s prints the "loadsig" line too).
    head = b""
    while len(head) < 12:
        chunk = f.read(12 - len(head))
        if not chunk:
            break
        head += chunk
    _check_signature_header(head)
    job = librsync.LoadSignatureJob()
    with job:
        job.update(head)
        while True:
            chunk = f.read(librsync.DEFAULT_BUFFER_SIZE)
            if not chunk:
                break
            job.update(chunk)
        job.finish()
        sig = job.signature
        st = job.stats
    log.info("delta: signature %r", sig)
    if opts.statistics:
        _say(format_stats(st))
    return sig


def cmd_delta(opts: argparse.Namespace, args: List[str]) -> int:
    """delta SIGNATURE [NEWFILE [DELTA]]"""
    if not args:
        _usage_error(f"Usage for delta: {PROG} [OPTIONS] delta SIGNATURE [NEWFILE [DELTA]]")
    with _open_input(args[0]) as sigf, _open_input(_arg(args, 1)) as new:
        out = _output(_arg(args, 2), opts.force)
        _no_more_args(args, 3)
        sig = _load_signature(sigf, opts)
        with _progress(opts.quiet, _regular_size(new), "delta") as bar:
            source = _CountingReader(new, bar) if bar.active else new
            with _output_errors(_arg(args, 2)):
                librsync.delta(source, sig, out, threads=opts.threads,
                               stats=_stats_printer(opts))
    return 0


def _seekable_basis(name: Optional[str]) -> IO[bytes]:
    f = _open_input(name)
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


def cmd_patch(opts: argparse.Namespace, args: List[str]) -> int:
    """patch BASIS [DELTA [NEWFILE]]"""
    if not args:
        _usage_error(f"Usage for patch: {PROG} [OPTIONS] patch BASIS [DELTA [NEWFILE]]")
    with _seekable_basis(args[0]) as basis, _open_input(_arg(args, 1)) as delta:
        out = _output(_arg(args, 2), opts.force)
        _no_more_args(args, 3)
        total = None
        if _want_bar(opts.quiet) and not _is_std(_arg(args, 1)):
            total = _delta_output_size(args[1])
        with _progress(opts.quiet, total, "patch") as bar, _output_errors(_arg(args, 2)):
            _run_patch(basis, delta, out, bar, opts)
    return 0


def _run_patch(basis: Any, delta: Any, out: Any, bar: _Progress,
               opts: argparse.Namespace) -> librsync.Stats:
    """Patch with progress counted as bytes produced: literal data arrives
    through the delta and copies through the basis, so counting both reads
    tracks the output (to within the small command bytes)."""
    if bar.active:
        delta = _CountingReader(delta, bar)
        if not isinstance(basis, (bytes, str)):
            basis = _CountingReader(basis, bar, hide_fd=True)
    seen: List[librsync.Stats] = []
    librsync.patch(basis, delta, out, max_length=opts.max_length, stats=seen.append)
    log.info("patch: %d bytes written", seen[0].out_bytes)
    if opts.statistics:
        _say(format_stats(seen[0]))
    return seen[0]


def cmd_sync(opts: argparse.Namespace, args: List[str]) -> int:
    """sync SOURCE DESTINATION: make DESTINATION a copy of SOURCE, reusing
    what it already holds, and replace it atomically."""
    if len(args) < 2 or _is_std(args[1]):
        _usage_error(f"Usage for sync: {PROG} [OPTIONS] sync SOURCE DESTINATION "
                     "(DESTINATION must be a file name)")
    _no_more_args(args, 2)
    source_name, dest = args[0], args[1]
    magic = _magic(opts.hash, opts.rollsum)
    with _open_input(source_name) as source:
        # 1. Signature of what DESTINATION holds now (nothing if it is new).
        try:
            old: Any = open(dest, "rb", buffering=0)
        except FileNotFoundError:
            old = None
        except OSError as e:
            raise CliError(RS_IO_ERROR,
                           f'Error opening "{dest}" for read: {e.strerror}') from None
        try:
            # No bar for a new DESTINATION: there is nothing to read.
            quiet = opts.quiet or old is None
            with _progress(quiet, _regular_size(old), "signature") as bar:
                src_old = _CountingReader(old, bar) if bar.active else old
                try:
                    sig_file = librsync.signature(
                        src_old if old is not None else b"", None, opts.block_size,
                        opts.sum_size, magic, threads=opts.threads,
                        stats=_stats_printer(opts))
                except ValueError as e:
                    raise _param_error(e) from None
        finally:
            if old is not None:
                old.close()
        with sig_file:
            sig = librsync.load_signature(sig_file)
        # 2. Delta of SOURCE against it.
        size = _regular_size(source)
        with _progress(opts.quiet, size, "delta") as bar:
            src_new = _CountingReader(source, bar) if bar.active else source
            seen: List[librsync.Stats] = []
            delta_file = librsync.delta(src_new, sig, None, threads=opts.threads,
                                        stats=seen.append)
        dst = seen[0]
        if opts.statistics:
            _say(format_stats(dst))
    # 3. Patch DESTINATION into a temporary file renamed over it.  The basis
    # is passed by name when there is no bar, so the library opens and closes
    # it itself before the rename (an open file cannot be replaced on
    # Windows); a counted basis needs our own file object, so only on POSIX.
    with delta_file:
        with _progress(opts.quiet, dst.in_bytes, "patch") as bar:
            if old is None:
                basis: Any = b""
            elif bar.active and os.name == "posix":
                basis = open(dest, "rb", buffering=0)
            else:
                basis = dest
            try:
                if bar.active and basis is dest:
                    bar.close()  # nothing to count it with
                with _output_errors(dest):
                    _run_patch(basis, delta_file, dest, bar, opts)
            finally:
                if not isinstance(basis, (bytes, str)):
                    basis.close()
    if not opts.quiet:
        total = dst.lit_bytes + dst.copy_bytes
        share = 100.0 * dst.copy_bytes / total if total else 100.0
        print(f"{dest}: {dst.lit_bytes} bytes literal, {dst.copy_bytes} bytes "
              f"copied ({share:.1f}% reused), {total} bytes total")
        sys.stdout.flush()
    return 0


def _arg(args: List[str], i: int) -> Optional[str]:
    return args[i] if len(args) > i else None


def _magic_name(magic: int) -> str:
    hash_name = "md4" if magic in (librsync.RS_MD4_SIG_MAGIC,
                                   librsync.RS_RK_MD4_SIG_MAGIC) else "blake2"
    roll = "rabinkarp" if magic in (librsync.RS_RK_MD4_SIG_MAGIC,
                                    librsync.RS_RK_BLAKE2_SIG_MAGIC) else "rollsum"
    return f"{roll}/{hash_name}"


_COMMANDS = {"signature": cmd_signature, "delta": cmd_delta,
             "patch": cmd_patch, "sync": cmd_sync}


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------

def _os_error_message(e: OSError) -> str:
    text = e.strerror or str(e)
    if e.filename is not None:
        return f'Failed, IO error: {text}: "{e.filename}"'
    return f"Failed, IO error: {text}"


def run(argv: Sequence[str]) -> int:
    """Run one command line; return the exit status.  Messages go to stderr
    as single lines; no exception escapes except SystemExit."""
    try:
        opts = parse_args(argv)
        if opts.verbose:
            _setup_verbose()
        args = list(opts.args)
        action = _pick_action(args[0] if args else None)
        return _COMMANDS[action](opts, args[1:])
    except _Done as e:
        return e.code
    except CliError as e:
        _say(e.message)
        if e.usage:
            sys.stderr.write(f"\nTry `{PROG} --help' for more information.\n")
        return e.code
    except LibrsyncError as e:
        _say(f"Failed, {e}.")
        return e.code
    except KeyboardInterrupt:
        _say("Interrupted.")
        return 128 + signal.SIGINT
    except MemoryError:
        _say("Failed, out of memory.")
        return RS_MEM_ERROR
    except OSError as e:
        _say(_os_error_message(e))
        return RS_IO_ERROR


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Console-script entry point: ``librsync ...`` and ``python -m librsync``.

    Returns the exit status (``sys.exit(main())``)."""
    if argv is None:
        argv = sys.argv[1:]
        # Die quietly of SIGPIPE like rdiff (and every C filter) when a reader
        # such as `head` goes away, instead of a BrokenPipeError; only for a
        # real command line, so calling main() from Python changes nothing.
        if hasattr(signal, "SIGPIPE"):
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    return run(argv)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
