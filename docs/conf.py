"""Sphinx configuration.  Build with ``bash scripts/build_docs.sh``.

The pages document the ``librsync`` that Python imports: autodoc reads its
docstrings, the doctests run against it and the CLI reference is generated
from its parser.  The script decides which build that is (this checkout's,
or the installed package); this file adds nothing to ``sys.path`` but our
extension.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "_ext"))

# Imported here so that an unbuilt checkout fails at once, with the package's
# own message, rather than as one autodoc warning per object.
import librsync  # noqa: E402

project = "librsync"
author = "The librsync for Python developers"
copyright = "the librsync for Python developers; librsync itself: its authors (LGPL)"
release = librsync.__version__
version = release
# The C library's version as compiled in, for the pages' text.
rst_epilog = f".. |librsync_version| replace:: {librsync.LIBRSYNC_VERSION}\n"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "cli_reference",
    "librsync_autodoc",
]

exclude_patterns = ["_build"]
# Tables of contents list the pages' sections, not every class and function.
toc_object_entries = False
# Every cross-reference must resolve: a renamed function or a typo in a
# docstring's :class:`...` then fails the -W build instead of rendering as
# plain text.
nitpicky = True
nitpick_ignore = [
    # Named by blake2b_implementation()'s docstring; not public, so it has no
    # entry of its own (the CLI's --version prints the list it returns).
    ("py:func", "blake2b_implementations"),
]

# Defaults as written in the source (magic=RS_RK_BLAKE2_SIG_MAGIC), not as
# the numbers they evaluate to (magic=1920139591).
autodoc_preserve_defaults = True
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the stubs hold the types; the docs describe them

# Every doctest starts with the package imported, as a reader would have it.
doctest_global_setup = """
import io
import librsync
"""

html_theme = "alabaster"  # Sphinx's own default: no extra package to install
html_theme_options = {
    "description": "rsync-style binary deltas for Python",
    "fixed_sidebar": True,
}
