"""The package's shape: a public namespace of exactly the public API, and
imports that go one way, from the command line down to the driver::

    cli -> _cli_commands -> _cli_remote -> _cli_io, _cli_timeout, aio, tree -> librsync (the namespace)
        -> _iter -> _api -> _parallel -> _files, _format -> _rsync (the driver)
        -> exceptions

``tree`` (directory trees) is a public submodule beside the command line's
I/O: built on the facade, imported only by ``import librsync.tree``.

``dask`` (many files on a dask.distributed cluster) is another, on the
namespace.

A module may import only modules below it, so there are no loops and the
driver knows nothing of the layers above it.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import librsync
from librsync import _parallel
from conftest import CHILD_CWD, child_env

PKG = Path(librsync.__file__).resolve().parent
# The checkout's sources (the .pyx is not installed); absent in a wheel test
# run without the checkout.
SRC = Path(__file__).resolve().parent.parent / "librsync"

#: Each module's layer: it may import only from lower layers.
LAYERS = {
    "exceptions": 0,
    "_version": 0,
    "_rsync": 1,
    "_format": 2,
    "_files": 2,
    "_parallel": 3,
    "compat": 3,     # `import librsync.compat`: the tools' _librsync, on the driver
    "_api": 4,
    "_iter": 5,
    "__init__": 6,   # `import librsync` / `from librsync import ...`
    "aio": 7,        # `import librsync.aio`: never loaded by the namespace
    "tree": 7,       # `import librsync.tree`: directory trees, on the facade
    "dask": 7,       # `import librsync.dask`: the facade, on a cluster
    "_cli_io": 7,
    "_cli_timeout": 7,  # sync --timeout: polled pipe ends, on the standard library
    "sync": 8,       # `import librsync.sync`: protocol 3, a subpackage on tree's helpers
    "_cli_remote": 9,  # sync of trees and remote sides, serve: _cli_io + tree + sync
    "_cli_commands": 10,
    "cli": 11,
    "__main__": 12,
}


def _imports(tree: ast.Module, module: str) -> set[str]:
    """The package modules a module imports, by their layer names."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:  # from . import x / from .x import y
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(a.name for a in node.names)
            elif node.module == "librsync":
                found.update(a.name if a.name in LAYERS else "__init__" for a in node.names)
            elif node.module and node.module.startswith("librsync."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "librsync":
                    found.add(parts[1] if len(parts) > 1 else "__init__")
    found.discard(module)
    return found


def test_every_module_has_a_layer():
    modules = {p.stem for p in PKG.glob("*.py")} | {"_rsync"}
    modules |= {p.name for p in PKG.iterdir() if (p / "__init__.py").exists()}
    assert modules == set(LAYERS), "add new modules to LAYERS (and the README's diagram)"


def test_the_sync_subpackage_imports_only_below_it():
    """librsync.sync's modules import each other and, from the package,
    only what is below the subpackage's layer."""
    for path in sorted((PKG / "sync").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                names = [node.module.split(".")[0]] if node.module else [
                    a.name for a in node.names]
                for name in names:
                    assert LAYERS[name] < LAYERS["sync"], (path.name, name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    assert parts[0] != "librsync" or LAYERS[
                        parts[1] if len(parts) > 1 else "__init__"] < LAYERS["sync"]


@pytest.mark.parametrize("module", sorted(m for m in LAYERS if m not in ("_rsync", "sync")))
def test_python_modules_import_only_downwards(module):
    tree = ast.parse((PKG / f"{module}.py").read_text(encoding="utf-8"))
    upward = {m for m in _imports(tree, module) if LAYERS[m] >= LAYERS[module]}
    assert not upward, f"{module} imports {upward}, which are not below it"


@pytest.mark.skipif(not (SRC / "_rsync.pyx").exists(), reason="needs the checkout's .pyx")
def test_the_driver_imports_nothing_above_it():
    text = (SRC / "_rsync.pyx").read_text(encoding="utf-8")
    # Indented imports (lazy ones, inside functions) count too.
    imported = set(re.findall(r"^\s*(?:c?import|from)\s+(?:librsync\.|\.)(\w+)", text, re.M))
    assert imported <= {"exceptions", "_librsync"}, imported
    assert not re.search(r"^\s*(?:from|import)\s+(?:librsync|\.)\s", text, re.M)
    assert not re.search(r"librsync\.(_parallel|_files|_api|_format|cli)\b", text)


def _fresh(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=CHILD_CWD, env=child_env()).stdout


def test_namespace_is_the_public_api():
    out = _fresh("import librsync; print(sorted(librsync.__all__)); "
                 "print(sorted(n for n in dir(librsync) if not n.startswith('_')))")
    all_names, public = (ast.literal_eval(line) for line in out.splitlines())
    # Plus the one public submodule that `import librsync` loads.
    assert public == sorted([n for n in all_names if not n.startswith("_")] + ["exceptions"])
    assert "__version__" in all_names
    for helper in ("Any", "IO", "Optional", "Union", "annotations", "io", "os", "abc"):
        assert not hasattr(librsync, helper)


def test_namespace_is_built_from_its_modules():
    from librsync import _api, _iter, exceptions
    assert librsync.__all__ == [*_api.__all__, *_iter.__all__, *exceptions.__all__,
                                "__version__"]
    assert len(set(librsync.__all__)) == len(librsync.__all__)
    for name in librsync.__all__:
        assert hasattr(librsync, name), name


def test_import_librsync_does_not_load_the_command_line():
    # A library user pays nothing for argparse and the terminal code.
    out = _fresh("import sys, importlib.util\n"
                 "import librsync\n"
                 "print(sorted(m for m in sys.modules if m.startswith('librsync.')))")
    loaded = set(ast.literal_eval(out))
    assert "librsync.cli" not in loaded and "librsync._cli_io" not in loaded
    # Nor for directory trees (threads, hashlib): `import librsync.tree` for those.
    assert "librsync.tree" not in loaded


def test_tree_is_a_submodule_of_its_own():
    out = _fresh("import librsync.tree as t, librsync; "
                 "print(sorted(t.__all__)); print('tree' in librsync.__all__)")
    names, in_namespace = out.splitlines()
    assert "sync_tree" in ast.literal_eval(names) and in_namespace == "False"


def test_import_librsync_does_not_load_asyncio():
    # librsync.aio is opt-in: `import librsync` costs nothing for asyncio,
    # and `librsync.aio` is not an attribute until it is imported.
    out = _fresh("import sys\n"
                 "import librsync\n"
                 "print(sorted(m for m in sys.modules\n"
                 "             if m == 'asyncio' or m.startswith('librsync.')))\n"
                 "print(hasattr(librsync, 'aio'))\n"
                 "import librsync.aio\n"
                 "print(librsync.aio.__name__, 'asyncio' in sys.modules)")
    lines = out.splitlines()
    loaded = set(ast.literal_eval(lines[0]))
    assert "asyncio" not in loaded and "librsync.aio" not in loaded
    assert lines[1:] == ["False", "librsync.aio True"]


def test_import_librsync_loads_no_module_a_small_call_does_not_need():
    # Start-up is paid by every CLI call and worker process: logging (~6 ms,
    # for librsync's rare log lines) and concurrent.futures (~1.5 ms, for
    # threads=N) are imported when first used.  Modules the interpreter's
    # own start already loaded (site may) are not librsync's cost.
    # Outputs given (a default output needs tempfile: the next test).
    out = _fresh("import io, sys\n"
                 "before = set(sys.modules)\n"
                 "import librsync\n"
                 "sig = librsync.signature(b'old', io.BytesIO())\n"
                 "librsync.patch(b'old', librsync.delta(b'new', sig, io.BytesIO()), "
                 "io.BytesIO())\n"
                 "print(sorted(set(sys.modules) - before))\n"
                 "librsync.debug(7)\n"
                 "librsync.signature(b'x' * 100_000, threads=2)\n"
                 "print(sorted(set(sys.modules) - before))")
    lines = out.splitlines()
    first, later = set(ast.literal_eval(lines[0])), set(ast.literal_eval(lines[1]))
    assert not {"logging", "concurrent.futures", "tempfile"} & first
    assert "concurrent.futures" in later


def test_default_output_imports_tempfile_when_first_needed():
    out = _fresh("import sys\n"
                 "before = set(sys.modules)\n"
                 "import librsync\n"
                 "print('tempfile' in set(sys.modules) - before)\n"
                 "f = librsync.signature(b'x' * 5000)\n"
                 "import tempfile\n"
                 "print(type(f) is tempfile.SpooledTemporaryFile, len(f.read()))\n"
                 "print(librsync.delta(b'x' * 5000, f.seek(0) or f).read()[:4].hex())")
    lines = out.splitlines()
    assert lines[0] == "False" and lines[1].startswith("True ")
    assert lines[2] == "72730236"  # rs_delta magic: the output was usable


def test_aio_mirrors_the_synchronous_api():
    # Each name in librsync.aio is the asynchronous form of the function of
    # the same name in librsync, and documented.
    import librsync.aio as aio
    assert len(set(aio.__all__)) == len(aio.__all__)
    assert set(aio.__all__) <= set(librsync.__all__)
    for name in aio.__all__:
        assert callable(getattr(aio, name)), name
        assert getattr(aio, name).__doc__, f"aio.{name} has no docstring"


def test_import_librsync_does_not_load_dask():
    # librsync.dask is opt-in: `import librsync` must not pull in
    # dask.distributed (seconds of imports, a dependency most users lack).
    out = _fresh("import sys\n"
                 "import librsync\n"
                 "print(sorted(m for m in sys.modules if m.startswith('librsync.')\n"
                 "             or m.split('.')[0] in ('dask', 'distributed')))")
    loaded = set(ast.literal_eval(out))
    assert not loaded & {"librsync.dask", "dask", "distributed"}, loaded


# --- the threads=N signature engine is a job of its own -------------------------------

def test_signature_job_threads_picks_the_parallel_engine():
    serial = librsync.SignatureJob(1024)
    parallel = librsync.SignatureJob(1024, threads=2)
    try:
        assert type(serial) is librsync.SignatureJob and serial.threads == 1
        assert type(parallel) is _parallel.ParallelSignatureJob and parallel.threads == 2
        assert isinstance(parallel, librsync.SignatureJob)
        assert (parallel.magic, parallel.block_len, parallel.strong_len) == (
            serial.magic, serial.block_len, serial.strong_len)
        data = bytes(range(256)) * 100
        assert parallel.finish(data) == serial.finish(data)
        for field in ("sig_blocks", "block_len", "in_bytes", "out_bytes"):
            assert getattr(parallel.stats, field) == getattr(serial.stats, field), field
    finally:
        parallel.close()


def test_parallel_job_refuses_concurrent_use():
    import threading

    job = _parallel.ParallelSignatureJob(1024, 0, librsync.RS_RK_BLAKE2_SIG_MAGIC, -1,
                                         threads=2)
    entered, release = threading.Event(), threading.Event()

    class Slow:
        # A reader that holds the job busy inside run() until told to go on.
        def __init__(self):
            self.calls = 0

        def readinto(self, buf):
            self.calls += 1
            if self.calls == 1:
                entered.set()
                release.wait(10)
            return 0

    worker = threading.Thread(target=job.run, args=(Slow(), lambda chunk: None))
    worker.start()
    try:
        assert entered.wait(10)
        with pytest.raises(RuntimeError):
            job.update(b"x")
    finally:
        release.set()
        worker.join(10)
        job.close()
