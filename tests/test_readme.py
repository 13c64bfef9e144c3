"""The README's streaming examples run as printed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import child_env

README = Path(__file__).resolve().parent.parent / "README.md"


def _examples(section: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    blocks = re.findall(r"```python\n(.*?)```", text[start:end], re.S)
    # Whole programs start with their imports; the other blocks are
    # signatures and fragments.
    return [b for b in blocks if b.startswith("import ")]


EXAMPLES = _examples("Streaming over the wire")


def test_the_section_has_its_two_examples():
    assert len(EXAMPLES) == 2
    assert "http.server" in EXAMPLES[0] and "librsync.aio" in EXAMPLES[1]


@pytest.mark.parametrize("index", range(len(EXAMPLES)), ids=["http", "asyncio-tcp"])
def test_example_runs(index, tmp_path):
    script = tmp_path / "example.py"
    script.write_text(EXAMPLES[index], encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=child_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
