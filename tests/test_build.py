"""The build's hand-written parts agree with the vendored sources.

Run from a checkout or an unpacked sdist (they carry vendor/ and setup.py);
these tests read files, not the installed module.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "vendor" / "librsync" / "src"
CONFIG = ROOT / "vendor" / "config" / "config.h"

pytestmark = pytest.mark.skipif(not (SRC / "config.h.in").exists(),
                                reason="needs the vendored sources (a checkout or sdist)")


def _setup_literal(name):
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == name):
            return ast.literal_eval(node.value)
    raise AssertionError(f"setup.py has no literal {name}")


def test_config_h_decides_every_cmake_switch():
    """A re-vendored librsync with a new #cmakedefine must be noticed: our
    config.h either defines it or lists it under "Left undefined"."""
    template = (SRC / "config.h.in").read_text()
    switches = set(re.findall(r"^#cmakedefine\s+(\w+)", template, re.M))
    assert len(switches) > 20
    ours = CONFIG.read_text()
    defined = set(re.findall(r"^\s*#\s*define\s+(\w+)", ours, re.M))
    left = re.search(r"Left undefined:(.*?)\n \*\s*\(", ours, re.S)
    assert left, "config.h lost its 'Left undefined' list"
    undecided = switches - defined - set(left.group(1).replace("*", " ").split())
    assert not undecided, f"config.h does not decide {sorted(undecided)}"


def test_every_library_source_is_compiled():
    """setup.py's list is upstream's rsync_LIB_SRCS: every src/*.c but the
    rdiff command line (rdiff.c, isprefix.c); BLAKE2b comes from libb2."""
    listed = set(_setup_literal("LIBRSYNC_SOURCES"))
    present = {p.name for p in SRC.glob("*.c")} - {"rdiff.c", "isprefix.c"}
    assert listed == present
    glue = ROOT / "vendor" / "config" / "blake2"
    for name in _setup_literal("BLAKE2_SOURCES") + list(_setup_literal("BLAKE2_X86_SOURCES")):
        text = (glue / name).read_text()
        suffix = name[len("blake2b_"):-len(".c")]
        assert f"#define SUFFIX _{suffix}\n" in text
        assert (ROOT / "vendor" / "libb2" / "src" / re.search(r'#include "(.+)"', text)[1]).exists()


def test_blake2_builds_match_the_dispatch_table():
    """_blake2.h lists exactly the builds setup.py compiles, in its order."""
    header = (ROOT / "librsync" / "_blake2.h").read_text()
    entries = re.findall(r'LRS_B2_ENTRY\("(\w+)", _(\w+)\)', header)
    names = [n for n, _ in entries]
    assert all(n == s for n, s in entries)
    built = [n[len("blake2b_"):-2] for n in
             _setup_literal("BLAKE2_SOURCES") + list(_setup_literal("BLAKE2_X86_SOURCES"))]
    assert names == built
