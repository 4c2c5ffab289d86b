"""The ``lakehouse`` CLI in a process of its own, as a user runs it."""

from __future__ import annotations

import subprocess
import sys


def lakehouse(args: list[str], env: dict[str, str]) -> str:
    """Run ``lakehouse ARGS`` with ``env``; fails showing the output's end unless it exits 0.
    Returns its whole output."""
    done = subprocess.run(
        [sys.executable, "-m", "assets.cli", *args],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return output
