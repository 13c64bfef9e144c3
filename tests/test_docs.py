"""The documentation's build wiring (the build itself is scripts/build_docs.sh,
a CI step of its own: it needs Sphinx, which the test extra does not bring)."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

# The sdist carries tests/ but not scripts/, docs/ or .ci/ (check_dist.sh
# runs the suite from it).
pytestmark = pytest.mark.skipif(not (ROOT / "scripts" / "build_docs.sh").exists(),
                                reason="needs a checkout (scripts/, .ci/)")


def _docs_extra():
    text = (ROOT / "pyproject.toml").read_text()
    m = re.search(r"^docs = \[(.*)\]$", text, re.MULTILINE)
    assert m, "pyproject.toml has no docs extra"
    return re.findall(r'"([^"]+)"', m.group(1))


def test_build_script_installs_the_docs_extra():
    # The script installs the extra's requirements rather than the extra
    # itself (which would install the project), so the two lists are
    # written twice and must not drift apart.
    script = (ROOT / "scripts" / "build_docs.sh").read_text()
    m = re.search(r"^python3 -m pip install -q (.+)$", script, re.MULTILINE)
    assert m, "build_docs.sh does not install its requirements"
    assert re.findall(r'"([^"]+)"', m.group(1)) == _docs_extra()


def test_ci_and_readme_run_the_build_script():
    assert "bash scripts/build_docs.sh" in (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/build_docs.sh" in (ROOT / "README.md").read_text()
