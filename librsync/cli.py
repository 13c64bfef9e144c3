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

Beyond rdiff: named outputs that are regular files (or new) are written
atomically (a temporary file renamed over the name, so a failure or a
signal never leaves a half-written file and an output may safely name an
input), while devices, FIFOs and ``/dev/stdout`` are written in place, as
rdiff writes them; SIGINT, SIGTERM and SIGHUP remove the temporary file
and exit 128 + the signal's number; a progress bar on a terminal (with the ``cli``
extra, i.e. tqdm); ``--max-length`` for patches from untrusted sources; and
``sync SOURCE DESTINATION``, which runs signature, delta and patch in one step,
for a file or (``_cli_remote.py``) a directory tree, either side possibly on
another machine reached through ``--rsh`` (``serve`` is that machine's end).

This module is the parser and the entry point; the actions live in
``_cli_commands.py`` and the terminal side (files, stdout, the progress bar,
statistics) in ``_cli_io.py``.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
from typing import NoReturn, Optional, Sequence

import librsync
from librsync._cli_commands import COMMANDS
from librsync._cli_io import PROG, CliError, catch_signals, say, setup_verbose, usage_error
from librsync.exceptions import (
    RS_IO_ERROR,
    RS_MEM_ERROR,
    RS_PARAM_ERROR,
    RS_UNIMPLEMENTED,
    LibrsyncError,
)

__all__ = ["main", "run", "parse_args", "HELP"]

# popt's POPT_ARG_INT range: rdiff's numeric options are C ints.
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1

HELP = f"""\
Usage: {PROG} [OPTIONS] signature [BASIS [SIGNATURE]]
                [OPTIONS] delta SIGNATURE [NEWFILE [DELTA]]
                [OPTIONS] patch BASIS [DELTA [NEWFILE]]
                [OPTIONS] sync SOURCE DESTINATION
                [OPTIONS] serve --protocol=N --sender=PATH|--receiver=PATH

rdiff-compatible signatures, deltas and patches.  A missing name or `-'
means standard input or output.  `sync' brings DESTINATION up to date with
SOURCE (signature, delta and patch in one step), replaces it atomically and
prints how many bytes were literal and how many copied.  A directory SOURCE
syncs the whole tree (files, directories, symlinks, modes, mtimes).  Either
side may be remote, [USER@]HOST:PATH, reached with --rsh; only the file
list, signatures of changed files and deltas cross the connection.  `serve' is the remote end of that sync,
started by `sync' itself.

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
      --max-length=BYTES    Fail rather than write more than BYTES; for a
                            tree or remote sync, than BYTES in any one file
                            (suffixes K, M, G, T: powers of 1024)
Tree and remote sync options:
      --delete              Delete what DESTINATION has and SOURCE has not
      --checksum            Compare files by BLAKE2b digest, not size and mtime
      --dry-run             Show what would change, change nothing
      --compress            Compress file data with zstd when both sides
                            have it (the zstd extra); else sync uncompressed
      --fsync               Make each file durable before its rename
                            (slower; without it a power loss can lose the
                            newest files' data, never leave a partial file)
      --rsh=CMD             Command to reach a remote side (default ssh;
                            split as a shell would, e.g. "ssh -p 2222")
      --remote-cmd=CMD      librsync on the remote side (default
                            "python3 -m librsync")
      --timeout=SECONDS     Stop with status 30 if the remote side sends or
                            takes no data for that long (0: never)
Serve options (set by sync for the remote side):
      --protocol=N          Protocol version the local side speaks
      --sender=PATH         Send the tree or file PATH (its file list, then
                            deltas and new files)
      --receiver=PATH       Receive into PATH (ask for what differs, write it)
IO options:
  -I, --input-size=BYTES    Input buffer size (accepted, as a hint)
  -O, --output-size=BYTES   Output buffer size (accepted, as a hint)
  -z, --gzip[=LEVEL]        gzip-compress deltas (not implemented, as in rdiff)
  -i, --bzip2[=LEVEL]       bzip2-compress deltas (not implemented, as in rdiff)

On a terminal a progress bar is drawn on stderr (needs tqdm:
pip install 'librsync[cli]').  Exit status: 0 on success, otherwise
librsync's error code as with rdiff: 100 I/O error, 101 bad command line,
103 unexpected end of input, 104 bad magic, 105 unimplemented, 106 corrupt
stream or limit exceeded, 108 bad parameter value; 128 + N after signal N
(130 SIGINT, 129 SIGHUP, 143 SIGTERM).  `sync' of a directory
tree or with a remote side (and `serve') exits as rsync does: 1 usage
error, 2 protocol incompatibility (no librsync there, another version), 3
missing or unusable source or destination, 10 connection broken, 11 file
I/O error, 12 stream error or remote side died, 20 interrupted, 255 the
rsh command failed.
"""


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


def _seconds(text: str) -> float:
    """--timeout: seconds (a decimal number), 0 for none, as rsync's."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"the timeout must be >= 0 seconds, not {text}")
    return value


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
        usage_error(message)


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
        usage_error("Sorry, compression is not implemented yet.", RS_UNIMPLEMENTED)


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
        f"(of {', '.join(librsync._rsync.blake2b_implementations())}),\n"
        f"  signatures: {librsync.signature_engine()} "
        f"(of {', '.join(librsync.signature_engines())}),\n"
        f"  deltas: {librsync.delta_engine()} "
        f"(of {', '.join(librsync.delta_engines())})\n"
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
    p.add_argument("--delete", action="store_true")
    p.add_argument("--checksum", action="store_true")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--rsh", default=None)
    p.add_argument("--remote-cmd", default=None)
    p.add_argument("--timeout", type=_seconds, default=None)
    p.add_argument("--protocol", type=_c_int, default=None)
    p.add_argument("--sender", default=None)
    p.add_argument("--receiver", default=None)
    p.add_argument("--compress", action="store_true")
    p.add_argument("--fsync", action="store_true")
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
    # and even "" is); "sync" and "serve" are ours and come last so they
    # change nothing.
    if word is not None:
        for action in COMMANDS:
            if action.startswith(word):
                return action
    usage_error("You must specify an action: `signature', `delta', `patch' or `sync'.")


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
            setup_verbose()
        args = list(opts.args)
        action = _pick_action(args[0] if args else None)
        return COMMANDS[action](opts, args[1:])
    except _Done as e:
        return e.code
    except CliError as e:
        say(e.message)
        if e.usage:
            sys.stderr.write(f"\nTry `{PROG} --help' for more information.\n")
        return e.code
    except LibrsyncError as e:
        say(f"Failed, {e}.")
        return e.code
    except KeyboardInterrupt as e:
        # Ctrl-C, or SIGTERM/SIGHUP turned into Interrupted by main(): the
        # unwinding has removed any temporary file.  The status is what a
        # shell reports for rdiff killed by the same signal (130, 143, 129);
        # a tree or remote sync has already made it rsync's 20 (CliError).
        say("Interrupted.")
        return 128 + int(getattr(e, "signum", signal.SIGINT))
    except MemoryError:
        say("Failed, out of memory.")
        return RS_MEM_ERROR
    except OSError as e:
        say(_os_error_message(e))
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
        # SIGINT, SIGTERM and SIGHUP unwind, so that a path output's
        # temporary file is removed and the status is the documented one.
        catch_signals()
    return run(argv)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
