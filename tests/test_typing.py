"""The type information ships with the package and covers its public API.

Cheap checks that need no mypy; scripts/check_typing.sh runs mypy --strict on
tests/typing/example.py and stubtest against the same installed package.
"""

from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
import types

import pytest

import librsync
import librsync._rsync as core
from conftest import CHILD_CWD, child_env

PKG = os.path.dirname(os.path.abspath(librsync.__file__))
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "typing", "example.py")


def _stub(name: str) -> ast.Module:
    with open(os.path.join(PKG, name), encoding="utf-8") as f:
        return ast.parse(f.read(), name)


def _bound_names(tree: ast.Module) -> set[str]:
    """Names a stub defines or re-exports (``import x as x``) at top level."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom):
            names.update(a.name for a in node.names if a.asname == a.name)
    return names


def test_marker_and_stubs_are_installed_beside_the_package():
    for name in ("py.typed", "__init__.pyi", "_api.pyi", "_iter.pyi", "_rsync.pyi"):
        assert os.path.isfile(os.path.join(PKG, name)), f"{name} missing from {PKG}"
    with open(os.path.join(PKG, "py.typed"), "rb") as f:
        assert f.read().strip() == b""  # a full (not "partial\n") stub package


@pytest.mark.parametrize("module", ["_api", "_iter"])
def test_every_public_name_is_in_the_stub(module):
    # Like __init__.py, __init__.pyi only gathers its modules' exports: the
    # API from _api.pyi and _iter.pyi (whose public names must be the
    # runtime's __all__) and the exceptions from exceptions.py (typed in
    # place).
    init = _stub("__init__.pyi")
    starred = {node.module for node in init.body
               if isinstance(node, ast.ImportFrom) and node.names[0].name == "*"}
    assert starred == {"_api", "_iter", "exceptions"}
    runtime = set(getattr(librsync, module).__all__)
    exported = {n for n in _bound_names(_stub(f"{module}.pyi")) if not n.startswith("_")}
    assert exported == runtime, (
        f"missing from {module}.pyi: {runtime - exported}; "
        f"public in {module}.pyi only: {exported - runtime}")


def test_dask_module_is_typed_inline():
    # librsync.dask has no stub: its annotations are its types (mypy --strict
    # in scripts/check_typing.sh).  This catches a missing one without mypy.
    path = os.path.join(PKG, "dask.py")
    assert not os.path.exists(path + "i"), "dask.py is typed inline, not by a stub"
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    functions = [node for node in ast.walk(tree)
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    assert len(functions) > 10
    for fn in functions:
        args = fn.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs,
                  *filter(None, [args.vararg, args.kwarg])]
        unannotated = [a.arg for a in params if a.annotation is None and a.arg != "self"]
        assert not unannotated, f"dask.py: {fn.name}() lacks annotations for {unannotated}"
        assert fn.returns is not None, f"dask.py: {fn.name}() lacks a return annotation"


def test_compiled_module_names_are_in_its_stub():
    # What _rsync defines itself (classes, functions, constants); stubtest
    # checks their signatures too, this only catches a forgotten name.
    defined = set()
    for name, obj in vars(core).items():
        if name.startswith("_") or isinstance(obj, types.ModuleType):
            continue
        if inspect.isclass(obj) or callable(obj):
            if getattr(obj, "__module__", None) == core.__name__:
                defined.add(name)
        elif isinstance(obj, (int, str, bytes, dict, tuple)):
            defined.add(name)
    missing = defined - _bound_names(_stub("_rsync.pyi"))
    assert not missing, f"defined by librsync._rsync but not in _rsync.pyi: {missing}"


def test_typed_example_runs():
    # The program mypy checks must also be right at run time.
    proc = subprocess.run([sys.executable, EXAMPLE], cwd=CHILD_CWD, env=child_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "expected a signature but got a delta" in proc.stdout
