"""The command line's actions: ``signature``, ``delta``, ``patch``, ``sync``
(trees and remote sides, and ``serve``, in ``_cli_remote.py``).

Each takes the parsed options and its operands and returns an exit status,
or raises :class:`CliError` / :class:`LibrsyncError` for ``cli.run`` to
report.  The library does the work; this module only opens the operands in
rdiff's order, wires in the progress bar and prints statistics.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any, Callable, Iterator, List, Optional, Tuple

import librsync
from librsync import _format
from librsync._cli_io import (
    PROG,
    CliError,
    arg,
    delta_output_size,
    format_stats,
    is_std,
    log,
    no_more_args,
    open_input,
    open_seekable_input,
    output,
    output_errors,
    progress,
    regular_size,
    say,
    usage_error,
    want_bar,
)
from librsync._cli_remote import cmd_serve, cmd_tree_sync, into_directory, is_tree_sync
from librsync.exceptions import RS_IO_ERROR, RS_PARAM_ERROR

_HASHES = {"blake2": librsync.RS_BLAKE2_SIG_MAGIC, "md4": librsync.RS_MD4_SIG_MAGIC}


def signature_magic(hash_name: Optional[str], rollsum_name: Optional[str]) -> int:
    """rdiff's rule: the hash picks MD4 or BLAKE2, the rollsum adds 0x10 for
    RabinKarp; each defaults independently (so ``-H md4`` alone is
    RabinKarp/MD4)."""
    name = hash_name if hash_name is not None else "blake2"
    if name not in _HASHES:
        usage_error(f"Unknown hash algorithm '{hash_name}'.")
    magic = _HASHES[name]
    if rollsum_name is None or rollsum_name == "rabinkarp":
        magic += 0x10
    elif rollsum_name != "rollsum":
        usage_error(f"Unknown rollsum algorithm '{rollsum_name}'.")
    return magic


@contextlib.contextmanager
def _operands(opts: argparse.Namespace, args: List[str],
              *openers: Callable[[Optional[str]], Any]) -> Iterator[Tuple[Any, ...]]:
    """The shape every rdiff action shares: open the inputs with
    ``openers`` (one per input operand, in order), refuse an existing
    output (the next operand) without ``-f``, refuse extra operands -- in
    that order, so the same mistakes give rdiff's status -- then yield the
    inputs and the output, reporting a failure to create the output
    under its own name."""
    with contextlib.ExitStack() as stack:
        inputs = [stack.enter_context(opener(arg(args, i)))
                  for i, opener in enumerate(openers)]
        out_name = arg(args, len(openers))
        out = output(out_name, opts.force)
        no_more_args(args, len(openers) + 1)
        with output_errors(out_name):
            yield (*inputs, out)


def _param_error(e: ValueError) -> CliError:
    # The library rejects -b/-S values in Python before librsync sees them;
    # rdiff reports the same mistakes (via rs_sig_args) as RS_PARAM_ERROR.
    return CliError(RS_PARAM_ERROR, f"Failed, unexpected parameter value: {e}")


def _report(opts: argparse.Namespace, st: librsync.Stats) -> None:
    if opts.statistics:
        say(format_stats(st))


def cmd_signature(opts: argparse.Namespace, args: List[str]) -> int:
    """signature [BASIS [SIGNATURE]]"""
    with _operands(opts, args, open_input) as (basis, out):
        magic = signature_magic(opts.hash, opts.rollsum)
        seen: List[librsync.Stats] = []
        with progress(opts.quiet, regular_size(basis), "signature") as bar:
            try:
                librsync.signature(bar.counting(basis), out, opts.block_size,
                                   opts.sum_size, magic, threads=opts.threads,
                                   stats=seen.append)
            except ValueError as e:
                raise _param_error(e) from None
    log.info("signature: %s, %d blocks of %d bytes",
             _format.magic_name(magic), seen[0].sig_blocks, seen[0].block_len)
    _report(opts, seen[0])
    return 0


def _load_signature(f: Any, opts: argparse.Namespace) -> librsync.Signature:
    # A streaming job rather than load_signature(), for its statistics (rdiff
    # -s prints the "loadsig" line too).
    head = b""
    while len(head) < _format.SIGNATURE_HEADER.size:
        chunk = f.read(_format.SIGNATURE_HEADER.size - len(head))
        if not chunk:
            break
        head += chunk
    error = _format.signature_header_error(head)
    if error is not None:
        raise error
    with librsync.LoadSignatureJob() as job:
        job.update(head)
        job.run(f, None)
        sig = job.signature
        st = job.stats
    log.info("delta: signature %r", sig)
    _report(opts, st)
    return sig


def cmd_delta(opts: argparse.Namespace, args: List[str]) -> int:
    """delta SIGNATURE [NEWFILE [DELTA]]"""
    if not args:
        usage_error(f"Usage for delta: {PROG} [OPTIONS] delta SIGNATURE [NEWFILE [DELTA]]")
    with _operands(opts, args, open_input, open_input) as (sigf, new, out):
        sig = _load_signature(sigf, opts)
        seen: List[librsync.Stats] = []
        with progress(opts.quiet, regular_size(new), "delta") as bar:
            librsync.delta(bar.counting(new), sig, out, threads=opts.threads,
                           stats=seen.append)
    _report(opts, seen[0])
    return 0


def cmd_patch(opts: argparse.Namespace, args: List[str]) -> int:
    """patch BASIS [DELTA [NEWFILE]]"""
    if not args:
        usage_error(f"Usage for patch: {PROG} [OPTIONS] patch BASIS [DELTA [NEWFILE]]")
    with _operands(opts, args, open_seekable_input, open_input) as (basis, delta, out):
        total = delta_output_size(arg(args, 1)) if want_bar(opts.quiet) else None
        st = _patch(basis, delta, out, opts, total)
    _report(opts, st)
    return 0


def _patch(basis: Any, delta: Any, out: Any, opts: argparse.Namespace,
           total: Optional[int], quiet: bool = False) -> librsync.Stats:
    """Patch with progress counted as bytes produced: literal data arrives
    through the delta and copies through the basis, so counting both reads
    tracks the output (to within the small command bytes).  A basis given by
    name is opened by the library, so its reads could not be counted:
    ``quiet`` then turns the bar off."""
    seen: List[librsync.Stats] = []
    with progress(opts.quiet or quiet, total, "patch") as bar:
        if not isinstance(basis, (bytes, str)):
            basis = bar.counting(basis, hide_fd=True)
        librsync.patch(basis, bar.counting(delta), out, max_length=opts.max_length,
                       stats=seen.append)
    log.info("patch: %d bytes written", seen[0].out_bytes)
    return seen[0]


def cmd_sync(opts: argparse.Namespace, args: List[str]) -> int:
    """sync SOURCE DESTINATION: make DESTINATION a copy of SOURCE, reusing
    what it already holds, and replace it atomically."""
    if len(args) < 2 or is_std(args[1]):
        usage_error(f"Usage for sync: {PROG} [OPTIONS] sync SOURCE DESTINATION "
                    "(DESTINATION must be a file name)")
    no_more_args(args, 2)
    source_name, dest = args[0], args[1]
    if is_tree_sync(source_name, dest):
        return cmd_tree_sync(opts, source_name, dest)
    dest = into_directory(source_name, dest)
    for name in ("delete", "checksum", "dry_run", "rsh", "remote_cmd", "timeout", "compress",
                 "fsync"):
        # Ignoring --dry-run on a file would change what it promised not to.
        if getattr(opts, name) not in (None, False):
            usage_error(f"--{name.replace('_', '-')} applies to directory trees and "
                        "remote sides only, not to the file sync of "
                        f"{source_name!r}")
    magic = signature_magic(opts.hash, opts.rollsum)
    with open_input(source_name) as source:
        # 1. Signature of what DESTINATION holds now (nothing if it is new).
        try:
            old: Any = open(dest, "rb", buffering=0)
        except FileNotFoundError:
            old = None
        except OSError as e:
            raise CliError(RS_IO_ERROR,
                           f'Error opening "{dest}" for read: {e.strerror}') from None
        sig_stats: List[librsync.Stats] = []
        try:
            # No bar for a new DESTINATION: there is nothing to read.
            with progress(opts.quiet or old is None, regular_size(old), "signature") as bar:
                try:
                    sig_file = librsync.signature(
                        bar.counting(old) if old is not None else b"", None,
                        opts.block_size, opts.sum_size, magic, threads=opts.threads,
                        stats=sig_stats.append)
                except ValueError as e:
                    raise _param_error(e) from None
        finally:
            if old is not None:
                old.close()
        _report(opts, sig_stats[0])
        with sig_file:
            sig = librsync.load_signature(sig_file)
        # 2. Delta of SOURCE against it.
        seen: List[librsync.Stats] = []
        with progress(opts.quiet, regular_size(source), "delta") as bar:
            delta_file = librsync.delta(bar.counting(source), sig, None,
                                        threads=opts.threads, stats=seen.append)
        dst = seen[0]
        _report(opts, dst)
    # 3. Patch DESTINATION into a temporary file renamed over it.  The basis
    # is passed by name, so the library opens and closes it itself before
    # the rename (an open file cannot be replaced on Windows), except on
    # POSIX when a bar would count its reads through our own file object.
    with delta_file:
        basis: Any
        if old is None:
            basis = b""
        elif os.name == "posix" and want_bar(opts.quiet):
            basis = open(dest, "rb", buffering=0)
        else:
            basis = dest
        try:
            with output_errors(dest):
                _report(opts, _patch(basis, delta_file, dest, opts, dst.in_bytes,
                                     quiet=basis is dest))
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


#: The actions in rdiff's order of prefix matching ("s" is signature).
COMMANDS = {"signature": cmd_signature, "delta": cmd_delta,
            "patch": cmd_patch, "sync": cmd_sync, "serve": cmd_serve}
