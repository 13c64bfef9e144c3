"""What the benchmark reports say about the machine, shared by the scripts
in bench/ so that every report names the CPU the same way."""

from __future__ import annotations

import platform
import subprocess


def sh(cmd: str) -> str:
    """A shell command's output, or a note of why it failed (the report
    describes the machine; a missing tool must not stop a benchmark)."""
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=20).stdout.strip()
    except Exception as e:  # description only
        return f"({e})"


def cpu_name() -> str:
    for line in sh("lscpu").splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()
