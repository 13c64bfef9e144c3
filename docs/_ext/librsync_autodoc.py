"""What autodoc does not do by itself for this package.

``librsync/__init__.py`` defines nothing itself: its public names come from
``librsync._api``, ``librsync.exceptions`` and the compiled ``_rsync``, and
the pages document them under ``librsync.`` as users spell them.

- A constant has no docstring, only a ``#:`` comment where it is defined.
  autodoc looks for that comment in the module the constant is documented
  under (``librsync``) and, finding none, shows the docstring of the
  value's type (``int``'s, ``str``'s) instead, whose ``>>>`` lines would
  even run as doctests.  This takes the comment from the package's Python
  modules, or else shows nothing but what the page says.  (The compiled
  module has no source to read, so the pages describe its constants.)
- Cython's ``embedsignature`` writes a method's signature into its
  docstring with ``self``, which autodoc keeps; this drops it.  Where a page
  gives a signature itself, the docstring's first line would stay as text;
  this drops that line too.
- Nothing warns when a public name is left out of the pages.  This does:
  every name of ``librsync.__all__`` must be described, except the
  ``rs_result`` codes, whose table on the exceptions page is generated from
  ``librsync.exceptions.__all__`` itself and so cannot miss one.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

from sphinx.pycode import ModuleAnalyzer, PycodeError
from sphinx.util import logging
from sphinx.util.docstrings import prepare_docstring

logger = logging.getLogger(__name__)

PACKAGE = "librsync"
_comments: dict[str, list[str]] | None = None


def _module_comments() -> dict[str, list[str]]:
    global _comments
    if _comments is None:
        package = importlib.import_module(PACKAGE)
        _comments = {}
        for info in pkgutil.iter_modules(package.__path__, PACKAGE + "."):
            try:
                docs = ModuleAnalyzer.for_module(info.name).find_attr_docs()
            except PycodeError:
                continue  # no Python source: the compiled module
            for (scope, name), lines in docs.items():
                if scope == "":
                    _comments.setdefault(name, list(lines))
    return _comments


def _process_docstring(app, what, name, obj, options, lines):
    if what == "data":
        type_doc = prepare_docstring(type(obj).__doc__ or "")
        if [line.rstrip() for line in lines] == [line.rstrip() for line in type_doc]:
            lines[:] = []
        if not any(line.strip() for line in lines):
            lines[:] = _module_comments().get(name.rpartition(".")[2], [])
    elif what in ("function", "method") and lines:
        short = name.rpartition(".")[2]
        if re.fullmatch(rf"(\w+\.)*{re.escape(short)}\(.*\)(\s*->.*)?", lines[0].strip()):
            del lines[:2 if len(lines) > 1 and not lines[1].strip() else 1]


def _process_signature(app, what, name, obj, options, signature, return_annotation):
    if what == "method" and signature:
        fixed = re.sub(r"^\(self(, |(?=\)))", "(", signature)
        if fixed != signature:
            return fixed, return_annotation
    return None


def _check_coverage(app, env):
    package = importlib.import_module(PACKAGE)
    codes = {n for n in package.exceptions.__all__ if n.startswith("RS_")}
    objects = env.get_domain("py").objects
    for name in package.__all__:
        if name not in codes and f"{PACKAGE}.{name}" not in objects:
            logger.warning("%s.%s is public (in __all__) but not documented",
                           PACKAGE, name)


def setup(app):
    app.connect("autodoc-process-docstring", _process_docstring)
    app.connect("autodoc-process-signature", _process_signature)
    app.connect("env-check-consistency", _check_coverage)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
