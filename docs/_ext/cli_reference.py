"""``.. librsync-cli:: PART``: the command-line reference, read from the code.

``librsync.cli`` builds one flat argparse parser (rdiff lets options appear
anywhere and actions be abbreviated, which subparsers cannot do) whose
arguments carry no ``help=``: what ``--help`` prints is the hand-aligned
``HELP`` text, in rdiff's layout.  So neither half alone is the reference.
This directive takes the option names, value kinds and defaults from the
parser, the descriptions and grouping from the ``--help`` output, the actions
from the command dispatch table and the exit statuses from
``librsync.exceptions``, and reports (as a Sphinx warning, which ``-W`` turns
into a failed build) every place where the parser and ``--help`` disagree.

PART is one of:

``help``
    the output of ``librsync --help``, verbatim;
``usage``
    one line per action;
``options``
    every option, as ``.. option::`` entries under ``.. program:: librsync``
    (so ``:option:`librsync --threads``` links to it);
``exit-status``
    the exit statuses.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass, field

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)


@dataclass
class HelpEntry:
    """One option as ``--help`` describes it."""

    spec: str  # "-j, --threads=N"
    names: list[str]  # ["-j", "--threads"]
    value: str | None  # "N", "[LEVEL]" (optional), or None
    text: list[str] = field(default_factory=list)


@dataclass
class HelpText:
    usage: list[str] = field(default_factory=list)  # "[OPTIONS] delta SIGNATURE ..."
    groups: list[tuple[str, list[HelpEntry]]] = field(default_factory=list)


_ENTRY = re.compile(r"^\s+(-\S.*?)\s{2,}(\S.*)$")
_NAME = re.compile(r"(?<![\w-])--?[^\s,=\[]+")
_VALUE = re.compile(r"(\[?)=([^\s,\]]+)")


def help_output() -> str:
    """What ``librsync --help`` prints, by running the real entry point."""
    from librsync import cli

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.run(["--help"])
    if status != 0:
        raise RuntimeError(f"librsync --help exited with status {status}")
    return out.getvalue()


def parse_help(text: str) -> HelpText:
    """Split rdiff-style help into its usage lines and option groups (the
    prose around them is left to the verbatim ``help`` part)."""
    result = HelpText()
    lines = text.splitlines()
    i = 0
    if lines and lines[0].startswith("Usage:"):
        first = lines[0][len("Usage:"):].split(None, 1)  # drop the program name
        result.usage.append(first[1] if len(first) > 1 else "")
        i = 1
        while i < len(lines) and lines[i].strip():
            result.usage.append(lines[i].strip())
            i += 1
    entries: list[HelpEntry] | None = None
    rest = lines[i:]
    for n, line in enumerate(rest):
        if not line.strip():
            entries = None
            continue
        # A group heading: unindented, ending with a colon, and followed by
        # an option (prose may end a line with a colon too).
        if (not line[0].isspace() and line.endswith(":") and n + 1 < len(rest)
                and _ENTRY.match(rest[n + 1])):
            entries = []
            result.groups.append((line[:-1], entries))
            continue
        m = _ENTRY.match(line)
        if entries is not None and m:
            spec, description = m.groups()
            value = _VALUE.search(spec)
            entries.append(HelpEntry(
                spec=spec,
                names=_NAME.findall(spec),
                value=None if value is None else
                (f"[{value.group(2)}]" if value.group(1) else value.group(2)),
                text=[description],
            ))
        elif entries:
            entries[-1].text.append(line.strip())  # a wrapped description
    return result


def _rst_literal(text: str) -> str:
    return f"``{text}``"


class CliReference(SphinxDirective):
    required_arguments = 1
    has_content = False

    PARTS = ("help", "usage", "options", "exit-status")

    def run(self) -> list[nodes.Node]:
        from librsync import _cli_commands, _cli_io, cli

        # Rebuild this page when the command line changes.
        for module in (cli, _cli_commands, _cli_io):
            self.env.note_dependency(module.__file__)
        part = self.arguments[0]
        if part not in self.PARTS:
            raise self.error(f"unknown part {part!r}; one of {', '.join(self.PARTS)}")
        text = help_output()
        if part == "help":
            block = nodes.literal_block(text, text)
            block["language"] = "text"
            return [block]
        lines = getattr(self, "_" + part.replace("-", "_"))(parse_help(text))
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=f"<librsync-cli {part}>"),
                                self.content_offset, container)
        return container.children

    def _warn(self, message: str) -> None:
        logger.warning("librsync --help and the parser disagree: %s", message,
                       location=self.get_location())

    # -- parts -------------------------------------------------------------

    def _usage(self, help_text: HelpText) -> list[str]:
        from librsync._cli_commands import COMMANDS
        from librsync._cli_io import PROG

        seen = set()
        lines = [".. code-block:: text", ""]
        for usage in help_text.usage:
            words = [w for w in usage.split() if not w.startswith("[")]
            action = words[0] if words else ""
            if action not in COMMANDS:
                self._warn(f"the usage names an action {action!r} that does not exist")
            seen.add(action)
            lines.append(f"   {PROG} {usage}")
        for action in COMMANDS:
            if action not in seen:
                self._warn(f"action {action!r} has no usage line")
        return lines

    def _options(self, help_text: HelpText) -> list[str]:
        from librsync import cli
        from librsync._cli_io import PROG

        actions = [a for a in cli._build_parser()._actions if a.option_strings]
        by_name = {name: a for a in actions for name in a.option_strings}
        described = set()
        lines = [f".. program:: {PROG}", ""]
        for title, entries in help_text.groups:
            if title != "Options":  # the general group: the section's own title
                lines += [f".. rubric:: {title}", ""]
            for entry in entries:
                found = {id(by_name[n]): by_name[n] for n in entry.names if n in by_name}
                for n in entry.names:
                    if n not in by_name:
                        self._warn(f"--help describes {n}, which the parser does not accept")
                if len(found) != 1:
                    if len(found) > 1:
                        self._warn(f"--help line {entry.spec!r} covers several options")
                    continue
                action = next(iter(found.values()))
                described.add(id(action))
                lines += self._option(action, entry)
        for action in actions:
            if id(action) not in described:
                self._warn(f"{'/'.join(action.option_strings)} is accepted "
                           "but --help does not describe it")
        return lines

    def _option(self, action, entry: HelpEntry) -> list[str]:
        takes_value = action.nargs != 0
        if takes_value != (entry.value is not None):
            self._warn(f"{entry.spec!r}: --help and the parser differ on whether "
                       "it takes a value")
        value = entry.value or action.dest.upper()
        optional = action.nargs == "?"
        bare = value.strip("[]")
        names = []
        for name in action.option_strings:
            if not takes_value:
                names.append(name)
            elif name.startswith("--"):
                names.append(f"{name}[={bare}]" if optional else f"{name}={bare}")
            else:
                names.append(f"{name} [{bare}]" if optional else f"{name} {bare}")
        out = [f".. option:: {', '.join(names)}", "", f"   {' '.join(entry.text)}", ""]
        if takes_value and action.default is not None:
            out += [f"   Default: {_rst_literal(repr(action.default))}.", ""]
        return out

    def _exit_status(self, help_text: HelpText) -> list[str]:
        from librsync import exceptions

        rows = [("0", "", "success")]
        for name in exceptions.__all__:
            code = getattr(exceptions, name)
            if name.startswith("RS_") and isinstance(code, int) and code >= 100:
                rows.append((str(code), _rst_literal(name),
                             exceptions.LibrsyncError(code).message))
        lines = [".. list-table::", "   :header-rows: 1", "   :widths: 10 30 60", "",
                 "   * - status", "     - ``rs_result``", "     - meaning"]
        for code, name, meaning in rows:
            lines += [f"   * - {code}", f"     - {name}", f"     - {meaning}"]
        return lines


def setup(app):
    app.add_directive("librsync-cli", CliReference)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
